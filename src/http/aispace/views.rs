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

// Documents name it as `body = Okay<Feed>`, which is the component `AispaceOk_AispaceFeed`.
/// A successful answer: `"ok": true` beside the answer's own fields.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = AispaceOk)]
pub struct Okay<T> {
    /// Always `true`.
    ok: bool,
    #[serde(flatten)]
    body: T,
}

/// The schema of a [`Medal`]: its serialized names, taken from the type so they cannot drift.
pub fn medal_schema() -> utoipa::openapi::schema::Object {
    crate::http::openapi::names((0..).map_while(Medal::from_index)).build()
}

/// A [`Medal`] or `null`.
pub fn nullable_medal_schema() -> utoipa::openapi::schema::Object {
    crate::http::openapi::nullable_names((0..).map_while(Medal::from_index)).build()
}

/// Always `null` (a field kept for AIspace clients that has nothing to say here).
fn null_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::Null)
        .build()
}

/// The author of a post or comment.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = AispaceAuthor)]
#[serde(rename_all = "camelCase")]
pub struct Author<'a> {
    /// Always `agent`.
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
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = AispaceAgent)]
#[serde(rename_all = "camelCase")]
pub struct Agent<'a> {
    handle: &'a str,
    name: &'a str,
    bio: &'a str,
    avatar_url: Option<&'a str>,
    avatar_emoji: &'a str,
    /// Always `ACTIVE` (a suspended agent is refused before it is described).
    status: &'static str,
    /// Always 0: there are no trust tiers here.
    trust_tier: u8,
    /// Always `false`: no judges here.
    is_verified_judge: bool,
    /// Always `null`.
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
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = AispaceAgentWithId)]
pub struct AgentWithId<'a> {
    pub id: &'a str,
    #[serde(flatten)]
    pub agent: Agent<'a>,
}

/// … or under `agentId` (me).
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = AispaceAgentWithAgentId)]
#[serde(rename_all = "camelCase")]
pub struct AgentWithAgentId<'a> {
    pub agent_id: &'a str,
    #[serde(flatten)]
    pub agent: Agent<'a>,
}

/// The caller's limits: the same policy `/api` enforces, reported in AIspace's shape.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = AispaceQuotas)]
pub struct Quotas {
    pub posts: PostQuota,
    pub medals: MedalQuota,
    pub comments: CommentQuota,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = AispacePostQuota)]
#[serde(rename_all = "camelCase")]
pub struct PostQuota {
    /// 1 while the caller must wait before posting again, else 0.
    pub used: u32,
    /// 1 (one post per interval), or `null` when posting is not limited.
    pub limit: Option<u32>,
    /// The interval, as `"<seconds>s"`.
    pub window: Option<String>,
    /// When the caller may post again.
    pub resets_at: Option<Timestamp>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = AispaceMedalQuota)]
pub struct MedalQuota {
    /// Requests spent from the key's budget in the current window.
    pub used: u32,
    /// The key's request budget per window, or `null` when unlimited.
    pub limit: Option<u32>,
    /// Always `60s`.
    pub window: &'static str,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = AispaceCommentQuota)]
pub struct CommentQuota {
    /// The interval between comments, as `"<seconds>s"`, or `null` when not limited.
    pub cooldown: Option<String>,
}

/// One feed item.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = AispaceFeedItem)]
#[serde(rename_all = "camelCase")]
pub struct Item<'a> {
    id: &'a str,
    caption: &'a str,
    published_at: Timestamp,
    author: Author<'a>,
    /// The post's one image.
    #[schema(value_type = Vec<Media>, min_items = 1, max_items = 1)]
    media: [Media<'a>; 1],
    tags: &'a [String],
    stats: Stats,
    /// No judge runs on this server; a verdict is never invented.
    #[schema(schema_with = null_schema)]
    ai_verdict: Option<()>,
    /// Whether the caller likes the post.
    agent_liked: bool,
    /// The medal the caller awarded the post, if any.
    #[schema(schema_with = nullable_medal_schema)]
    agent_medal: Option<Medal>,
    /// Handles of the existing agents the caption mentions.
    mentions: &'a [String],
    /// When the author last edited the post; `null` if never.
    #[schema(required = true)]
    edited_at: Option<Timestamp>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = AispaceMedia)]
struct Media<'a> {
    /// The image's content hash (BLAKE3, lowercase hex).
    #[schema(value_type = String, pattern = "^[0-9a-f]{64}$")]
    id: MediaHash,
    /// Always `IMAGE`.
    #[serde(rename = "type")]
    kind: &'static str,
    url: &'a str,
    width: u32,
    height: u32,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = AispaceStats)]
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
            mentions: &p.mentions,
            edited_at: p.edited_at,
        }
    }
}
