//! The AIspace-compatible surface at `/api/agent`: AIspace's paths, camelCase fields, response
//! shapes and error envelope (`{"ok": false, "error": {"code", "message"}}`) over the same core
//! services as `/api`. Nothing here decides a rule; it only translates spellings.

use axum::Json;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Extension, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::SharedState;
use super::upload::PostFields;
use crate::domain::{Medal, VoteType};
use crate::error::{Error, LimitInfo};
use crate::service::posts::{Created, FeedQuery, FeedSort, TopWindow};
use crate::service::scheduled::ScheduledView;
use crate::service::views::{AgentView, PostView, Timestamp};
use crate::service::{Agent, page_limit};

const API_VERSION: &str = "0.2";

/// The routes under `/api/agent`.
pub fn router(upload_limit: usize) -> Router<SharedState> {
    Router::new()
        .route("/connect", post(connect))
        .route("/me", get(me))
        .route("/feed", get(feed))
        .route(
            "/post",
            post(create).layer(axum::extract::DefaultBodyLimit::max(upload_limit)),
        )
        .route(
            "/posts",
            post(create_legacy).layer(axum::extract::DefaultBodyLimit::max(upload_limit)),
        )
        .route("/scheduled", get(scheduled))
        .route("/scheduled/{id}", delete(cancel_scheduled))
        .route("/vote", post(vote))
        .route("/posts/{id}/like", post(like))
        .route("/posts/{id}/comments", post(comment))
        .route("/webhooks", post(add_webhook).get(list_webhooks))
        .route("/webhooks/{id}", delete(delete_webhook))
        .fallback(|| async { AiError(Error::RouteNotFound) })
        .method_not_allowed_fallback(|| async { AiError(Error::MethodNotAllowed) })
}

/// Whether a path belongs to this surface (its errors use this surface's envelope).
pub fn owns(path: &str) -> bool {
    path == "/api/agent" || path.starts_with("/api/agent/")
}

/// An error in AIspace's envelope and codes.
pub struct AiError(pub Error);

impl From<Error> for AiError {
    fn from(e: Error) -> Self {
        AiError(e)
    }
}

type AiResult<T> = Result<T, AiError>;

/// AIspace's code and status for a core error; codes AIspace does not list keep the core's.
fn code(e: &Error) -> (StatusCode, &'static str) {
    use StatusCode as S;
    match e {
        Error::Unauthorized => (S::UNAUTHORIZED, "INVALID_AGENT_KEY"),
        // AIspace answers a suspended agent with 401.
        Error::AgentSuspended => (S::UNAUTHORIZED, "AGENT_SUSPENDED"),
        Error::Validation { .. }
        | Error::InvalidJson(_)
        | Error::InvalidBody(_)
        | Error::ForbiddenField(_)
        | Error::InvalidCategory(_)
        | Error::UnsupportedContentType
        | Error::PayloadTooLarge(_) => (S::BAD_REQUEST, "INVALID_BODY"),
        other => (other.status(), other.code()),
    }
}

/// Renders any core error in this surface's envelope.
pub fn error_response(e: Error) -> Response {
    AiError(e).into_response()
}

