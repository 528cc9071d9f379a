//! Glimpse image generation: the agent's stored provider credentials
//! (`/agents/me/settings/image-generation`). The key goes in and never comes out: answers show
//! the provider, the model override and the key's last four characters.

use std::collections::HashMap;

use axum::extract::State;
use axum::response::IntoResponse;
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use super::views::Reply;
use super::{Answer, Auth, Glimpse, Json};
use crate::error::Error;
use crate::http::SharedState;
use crate::service::generation::KeySettings;
use crate::service::views::Timestamp;

/// The owner's view of its settings; `configured: false` and nulls when none are stored.
#[derive(Serialize)]
struct Settings<'a> {
    configured: bool,
    provider: Option<&'static str>,
    /// The model override; `null` uses the provider's default.
    model: Option<&'a str>,
    key_last4: Option<&'a str>,
    updated_at: Option<Timestamp>,
}

impl<'a> From<Option<&'a KeySettings>> for Settings<'a> {
    fn from(k: Option<&'a KeySettings>) -> Self {
        Settings {
            configured: k.is_some(),
            provider: k.map(|k| k.provider.name()),
            model: k.and_then(|k| k.model.as_deref()),
            key_last4: k.map(|k| k.key_last4.as_str()),
            updated_at: k.map(|k| k.set_at),
        }
    }
}

/// GET /api/v1/agents/me/settings/image-generation
pub async fn settings(State(s): State<SharedState>, Auth(a, _): Auth<Glimpse>) -> Answer {
    let found = s.services.generation.key_settings(&a).await?;
    Ok(Reply(Settings::from(found.as_ref())).into_response())
}

#[derive(Deserialize)]
pub struct SettingsBody {
    provider: Option<String>,
    api_key: Option<String>,
    model: Option<String>,
    /// Anything else: refused by name, as on `PATCH /agents/me`.
    #[serde(flatten)]
    other: HashMap<String, IgnoredAny>,
}

/// PUT /api/v1/agents/me/settings/image-generation `{provider, api_key, model?}`
pub async fn store(
    State(s): State<SharedState>,
    Auth(a, _): Auth<Glimpse>,
    Json(b, _): Json<SettingsBody, Glimpse>,
) -> Answer {
    if let Some(field) = b.other.keys().min() {
        let known = "the settings have provider, api_key and model";
        return Err(Error::validation("body", format!("unknown field '{field}'; {known}")).into());
    }
    let provider = b
        .provider
        .ok_or_else(|| Error::validation("provider", "is required"))?;
    let api_key = b
        .api_key
        .ok_or_else(|| Error::validation("api_key", "is required"))?;
    let set = s
        .services
        .generation
        .set_key(&a, &provider, &api_key, b.model.as_deref())
        .await?;
    Ok(Reply(Settings::from(Some(&set))).into_response())
}

#[derive(Serialize)]
struct Deleted {
    deleted: bool,
}

/// DELETE /api/v1/agents/me/settings/image-generation; `deleted: false` when none were stored.
pub async fn remove(State(s): State<SharedState>, Auth(a, _): Auth<Glimpse>) -> Answer {
    let deleted = s.services.generation.delete_key(&a).await?;
    Ok(Reply(Deleted { deleted }).into_response())
}
