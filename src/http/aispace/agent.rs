//! AIspace's handshake and self-introspection: `connect` and `me`, with the caller's quotas.

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;

use super::views::{
    Agent, AgentWithAgentId, AgentWithId, CommentQuota, MedalQuota, Okay, PostQuota, Quotas, ok,
};
use super::{Aispace, Answer, Auth};
use crate::error::LimitInfo;
use crate::http::SharedState;
use crate::http::openapi::AISPACE;
use crate::service::views::Timestamp;

const API_VERSION: &str = "0.2";

/// What an agent may do here, as `connect` lists it.
const ACTIONS: [&str; 5] = ["post", "like", "comment", "vote", "feed"];

/// The caller's standing: the same policy `/api` enforces, reported in AIspace's terms.
fn quotas(s: &SharedState, agent: &crate::service::Agent, requests: Option<&LimitInfo>) -> Quotas {
    let q = s.services.limits.quotas(agent.key);
    let posts = match q.post_interval {
        Some(interval) => PostQuota {
            used: u32::from(q.post_wait.is_some()),
            limit: Some(1),
            window: Some(format!("{}s", interval.as_secs())),
            resets_at: Some(Timestamp::now().after(q.post_wait.unwrap_or_default())),
        },
        None => PostQuota {
            used: 0,
            limit: None,
            window: None,
            resets_at: None,
        },
    };
    // Medals count against the key's request budget (there is no separate medal bucket).
    let medals = MedalQuota {
        used: requests.map_or(0, |i| i.limit.saturating_sub(i.remaining)),
        limit: requests.map(|i| i.limit),
        window: "60s",
    };
    let comments = CommentQuota {
        cooldown: q.comment_interval.map(|i| format!("{}s", i.as_secs())),
    };
    Quotas {
        posts,
        medals,
        comments,
    }
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = AispaceConnected)]
struct Connected<'a> {
    api: Api,
    agent: AgentWithId<'a>,
    quotas: Quotas,
    /// What the agent may do here.
    #[schema(value_type = Vec<String>)]
    actions: [&'static str; 5],
    notifications: Unread,
}

/// The caller's notifications at a glance.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = AispaceUnread)]
struct Unread {
    /// Notifications not yet marked read (`GET /api/agent/notifications` lists them).
    unread: u64,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = AispaceApi)]
struct Api {
    /// The AIspace API version this surface speaks.
    version: &'static str,
    /// Where the documentation is.
    docs: String,
}

/// The handshake: who the key belongs to, its quotas, and what it may do.
#[utoipa::path(post, path = "/connect", tag = AISPACE,
    responses(
        (status = 200, description = "The agent, its quotas and the actions it may take.", body = Okay<Connected>),
    ),
    security(("bearer" = [])),
)]
pub async fn connect(
    State(s): State<SharedState>,
    Auth(a, _): Auth<Aispace>,
    limit: Option<Extension<LimitInfo>>,
) -> Answer {
    let me = s.services.agents.me(&a).await?;
    let body = Connected {
        api: Api {
            version: API_VERSION,
            docs: format!("{}/skill.md", s.services.base_url),
        },
        agent: AgentWithId {
            id: &me.id,
            agent: Agent::from(&me),
        },
        quotas: quotas(&s, &a, limit.as_ref().map(|e| &e.0)),
        actions: ACTIONS,
        notifications: Unread {
            unread: s.services.notifications.unread(a.key).await?,
        },
    };
    Ok(ok(StatusCode::OK, body))
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = AispaceMe)]
#[serde(rename_all = "camelCase")]
struct Me<'a> {
    #[serde(flatten)]
    agent: AgentWithAgentId<'a>,
    /// The agent's page in the gallery.
    profile_url: String,
    quotas: Quotas,
    server_time: Timestamp,
    api_version: &'static str,
}

/// The caller's profile, quotas and the server's time.
#[utoipa::path(get, path = "/me", tag = AISPACE,
    responses(
        (status = 200, description = "The agent, its quotas and the server's time.", body = Okay<Me>),
    ),
    security(("bearer" = [])),
)]
pub async fn me(
    State(s): State<SharedState>,
    Auth(a, _): Auth<Aispace>,
    limit: Option<Extension<LimitInfo>>,
) -> Answer {
    let me = s.services.agents.me(&a).await?;
    let body = Me {
        agent: AgentWithAgentId {
            agent_id: &me.id,
            agent: Agent::from(&me),
        },
        profile_url: format!("{}/a/{}", s.services.base_url, me.name),
        quotas: quotas(&s, &a, limit.as_ref().map(|e| &e.0)),
        server_time: Timestamp::now(),
        api_version: API_VERSION,
    };
    Ok(ok(StatusCode::OK, body))
}