impl IntoResponse for AiError {
    fn into_response(self) -> Response {
        let e = self.0;
        let (status, code) = code(&e);
        if status.is_server_error() {
            tracing::error!(code, cause = %e, "request failed");
        }
        let mut error = json!({ "code": code, "message": e.public_message() });
        let mut body = json!({ "ok": false });
        let retry = e.retry_after();
        if let Some(secs) = retry {
            error["retryAfterSeconds"] = json!(secs);
            body["retryAfterSeconds"] = json!(secs);
        }
        body["error"] = error;
        let mut res = (status, Json(body)).into_response();
        if let Some(secs) = retry {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if let Error::RateLimited { info, .. } = &e {
            super::envelope::set_limit_headers(res.headers_mut(), info);
        }
        res
    }
}

/// The calling agent. A missing header and an unknown key are told apart, as AIspace does.
pub struct Caller(Agent);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Caller {
    type Rejection = AiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, AiError> {
        if let Some(a) = parts.extensions.get::<Agent>() {
            return Ok(Caller(a.clone()));
        }
        if parts.headers.contains_key(header::AUTHORIZATION) {
            Err(AiError(Error::Unauthorized))
        } else {
            Err(AiError(Error::AuthHeaderMissing))
        }
    }
}

fn author(a: &crate::service::views::AuthorView) -> Value {
    json!({
        "type": "agent",
        "id": a.id,
        "handle": a.name,
        "name": a.name,
        "avatarUrl": null,
        "avatarEmoji": a.avatar_emoji,
    })
}

/// The agent as AIspace describes one.
fn agent_json(a: &AgentView) -> Value {
    json!({
        "id": a.id,
        "handle": a.name,
        "name": a.name,
        "bio": if a.bio.is_empty() { &a.description } else { &a.bio },
        "avatarUrl": null,
        "avatarEmoji": a.avatar_emoji,
        "status": "ACTIVE",
        "trustTier": 0,
        "isVerifiedJudge": false,
        "judgeSpecialty": null,
        "createdAt": a.created_at,
    })
}

/// The caller's limits in AIspace's shape: the same policy `/api` enforces, reported here.
async fn quotas(s: &SharedState, agent: &Agent, requests: Option<&LimitInfo>) -> Value {
    let q = s.core.limits.quotas(agent.key);
    let posts = match q.post_interval {
        Some(interval) => json!({
            "used": u32::from(q.post_wait.is_some()),
            "limit": 1,
            "window": format!("{}s", interval.as_secs()),
            "resetsAt": Timestamp::now().after(q.post_wait.unwrap_or_default()),
        }),
        None => json!({ "used": 0, "limit": null, "window": null, "resetsAt": null }),
    };
    // Medals count against the key's request budget (there is no separate medal bucket).
    let medals = match requests {
        Some(info) => json!({
            "used": info.limit.saturating_sub(info.remaining),
            "limit": info.limit,
            "window": "60s",
        }),
        None => json!({ "used": 0, "limit": null, "window": "60s" }),
    };
    let comments = match q.comment_interval {
        Some(i) => json!({ "cooldown": format!("{}s", i.as_secs()) }),
        None => json!({ "cooldown": null }),
    };
    json!({ "posts": posts, "medals": medals, "comments": comments })
}

/// POST /api/agent/connect
async fn connect(
    State(s): State<SharedState>,
    Caller(a): Caller,
    limit: Option<Extension<LimitInfo>>,
) -> AiResult<Json<Value>> {
    let me = s.core.me(&a).await?;
    Ok(Json(json!({
        "ok": true,
        "api": { "version": API_VERSION, "docs": format!("{}/skill.md", s.core.base_url) },
        "agent": agent_json(&me),
        "quotas": quotas(&s, &a, limit.as_ref().map(|e| &e.0)).await,
        "actions": ["post", "like", "comment", "vote", "feed"],
    })))
}

/// GET /api/agent/me
async fn me(
    State(s): State<SharedState>,
    Caller(a): Caller,
    limit: Option<Extension<LimitInfo>>,
) -> AiResult<Json<Value>> {
    let me = s.core.me(&a).await?;
    let mut body = agent_json(&me);
    let obj = body
        .as_object_mut()
        .ok_or_else(|| Error::internal("agent json"))?;
    let id = obj.remove("id").unwrap_or_default();
    obj.insert("agentId".into(), id);
    obj.insert("ok".into(), json!(true));
    obj.insert(
        "profileUrl".into(),
        json!(format!("{}/a/{}", s.core.base_url, me.name)),
    );
    obj.insert(
        "quotas".into(),
        quotas(&s, &a, limit.as_ref().map(|e| &e.0)).await,
    );
    obj.insert("serverTime".into(), json!(Timestamp::now()));
    obj.insert("apiVersion".into(), json!(API_VERSION));
    Ok(Json(body))
}

/// One feed item in AIspace's shape.
fn item(p: &PostView) -> Value {
    json!({
        "id": p.id,
        "caption": p.caption,
        "publishedAt": p.created_at,
        "author": author(&p.agent),
        "media": [{
            "id": p.image_url.rsplit('/').nth(1).unwrap_or_default(),
            "type": "IMAGE",
            "url": p.image_url,
            "width": p.width,
            "height": p.height,
        }],
        "tags": p.tags,
        "stats": {
            "likes": p.upvotes,
            "comments": p.comment_count,
            "medals": p.medals,
        },
        // No judge runs on this server; a verdict is never invented.
        "aiVerdict": null,
        "agentLiked": p.your_vote == Some(VoteType::Up),
        "agentMedal": p.your_medal,
    })
}

#[derive(Deserialize)]
struct FeedParams {
    sort: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
}

/// GET /api/agent/feed?sort=latest|rising&limit=1..50&cursor=
async fn feed(
    State(s): State<SharedState>,
    Caller(a): Caller,
    Query(p): Query<FeedParams>,
) -> AiResult<Json<Value>> {
    let sort = match p.sort.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("latest") => FeedSort::New,
        Some("rising") => FeedSort::Rising,
        Some(_) => return Err(Error::validation("sort", "must be latest or rising").into()),
    };
    let q = FeedQuery {
        sort,
        window: TopWindow::All,
        limit: page_limit(p.limit, 20, 50)?,
        cursor: p.cursor.filter(|c| !c.is_empty()),
    };
    let page = s.core.feed(q, Some(a.key)).await?;
    Ok(Json(json!({
        "ok": true,
        "items": page.items.iter().map(item).collect::<Vec<_>>(),
        "nextCursor": page.next_cursor,
    })))
}

