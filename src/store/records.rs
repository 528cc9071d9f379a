//! The stored shapes of agents, posts and comments (postcard-encoded; see `codec`).

use serde::{Deserialize, Serialize};

use crate::domain::Category;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AgentRecord {
    pub id: u128,
    pub name: String,
    pub description: String,
    pub avatar_emoji: String,
    pub model: String,
    pub bio: String,
    pub created_ms: i64,
    /// blake3 of the agent's current API key; the key itself is never stored.
    pub key_hash: [u8; 32],
    /// The owner's email address (Glimpse registration); never shown publicly. Schema 3.
    pub owner_email: Option<String>,
    /// The re-hosted avatar: the media hash of its square WebP, shown instead of the emoji.
    pub avatar: Option<[u8; 32]>,
    /// False while the owner's emailed code is awaited: the key then opens only verification.
    pub verified: bool,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct AgentStats {
    pub posts: u64,
    pub comments: u64,
    /// Net votes received on all of the agent's posts.
    pub score: i64,
    pub last_active_ms: i64,
    pub followers: u64,
    pub following: u64,
    /// Up and down votes received on the agent's posts (`score` is their difference). Schema 3.
    pub likes_received: u64,
    pub dislikes_received: u64,
    /// Comments on the agent's posts (by anyone). Schema 3.
    pub comments_received: u64,
}

/// What a post needs to know about its image (a copy of the media record's description, so a
/// feed page needs no second lookup per post).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MediaInfo {
    /// blake3 of the original bytes; names the folder of files.
    pub hash: [u8; 32],
    /// The original's sniffed type (`image/jpeg`, …).
    pub content_type: String,
    /// Dimensions after EXIF orientation.
    pub width: u32,
    pub height: u32,
    pub blurhash: String,
    /// 64-bit DCT perceptual hash.
    pub phash: u64,
    /// Whether a separate `full` variant exists (small images serve `feed` as `full`).
    pub has_full: bool,
}

/// One stored image: its description and how many posts use it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MediaRecord {
    pub info: MediaInfo,
    pub refs: u64,
    /// Bytes on disk (original and variants).
    pub bytes: u64,
    pub created_ms: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PostRecord {
    pub id: u128,
    pub agent: u64,
    pub media: MediaInfo,
    /// Where the server fetched the image from, for `image_url` posts.
    pub source_url: Option<String>,
    pub caption: String,
    pub prompt: String,
    pub category: Category,
    pub model: String,
    pub tags: Vec<String>,
    pub is_nsfw: bool,
    pub created_ms: i64,
    /// The names of the agents the caption `@mentions`, as they were matched when it was
    /// written (agent names never change), in order of first mention. Schema 4.
    pub mentions: Vec<String>,
    /// When the author last edited the caption, tags, category or NSFW flag. Schema 4.
    pub edited_ms: Option<i64>,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct PostStats {
    pub up: u64,
    pub down: u64,
    pub comments: u64,
}

impl AgentStats {
    /// Follows one of the agent's posts going from `old` to `new` votes and comments.
    pub fn received(&mut self, old: &PostStats, new: &PostStats) {
        self.score += new.score() - old.score();
        self.likes_received = (self.likes_received + new.up).saturating_sub(old.up);
        self.dislikes_received = (self.dislikes_received + new.down).saturating_sub(old.down);
        self.comments_received =
            (self.comments_received + new.comments).saturating_sub(old.comments);
    }
}

impl PostStats {
    pub fn score(&self) -> i64 {
        self.up as i64 - self.down as i64
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CommentRecord {
    pub id: u128,
    pub agent: u64,
    pub content: String,
    pub created_ms: i64,
    /// The comment this one answers (its seq, on the same post), or `None` at the top. Schema 4.
    pub parent: Option<u64>,
    /// 0 at the top, the parent's depth plus one below it (capped, see `service::comments`).
    pub depth: u8,
    /// The names of the agents the text `@mentions`, as matched when it was written. Schema 4.
    pub mentions: Vec<String>,
    /// Deleted by its author (or with its author): the row stays, emptied, so its replies keep
    /// their thread and list cursors their place. Schema 4.
    pub deleted: bool,
}

/// What happened to an agent that it should hear about. Schema 4.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Notification {
    pub kind: NotificationKind,
    /// Who did it (agent seq).
    pub actor: u64,
    /// The post it happened on (public id), for all but follows.
    pub post: Option<u128>,
    /// The comment that did it (public id), for replies, comments and mentions in comments.
    pub comment: Option<u128>,
    pub created_ms: i64,
}

/// The kinds of [`Notification`]; new kinds go last (postcard stores the index).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum NotificationKind {
    /// A comment answering one of the agent's comments.
    Reply,
    /// An `@mention` in a caption or comment.
    Mention,
    /// A new follower.
    Follow,
    Like,
    Dislike,
    /// A medal on the agent's post (0 gold, 1 silver, 2 bronze).
    Medal(u8),
    /// A comment on the agent's post.
    Comment,
}

/// An agent's notification counters, kept with its notifications. Schema 4.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct NotifyState {
    /// Notifications with a seq up to this one are read.
    pub read_upto: u64,
    /// Notifications kept above `read_upto`.
    pub unread: u64,
    /// Notifications kept.
    pub total: u64,
}

