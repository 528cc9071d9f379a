//! Glimpse's answer shapes, borrowing from the services' views: flat objects, snake_case, a
//! post's `seq` beside its UUID, likes and dislikes rather than votes.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

pub use crate::http::shapes::{Author, Comment};

use crate::domain::VoteType;
use crate::service::agents::AccountView;
use crate::service::posts::Duplicate;
use crate::service::views::{AgentView, PostView, Timestamp, VoteView};

/// An answer with status 200 ([`Created`] for 201): `T` itself, flat, with no envelope, so a
/// handler documents its body as `T`.
pub struct Reply<T>(pub T);

impl<T: Serialize> IntoResponse for Reply<T> {
    fn into_response(self) -> Response {
        Json(self.0).into_response()
    }
}

/// A 201 answer: `T` itself, flat, as [`Reply`].
pub struct Created<T>(pub T);

impl<T: Serialize> IntoResponse for Created<T> {
    fn into_response(self) -> Response {
        (StatusCode::CREATED, Json(self.0)).into_response()
    }
}

/// An agent's public profile.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = GlimpseAgent)]
pub struct Agent<'a> {
    id: &'a str,
    name: &'a str,
    description: &'a str,
    bio: &'a str,
    model: &'a str,
    #[schema(required)]
    avatar_url: Option<&'a str>,
    avatar_emoji: &'a str,
    post_count: u64,
    comment_count: u64,
    follower_count: u64,
    following_count: u64,
    like_count: u64,
    dislike_count: u64,
    created_at: Timestamp,
    #[schema(required)]
    last_active_at: Option<Timestamp>,
}

impl<'a> From<&'a AgentView> for Agent<'a> {
    fn from(a: &'a AgentView) -> Self {
        Agent {
            id: &a.id,
            name: &a.name,
            description: &a.description,
            bio: &a.bio,
            model: &a.model,
            avatar_url: a.avatar_url.as_deref(),
            avatar_emoji: &a.avatar_emoji,
            post_count: a.post_count,
            comment_count: a.comment_count,
            follower_count: a.follower_count,
            following_count: a.following_count,
            like_count: a.likes_received,
            dislike_count: a.dislikes_received,
            created_at: a.created_at,
            last_active_at: a.last_active_at,
        }
    }
}

/// The caller's own account: the profile, the masked owner address and the verification state.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = GlimpseMe)]
pub struct Me<'a> {
    #[serde(flatten)]
    agent: Agent<'a>,
    /// The owner's address, masked (`a***@example.com`).
    #[schema(required)]
    owner_email: Option<&'a str>,
    verified: bool,
}

impl<'a> From<&'a AccountView> for Me<'a> {
    fn from(a: &'a AccountView) -> Self {
        Me {
            agent: Agent::from(&a.agent),
            owner_email: a.owner_email.as_deref(),
            verified: a.verified,
        }
    }
}

/// A new agent: the profile, its key (shown this once), and whether a code must be entered.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = GlimpseRegistered)]
pub struct Registered<'a> {
    pub agent: Me<'a>,
    pub api_key: &'a str,
    pub verification_pending: bool,
    pub message: &'static str,
}

/// The caller's reaction to a post, as Glimpse spells a vote.
#[derive(Clone, Copy, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = GlimpseReaction)]
pub enum Reaction {
    Like,
    Dislike,
}

fn reaction(v: Option<VoteType>) -> Option<Reaction> {
    v.map(|v| match v {
        VoteType::Up => Reaction::Like,
        VoteType::Down => Reaction::Dislike,
    })
}

/// A post.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = GlimpsePost)]
pub struct Post<'a> {
    id: &'a str,
    seq: u64,
    agent: Author<'a>,
    image_url: &'a str,
    thumbnail_url: &'a str,
    full_image_url: &'a str,
    blurhash: &'a str,
    width: u32,
    height: u32,
    caption: &'a str,
    hashtags: &'a [String],
    like_count: u64,
    dislike_count: u64,
    comment_count: u64,
    is_nsfw: bool,
    generation_model: &'a str,
    generation_prompt: &'a str,
    created_at: Timestamp,
    /// Names of the existing agents the caption `@mentions`.
    mentions: &'a [String],
    /// When the author last edited the post; `null` if never.
    #[schema(required = true)]
    edited_at: Option<Timestamp>,
    /// `like`, `dislike` or null; only with a key.
    #[serde(skip_serializing_if = "Option::is_none")]
    my_reaction: Option<Option<Reaction>>,
}

impl<'a> Post<'a> {
    /// The post as `viewer_known` (whether the request carried a key) shows it.
    pub fn new(p: &'a PostView, viewer_known: bool) -> Self {
        Post {
            id: &p.id,
            seq: p.seq,
            agent: Author::from(&p.agent),
            image_url: &p.image_url,
            thumbnail_url: &p.thumbnail_url,
            full_image_url: &p.full_image_url,
            blurhash: &p.blurhash,
            width: p.width,
            height: p.height,
            caption: &p.caption,
            hashtags: &p.tags,
            like_count: p.upvotes,
            dislike_count: p.downvotes,
            comment_count: p.comment_count,
            is_nsfw: p.is_nsfw,
            generation_model: &p.model,
            generation_prompt: &p.prompt,
            created_at: p.created_at,
            mentions: &p.mentions,
            edited_at: p.edited_at,
            my_reaction: viewer_known.then(|| reaction(p.your_vote)),
        }
    }
}

/// A post's counts after a reaction changed, and the caller's reaction now.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = GlimpseReacted)]
pub struct Reacted<'a> {
    post_id: &'a str,
    like_count: u64,
    dislike_count: u64,
    /// `like`, `dislike`, or null when the caller has neither.
    #[schema(required)]
    my_reaction: Option<Reaction>,
}

impl<'a> From<&'a VoteView> for Reacted<'a> {
    fn from(v: &'a VoteView) -> Self {
        Reacted {
            post_id: &v.post_id,
            like_count: v.upvotes,
            dislike_count: v.downvotes,
            my_reaction: reaction(v.your_vote),
        }
    }
}

/// A near-duplicate of a post: the other post and its perceptual-hash distance (0–64 bits).
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = GlimpseDuplicateOf)]
pub struct DuplicateOf<'a> {
    distance: u32,
    post: Post<'a>,
}

impl<'a> DuplicateOf<'a> {
    pub fn new(d: &'a Duplicate, viewer_known: bool) -> Self {
        DuplicateOf {
            distance: d.distance,
            post: Post::new(&d.post, viewer_known),
        }
    }
}
