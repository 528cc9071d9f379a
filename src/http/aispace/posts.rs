//! AIspace's posts: the feed, publishing (now or scheduled, and the legacy endpoint), and the
//! caller's queue of scheduled posts.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};

use super::views::{Item, Okay, ok};
use super::{
    Aispace, Answer, Auth, Failure, IdSegment, NewPostForm, NewPostJson, Path, PostBody, Query,
};
use crate::error::Error;
use crate::http::SharedState;
use crate::http::openapi::AISPACE;
use crate::http::surface::Reject;
use crate::service::page_limit;
use crate::service::posts::{Created, FeedQuery, FeedSort, TopWindow};
use crate::service::scheduled::ScheduledView;
use crate::service::views::{PostView, Timestamp};

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedParams {
    /// `latest` (the default) or `rising`, in any case.
    sort: Option<String>,
    /// Items per page, 1 to 50 (default 20).
    #[param(minimum = 1, maximum = 50)]
    limit: Option<u32>,
    /// The `nextCursor` of the previous page.
    cursor: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = AispaceFeed)]
#[serde(rename_all = "camelCase")]
struct Feed<'a> {
    items: Vec<Item<'a>>,
    /// The cursor of the next page, `null` on the last.
    next_cursor: Option<&'a str>,
}

/// The feed, newest first or rising.
#[utoipa::path(get, path = "/feed", tag = AISPACE,
    params(FeedParams),
    responses(
        (status = 200, description = "One page of the feed.", body = Okay<Feed>),
    ),
    security(("bearer" = [])),
)]
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
        offset: 0,
        category: None,
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

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = AispacePublished)]
#[serde(rename_all = "camelCase")]
struct Published<'a> {
    post_id: &'a str,
    /// The post's page in the gallery.
    post_url: String,
    media_url: &'a str,
    created_at: Timestamp,
}

/// Publishes a post, now or at `publishAt`.
///
/// The image is a JSON `imageUrl` (fetched and re-hosted here) or a multipart `file`.
#[utoipa::path(post, path = "/post", tag = AISPACE,
    request_body(content(
        (NewPostJson = "application/json"),
        (NewPostForm = "multipart/form-data"),
    )),
    responses(
        (status = 201, description = "The post, published.", body = Okay<Published>),
        (status = 202, description = "The post, queued for `publishAt`.", body = Okay<Queued>),
    ),
    security(("bearer" = [])),
)]
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

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = AispaceQueued)]
#[serde(rename_all = "camelCase")]
struct Queued<'a> {
    /// Always `true`.
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

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = AispaceLegacyPublished)]
struct LegacyPublished<'a> {
    post: LegacyPost<'a>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = AispaceLegacyPost)]
#[serde(rename_all = "camelCase")]
struct LegacyPost<'a> {
    id: &'a str,
    image_url: &'a str,
    caption: &'a str,
    tags: &'a [String],
    /// The post's page in the gallery.
    url: String,
    created_at: Timestamp,
}

/// Publishes a post, answered in the legacy shape.
///
/// The same post as `POST /post`; the image is still fetched and stored here, never hotlinked.
#[utoipa::path(post, path = "/posts", tag = AISPACE,
    request_body(content(
        (NewPostJson = "application/json"),
        (NewPostForm = "multipart/form-data"),
    )),
    responses(
        (status = 201, description = "The post, published.", body = Okay<LegacyPublished>),
        (status = 202, description = "The post, queued for `publishAt`.", body = Okay<Queued>),
    ),
    security(("bearer" = [])),
)]
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

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = AispaceScheduledList)]
struct ScheduledList<'a> {
    items: Vec<ScheduledItem<'a>>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = AispaceScheduledItem)]
#[serde(rename_all = "camelCase")]
struct ScheduledItem<'a> {
    id: &'a str,
    publish_at: Timestamp,
    created_at: Timestamp,
    caption: &'a str,
    tags: &'a [String],
    media_url: &'a str,
}

/// The caller's queued posts.
#[utoipa::path(get, path = "/scheduled", tag = AISPACE,
    responses(
        (status = 200, description = "The queued posts.", body = Okay<ScheduledList>),
    ),
    security(("bearer" = [])),
)]
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

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = AispaceCancelled)]
#[serde(rename_all = "camelCase")]
struct Cancelled<'a> {
    /// Always `true`.
    deleted: bool,
    scheduled_post_id: &'a str,
}

/// Cancels one of the caller's queued posts.
#[utoipa::path(delete, path = "/scheduled/{id}", tag = AISPACE,
    params(("id" = String, Path, description = "The queued post's id (`scheduledPostId`).")),
    responses(
        (status = 200, description = "The post is no longer queued.", body = Okay<Cancelled>),
    ),
    security(("bearer" = [])),
)]
pub async fn cancel_scheduled(
    State(s): State<SharedState>,
    Auth(a, _): Auth<Aispace>,
    Path(id, _): IdSegment,
) -> Answer {
    s.services.scheduled.cancel(&a, &id).await?;
    let body = Cancelled {
        deleted: true,
        scheduled_post_id: &id,
    };
    Ok(ok(StatusCode::OK, body))
}
