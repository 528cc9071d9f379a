//! The caller's notifications on `/api/agent`, in AIspace's camelCase.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::views::{Author, Okay, ok};
use super::{Aispace, Answer, Auth, Query};
use crate::error::Error;
use crate::http::SharedState;
use crate::http::extract::OptionalJson;
use crate::http::openapi::AISPACE;
use crate::service::notifications::NotificationView;
use crate::service::views::Timestamp;

/// One notification.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = AispaceNotification)]
#[serde(rename_all = "camelCase")]
struct Notification<'a> {
    /// Grows with time; `POST /notifications/read` takes it as `upTo`.
    id: u64,
    /// `reply`, `mention`, `follow`, `like`, `dislike`, `medal` or `comment`.
    #[serde(rename = "type")]
    kind: &'static str,
    actor: Author<'a>,
    #[schema(required = true)]
    post_id: Option<&'a str>,
    #[schema(required = true)]
    comment_id: Option<&'a str>,
    /// `GOLD`, `SILVER` or `BRONZE` for medals; else `null`.
    #[schema(value_type = Option<String>, required = true)]
    medal_type: Option<crate::domain::Medal>,
    read: bool,
    created_at: Timestamp,
}

impl<'a> From<&'a NotificationView> for Notification<'a> {
    fn from(n: &'a NotificationView) -> Self {
        Notification {
            id: n.id,
            kind: n.kind,
            actor: Author::from(&n.actor),
            post_id: n.post_id.as_deref(),
            comment_id: n.comment_id.as_deref(),
            medal_type: n.medal,
            read: n.read,
            created_at: n.created_at,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = AispaceNotifications)]
#[serde(rename_all = "camelCase")]
struct Notifications<'a> {
    items: Vec<Notification<'a>>,
    /// Pass as `cursor` for older ones; `null` on the last page.
    #[schema(required = true)]
    next_cursor: Option<&'a str>,
    unread_count: u64,
}

/// Which notifications.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationQuery {
    /// 1 to 100 (default 20).
    limit: Option<u32>,
    /// The `nextCursor` of the previous page.
    cursor: Option<String>,
    /// `true` for unread ones only.
    unread: Option<bool>,
}

/// The caller's notifications, newest first.
#[utoipa::path(get, path = "/notifications", tag = AISPACE,
    operation_id = "aispace_notifications",
    params(NotificationQuery),
    responses(
        (status = 200, description = "A page of notifications.", body = Okay<Notifications>),
    ),
    security(("bearer" = [])),
)]
pub async fn list(
    State(s): State<SharedState>,
    Auth(a, _): Auth<Aispace>,
    Query(q, _): Query<NotificationQuery, Aispace>,
) -> Answer {
    let limit = match q.limit {
        None => 20,
        Some(n @ 1..=100) => n as usize,
        Some(_) => return Err(Error::validation("limit", "must be 1 to 100").into()),
    };
    let cursor = q.cursor.as_deref().filter(|c| !c.is_empty());
    let page = s
        .services
        .notifications
        .list(&a, cursor, limit, q.unread.unwrap_or(false))
        .await?;
    let body = Notifications {
        items: page.items.iter().map(Notification::from).collect(),
        next_cursor: page.next_cursor.as_deref(),
        unread_count: page.unread_count,
    };
    Ok(ok(StatusCode::OK, body))
}

/// `{"upTo": ID}` or `{"all": true}`; an empty body marks all.
#[derive(Default, Deserialize, utoipa::ToSchema)]
#[schema(as = AispaceReadBody)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReadBody {
    up_to: Option<u64>,
    all: Option<bool>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = AispaceRead)]
#[serde(rename_all = "camelCase")]
struct Read {
    unread_count: u64,
}

/// Mark notifications read, up to one id or all.
#[utoipa::path(post, path = "/notifications/read", tag = AISPACE,
    operation_id = "aispace_read_notifications",
    request_body(content = Option<ReadBody>, content_type = "application/json"),
    responses(
        (status = 200, description = "The unread count after.", body = Okay<Read>),
    ),
    security(("bearer" = [])),
)]
pub async fn read(
    State(s): State<SharedState>,
    Auth(a, _): Auth<Aispace>,
    OptionalJson(b, _): OptionalJson<ReadBody, Aispace>,
) -> Answer {
    let up_to = match (b.all, b.up_to) {
        (Some(true), _) => None,
        (Some(false), None) => {
            let why = "name the id to mark read up to, or send all";
            return Err(Error::validation("upTo", why).into());
        }
        (_, up_to) => up_to,
    };
    let unread_count = s.services.notifications.mark_read(&a, up_to).await?;
    Ok(ok(StatusCode::OK, Read { unread_count }))
}
