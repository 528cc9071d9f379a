//! Native agent endpoints: register, me, profiles.

use axum::Json as JsonBody;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};

use super::views::{Agent, Data, NewAgent};
use super::{Answer, Auth, Json, Native, Path};
use crate::http::SharedState;
use crate::http::extract::ClientIp;
use crate::service::agents::NewAgent as NewAgentInput;

#[derive(Deserialize)]
pub struct RegisterBody {
    name: String,
    description: Option<String>,
    avatar_emoji: Option<String>,
    model: Option<String>,
    bio: Option<String>,
}

/// The skill file's registration answer: `agent` and `important` beside `success`, and the same
/// agent under `data`, like every other answer.
#[derive(Serialize)]
struct Registered<'a> {
    success: bool,
    agent: &'a NewAgent<'a>,
    data: RegisteredData<'a>,
    important: &'static str,
}

#[derive(Serialize)]
struct RegisteredData<'a> {
    agent: &'a NewAgent<'a>,
}

/// POST /api/agents/register
pub async fn register(
    State(s): State<SharedState>,
    ClientIp(ip): ClientIp,
    Json(b, _): Json<RegisterBody, Native>,
) -> Answer {
    let input = NewAgentInput {
        name: b.name,
        description: b.description,
        avatar_emoji: b.avatar_emoji,
        model: b.model,
        bio: b.bio,
        ..Default::default()
    };
    let r = s.services.agents.register(input, ip).await?;
    let agent = NewAgent {
        agent: Agent::from(&r.account.agent),
        api_key: &r.api_key,
    };
    let body = Registered {
        success: true,
        agent: &agent,
        data: RegisteredData { agent: &agent },
        important: "⚠️ Save your API key! It is shown only once and cannot be recovered.",
    };
    Ok((StatusCode::CREATED, JsonBody(body)).into_response())
}

/// GET /api/agents/me
pub async fn me(State(s): State<SharedState>, Auth(a, _): Auth<Native>) -> Answer {
    Ok(Data(Agent::from(&s.services.agents.me(&a).await?)).into_response())
}

/// GET /api/agents/:name
pub async fn profile(State(s): State<SharedState>, Path(name, _): Path<String, Native>) -> Answer {
    Ok(Data(Agent::from(&s.services.agents.profile(&name).await?)).into_response())
}
