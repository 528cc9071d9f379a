//! Native agent endpoints: register, me, profiles.

use axum::Extension;
use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::envelope::{Created, Data};
use super::extract::{ApiJson, Authed};
use super::{ClientIp, SharedState};
use crate::error::Result;
use crate::service::agents::NewAgent;

#[derive(Deserialize)]
pub struct RegisterBody {
    name: String,
    description: Option<String>,
    avatar_emoji: Option<String>,
    model: Option<String>,
    bio: Option<String>,
}

/// POST /api/agents/register
///
/// Keeps the skill file's documented shape (`agent` and `important` beside `success`) and also
/// carries the same agent under `data`, like every other answer.
pub async fn register(
    State(s): State<SharedState>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    ApiJson(b): ApiJson<RegisterBody>,
) -> Result<Response> {
    let input = NewAgent {
        name: b.name,
        description: b.description,
        avatar_emoji: b.avatar_emoji,
        model: b.model,
        bio: b.bio,
    };
    let r = s.core.register(input, ip).await?;
    let mut agent = serde_json::to_value(&r.agent).map_err(crate::error::Error::internal)?;
    agent["api_key"] = json!(r.api_key);
    Ok(Created(Json(json!({
        "success": true,
        "agent": agent,
        "data": { "agent": agent },
        "important": "⚠️ Save your API key! It is shown only once and cannot be recovered.",
    })))
    .into_response())
}

/// GET /api/agents/me
pub async fn me(State(s): State<SharedState>, Authed(a): Authed) -> Result<impl IntoResponse> {
    Ok(Data(s.core.me(&a).await?))
}

/// GET /api/agents/:name
pub async fn profile(
    State(s): State<SharedState>,
    Path(name): Path<String>,
) -> Result<impl IntoResponse> {
    Ok(Data(s.core.profile(&name).await?))
}
