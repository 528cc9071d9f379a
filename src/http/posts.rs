//! Native post endpoints: create, read, feed, vote, comments.

use axum::extract::{OriginalUri, Path, State};
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::json;

use super::SharedState;
use super::envelope::{Created, Data, paged, paged_with};
use super::extract::{ApiJson, ApiQuery, Authed, MaybeAuthed};
use super::upload::PostFields;
use crate::domain::VoteType;
use crate::error::Result;
use crate::service::comments::CommentSort;
use crate::service::page_limit;
use crate::service::posts::{self, FeedQuery, FeedSort, TopWindow};

/// POST /api/posts (JSON with `image_url` or `image_b64`, or multipart with `file`)
pub async fn create(
    State(s): State<SharedState>,
    Authed(a): Authed,
    f: PostFields,
) -> Result<impl IntoResponse> {
    let input = f.into_new_post(s.core.media.max_bytes())?;
    Ok(match s.core.create_post(&a, input).await? {
        posts::Created::Published(view) => Created(Data(json!(view))),
        // Queued: the answer says so, and where and when it will appear.
        posts::Created::Scheduled(view) => {
            let mut v = json!(view);
            v["scheduled"] = json!(true);
            Created(Data(v))
        }
    })
}

/// GET /api/posts/:id/duplicates
pub async fn duplicates(
    State(s): State<SharedState>,
    MaybeAuthed(viewer): MaybeAuthed,
    Path(id): Path<String>,
) -> Result<impl IntoResponse> {
    let found = s.core.duplicates(&id, viewer.map(|v| v.key)).await?;
    Ok(Data(json!({ "duplicates": found })))
}

/// GET /api/posts/:id
pub async fn get_one(
    State(s): State<SharedState>,
    MaybeAuthed(viewer): MaybeAuthed,
    Path(id): Path<String>,
) -> Result<impl IntoResponse> {
    Ok(Data(s.core.post(&id, viewer.map(|v| v.key)).await?))
}

#[derive(Deserialize)]
pub struct FeedParams {
    sort: Option<String>,
    t: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
}

/// GET /api/feed?sort=hot|new|top|discussed&t=day|week|month|all&limit=&cursor=
pub async fn feed(
    State(s): State<SharedState>,
    OriginalUri(uri): OriginalUri,
    MaybeAuthed(viewer): MaybeAuthed,
    ApiQuery(p): ApiQuery<FeedParams>,
) -> Result<impl IntoResponse> {
    let sort = FeedSort::parse(p.sort.as_deref())?;
    let q = FeedQuery {
        sort,
        window: TopWindow::parse(p.t.as_deref())?,
        limit: page_limit(p.limit, 20, 100)?,
        cursor: p.cursor.filter(|c| !c.is_empty()),
    };
    let page = s.core.feed(q, viewer.map(|v| v.key)).await?;
    let sort = p.sort.unwrap_or_else(|| "hot".into()).to_ascii_lowercase();
    Ok(paged_with(
        &s.core.base_url,
        &uri,
        "posts",
        page,
        vec![("sort", json!(sort))],
    ))
}

#[derive(Deserialize)]
pub struct VoteBody {
    vote_type: String,
}

/// POST /api/posts/:id/vote
pub async fn vote(
    State(s): State<SharedState>,
    Authed(a): Authed,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<VoteBody>,
) -> Result<impl IntoResponse> {
    let v = VoteType::parse(&b.vote_type)?;
    Ok(Data(s.core.vote(&a, &id, v).await?))
}

#[derive(Deserialize)]
pub struct CommentBody {
    content: String,
}

/// POST /api/posts/:id/comments
pub async fn comment(
    State(s): State<SharedState>,
    Authed(a): Authed,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<CommentBody>,
) -> Result<impl IntoResponse> {
    Ok(Created(Data(s.core.comment(&a, &id, &b.content).await?)))
}

#[derive(Deserialize)]
pub struct CommentParams {
    sort: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
}

/// GET /api/posts/:id/comments?sort=new|old|top&limit=&cursor=
pub async fn comments(
    State(s): State<SharedState>,
    OriginalUri(uri): OriginalUri,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<CommentParams>,
) -> Result<impl IntoResponse> {
    let sort = CommentSort::parse(p.sort.as_deref())?;
    let limit = page_limit(p.limit, 50, 100)?;
    let cursor = p.cursor.as_deref().filter(|c| !c.is_empty());
    let page = s.core.comments(&id, sort, limit, cursor).await?;
    Ok(paged(&s.core.base_url, &uri, "comments", page))
}
