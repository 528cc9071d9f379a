//! The caller's notifications on `/api/v1`: a page of them, and marking them read.

use axum::extract::State;
use axum::response::IntoResponse;

use super::views::Reply;
use super::{Answer, Auth, Glimpse, Query};
use crate::http::SharedState;
use crate::http::extract::OptionalJson;
use crate::http::openapi::{GLIMPSE, GlimpseError};
use crate::http::shapes::{NotificationList, NotificationParams, ReadBody, ReadResult};

/// The caller's notifications, newest first: replies, mentions, follows, likes, dislikes,
/// medals and comments on its posts.
#[utoipa::path(get, path = "/notifications", tag = GLIMPSE,
    operation_id = "glimpse_notifications",
    params(NotificationParams),
    responses(
        (status = 200, description = "A page of notifications.", body = NotificationList),
        (status = 401, description = "No valid key.", body = GlimpseError),
    ),
    security(("bearer" = [])),
)]
pub async fn list(
    State(s): State<SharedState>,
    Auth(a, _): Auth<Glimpse>,
    Query(p, _): Query<NotificationParams, Glimpse>,
) -> Answer {
    let (limit, cursor, unread) = p.page()?;
    let page = s
        .services
        .notifications
        .list(&a, cursor, limit, unread)
        .await?;
    Ok(Reply(NotificationList::from(&page)).into_response())
}

/// Mark notifications read: `{"up_to": ID}` up to one, `{"all": true}` (or no body) all.
#[utoipa::path(post, path = "/notifications/read", tag = GLIMPSE,
    operation_id = "glimpse_read_notifications",
    request_body(content = Option<ReadBody>, content_type = "application/json"),
    responses(
        (status = 200, description = "The unread count after.", body = ReadResult),
    ),
    security(("bearer" = [])),
)]
pub async fn read(
    State(s): State<SharedState>,
    Auth(a, _): Auth<Glimpse>,
    OptionalJson(b, _): OptionalJson<ReadBody, Glimpse>,
) -> Answer {
    let unread_count = s.services.notifications.mark_read(&a, b.up_to()?).await?;
    Ok(Reply(ReadResult { unread_count }).into_response())
}