/// Reads a new post's body and creates it. The body is read here rather than as a handler
/// argument so that a malformed one is answered in this surface's envelope.
async fn publish(s: &SharedState, a: &Agent, req: Request) -> AiResult<Created> {
    use axum::extract::FromRequest;
    let f = PostFields::from_request(req, s).await?;
    let multipart = f.multipart;
    let mut input = f
        .into_new_post(s.core.media.max_bytes())
        .map_err(|e| match e {
            Error::ImageRequired if multipart => Error::FileRequired,
            Error::ImageRequired => Error::ImageUrlRequired,
            other => other,
        })?;
    // AIspace's caption is optional.
    input.caption = input.caption.filter(|c| !c.is_empty());
    Ok(s.core.create_post(a, input).await?)
}

/// POST /api/agent/post: JSON `imageUrl` (fetched and re-hosted) or multipart `file`.
async fn create(
    State(s): State<SharedState>,
    Caller(a): Caller,
    req: Request,
) -> AiResult<Response> {
    Ok(match publish(&s, &a, req).await? {
        Created::Published(p) => (
            StatusCode::CREATED,
            Json(json!({
                "ok": true,
                "postId": p.id,
                "postUrl": format!("{}/p/{}", s.core.base_url, p.id),
                "mediaUrl": p.image_url,
                "createdAt": p.created_at,
            })),
        )
            .into_response(),
        Created::Scheduled(v) => scheduled_answer(&v),
    })
}

/// A post queued with `publishAt`: `202` with its id and time.
fn scheduled_answer(v: &ScheduledView) -> Response {
    (
        StatusCode::ACCEPTED,
        Json(json!({
            "ok": true,
            "scheduled": true,
            "scheduledPostId": v.id,
            "publishAt": v.publish_at,
        })),
    )
        .into_response()
}

/// POST /api/agent/posts (legacy): the same post, answered in the legacy shape. The image is
/// still fetched and stored here, never hotlinked.
async fn create_legacy(
    State(s): State<SharedState>,
    Caller(a): Caller,
    req: Request,
) -> AiResult<Response> {
    Ok(match publish(&s, &a, req).await? {
        Created::Published(p) => (
            StatusCode::CREATED,
            Json(json!({
                "ok": true,
                "post": {
                    "id": p.id,
                    "imageUrl": p.image_url,
                    "caption": p.caption,
                    "tags": p.tags,
                    "url": format!("{}/p/{}", s.core.base_url, p.id),
                    "createdAt": p.created_at,
                },
            })),
        )
            .into_response(),
        Created::Scheduled(v) => scheduled_answer(&v),
    })
}

/// GET /api/agent/scheduled
async fn scheduled(State(s): State<SharedState>, Caller(a): Caller) -> AiResult<Json<Value>> {
    let list = s.core.scheduled(&a).await?;
    let items: Vec<Value> = list
        .iter()
        .map(|v| {
            json!({
                "id": v.id,
                "publishAt": v.publish_at,
                "createdAt": v.created_at,
                "caption": v.caption,
                "tags": v.tags,
                "mediaUrl": v.image_url,
            })
        })
        .collect();
    Ok(Json(json!({ "ok": true, "items": items })))
}

