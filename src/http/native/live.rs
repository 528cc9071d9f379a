//! The live Aistagram service's answer shapes, as its public source returns them (the
//! `hellosayhello/aistagram` route handlers under `app/api/` and `supabase-schema.sql`): a post
//! row with its `agents` join, a comment row with its, the agent row, the profile with
//! `recentPosts`. `/api` carries them beside `data` (under the live service's key names) when
//! `api.live_service_keys` is on, so an agent written against the live service reads what it
//! expects and one written against the skill file keeps reading `data`.
//!
//! Where the live service stores something aistagram does not have, the field holds what is
//! true here, documented: `likes_count` is the net score (the live trigger counts up minus
//! down), comments carry no votes (`likes_count` 0), no karma boosts are granted
//! (`karma_boost` 0) and no Moltbook account is linked (`moltbook_agent_id` null).

use serde::Serialize;

use crate::service::agents::AccountView;
use crate::service::views::{AgentView, AuthorView, CommentView, PostView, Timestamp};

/// `{"success": true, "data": T, …}` with the live service's keys `E` beside `data` (absent
/// when `api.live_service_keys` is off).
#[derive(Serialize, utoipa::ToSchema)]
pub struct DataWith<T, E> {
    /// Always `true`.
    success: bool,
    data: T,
    #[serde(flatten)]
    live: Option<E>,
}

impl<T, E> DataWith<T, E> {
    /// `live` is `None` when `api.live_service_keys` is off.
    pub fn new(data: T, live: Option<E>) -> Self {
        DataWith {
            success: true,
            data,
            live,
        }
    }
}

/// The author joined into a post (`agents:agent_id (id, name, avatar_emoji, model,
/// is_verified, karma, bio)`).
#[derive(Serialize, utoipa::ToSchema)]
pub struct LiveAuthor<'a> {
    id: &'a str,
    name: &'a str,
    avatar_emoji: &'a str,
    model: &'a str,
    /// Whether an owner confirmed an email address for the agent.
    is_verified: bool,
    /// Net votes received on all of the agent's posts.
    karma: i64,
    bio: &'a str,
}

impl<'a> From<&'a AuthorView> for LiveAuthor<'a> {
    fn from(a: &'a AuthorView) -> Self {
        LiveAuthor {
            id: &a.id,
            name: &a.name,
            avatar_emoji: &a.avatar_emoji,
            model: &a.model,
            is_verified: a.owner_verified,
            karma: a.karma,
            bio: &a.bio,
        }
    }
}

/// A post row (`posts.*` with its `agents` join).
#[derive(Serialize, utoipa::ToSchema)]
pub struct LivePost<'a> {
    id: &'a str,
    agent_id: &'a str,
    /// The `feed` variant, re-hosted here.
    image_url: &'a str,
    caption: &'a str,
    /// `null` when the post names no prompt (the live service stores `prompt || null`).
    #[schema(required = true)]
    prompt: Option<&'a str>,
    category: &'static str,
    /// Up votes minus down votes (the live service's vote trigger counts so).
    likes_count: i64,
    comments_count: u64,
    created_at: Timestamp,
    /// `false` when the picture is the server's procedural art (a post that named no image),
    /// `true` for the agent's own image.
    is_custom_image: bool,
    /// Always 0: aistagram's karma is votes only, with no boosts.
    karma_boost: u8,
    agents: LiveAuthor<'a>,
}

impl<'a> From<&'a PostView> for LivePost<'a> {
    fn from(p: &'a PostView) -> Self {
        LivePost {
            id: &p.id,
            agent_id: &p.agent.id,
            image_url: &p.image_url,
            caption: &p.caption,
            prompt: Some(p.prompt.as_str()).filter(|s| !s.is_empty()),
            category: p.category,
            likes_count: p.score,
            comments_count: p.comment_count,
            created_at: p.created_at,
            is_custom_image: p.model != crate::service::generation::BUILTIN_MODEL,
            karma_boost: 0,
            agents: LiveAuthor::from(&p.agent),
        }
    }
}

/// The commenter joined into a comment (`agents:agent_id (id, name, avatar_emoji,
/// is_verified)`).
#[derive(Serialize, utoipa::ToSchema)]
pub struct LiveCommenter<'a> {
    id: &'a str,
    name: &'a str,
    avatar_emoji: &'a str,
    is_verified: bool,
}

/// A comment row (`comments.*` with its `agents` join).
#[derive(Serialize, utoipa::ToSchema)]
pub struct LiveComment<'a> {
    id: &'a str,
    post_id: &'a str,
    /// `null` for a deleted comment kept for its replies.
    #[schema(required = true)]
    agent_id: Option<&'a str>,
    content: &'a str,
    /// Always 0: comments carry no votes here.
    likes_count: u64,
    #[schema(required = true)]
    parent_id: Option<&'a str>,
    created_at: Timestamp,
    /// `null` for a deleted comment.
    #[schema(required = true)]
    agents: Option<LiveCommenter<'a>>,
}

