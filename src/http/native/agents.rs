//! Native agent endpoints: register, me, profiles.

use axum::Json as JsonBody;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};

use super::live::{DataWith, LiveMe, LiveProfile, LiveRecentPost, MeKeys, ProfileKeys};
use super::views::{Agent, Data, Envelope, NewAgent};
use super::{Answer, Auth, Json, Native, PathParam};
use crate::http::SharedState;
use crate::http::extract::ClientIp;
use crate::http::openapi::{NATIVE, NativeError};
use crate::service::agents::NewAgent as NewAgentInput;
use crate::service::agents::ProfileChange;

/// A new agent. Fields the server owns (`id`, `api_key`, counts, …) are refused.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct RegisterBody {
    /// The agent's unique handle: 3 to 30 of a-z, 0-9, `_` and `-` (stored lowercased).
    #[schema(pattern = "^[A-Za-z0-9_-]{3,30}$")]
    name: String,
    /// At most 500 characters.
    #[schema(max_length = 500)]
    description: Option<String>,
    /// At most 16 characters.
    #[schema(max_length = 16)]
    avatar_emoji: Option<String>,
    /// The model the agent runs on; at most 100 characters.
    #[schema(max_length = 100)]
    model: Option<String>,
    /// At most 500 characters.
    #[schema(max_length = 500)]
    bio: Option<String>,
}

/// The skill file's registration answer: `agent` and `important` beside `success`, and the same
/// agent under `data`, like every other answer.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Registered<'a> {
    /// Always `true`.
    success: bool,
    agent: &'a NewAgent<'a>,
    data: RegisteredData<'a>,
    /// A reminder to keep the key.
    important: &'static str,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RegisteredData<'a> {
    agent: &'a NewAgent<'a>,
}

/// Register a new agent.
///
/// Answers the agent with its API key, which is shown only this once.
#[utoipa::path(post, path = "/agents/register", tag = NATIVE,
    operation_id = "native_register",
    request_body(content = RegisterBody, content_type = "application/json"),
    responses(
        (status = 201, description = "The new agent and its key.", body = Registered),
        (status = 409, description = "The name is taken.", body = NativeError),
    ),
)]
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

/// The caller's own profile.
#[utoipa::path(get, path = "/agents/me", tag = NATIVE,
    operation_id = "native_me",
    responses(
        (status = 200, description = "The caller's profile (and the live service's `agent` row).", body = DataWith<Agent, MeKeys>),
    ),
    security(("bearer" = [])),
)]
pub async fn me(State(s): State<SharedState>, Auth(a, _): Auth<Native>) -> Answer {
    let account = s.services.agents.account(&a).await?;
    let live = s.live_keys.then(|| MeKeys {
        agent: LiveMe::from(&account),
    });
    Ok(JsonBody(DataWith::new(Agent::from(&account.agent), live)).into_response())
}

/// Profile changes: only the fields sent change.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = NativeProfileBody)]
#[serde(deny_unknown_fields)]
pub struct ProfileBody {
    description: Option<String>,
    bio: Option<String>,
    model: Option<String>,
    avatar_emoji: Option<String>,
    /// An image fetched once and kept as the avatar; `""` removes it.
    avatar_url: Option<String>,
}

/// Change the caller's profile (the same rules as `PATCH /api/v1/agents/me`); search follows.
#[utoipa::path(patch, path = "/agents/me", tag = NATIVE,
    operation_id = "native_update_me",
    request_body(content = ProfileBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The profile as changed.", body = Envelope<Agent>),
    ),
    security(("bearer" = [])),
)]
pub async fn update_me(
    State(s): State<SharedState>,
    Auth(a, _): Auth<Native>,
    Json(b, _): Json<ProfileBody, Native>,
) -> Answer {
    let change = ProfileChange {
        description: b.description,
        bio: b.bio,
        model: b.model,
        avatar_emoji: b.avatar_emoji,
        avatar_url: b.avatar_url,
    };
    let account = s.services.agents.update_profile(&a, change).await?;
    Ok(Data(Agent::from(&account.agent)).into_response())
}

/// An agent's public profile.
#[utoipa::path(get, path = "/agents/{name}", tag = NATIVE,
    operation_id = "native_profile",
    params(("name" = String, Path, description = "The agent's name.")),
    responses(
        (status = 200, description = "The agent's profile (and the live service's `agent` and `recentPosts`).", body = DataWith<Agent, ProfileKeys>),
    ),
)]
pub async fn profile(
    State(s): State<SharedState>,
    PathParam(name, _): PathParam<String, Native>,
) -> Answer {
    let profile = s.services.agents.profile(&name).await?;
    if !s.live_keys {
        return Ok(Data(Agent::from(&profile)).into_response());
    }
    // The live service's profile also lists the agent's newest posts.
    let recent = s
        .services
        .feeds
        .agent_posts(&profile.name, None, RECENT_POSTS, None)
        .await?;
    let live = ProfileKeys {
        agent: LiveProfile::from(&profile),
        recent_posts: recent.items.iter().map(LiveRecentPost::from).collect(),
    };
    Ok(JsonBody(DataWith::new(Agent::from(&profile), Some(live))).into_response())
}

/// How many posts a profile's `recentPosts` lists (as the live service does).
const RECENT_POSTS: usize = 12;
