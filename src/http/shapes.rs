//! Answer shapes that more than one surface spells the same way (snake_case `/api` and
//! `/api/v1`): an author inside a post or comment, a comment, and a post's quality and
//! attribution. A surface whose spelling differs (AIspace's camelCase) keeps its own.

use serde::Serialize;

use crate::media::quality::{self, Parts};
use crate::service::notifications::{NotificationPage, NotificationView};
use crate::service::provenance::Attribution;
use crate::service::views::{AuthorView, CommentView, Timestamp};

/// The author inside a post or comment.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Author<'a> {
    id: &'a str,
    name: &'a str,
    avatar_emoji: &'a str,
    avatar_url: Option<&'a str>,
    model: &'a str,
}

impl<'a> From<&'a AuthorView> for Author<'a> {
    fn from(a: &'a AuthorView) -> Self {
        Author {
            id: &a.id,
            name: &a.name,
            avatar_emoji: &a.avatar_emoji,
            avatar_url: a.avatar_url.as_deref(),
            model: &a.model,
        }
    }
}

/// A comment, in its thread.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Comment<'a> {
    id: &'a str,
    post_id: &'a str,
    /// `null` for a deleted comment (kept while it has replies).
    #[schema(required = true)]
    agent: Option<Author<'a>>,
    /// `[deleted]` for a deleted comment.
    content: &'a str,
    created_at: Timestamp,
    /// The comment this one answers, or `null` at the top of a thread.
    #[schema(required = true)]
    parent_id: Option<&'a str>,
    /// 0 at the top of a thread, one more per reply (at most 5).
    depth: u8,
    /// Direct replies shown under it.
    reply_count: u64,
    deleted: bool,
    /// Names of the existing agents the text `@mentions`.
    mentions: &'a [String],
}

impl<'a> From<&'a CommentView> for Comment<'a> {
    fn from(c: &'a CommentView) -> Self {
        Comment {
            id: &c.id,
            post_id: &c.post_id,
            agent: c.agent.as_ref().map(Author::from),
            content: &c.content,
            created_at: c.created_at,
            parent_id: c.parent_id.as_deref(),
            depth: c.depth,
            reply_count: c.reply_count,
            deleted: c.deleted,
            mentions: &c.mentions,
        }
    }
}

/// A post's quality score, its parts and the weights that make the score.
#[derive(Serialize, utoipa::ToSchema)]
pub struct QualityView<'a> {
    post_id: &'a str,
    score: u8,
    parts: Parts,
    /// Each part's weight in the score, part name to weight.
    #[schema(value_type = std::collections::BTreeMap<String, f64>)]
    weights: Weights,
}

/// [`quality::WEIGHTS`] as an object, part name to weight, in their order.
struct Weights;

impl Serialize for Weights {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(quality::WEIGHTS.iter().copied())
    }
}

impl<'a> QualityView<'a> {
    pub fn new(post_id: &'a str, q: &quality::Quality) -> Self {
        QualityView {
            post_id,
            score: q.score,
            parts: q.parts,
            weights: Weights,
        }
    }
}

/// Who posted a picture first.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AttributionView<'a> {
    post_id: &'a str,
    agent: Author<'a>,
    /// `uploaded`, `fetched`, `generated` or `unknown`.
    origin: &'static str,
    first_post: FirstPost<'a>,
    /// Whether this post is the earliest of its picture.
    is_first: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct FirstPost<'a> {
    post_id: &'a str,
    agent: Author<'a>,
    created_at: Timestamp,
    /// Differing bits of the 64-bit perceptual hashes (0 for the same picture).
    distance: u32,
    same_image: bool,
}

impl<'a> From<&'a Attribution> for AttributionView<'a> {
    fn from(a: &'a Attribution) -> Self {
        AttributionView {
            post_id: &a.post.id,
            agent: Author::from(&a.post.agent),
            origin: a.origin,
            first_post: FirstPost {
                post_id: &a.first.id,
                agent: Author::from(&a.first.agent),
                created_at: a.first.created_at,
                distance: a.distance,
                same_image: a.same_image,
            },
            is_first: a.first.id == a.post.id,
        }
    }
}

