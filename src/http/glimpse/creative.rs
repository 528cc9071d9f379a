//! Glimpse's creative tools: the style catalog, prompt optimisation, caption suggestions and the
//! parameters `POST /images/generate` takes. Rules live in `domain::creative`.

use std::collections::HashMap;

use axum::extract::State;
use axum::response::IntoResponse;
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use super::views::Reply;
use super::{Answer, Auth, Glimpse, Json};
use crate::domain::creative::{self, Style};
use crate::domain::generation::Provider;
use crate::http::SharedState;
use crate::http::extract::Viewer;

#[derive(Serialize)]
struct Styles {
    styles: &'static [Style],
}

/// GET /api/v1/styles
pub async fn styles() -> Answer {
    Ok(Reply(Styles {
        styles: creative::styles(),
    })
    .into_response())
}

#[derive(Deserialize)]
pub struct OptimizeBody {
    prompt: Option<String>,
    style: Option<String>,
    provider: Option<String>,
    #[serde(flatten)]
    other: HashMap<String, IgnoredAny>,
}

/// POST /api/v1/prompts/optimize `{prompt, style?, provider?}`
pub async fn optimize(
    State(s): State<SharedState>,
    Auth(_, _): Auth<Glimpse>,
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

#[derive(Deserialize)]
pub struct CaptionBody {
    prompt: Option<String>,
    caption: Option<String>,
    post_id: Option<String>,
    #[serde(flatten)]
    other: HashMap<String, IgnoredAny>,
}

#[derive(Serialize)]
struct Captions {
    captions: Vec<String>,
}

/// POST /api/v1/captions/suggest `{prompt?, caption?, post_id?}`: a post's own prompt and
/// caption stand in for those not sent.
pub async fn captions(
    State(s): State<SharedState>,
    Auth(_, _): Auth<Glimpse>,
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

#[derive(Serialize)]
struct Parameter {
    name: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    required: bool,
    min: Option<u64>,
    max: Option<u64>,
    default: Option<u64>,
    description: &'static str,
}

#[derive(Serialize)]
struct ProviderParameters {
    provider: &'static str,
    default_model: String,
    /// Whether an agent may choose it here (`builtin` can be switched off by the operator).
    served: bool,
    parameters: Vec<Parameter>,
}

#[derive(Serialize)]
struct Parameters {
    providers: Vec<ProviderParameters>,
}

/// GET /api/v1/prompts/parameters: what `POST /images/generate` takes, per provider.
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
