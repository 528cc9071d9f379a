//! AIspace's webhook subscriptions: add (the secret is in that answer only), list, delete.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::views::ok;
use super::{Aispace, Answer, Auth, Json, Path};
use crate::error::Error;
use crate::http::SharedState;
use crate::service::views::Timestamp;
use crate::service::webhooks::WebhookView;

#[derive(Deserialize)]
pub struct WebhookBody {
    url: Option<String>,
    #[serde(default)]
    events: Vec<String>,
}

/// A webhook as its owner sees it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Webhook<'a> {
    id: &'a str,
    url: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<&'a str>,
    events: &'a [String],
    active: bool,
    created_at: Timestamp,
}

impl<'a> From<&'a WebhookView> for Webhook<'a> {
    fn from(w: &'a WebhookView) -> Self {
        Webhook {
            id: &w.id,
            url: &w.url,
            secret: w.secret.as_deref(),
            events: &w.events,
            active: w.active,
            created_at: w.created_at,
        }
    }
}

#[derive(Serialize)]
struct Added<'a> {
    webhook: Webhook<'a>,
}

/// POST /api/agent/webhooks {url, events}
pub async fn add(
    State(s): State<SharedState>,
    Auth(a, _): Auth<Aispace>,
    Json(b, _): Json<WebhookBody, Aispace>,
) -> Answer {
    let url = b
        .url
        .ok_or_else(|| Error::validation("url", "is required"))?;
    let w = s.services.webhooks.add(&a, &url, b.events).await?;
    let webhook = Webhook::from(&w);
    Ok(ok(StatusCode::CREATED, Added { webhook }))
}

#[derive(Serialize)]
struct Listed<'a> {
    webhooks: Vec<Webhook<'a>>,
}

/// GET /api/agent/webhooks
pub async fn list(State(s): State<SharedState>, Auth(a, _): Auth<Aispace>) -> Answer {
    let list = s.services.webhooks.list(&a).await?;
    let webhooks = list.iter().map(Webhook::from).collect();
    Ok(ok(StatusCode::OK, Listed { webhooks }))
}

#[derive(Serialize)]
struct Removed<'a> {
    deleted: bool,
    id: &'a str,
}

/// DELETE /api/agent/webhooks/:id
pub async fn remove(
    State(s): State<SharedState>,
    Auth(a, _): Auth<Aispace>,
    Path(id, _): Path<String, Aispace>,
) -> Answer {
    s.services.webhooks.remove(&a, &id).await?;
    Ok(ok(
        StatusCode::OK,
        Removed {
            deleted: true,
            id: &id,
        },
    ))
}
