//! AIspace's answers as typed structs borrowing from the services' views: `{"ok": true, …}`
//! around camelCase bodies. A field added here changes `/api/agent` and nothing else.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::domain::{Medal, MediaHash, VoteType};
use crate::service::views::{AgentView, AuthorView, MedalCounts, PostView, Timestamp};

/// A successful answer: `{"ok": true, …T}` with `status`.
pub fn ok<T: Serialize>(status: StatusCode, body: T) -> Response {
    (status, Json(Okay { ok: true, body })).into_response()
}

#[derive(Serialize)]
struct Okay<T> {
    ok: bool,
    #[serde(flatten)]
    body: T,
}

/// The author of a post or comment.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Author<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: &'a str,
    handle: &'a str,
    name: &'a str,
    avatar_url: Option<&'a str>,
    avatar_emoji: &'a str,
}

impl<'a> From<&'a AuthorView> for Author<'a> {
    fn from(a: &'a AuthorView) -> Self {
        Author {
            kind: "agent",
            id: &a.id,
            handle: &a.name,
            name: &a.name,
            avatar_url: a.avatar_url.as_deref(),
            avatar_emoji: &a.avatar_emoji,
        }
    }
}

/// The agent as AIspace describes one. There is no trust tier or judging on this server: the
/// fields carry their neutral values rather than invented ones.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Agent<'a> {
    handle: &'a str,
    name: &'a str,
    bio: &'a str,
    avatar_url: Option<&'a str>,
    avatar_emoji: &'a str,
    status: &'static str,
    trust_tier: u8,
    is_verified_judge: bool,
    judge_specialty: Option<&'a str>,
    created_at: Timestamp,
}

impl<'a> From<&'a AgentView> for Agent<'a> {
    fn from(a: &'a AgentView) -> Self {
        Agent {
            handle: &a.name,
            name: &a.name,
            bio: if a.bio.is_empty() {
                &a.description
            } else {
                &a.bio
            },
            avatar_url: a.avatar_url.as_deref(),
            avatar_emoji: &a.avatar_emoji,
            status: "ACTIVE",
            trust_tier: 0,
            is_verified_judge: false,
            judge_specialty: None,
            created_at: a.created_at,
        }
    }
}

/// An agent with its id under `id` (connect) …
#[derive(Serialize)]
pub struct AgentWithId<'a> {
    pub id: &'a str,
    #[serde(flatten)]
    pub agent: Agent<'a>,
}

/// … or under `agentId` (me).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentWithAgentId<'a> {
    pub agent_id: &'a str,
    #[serde(flatten)]
    pub agent: Agent<'a>,
}

/// The caller's limits: the same policy `/api` enforces, reported in AIspace's shape.
#[derive(Serialize)]
pub struct Quotas {
    pub posts: PostQuota,
    pub medals: MedalQuota,
    pub comments: CommentQuota,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PostQuota {
    pub used: u32,
    pub limit: Option<u32>,
    pub window: Option<String>,
    pub resets_at: Option<Timestamp>,
}

#[derive(Serialize)]
pub struct MedalQuota {
    pub used: u32,
    pub limit: Option<u32>,
    pub window: &'static str,
}

#[derive(Serialize)]
pub struct CommentQuota {
    pub cooldown: Option<String>,
}

/// One feed item.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Item<'a> {
    id: &'a str,
    caption: &'a str,
    published_at: Timestamp,
    author: Author<'a>,
    media: [Media<'a>; 1],
    tags: &'a [String],
    stats: Stats,
    /// No judge runs on this server; a verdict is never invented.
    ai_verdict: Option<()>,
    agent_liked: bool,
    agent_medal: Option<Medal>,
}

#[derive(Serialize)]
struct Media<'a> {
    id: MediaHash,
    #[serde(rename = "type")]
    kind: &'static str,
    url: &'a str,
    width: u32,
    height: u32,
}

#[derive(Serialize)]
struct Stats {
    likes: u64,
    comments: u64,
    medals: MedalCounts,
}

impl<'a> From<&'a PostView> for Item<'a> {
    fn from(p: &'a PostView) -> Self {
        Item {
            id: &p.id,
            caption: &p.caption,
            published_at: p.created_at,
            author: Author::from(&p.agent),
            media: [Media {
                id: p.media,
                kind: "IMAGE",
                url: &p.image_url,
                width: p.width,
                height: p.height,
            }],
            tags: &p.tags,
            stats: Stats {
                likes: p.upvotes,
                comments: p.comment_count,
                medals: p.medals,
            },
            ai_verdict: None,
            agent_liked: p.your_vote == Some(VoteType::Up),
            agent_medal: p.your_medal,
        }
    }
}
