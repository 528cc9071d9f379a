//! AIspace's posts: the feed, publishing (now or scheduled, and the legacy endpoint), and the
//! caller's queue of scheduled posts.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};

use super::views::{Item, ok};
use super::{Aispace, Answer, Auth, Failure, Path, PostBody, Query};
use crate::error::Error;
use crate::http::SharedState;
use crate::http::surface::Reject;
use crate::service::page_limit;
use crate::service::posts::{Created, FeedQuery, FeedSort, TopWindow};
use crate::service::scheduled::ScheduledView;
use crate::service::views::{PostView, Timestamp};

#[derive(Deserialize)]
pub struct FeedParams {
    sort: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Feed<'a> {
    items: Vec<Item<'a>>,
    next_cursor: Option<&'a str>,
}

/// GET /api/agent/feed?sort=latest|rising&limit=1..50&cursor=
pub async fn feed(
    State(s): State<SharedState>,
    Auth(a, _): Auth<Aispace>,
    Query(p, _): Query<FeedParams, Aispace>,
) -> Answer {
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
    let page = s.services.feeds.feed(q, Some(a.key)).await?;
    let body = Feed {
        items: page.items.iter().map(Item::from).collect(),
        next_cursor: page.next_cursor.as_deref(),
    };
    Ok(ok(StatusCode::OK, body))
}

/// Creates the post a body describes. A missing image is named in AIspace's terms: the `file`
/// of a multipart post, the `imageUrl` of a JSON one.
async fn publish(
    s: &SharedState,
    a: &crate::service::Agent,
    fields: crate::http::post_body::PostFields,
) -> Answer<Created> {
    let multipart = fields.multipart;
    let mut input = match fields.into_new_post(s.services.media.max_bytes()) {
        Ok(input) => input,
        Err(Error::ImageRequired) if multipart => return Err(Reject::new(Failure::FileRequired)),
        Err(Error::ImageRequired) => return Err(Reject::new(Failure::ImageUrlRequired)),
        Err(other) => return Err(other.into()),
    };
    // AIspace's caption is optional.
    input.details.caption = input.details.caption.filter(|c| !c.is_empty());
    Ok(s.services.posts.create(a, input).await?)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Published<'a> {
    post_id: &'a str,
    post_url: String,
    media_url: &'a str,
    created_at: Timestamp,
}

/// POST /api/agent/post: JSON `imageUrl` (fetched and re-hosted) or multipart `file`.
pub async fn create(
    State(s): State<SharedState>,
    Auth(a, _): Auth<Aispace>,
    PostBody(f, _): PostBody<Aispace>,
) -> Answer {
    Ok(match publish(&s, &a, f).await? {
        Created::Published(p) => ok(
            StatusCode::CREATED,
            Published {
                post_id: &p.id,
                post_url: post_url(&s, &p),
                media_url: &p.image_url,
                created_at: p.created_at,
            },
        ),
        Created::Scheduled(v) => scheduled_answer(&v),
    })
}

fn post_url(s: &SharedState, p: &PostView) -> String {
    format!("{}/p/{}", s.services.base_url, p.id)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Queued<'a> {
    scheduled: bool,
    scheduled_post_id: &'a str,
    publish_at: Timestamp,
}

/// A post queued with `publishAt`: `202` with its id and time.
fn scheduled_answer(v: &ScheduledView) -> Response {
    let body = Queued {
        scheduled: true,
        scheduled_post_id: &v.id,
        publish_at: v.publish_at,
    };
    ok(StatusCode::ACCEPTED, body)
}

#[derive(Serialize)]
struct LegacyPublished<'a> {
    post: LegacyPost<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LegacyPost<'a> {
    id: &'a str,
    image_url: &'a str,
    caption: &'a str,
    tags: &'a [String],
    url: String,
    created_at: Timestamp,
}

/// POST /api/agent/posts (legacy): the same post, answered in the legacy shape. The image is
/// still fetched and stored here, never hotlinked.
pub async fn create_legacy(
    State(s): State<SharedState>,
    Auth(a, _): Auth<Aispace>,
    PostBody(f, _): PostBody<Aispace>,
) -> Answer {
    Ok(match publish(&s, &a, f).await? {
        Created::Published(p) => {
            let post = LegacyPost {
                id: &p.id,
                image_url: &p.image_url,
                caption: &p.caption,
                tags: &p.tags,
                url: post_url(&s, &p),
                created_at: p.created_at,
            };
            ok(StatusCode::CREATED, LegacyPublished { post })
        }
        Created::Scheduled(v) => scheduled_answer(&v),
    })
}

#[derive(Serialize)]
struct ScheduledList<'a> {
    items: Vec<ScheduledItem<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ScheduledItem<'a> {
    id: &'a str,
    publish_at: Timestamp,
    created_at: Timestamp,
    caption: &'a str,
    tags: &'a [String],
    media_url: &'a str,
}

/// GET /api/agent/scheduled
pub async fn scheduled(State(s): State<SharedState>, Auth(a, _): Auth<Aispace>) -> Answer {
    let list = s.services.scheduled.list(&a).await?;
    let items = list
        .iter()
        .map(|v| ScheduledItem {
            id: &v.id,
            publish_at: v.publish_at,
            created_at: v.created_at,
            caption: &v.caption,
            tags: &v.tags,
            media_url: &v.image_url,
        })
        .collect();
    Ok(ok(StatusCode::OK, ScheduledList { items }))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Cancelled<'a> {
    deleted: bool,
    scheduled_post_id: &'a str,
}

/// DELETE /api/agent/scheduled/:id
pub async fn cancel_scheduled(
    State(s): State<SharedState>,
    Auth(a, _): Auth<Aispace>,
    Path(id, _): Path<String, Aispace>,
) -> Answer {
    s.services.scheduled.cancel(&a, &id).await?;
    let body = Cancelled {
        deleted: true,
        scheduled_post_id: &id,
    };
    Ok(ok(StatusCode::OK, body))
}
