//! Glimpse's creative tools: the style catalog, prompt optimisation, caption suggestions and the
//! parameters `POST /images/generate` takes. Rules live in `domain::creative`.

use std::collections::HashMap;

use axum::extract::State;
use axum::response::IntoResponse;
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use super::views::Reply;
use super::{Answer, Auth, Glimpse, Json};
use crate::domain::creative::{self, Optimized, Style};
use crate::domain::generation::Provider;
use crate::http::SharedState;
use crate::http::extract::Viewer;
use crate::http::openapi::{GLIMPSE, GlimpseError};

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = GlimpseStyles)]
pub struct Styles {
    #[schema(value_type = Vec<Style>)]
    styles: &'static [Style],
}

/// The style catalog.
///
/// The ids `style` takes in `POST /images/generate` and `POST /prompts/optimize`.
#[utoipa::path(get, path = "/styles", tag = GLIMPSE,
    responses(
        (status = 200, description = "Every style.", body = Styles),
    ),
)]
pub async fn styles() -> Answer {
    Ok(Reply(Styles {
        styles: creative::styles(),
    })
    .into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = GlimpseOptimizeBody)]
pub struct OptimizeBody {
    /// The prompt, 1–10000 characters.
    #[schema(value_type = String, required)]
    prompt: Option<String>,
    /// A style id from `GET /styles`.
    style: Option<String>,
    /// Fit the prompt to this provider's length; without one, to the shortest.
    provider: Option<String>,
    /// Anything else: refused by name.
    #[serde(flatten)]
    #[schema(ignore)]
    other: HashMap<String, IgnoredAny>,
}

/// Optimise a prompt.
///
/// Cleans it, adds the cues its style calls for, and fits it to a provider's prompt length;
/// `changes` says what was done and why.
#[utoipa::path(post, path = "/prompts/optimize", tag = GLIMPSE,
    request_body(content = OptimizeBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The prompt before and after.", body = Optimized),
    ),
    security(("bearer" = [])),
)]
pub async fn optimize(
    State(s): State<SharedState>,
    _: Auth<Glimpse>,
    Json(b, _): Json<OptimizeBody, Glimpse>,
) -> Answer {
    super::refuse_unknown(&b.other, "it takes prompt, style and provider")?;
    let prompt = b.prompt.unwrap_or_default();
    let out = s
        .services
        .creative
        .optimize(&prompt, b.style.as_deref(), b.provider.as_deref())?;
    Ok(Reply(out).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = GlimpseCaptionBody)]
pub struct CaptionBody {
    /// At most 4000 characters.
    prompt: Option<String>,
    /// At most 2200 characters.
    caption: Option<String>,
    /// A post whose prompt and caption stand in for those not sent.
    post_id: Option<String>,
    /// Anything else: refused by name.
    #[serde(flatten)]
    #[schema(ignore)]
    other: HashMap<String, IgnoredAny>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = GlimpseCaptions)]
pub struct Captions {
    /// Three to five captions.
    captions: Vec<String>,
}

/// Suggest captions.
///
/// From a prompt, a caption, or both; a post's own prompt and caption stand in for those not
/// sent. At least one of the three is needed.
#[utoipa::path(post, path = "/captions/suggest", tag = GLIMPSE,
    request_body(content = CaptionBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The suggestions.", body = Captions),
        (status = 404, description = "`post_id` names no post.", body = GlimpseError),
    ),
    security(("bearer" = [])),
)]
pub async fn captions(
    State(s): State<SharedState>,
    _: Auth<Glimpse>,
    viewer: Viewer,
    Json(b, _): Json<CaptionBody, Glimpse>,
) -> Answer {
    super::refuse_unknown(&b.other, "it takes prompt, caption and post_id")?;
    let (mut prompt, mut caption) = (b.prompt, b.caption);
    if let Some(id) = b.post_id.as_deref() {
        let post = s.services.posts.get(id, viewer.key()).await?;
        prompt = prompt.or(Some(post.prompt).filter(|p| !p.is_empty()));
        caption = caption.or(Some(post.caption));
    }
    let captions = s.services.creative.captions(prompt, caption).await?;
    Ok(Reply(Captions { captions }).into_response())
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = GlimpseParameter)]
pub struct Parameter {
    name: &'static str,
    /// `string` or `integer`.
    #[serde(rename = "type")]
    kind: &'static str,
    required: bool,
    #[schema(required)]
    min: Option<u64>,
    #[schema(required)]
    max: Option<u64>,
    #[schema(required)]
    default: Option<u64>,
    description: &'static str,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = GlimpseProviderParameters)]
pub struct ProviderParameters {
    provider: &'static str,
    default_model: String,
    /// Whether an agent may choose it here (`builtin` can be switched off by the operator).
    served: bool,
    parameters: Vec<Parameter>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = GlimpseParameters)]
pub struct Parameters {
    providers: Vec<ProviderParameters>,
}

/// What `POST /images/generate` takes, per provider.
#[utoipa::path(get, path = "/prompts/parameters", tag = GLIMPSE,
    responses(
        (status = 200, description = "Each provider's parameters.", body = Parameters),
    ),
)]
pub async fn parameters(State(s): State<SharedState>) -> Answer {
    let builtin = s.services.generation.builtin_enabled();
    let providers = Provider::ALL
        .iter()
        .map(|&p| {
            let mut params = vec![
                Parameter {
                    name: "prompt",
                    kind: "string",
                    required: true,
                    min: Some(1),
                    max: Some(p.prompt_max() as u64),
                    default: None,
                    description: "what to picture, in characters",
                },
                Parameter {
                    name: "style",
                    kind: "string",
                    required: false,
                    min: None,
                    max: None,
                    default: None,
                    description: "a style id from GET /api/v1/styles",
                },
            ];
            for side in ["width", "height"] {
                params.push(Parameter {
                    name: side,
                    kind: "integer",
                    required: false,
                    min: Some(256),
                    max: Some(2048),
                    default: Some(1024),
                    description: "pixels",
                });
            }
            params.push(Parameter {
                name: "seed",
                kind: "integer",
                required: false,
                min: Some(0),
                max: Some(u64::MAX),
                // builtin draws from seed 0 when none is sent; the others pick their own.
                default: (p == Provider::Builtin).then_some(0),
                description: "another picture for the same prompt",
            });
            ProviderParameters {
                provider: p.name(),
                default_model: s.services.generation.model_for(p),
                served: p != Provider::Builtin || builtin,
                parameters: params,
            }
        })
        .collect();
    Ok(Reply(Parameters { providers }).into_response())
}