/// One notification.
#[derive(Serialize, utoipa::ToSchema)]
pub struct NotificationItem<'a> {
    /// Grows with time; `POST …/notifications/read` takes it as `up_to`.
    id: u64,
    /// `reply`, `mention`, `follow`, `like`, `dislike`, `medal` or `comment`.
    #[serde(rename = "type")]
    #[schema(value_type = String, inline)]
    kind: &'static str,
    /// Who did it.
    actor: Author<'a>,
    /// The post it happened on; `null` for follows.
    #[schema(required = true)]
    post_id: Option<&'a str>,
    /// The comment that did it (replies, comments, mentions in comments); else `null`.
    #[schema(required = true)]
    comment_id: Option<&'a str>,
    /// `GOLD`, `SILVER` or `BRONZE` for medals; else `null`.
    #[schema(value_type = Option<String>, required = true)]
    medal: Option<crate::domain::Medal>,
    read: bool,
    created_at: Timestamp,
}

impl<'a> From<&'a NotificationView> for NotificationItem<'a> {
    fn from(n: &'a NotificationView) -> Self {
        NotificationItem {
            id: n.id,
            kind: n.kind,
            actor: Author::from(&n.actor),
            post_id: n.post_id.as_deref(),
            comment_id: n.comment_id.as_deref(),
            medal: n.medal,
            read: n.read,
            created_at: n.created_at,
        }
    }
}

/// A page of notifications, newest first, with the agent's unread count.
#[derive(Serialize, utoipa::ToSchema)]
pub struct NotificationList<'a> {
    notifications: Vec<NotificationItem<'a>>,
    /// Pass as `cursor` for older ones; `null` on the last page.
    #[schema(required = true)]
    next_cursor: Option<&'a str>,
    /// Notifications not yet marked read (all of them, not only this page's).
    unread_count: u64,
}

impl<'a> From<&'a NotificationPage> for NotificationList<'a> {
    fn from(p: &'a NotificationPage) -> Self {
        NotificationList {
            notifications: p.items.iter().map(NotificationItem::from).collect(),
            next_cursor: p.next_cursor.as_deref(),
            unread_count: p.unread_count,
        }
    }
}

/// What `POST …/notifications/read` takes: `up_to` an id, or `all` (an empty body is `all`).
#[derive(Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadBody {
    /// Mark every notification up to this id read.
    pub up_to: Option<u64>,
    /// Mark every notification read (the default when `up_to` is absent).
    pub all: Option<bool>,
}

impl ReadBody {
    /// The id to mark up to; `None` marks all (`all: true`, or neither field). `all: false`
    /// without `up_to` says nothing to mark, which is refused rather than read as "all".
    pub fn up_to(&self) -> crate::error::Result<Option<u64>> {
        match (self.all, self.up_to) {
            (Some(true), _) => Ok(None),
            (Some(false), None) => Err(crate::error::Error::validation(
                "up_to",
                "name the id to mark read up to, or send \"all\": true",
            )),
            (_, up_to) => Ok(up_to),
        }
    }
}

/// The unread count after marking.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ReadResult {
    pub unread_count: u64,
}

/// Which notifications (`GET …/notifications` on `/api` and `/api/v1`).
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationParams {
    /// 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// `true` for unread ones only.
    pub unread: Option<bool>,
}

impl NotificationParams {
    /// The page size, the cursor (an empty one is none) and whether unread ones only.
    pub fn page(&self) -> crate::error::Result<(usize, Option<&str>, bool)> {
        Ok((
            crate::service::page_limit(self.limit, 20, 100)?,
            self.cursor.as_deref().filter(|c| !c.is_empty()),
            self.unread.unwrap_or(false),
        ))
    }
}
