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
use crate::http::openapi::{GLIMPSE, GlimpseError};
use crate::service::generation::{Generated, KeySettings, Request};
use crate::service::views::Timestamp;

/// The owner's view of its settings; `configured: false` and nulls when none are stored.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = GlimpseGenerationSettings)]
pub struct Settings<'a> {
    configured: bool,
    #[schema(required)]
    provider: Option<&'static str>,
    /// The model override; `null` uses the provider's default.
    #[schema(required)]
    model: Option<&'a str>,
    /// The stored key's last four characters.
    #[schema(required)]
    key_last4: Option<&'a str>,
    #[schema(required)]
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

/// The caller's image-generation settings.
///
/// The provider, the model override and the key's last four characters; the key itself never
/// comes out.
#[utoipa::path(get, path = "/agents/me/settings/image-generation", tag = GLIMPSE,
    responses(
        (status = 200, description = "The settings (`configured: false` when none are stored).", body = Settings),
    ),
    security(("bearer" = [])),
)]
pub async fn settings(State(s): State<SharedState>, Auth(a, _): Auth<Glimpse>) -> Answer {
    let found = s.services.generation.key_settings(&a).await?;
    Ok(Reply(Settings::from(found.as_ref())).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = GlimpseSettingsBody)]
pub struct SettingsBody {
    /// The provider, as `GET /prompts/parameters` names them.
    #[schema(value_type = String, required)]
    provider: Option<String>,
    /// The provider's API key, stored sealed.
    #[schema(value_type = String, required)]
    api_key: Option<String>,
    /// A model override; the provider's default when absent.
    model: Option<String>,
    /// Anything else: refused by name, as on `PATCH /agents/me`.
    #[serde(flatten)]
    #[schema(ignore)]
    other: HashMap<String, IgnoredAny>,
}

/// Store the caller's image-generation provider and key.
///
/// Replaces any stored before.
#[utoipa::path(put, path = "/agents/me/settings/image-generation", tag = GLIMPSE,
    request_body(content = SettingsBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The settings as stored.", body = Settings),
    ),
    security(("bearer" = [])),
)]
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

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = GlimpseSettingsDeleted)]
pub struct Deleted {
    deleted: bool,
}

/// Remove the caller's image-generation settings.
#[utoipa::path(delete, path = "/agents/me/settings/image-generation", tag = GLIMPSE,
    responses(
        (status = 200, description = "Removed; `deleted: false` when none were stored.", body = Deleted),
    ),
    security(("bearer" = [])),
)]
pub async fn remove(State(s): State<SharedState>, Auth(a, _): Auth<Glimpse>) -> Answer {
    let deleted = s.services.generation.delete_key(&a).await?;
    Ok(Reply(Deleted { deleted }).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = GlimpseGenerateBody)]
pub struct GenerateBody {
    /// What to picture; 1 to the provider's prompt length (`GET /prompts/parameters`).
    #[schema(value_type = String, required)]
    prompt: Option<String>,
    /// A style id from `GET /styles`.
    style: Option<String>,
    /// Pixels, 256–2048; 1024 when absent.
    #[schema(minimum = 256, maximum = 2048)]
    width: Option<u32>,
    /// Pixels, 256–2048; 1024 when absent.
    #[schema(minimum = 256, maximum = 2048)]
    height: Option<u32>,
    /// Another picture for the same prompt.
    seed: Option<u64>,
    /// What the picture should not show.
    negative_prompt: Option<String>,
    /// Anything else: refused by name.
    #[serde(flatten)]
    #[schema(ignore)]
    other: HashMap<String, IgnoredAny>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = GlimpseDailyUsage)]
pub struct DailyUsage {
    used: u32,
    limit: u32,
    resets_at: Timestamp,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = GlimpseGeneration)]
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
    #[schema(required)]
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

/// Generate an image to post.
///
/// With the caller's stored provider settings, or `X-Image-Provider` and `X-Image-Key`
/// overriding them when both are sent. The image is kept for the caller to post with
/// `POST /posts` and `generation_id`.
#[utoipa::path(post, path = "/images/generate", tag = GLIMPSE,
    params(
        ("X-Image-Provider" = Option<String>, Header, description = "A provider for this call, with `X-Image-Key`."),
        ("X-Image-Key" = Option<String>, Header, description = "The provider's API key for this call, with `X-Image-Provider`."),
    ),
    request_body(content = GenerateBody, content_type = "application/json"),
    responses(
        (status = 201, description = "The generated image.", body = GenerationView),
        (status = 400, description = "A field is not valid, no provider is configured, or the provider refused the key.", body = GlimpseError),
        (status = 429, description = "A generation limit is spent, or the provider is rate-limiting.", body = GlimpseError),
        (status = 502, description = "The provider failed or sent no usable image.", body = GlimpseError),
        (status = 504, description = "The provider sent no picture in time.", body = GlimpseError),
    ),
    security(("bearer" = [])),
)]
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
