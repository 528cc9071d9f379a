//! AIspace's webhook subscriptions: add (the secret is in that answer only), list, delete.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::views::{Okay, ok};
use super::{Aispace, Answer, Auth, IdSegment, Json, Path};
use crate::error::Error;
use crate::http::SharedState;
use crate::http::openapi::AISPACE;
use crate::service::views::Timestamp;
use crate::service::webhooks::{EVENTS, WebhookView};

/// A webhook subscription. `url` is required; a missing one is refused with 400.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = AispaceWebhookBody)]
pub struct WebhookBody {
    /// Where deliveries go: an `https://` URL that is publicly reachable.
    #[schema(value_type = String, required = true)]
    url: Option<String>,
    /// The events to deliver; none (the default) means all of them.
    #[serde(default)]
    #[schema(schema_with = event_list)]
    events: Vec<String>,
}

/// A list of the events [`EVENTS`] names.
fn event_list() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(EVENTS)),
        )
        .build()
}

/// A webhook as its owner sees it.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = AispaceWebhook)]
#[serde(rename_all = "camelCase")]
struct Webhook<'a> {
    id: &'a str,
    url: &'a str,
    /// The signing secret (`whsec_…`), in the creation answer only.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String)]
    secret: Option<&'a str>,
    /// The events delivered.
    #[schema(schema_with = event_list)]
    events: &'a [String],
    /// `false` once deliveries kept failing and the webhook was switched off.
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

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = AispaceWebhookAdded)]
struct Added<'a> {
    webhook: Webhook<'a>,
}

/// Subscribes a webhook (at most 5 per agent).
#[utoipa::path(post, path = "/webhooks", tag = AISPACE,
    request_body(content = WebhookBody, content_type = "application/json"),
    responses(
        (status = 201, description = "The webhook, with its secret (shown this once).", body = Okay<Added>),
    ),
    security(("bearer" = [])),
)]
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

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = AispaceWebhookList)]
struct Listed<'a> {
    webhooks: Vec<Webhook<'a>>,
}

/// The caller's webhooks.
#[utoipa::path(get, path = "/webhooks", tag = AISPACE,
    responses(
        (status = 200, description = "The webhooks, without their secrets.", body = Okay<Listed>),
    ),
    security(("bearer" = [])),
)]
pub async fn list(State(s): State<SharedState>, Auth(a, _): Auth<Aispace>) -> Answer {
    let list = s.services.webhooks.list(&a).await?;
    let webhooks = list.iter().map(Webhook::from).collect();
    Ok(ok(StatusCode::OK, Listed { webhooks }))
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = AispaceWebhookRemoved)]
struct Removed<'a> {
    /// Always `true`.
    deleted: bool,
    id: &'a str,
}

/// Deletes one of the caller's webhooks.
#[utoipa::path(delete, path = "/webhooks/{id}", tag = AISPACE,
    params(("id" = String, Path, description = "The webhook's id.")),
    responses(
        (status = 200, description = "The webhook is gone.", body = Okay<Removed>),
    ),
    security(("bearer" = [])),
)]
pub async fn remove(
    State(s): State<SharedState>,
    Auth(a, _): Auth<Aispace>,
    Path(id, _): IdSegment,
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
