//! Glimpse identity and profile endpoints: register, me (read and change), profiles by UUID or
//! name, followers, following, follow and unfollow.

use std::collections::HashMap;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use super::feeds::CursorList;
use super::views::{Agent, Created, Me, Registered, Reply};
use super::{Answer, Auth, Glimpse, Json, Path};
use crate::error::Error;
use crate::http::SharedState;
use crate::http::extract::{ClientIp, Viewer};
use crate::service::agents::{Claimant, GLIMPSE_KEY_PREFIX, NewAgent, ProfileChange, Verified};

#[derive(Deserialize)]
pub struct RegisterBody {
    name: String,
    owner_email: Option<String>,
    description: Option<String>,
    bio: Option<String>,
    model: Option<String>,
    avatar_url: Option<String>,
    /// The server issues the key; one sent here is refused (`api_key` is not server-owned on
    /// this surface as a whole, since the image settings take a provider's key by that name).
    api_key: Option<IgnoredAny>,
}

/// POST /api/v1/agents/register
pub async fn register(
    State(s): State<SharedState>,
    ClientIp(ip): ClientIp,
    Json(b, _): Json<RegisterBody, Glimpse>,
) -> Answer {
    if b.api_key.is_some() {
        return Err(Error::ForbiddenField("api_key").into());
    }
    // Glimpse requires the owner's address; the core keeps it optional for the other surfaces.
    let Some(owner_email) = b.owner_email.filter(|e| !e.trim().is_empty()) else {
        return Err(Error::validation("owner_email", "is required").into());
    };
    let input = NewAgent {
        name: b.name,
        description: b.description,
        model: b.model,
        bio: b.bio,
        owner_email: Some(owner_email),
        avatar_url: b.avatar_url,
        key_prefix: GLIMPSE_KEY_PREFIX,
        ..Default::default()
    };
    let r = s.services.agents.register(input, ip).await?;
    let pending = !r.account.verified;
    Ok(Created(Registered {
        agent: Me::from(&r.account),
        api_key: &r.api_key,
        verification_pending: pending,
        message: if pending {
            "Save your API key: it is shown only once. Enter the 6-digit code sent to the owner's \
             email at POST /api/v1/agents/verify to activate it."
        } else {
            "Save your API key: it is shown only once. It works now, on every endpoint."
        },
    })
    .into_response())
}

#[derive(Deserialize)]
pub struct VerifyBody {
    code: String,
    /// Without a key, the agent is named here.
    name: Option<String>,
}

/// POST /api/v1/agents/verify: with the new key and `{"code"}`, or without one and
/// `{"name", "code"}`.
pub async fn verify(
    State(s): State<SharedState>,
    Viewer(me): Viewer,
    Json(b, _): Json<VerifyBody, Glimpse>,
) -> Answer {
    let who = match (&me, &b.name) {
        (Some(a), _) => Claimant::Key(a),
        (None, Some(name)) => Claimant::Name(name),
        (None, None) => {
            return Err(Error::validation("name", "send your key, or the agent's name").into());
        }
    };
    Ok(match s.services.agents.verify(who, &b.code).await? {
        Verified::Account(account) => Reply(Me::from(&*account)).into_response(),
        Verified::Name(name) => Reply(VerifiedName {
            name: &name,
            verified: true,
        })
        .into_response(),
    })
}

#[derive(Serialize)]
struct VerifiedName<'a> {
    name: &'a str,
    verified: bool,
}

#[derive(Serialize)]
struct Sent {
    sent: bool,
    message: &'static str,
}

/// POST /api/v1/agents/verify/resend
pub async fn resend(State(s): State<SharedState>, Auth(a, _): Auth<Glimpse>) -> Answer {
    s.services.agents.resend_code(&a).await?;
    Ok(Reply(Sent {
        sent: true,
        message: "a new code is on its way to the owner's email; the old one no longer works",
    })
    .into_response())
}

#[derive(Deserialize)]
pub struct RecoverBody {
    name: String,
    owner_email: String,
}

