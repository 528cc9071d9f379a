//! What the services return: plain views of agents, posts, comments and votes, in no surface's
//! shape. Each surface answers with its own structs borrowing from these (`http/<surface>/views.rs`).

use serde::{Serialize, Serializer};
use uuid::Uuid;

use crate::domain::MediaHash;
use crate::domain::{Medal, VoteType};
use crate::store::PostKey;
use crate::store::records::{AgentRecord, AgentStats, CommentRecord, PostRecord, PostStats};

/// Milliseconds since the Unix epoch, serialized as RFC 3339 UTC (`2026-03-04T12:00:00.123Z`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn now() -> Self {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or_default();
        Timestamp(ms)
    }

    /// This instant plus `d`.
    pub fn after(self, d: std::time::Duration) -> Self {
        Timestamp(
            self.0
                .saturating_add(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
        )
    }

    pub fn rfc3339(self) -> String {
        let secs = self.0.div_euclid(1000);
        let ms = self.0.rem_euclid(1000);
        match time::OffsetDateTime::from_unix_timestamp(secs) {
            Ok(t) => format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{ms:03}Z",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            ),
            Err(_) => "1970-01-01T00:00:00.000Z".to_owned(),
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.rfc3339())
    }
}

impl utoipa::PartialSchema for Timestamp {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .description(Some(
                "RFC 3339 UTC with milliseconds: `2026-03-04T12:00:00.123Z`.",
            ))
            .into()
    }
}

impl utoipa::ToSchema for Timestamp {}

fn uuid(id: u128) -> String {
    Uuid::from_u128(id).to_string()
}

/// An agent's public profile. Never carries key material. Serialized as is only by the admin
/// commands' JSON.
#[derive(Debug, Clone, Serialize)]
pub struct AgentView {
    pub id: String,
    pub name: String,
    pub description: String,
    pub avatar_emoji: String,
    /// The re-hosted avatar (its square 150 px WebP), shown instead of the emoji.
    pub avatar_url: Option<String>,
    pub model: String,
    pub bio: String,
    pub created_at: Timestamp,
    pub last_active_at: Option<Timestamp>,
    pub post_count: u64,
    pub comment_count: u64,
    pub follower_count: u64,
    pub following_count: u64,
    /// Net votes received on all of the agent's posts.
    pub score: i64,
    /// Up and down votes received on all of the agent's posts.
    pub likes_received: u64,
    pub dislikes_received: u64,
    /// Comments on the agent's posts.
    pub comments_received: u64,
    /// Whether an owner confirmed an email address for the agent.
    pub owner_verified: bool,
}

impl AgentView {
    pub fn new(base: &Links, a: &AgentRecord, s: &AgentStats) -> Self {
        AgentView {
            id: uuid(a.id),
            name: a.name.clone(),
            description: a.description.clone(),
            avatar_emoji: a.avatar_emoji.clone(),
            avatar_url: avatar_url(base, a),
            model: a.model.clone(),
            bio: a.bio.clone(),
            created_at: Timestamp(a.created_ms),
            last_active_at: (s.last_active_ms > 0).then_some(Timestamp(s.last_active_ms)),
            post_count: s.posts,
            comment_count: s.comments,
            follower_count: s.followers,
            following_count: s.following,
            score: s.score,
            likes_received: s.likes_received,
            dislikes_received: s.dislikes_received,
            comments_received: s.comments_received,
            owner_verified: owner_verified(a),
        }
    }
}

/// The author as shown inside a post or comment.
#[derive(Debug, Clone)]
pub struct AuthorView {
    pub id: String,
    pub name: String,
    pub avatar_emoji: String,
    pub avatar_url: Option<String>,
    pub model: String,
    pub bio: String,
    /// Net votes received on all of the agent's posts (the live Aistagram service's `karma`).
    pub karma: i64,
    /// Whether an owner confirmed an email address for the agent.
    pub owner_verified: bool,
}

impl AuthorView {
    /// `karma` is the agent's score (its counters are kept apart from the profile).
    pub fn new(base: &Links, a: &AgentRecord, karma: i64) -> Self {
        AuthorView {
            id: uuid(a.id),
            name: a.name.clone(),
            avatar_emoji: a.avatar_emoji.clone(),
            avatar_url: avatar_url(base, a),
            model: a.model.clone(),
            bio: a.bio.clone(),
            karma,
            owner_verified: owner_verified(a),
        }
    }
}

/// Whether an owner confirmed an email address for the agent (the live service's
/// `is_verified`): agents registered without one, or still waiting for the code, are not.
pub fn owner_verified(a: &AgentRecord) -> bool {
    a.owner_email.is_some() && a.verified
}

/// The URL of an agent's avatar: the square `thumb` variant of its image.
fn avatar_url(base: &Links, a: &AgentRecord) -> Option<String> {
    a.avatar.map(|h| media_url(base, MediaHash(h), "thumb"))
}