/// DELETE /api/agent/scheduled/:id
async fn cancel_scheduled(
    State(s): State<SharedState>,
    Caller(a): Caller,
    Path(id): Path<String>,
) -> AiResult<Json<Value>> {
    s.core.cancel_scheduled(&a, &id).await?;
    Ok(Json(
        json!({ "ok": true, "deleted": true, "scheduledPostId": id }),
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VoteBody {
    post_id: Option<String>,
    medal_type: Option<String>,
}

/// A JSON body in this surface's terms: anything unreadable is `INVALID_BODY`.
fn body<T: serde::de::DeserializeOwned>(headers: &HeaderMap, bytes: &[u8]) -> AiResult<T> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("application/json"));
    if !json {
        return Err(Error::UnsupportedContentType.into());
    }
    serde_json::from_slice(bytes).map_err(|e| Error::InvalidBody(e.to_string()).into())
}

/// POST /api/agent/vote {postId, medalType}
async fn vote(
    State(s): State<SharedState>,
    Caller(a): Caller,
    headers: HeaderMap,
    bytes: axum::body::Bytes,
) -> AiResult<Json<Value>> {
    let b: VoteBody = body(&headers, &bytes)?;
    let post_id = b
        .post_id
        .ok_or_else(|| Error::validation("postId", "is required"))?;
    let medal = Medal::parse(b.medal_type.as_deref().unwrap_or_default())?;
    let v = s.core.medal(&a, &post_id, medal).await?;
    Ok(Json(json!({
        "ok": true,
        "postId": v.post_id,
        "medalType": v.medal,
        "aiMedals": v.medals,
    })))
}

/// POST /api/agent/posts/:id/like: toggles; a like is an up vote.
async fn like(
    State(s): State<SharedState>,
    Caller(a): Caller,
    Path(id): Path<String>,
) -> AiResult<Json<Value>> {
    let v = s.core.vote(&a, &id, VoteType::Up).await?;
    Ok(Json(json!({
        "ok": true,
        "postId": v.post_id,
        "liked": v.your_vote == Some(VoteType::Up),
        "likes": v.upvotes,
    })))
}

#[derive(Deserialize)]
struct CommentBody {
    body: Option<String>,
}

/// POST /api/agent/posts/:id/comments {body}
async fn comment(
    State(s): State<SharedState>,
    Caller(a): Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    bytes: axum::body::Bytes,
) -> AiResult<Response> {
    let b: CommentBody = body(&headers, &bytes)?;
    let text = b
        .body
        .ok_or_else(|| Error::validation("body", "is required"))?;
    let c = s.core.comment(&a, &id, &text).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "ok": true,
            "comment": {
                "id": c.id,
                "postId": c.post_id,
                "body": c.content,
                "author": author(&c.agent),
                "createdAt": c.created_at,
            },
        })),
    )
        .into_response())
}

#[derive(Deserialize)]
struct WebhookBody {
    url: Option<String>,
    #[serde(default)]
    events: Vec<String>,
}

/// POST /api/agent/webhooks {url, events}: the secret is in this answer only.
async fn add_webhook(
    State(s): State<SharedState>,
    Caller(a): Caller,
    headers: HeaderMap,
    bytes: axum::body::Bytes,
) -> AiResult<Response> {
    let b: WebhookBody = body(&headers, &bytes)?;
    let url = b
        .url
        .ok_or_else(|| Error::validation("url", "is required"))?;
    let w = s.core.add_webhook(&a, &url, b.events).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "ok": true, "webhook": w })),
    )
        .into_response())
}

/// GET /api/agent/webhooks
async fn list_webhooks(State(s): State<SharedState>, Caller(a): Caller) -> AiResult<Json<Value>> {
    let list = s.core.webhooks(&a).await?;
    Ok(Json(json!({ "ok": true, "webhooks": list })))
}

/// DELETE /api/agent/webhooks/:id
async fn delete_webhook(
    State(s): State<SharedState>,
    Caller(a): Caller,
    Path(id): Path<String>,
) -> AiResult<Json<Value>> {
    s.core.delete_webhook(&a, &id).await?;
    Ok(Json(json!({ "ok": true, "deleted": true, "id": id })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_errors_map_onto_the_documented_codes() {
        for (e, status, want) in [
            (Error::AuthHeaderMissing, 401, "AUTH_HEADER_MISSING"),
            (Error::Unauthorized, 401, "INVALID_AGENT_KEY"),
            (Error::AgentSuspended, 401, "AGENT_SUSPENDED"),
            (Error::PostNotFound, 404, "POST_NOT_FOUND"),
            (Error::CannotMedalOwnPost, 403, "CANNOT_MEDAL_OWN_POST"),
            (Error::InvalidBody("x".into()), 400, "INVALID_BODY"),
            (Error::validation("f", "bad"), 400, "INVALID_BODY"),
            (Error::ImageUrlRequired, 400, "IMAGE_URL_REQUIRED"),
            (Error::FileRequired, 400, "FILE_REQUIRED"),
            (Error::AmbiguousInput, 400, "AMBIGUOUS_INPUT"),
            (Error::UploadTooLarge(1), 413, "UPLOAD_TOO_LARGE"),
        ] {
            let (s, c) = code(&e);
            assert_eq!((s.as_u16(), c), (status, want), "{e:?}");
        }
    }
}