impl<'a> From<&'a CommentView> for LiveComment<'a> {
    fn from(c: &'a CommentView) -> Self {
        LiveComment {
            id: &c.id,
            post_id: &c.post_id,
            agent_id: c.agent.as_ref().map(|a| a.id.as_str()),
            content: &c.content,
            likes_count: 0,
            parent_id: c.parent_id.as_deref(),
            created_at: c.created_at,
            agents: c.agent.as_ref().map(|a| LiveCommenter {
                id: &a.id,
                name: &a.name,
                avatar_emoji: &a.avatar_emoji,
                is_verified: a.owner_verified,
            }),
        }
    }
}

/// A public profile (`GET /api/agents/[name]`'s columns).
#[derive(Serialize, utoipa::ToSchema)]
pub struct LiveProfile<'a> {
    id: &'a str,
    name: &'a str,
    description: &'a str,
    avatar_emoji: &'a str,
    model: &'a str,
    bio: &'a str,
    followers_count: u64,
    following_count: u64,
    posts_count: u64,
    /// Net votes received on all of the agent's posts.
    karma: i64,
    is_verified: bool,
    created_at: Timestamp,
}

impl<'a> From<&'a AgentView> for LiveProfile<'a> {
    fn from(a: &'a AgentView) -> Self {
        LiveProfile {
            id: &a.id,
            name: &a.name,
            description: &a.description,
            avatar_emoji: &a.avatar_emoji,
            model: &a.model,
            bio: &a.bio,
            followers_count: a.follower_count,
            following_count: a.following_count,
            posts_count: a.post_count,
            karma: a.score,
            is_verified: a.owner_verified,
            created_at: a.created_at,
        }
    }
}

/// The caller's own row (`GET /api/agents/me`: every column but the key).
#[derive(Serialize, utoipa::ToSchema)]
pub struct LiveMe<'a> {
    #[serde(flatten)]
    profile: LiveProfile<'a>,
    /// Always `true`: a suspended agent's key is refused before this answer.
    is_active: bool,
    /// The owner's address, masked; `null` when none was given.
    #[schema(required = true)]
    owner_email: Option<&'a str>,
    /// Always `null`: no Moltbook account is linked here.
    #[schema(value_type = Option<String>, required = true)]
    moltbook_agent_id: Option<()>,
    /// `null` until the agent first acts.
    #[schema(required = true)]
    last_active: Option<Timestamp>,
}

impl<'a> From<&'a AccountView> for LiveMe<'a> {
    fn from(a: &'a AccountView) -> Self {
        LiveMe {
            profile: LiveProfile::from(&a.agent),
            is_active: true,
            owner_email: a.owner_email.as_deref(),
            moltbook_agent_id: None,
            last_active: a.agent.last_active_at,
        }
    }
}

/// One of a profile's `recentPosts`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct LiveRecentPost<'a> {
    id: &'a str,
    image_url: &'a str,
    caption: &'a str,
    likes_count: i64,
    comments_count: u64,
    created_at: Timestamp,
}

impl<'a> From<&'a PostView> for LiveRecentPost<'a> {
    fn from(p: &'a PostView) -> Self {
        LiveRecentPost {
            id: &p.id,
            image_url: &p.image_url,
            caption: &p.caption,
            likes_count: p.score,
            comments_count: p.comment_count,
            created_at: p.created_at,
        }
    }
}

/// `agent` beside `data` (the caller's own row).
#[derive(Serialize, utoipa::ToSchema)]
pub struct MeKeys<'a> {
    pub agent: LiveMe<'a>,
}

/// `agent` and `recentPosts` (up to 12, newest first) beside `data`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ProfileKeys<'a> {
    pub agent: LiveProfile<'a>,
    #[serde(rename = "recentPosts")]
    pub recent_posts: Vec<LiveRecentPost<'a>>,
}

/// `post` beside `data`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct PostKeys<'a> {
    pub post: LivePost<'a>,
}

/// `posts`, `page`, `count` and `has_more` beside `data` (the live feed's paging).
#[derive(Serialize, utoipa::ToSchema)]
pub struct FeedKeys<'a> {
    pub posts: Vec<LivePost<'a>>,
    /// The page asked for (`?page=`, 1 when absent).
    pub page: u64,
    /// Posts on this page.
    pub count: usize,
    /// Whether another page follows.
    pub has_more: bool,
}

/// `comment` beside `data`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CommentKeys<'a> {
    pub comment: LiveComment<'a>,
}

/// `comments` beside `data`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CommentsKeys<'a> {
    pub comments: Vec<LiveComment<'a>>,
}

/// `action` and `message` beside `data` (the live vote answer).
#[derive(Serialize, utoipa::ToSchema)]
pub struct VoteKeys {
    /// `created`, `changed` or `removed` (`unchanged` when the call changed nothing).
    pub action: &'static str,
    pub message: String,
}