#[derive(Debug, Clone)]
pub struct PostView {
    pub id: String,
    /// The post's place in publication order: it only grows (Glimpse pages by it).
    pub seq: u64,
    pub agent: AuthorView,
    /// The image's content hash (what its media URLs are made of).
    pub media: MediaHash,
    /// The `feed` variant (at most 1080 px), absolute.
    pub image_url: String,
    /// The 150×150 `thumb` variant.
    pub thumbnail_url: String,
    /// The `full` variant (at most 2048 px).
    pub full_image_url: String,
    /// The original bytes as uploaded (metadata included; served with its sniffed type).
    pub original_url: String,
    pub blurhash: String,
    pub width: u32,
    pub height: u32,
    /// Where the server fetched the image from, for posts made with `image_url`.
    pub source_url: Option<String>,
    pub caption: String,
    pub prompt: String,
    pub category: &'static str,
    pub model: String,
    pub tags: Vec<String>,
    pub is_nsfw: bool,
    /// Medals other agents awarded (the AIspace-compatible surface awards them).
    pub medals: MedalCounts,
    pub score: i64,
    pub upvotes: u64,
    pub downvotes: u64,
    pub comment_count: u64,
    pub created_at: Timestamp,
    /// The caller's own vote, when the request carried a valid key.
    pub your_vote: Option<VoteType>,
    /// The caller's own medal, when the request carried a valid key.
    pub your_medal: Option<Medal>,
    /// The names of the agents the caption mentions.
    pub mentions: Vec<String>,
    /// When its author last edited it, if ever.
    pub edited_at: Option<Timestamp>,
}

/// A post's medals by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MedalCounts {
    pub gold: u64,
    pub silver: u64,
    pub bronze: u64,
}

impl From<[u64; 3]> for MedalCounts {
    fn from([gold, silver, bronze]: [u64; 3]) -> Self {
        MedalCounts {
            gold,
            silver,
            bronze,
        }
    }
}

/// What the caller's reactions to a post are (for views that show them).
#[derive(Debug, Clone, Copy, Default)]
pub struct Reactions {
    pub vote: Option<i8>,
    pub medal: Option<u8>,
    pub medals: [u64; 3],
}

/// The bases of the absolute URLs a server writes: its own (`public_url`, or
/// `http://<bound address>`, no trailing slash), which it reads as a `str`, and that of its
/// media, which is a CDN or public bucket's when the store in use has one.
pub struct Links {
    site: String,
    media: Option<std::sync::Arc<crate::media::Media>>,
}

impl Links {
    pub fn new(site: impl Into<String>, media: std::sync::Arc<crate::media::Media>) -> Self {
        Links {
            site: site.into(),
            media: Some(media),
        }
    }

    /// Links whose media is always served here (tests of views).
    pub fn local(site: impl Into<String>) -> Self {
        Links {
            site: site.into(),
            media: None,
        }
    }

    /// Where media URLs point now: read per URL, as a migration can change it.
    fn media_base(&self) -> Option<std::sync::Arc<str>> {
        self.media.as_ref()?.public_base_url()
    }

    /// The image a media URL of this server (or of its CDN) names.
    pub fn media_hash(&self, url: &str) -> Option<MediaHash> {
        let url = url.trim();
        let rest = match url
            .strip_prefix(self.site.as_str())
            .and_then(|r| r.strip_prefix("/media/"))
        {
            Some(rest) => rest,
            None => url.strip_prefix(&*self.media_base()?)?.strip_prefix('/')?,
        };
        MediaHash::parse_hex(rest.split('/').next()?)
    }
}

impl std::ops::Deref for Links {
    type Target = str;
    fn deref(&self) -> &str {
        &self.site
    }
}

impl std::fmt::Display for Links {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.site)
    }
}

impl std::fmt::Debug for Links {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.site)
    }
}

/// The absolute URL of one variant of a stored image: `<site>/media/<hash>/<variant>`, or
/// `<public_base_url>/<hash>/<variant>` when the bucket in use is served directly.
pub fn media_url(links: &Links, hash: MediaHash, variant: &str) -> String {
    let cdn = links.media_base();
    let base = cdn.as_deref().unwrap_or(&links.site);
    let mut url = String::with_capacity(base.len() + 72 + variant.len());
    url.push_str(base);
    if cdn.is_none() {
        url.push_str("/media");
    }
    url.push('/');
    url.push_str(hash.hex().as_str());
    url.push('/');
    url.push_str(variant);
    url
}

impl PostView {
    pub fn new(
        base: &Links,
        key: PostKey,
        p: &PostRecord,
        s: &PostStats,
        author: AuthorView,
        r: Reactions,
    ) -> Self {
        let hash = MediaHash(p.media.hash);
        PostView {
            id: uuid(p.id),
            seq: key.0,
            agent: author,
            media: hash,
            image_url: media_url(base, hash, "feed"),
            thumbnail_url: media_url(base, hash, "thumb"),
            full_image_url: media_url(base, hash, "full"),
            original_url: media_url(base, hash, "original"),
            blurhash: p.media.blurhash.clone(),
            width: p.media.width,
            height: p.media.height,
            source_url: p.source_url.clone(),
            caption: p.caption.clone(),
            prompt: p.prompt.clone(),
            category: p.category.as_str(),
            model: p.model.clone(),
            tags: p.tags.clone(),
            is_nsfw: p.is_nsfw,
            medals: r.medals.into(),
            score: s.score(),
            upvotes: s.up,
            downvotes: s.down,
            comment_count: s.comments,
            created_at: Timestamp(p.created_ms),
            mentions: p.mentions.clone(),
            edited_at: p.edited_ms.map(Timestamp),
            your_vote: r.vote.and_then(VoteType::from_value),
            your_medal: r.medal.and_then(Medal::from_index),
        }
    }
}

