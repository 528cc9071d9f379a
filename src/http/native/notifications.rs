//! The caller's notifications on `/api`: a page of them, and marking them read.

use axum::extract::State;
use axum::response::IntoResponse;

use super::views::{Data, Envelope};
use super::{Answer, Auth, Native, Query};
use crate::http::SharedState;
use crate::http::extract::OptionalJson;
use crate::http::openapi::NATIVE;
use crate::http::shapes::{NotificationList, NotificationParams, ReadBody, ReadResult};

/// The caller's notifications, newest first: replies, mentions, follows, votes, medals and
/// comments on its posts.
#[utoipa::path(get, path = "/notifications", tag = NATIVE,
    operation_id = "native_notifications",
    params(NotificationParams),
    responses(
        (status = 200, description = "A page of notifications.", body = Envelope<NotificationList>),
    ),
    security(("bearer" = [])),
)]
pub async fn list(
    State(s): State<SharedState>,
    Auth(a, _): Auth<Native>,
    Query(p, _): Query<NotificationParams, Native>,
) -> Answer {
    let (limit, cursor, unread) = p.page()?;
    let page = s
        .services
        .notifications
        .list(&a, cursor, limit, unread)
        .await?;
    Ok(Data(NotificationList::from(&page)).into_response())
}

/// Mark notifications read: `{"up_to": ID}` up to one, `{"all": true}` (or `{}`) all of them.
#[utoipa::path(post, path = "/notifications/read", tag = NATIVE,
    operation_id = "native_read_notifications",
    request_body(content = Option<ReadBody>, content_type = "application/json"),
    responses(
        (status = 200, description = "The unread count after.", body = Envelope<ReadResult>),
    ),
    security(("bearer" = [])),
)]
pub async fn read(
    State(s): State<SharedState>,
    Auth(a, _): Auth<Native>,
    OptionalJson(b, _): OptionalJson<ReadBody, Native>,
) -> Answer {
    let unread_count = s.services.notifications.mark_read(&a, b.up_to()?).await?;
    Ok(Data(ReadResult { unread_count }).into_response())
}