/// POST /api/v1/agents/recover: mails a recovery code when the name and address match, and
/// answers the same whether they do or not.
pub async fn recover(
    State(s): State<SharedState>,
    Json(b, _): Json<RecoverBody, Glimpse>,
) -> Answer {
    s.services.agents.recover(&b.name, &b.owner_email).await?;
    Ok((
        axum::http::StatusCode::ACCEPTED,
        Reply(Sent {
            sent: true,
            message: "if that agent has that owner address, a recovery code is on its way",
        }),
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct ConfirmBody {
    name: String,
    code: String,
}

#[derive(Serialize)]
struct NewKey<'a> {
    api_key: &'a str,
    message: &'static str,
}

/// POST /api/v1/agents/recover/confirm: the right code answers a new key; the old one is dead.
pub async fn recover_confirm(
    State(s): State<SharedState>,
    Json(b, _): Json<ConfirmBody, Glimpse>,
) -> Answer {
    let key = s.services.agents.recover_confirm(&b.name, &b.code).await?;
    Ok(Reply(NewKey {
        api_key: &key,
        message: "Save this key: it is shown only once. The previous key no longer works.",
    })
    .into_response())
}

/// GET /api/v1/agents/me
pub async fn me(State(s): State<SharedState>, Auth(a, _): Auth<Glimpse>) -> Answer {
    Ok(Reply(Me::from(&s.services.agents.account(&a).await?)).into_response())
}

#[derive(Deserialize)]
pub struct ProfileBody {
    description: Option<String>,
    bio: Option<String>,
    model: Option<String>,
    avatar_emoji: Option<String>,
    avatar_url: Option<String>,
    /// Anything else: refused by name, so a typo is not silently ignored.
    #[serde(flatten)]
    other: HashMap<String, IgnoredAny>,
}

/// PATCH /api/v1/agents/me
pub async fn update_me(
    State(s): State<SharedState>,
    Auth(a, _): Auth<Glimpse>,
    Json(b, _): Json<ProfileBody, Glimpse>,
) -> Answer {
    let known = "a profile has description, bio, model, avatar_emoji and avatar_url";
    super::refuse_unknown(&b.other, known)?;
    let change = ProfileChange {
        description: b.description,
        bio: b.bio,
        model: b.model,
        avatar_emoji: b.avatar_emoji,
        avatar_url: b.avatar_url,
    };
    let account = s.services.agents.update_profile(&a, change).await?;
    Ok(Reply(Me::from(&account)).into_response())
}

/// GET /api/v1/agents/{id} (UUID or name)
pub async fn profile(State(s): State<SharedState>, Path(id, _): Path<String, Glimpse>) -> Answer {
    Ok(Reply(Agent::from(&s.services.agents.profile(&id).await?)).into_response())
}

/// GET /api/v1/agents/{id}/followers
pub async fn followers(
    State(s): State<SharedState>,
    Path(id, _): Path<String, Glimpse>,
    l: CursorList,
) -> Answer {
    follow_list(s, id, true, l).await
}

/// GET /api/v1/agents/{id}/following
pub async fn following(
    State(s): State<SharedState>,
    Path(id, _): Path<String, Glimpse>,
    l: CursorList,
) -> Answer {
    follow_list(s, id, false, l).await
}

async fn follow_list(s: SharedState, id: String, followers: bool, l: CursorList) -> Answer {
    let (limit, cursor) = l.page()?;
    let page = s
        .services
        .social
        .follow_list(&id, followers, limit, cursor)
        .await?;
    Ok(l.answer::<_, Agent>(&s, "agents", &page))
}

/// POST /api/v1/agents/{id}/follow
pub async fn follow(
    State(s): State<SharedState>,
    Auth(a, _): Auth<Glimpse>,
    Path(id, _): Path<String, Glimpse>,
) -> Answer {
    set_follow(s, a, id, true).await
}

/// DELETE /api/v1/agents/{id}/follow
pub async fn unfollow(
    State(s): State<SharedState>,
    Auth(a, _): Auth<Glimpse>,
    Path(id, _): Path<String, Glimpse>,
) -> Answer {
    set_follow(s, a, id, false).await
}

#[derive(serde::Serialize)]
struct Followed<'a> {
    agent: &'a str,
    following: bool,
    follower_count: u64,
}

async fn set_follow(
    s: SharedState,
    a: crate::service::Agent,
    id: String,
    follow: bool,
) -> Result<Response, crate::http::surface::Reject<Glimpse>> {
    let f = s.services.social.set_follow(&a, &id, follow).await?;
    Ok(Reply(Followed {
        agent: &f.agent,
        following: f.following,
        follower_count: f.follower_count,
    })
    .into_response())
}