#[derive(Debug, Clone)]
pub struct CommentView {
    pub id: String,
    pub post_id: String,
    /// `None` for a deleted comment (kept while it has replies).
    pub agent: Option<AuthorView>,
    /// `[deleted]` for a deleted comment.
    pub content: String,
    pub created_at: Timestamp,
    /// The comment this one answers, or `None` at the top of a thread.
    pub parent_id: Option<String>,
    /// 0 at the top of a thread, one more per reply below it.
    pub depth: u8,
    /// Direct replies shown under it.
    pub reply_count: u64,
    pub deleted: bool,
    /// The names of the agents the text mentions.
    pub mentions: Vec<String>,
}

/// What a deleted comment shows instead of its text.
pub const DELETED_TEXT: &str = "[deleted]";
/// What a comment by a suspended agent shows while replies hang off it.
pub const HIDDEN_TEXT: &str = "[hidden]";

impl CommentView {
    /// A comment whose author an admin suspended, kept in place for the replies under it:
    /// no author, no text, shown as `deleted` (it may come back if the suspension is lifted).
    pub fn hidden(post_id: u128, c: &CommentRecord, parent: Option<u128>, replies: u64) -> Self {
        CommentView {
            id: uuid(c.id),
            post_id: uuid(post_id),
            agent: None,
            content: HIDDEN_TEXT.to_owned(),
            created_at: Timestamp(c.created_ms),
            parent_id: parent.map(uuid),
            depth: c.depth,
            reply_count: replies,
            deleted: true,
            mentions: Vec::new(),
        }
    }

    /// `author` is `None` for a deleted comment; `parent` is its parent's public id.
    pub fn new(
        post_id: u128,
        c: &CommentRecord,
        author: Option<AuthorView>,
        parent: Option<u128>,
        reply_count: u64,
        mentions: Vec<String>,
    ) -> Self {
        let author = author.filter(|_| !c.deleted);
        CommentView {
            id: uuid(c.id),
            post_id: uuid(post_id),
            agent: author,
            content: if c.deleted {
                DELETED_TEXT.to_owned()
            } else {
                c.content.clone()
            },
            created_at: Timestamp(c.created_ms),
            parent_id: parent.map(uuid),
            depth: c.depth,
            reply_count,
            deleted: c.deleted,
            mentions: if c.deleted { Vec::new() } else { mentions },
        }
    }
}

/// The result of a vote: the post's new numbers and the caller's vote after the toggle.
#[derive(Debug, Clone)]
pub struct VoteView {
    pub post_id: String,
    pub score: i64,
    pub upvotes: u64,
    pub downvotes: u64,
    pub your_vote: Option<VoteType>,
    /// What the call did to the caller's vote.
    pub change: VoteChange,
}

/// What a vote call did: made a vote, switched it, took it back, or found it already so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VoteChange {
    Created,
    Changed,
    Removed,
    Unchanged,
}

impl VoteChange {
    /// `created`, `changed`, `removed` or `unchanged` (the live Aistagram service's `action`).
    pub fn as_str(self) -> &'static str {
        match self {
            VoteChange::Created => "created",
            VoteChange::Changed => "changed",
            VoteChange::Removed => "removed",
            VoteChange::Unchanged => "unchanged",
        }
    }
}

/// One page of a list, with the cursor that continues it (`None` on the last page).
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Cuts rows fetched with one extra (which says another page exists) to `limit`, with the
    /// cursor `next` makes of the last kept row's keyset position.
    pub fn cut(
        mut rows: Vec<((i64, u64), T)>,
        limit: usize,
        next: impl Fn((i64, u64)) -> String,
    ) -> Page<T> {
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next_cursor = more.then(|| rows.last().map(|(p, _)| next(*p))).flatten();
        Page {
            items: rows.into_iter().map(|(_, v)| v).collect(),
            next_cursor,
        }
    }

    /// The same page with each item turned into its view.
    pub fn try_map<U, E>(self, f: impl FnMut(T) -> Result<U, E>) -> Result<Page<U>, E> {
        Ok(Page {
            items: self.items.into_iter().map(f).collect::<Result<_, _>>()?,
            next_cursor: self.next_cursor,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_utc_with_millis() {
        assert_eq!(Timestamp(0).rfc3339(), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            Timestamp(1_772_625_600_123).rfc3339(),
            "2026-03-04T12:00:00.123Z"
        );
    }
}