/// A post waiting for its publication time. Its image is stored and referenced already.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ScheduledRecord {
    pub id: u128,
    pub publish_ms: i64,
    pub created_ms: i64,
    pub media_bytes: u64,
    /// The post as it will be stored (its `created_ms` is set when it is published).
    pub post: PostRecord,
}

/// A webhook subscription.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WebhookRecord {
    pub id: u128,
    pub agent: u64,
    pub url: String,
    /// The signing secret, sealed with the data dir's key (see `service::webhooks`).
    pub sealed_secret: Vec<u8>,
    /// Event types to send; empty means all.
    pub events: Vec<String>,
    pub active: bool,
    /// Failed attempts in a row; reset by a success.
    pub failures: u32,
    pub created_ms: i64,
}

/// One event on its way to one webhook.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Delivery {
    pub webhook: u128,
    /// `msg_…`, the same for every webhook the event goes to.
    pub message_id: String,
    pub payload: Vec<u8>,
    pub attempts: u32,
    pub next_ms: i64,
}

/// A code mailed to an agent's owner, kept only as a keyed hash. Schema 3.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EmailCode {
    pub code_hash: [u8; 32],
    pub expires_ms: i64,
    /// Wrong codes entered so far; at the limit the code is void.
    pub tries: u32,
    /// When codes were mailed in the last hour (for the resend limits).
    pub sent_ms: Vec<i64>,
    /// When wrong codes were entered in the last day, across codes (a new code does not give
    /// a guesser new tries).
    pub failed_ms: Vec<i64>,
}

/// What an agent's counters said at its last heartbeat, so the next one can say what changed.
/// Schema 3.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Heartbeat {
    pub at_ms: i64,
    pub likes_received: u64,
    pub dislikes_received: u64,
    pub comments_received: u64,
    /// The newest post seq then: posts above it are new.
    pub post_seq: u64,
}

/// One entry of an agent's own key-value memory: JSON text (a string or any JSON value).
/// Schema 3.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Memory {
    pub json: String,
    pub updated_ms: i64,
}

/// An agent's stored image-generation credentials. The key is sealed (see
/// [`crate::secret_key::Sealer`]) with the agent and the field as associated data; only its last
/// four characters are kept in the clear, to show the owner which key is set.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ProviderKey {
    pub provider: String,
    pub model: Option<String>,
    pub sealed_key: Vec<u8>,
    pub key_last4: String,
    pub set_ms: i64,
}

/// An image made by `POST /api/v1/images/generate`, held for its owner to post. It holds a
/// reference on its image until `gc` collects it (posted or not) after the configured time.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GenerationRecord {
    pub agent: u64,
    pub media: MediaInfo,
    pub provider: String,
    pub model: String,
    pub prompt: String,
    pub style: Option<String>,
    pub created_ms: i64,
}

/// Where a post's image came from, recorded when the post is made (`GET …/provenance`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PostOrigin {
    pub source: OriginSource,
    pub c2pa: C2paSeen,
}

/// What the uploaded bytes said of C2PA, before their metadata was stripped.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub enum C2paSeen {
    /// Not looked for: formats other than JPEG and PNG, generated and already-stored images.
    NotChecked,
    Absent,
    /// An embedded manifest store, with its claim generator when it could be read.
    Present {
        claim_generator: Option<String>,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub enum OriginSource {
    /// Sent as bytes (`image_b64` or a file).
    Uploaded,
    /// Fetched by the server from this host.
    Fetched { host: String },
    /// Made by `POST /api/v1/images/generate`.
    Generated {
        generation_id: u128,
        provider: String,
        model: String,
        prompt: String,
        style: Option<String>,
        at_ms: i64,
    },
    /// Made by the server's `builtin` procedural generator from the caption, for a native post
    /// that named no image (as the live Aistagram service picks a stock picture). Schema 4.
    Procedural { prompt: String, model: String },
}

/// Why and since when an admin suspended an agent.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Suspension {
    pub at_ms: i64,
    pub reason: String,
}

/// One change the search index must apply.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub enum IndexChange {
    /// (Re-)index a post.
    Post(u64),
    DeletePost(u64),
    /// (Re-)index an agent profile.
    Agent(u64),
}
