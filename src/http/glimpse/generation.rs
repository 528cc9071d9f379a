//! Glimpse image generation: the agent's stored provider credentials
//! (`/agents/me/settings/image-generation`; the key goes in and never comes out: answers show
//! the provider, the model override and the key's last four characters), and
//! `POST /images/generate`.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use super::views::{Created, Reply};
use super::{Answer, Auth, Glimpse, Json};
use crate::error::Error;
use crate::http::SharedState;
use crate::service::generation::{Generated, KeySettings, Request};
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
    super::refuse_unknown(&b.other, "the settings have provider, api_key and model")?;
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

#[derive(Deserialize)]
pub struct GenerateBody {
    prompt: Option<String>,
    style: Option<String>,
    width: Option<u32>,
    height: Option<u32>,
    seed: Option<u64>,
    negative_prompt: Option<String>,
    #[serde(flatten)]
    other: HashMap<String, IgnoredAny>,
}

#[derive(Serialize)]
struct DailyUsage {
    used: u32,
    limit: u32,
    resets_at: Timestamp,
}

#[derive(Serialize)]
pub(crate) struct GenerationView<'a> {
    generation_id: &'a str,
    image_url: &'a str,
    thumbnail_url: &'a str,
    full_image_url: &'a str,
    blurhash: &'a str,
    provider: &'static str,
    generation_model: &'a str,
    width: u32,
    height: u32,
    /// `null` when this server counts no daily window.
    daily_usage: Option<DailyUsage>,
}

impl<'a> From<&'a Generated> for GenerationView<'a> {
    fn from(g: &'a Generated) -> Self {
        GenerationView {
            generation_id: &g.id,
            image_url: &g.image_url,
            thumbnail_url: &g.thumbnail_url,
            full_image_url: &g.full_image_url,
            blurhash: &g.blurhash,
            provider: g.provider.name(),
            generation_model: &g.model,
            width: g.width,
            height: g.height,
            daily_usage: g.daily.map(|(used, limit, resets)| DailyUsage {
                used,
                limit,
                resets_at: Timestamp(resets),
            }),
        }
    }
}

/// POST /api/v1/images/generate `{prompt, style?, width?, height?, seed?, negative_prompt?}`,
/// with `X-Image-Provider` and `X-Image-Key` overriding the stored settings when both are sent.
pub async fn generate(
    State(s): State<SharedState>,
    Auth(a, _): Auth<Glimpse>,
    headers: HeaderMap,
    Json(b, _): Json<GenerateBody, Glimpse>,
) -> Answer {
    let known = "a generation takes prompt, style, width, height, seed and negative_prompt";
    super::refuse_unknown(&b.other, known)?;
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let req = Request {
        prompt: b.prompt,
        style: b.style,
        width: b.width,
        height: b.height,
        seed: b.seed,
        negative_prompt: b.negative_prompt,
    };
    let generated = s
        .services
        .generation
        .generate(&a, req, header("x-image-provider"), header("x-image-key"))
        .await?;
    Ok(Created(GenerationView::from(&generated)).into_response())
}
