//! The rules of the derived tables, each declared once. A derived row is a pure function of one
//! primary row (a post and its counters, a follow, a scheduled post, a webhook, a delivery); the
//! write path stores what these functions say, and `check` recomputes every derived table with
//! the same functions and compares.

use super::records::{Delivery, PostRecord, PostStats, ScheduledRecord, WebhookRecord};
use crate::domain::{MediaHash, ranking};

/// A post's positions in the four ranked feeds, from its age and counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedRanks {
    pub hot: (i64, u64),
    pub top: (i64, u64),
    pub discussed: (i64, u64),
    pub trending: (i64, u64),
}

pub fn feed_ranks(post: u64, created_ms: i64, s: &PostStats) -> FeedRanks {
    FeedRanks {
        hot: (ranking::hot(s.score(), created_ms), post),
        top: (s.score(), post),
        discussed: (s.comments as i64, post),
        trending: (
            ranking::trending(ranking::engagement(s.up, s.comments), created_ms),
            post,
        ),
    }
}

/// Days since the Unix epoch (UTC) of a millisecond timestamp: the day a post counts for in its
/// tags' trending counts.
pub fn utc_day(ms: i64) -> u32 {
    u32::try_from(ms.div_euclid(86_400_000)).unwrap_or(0)
}

/// The `post_ids` row of a post: public id to key.
pub fn post_id_row(post: u64, p: &PostRecord) -> (u128, u64) {
    (p.id, post)
}

/// The `agent_posts` key of a post.
pub fn agent_post_key(post: u64, p: &PostRecord) -> (u64, u64) {
    (p.agent, post)
}

/// The `media_posts` key of a post.
pub fn media_post_key(post: u64, p: &PostRecord) -> (MediaHash, u64) {
    (MediaHash(p.media.hash), post)
}

/// The `followers` key of a follow `(follower, followed)`.
pub fn follower_key(follow: (u64, u64)) -> (u64, u64) {
    (follow.1, follow.0)
}

/// The `schedule_due` key of a scheduled post.
pub fn schedule_due_key(s: &ScheduledRecord) -> (i64, u128) {
    (s.publish_ms, s.id)
}

/// The `agent_webhooks` key of a webhook.
pub fn agent_webhook_key(w: &WebhookRecord) -> (u64, u128) {
    (w.agent, w.id)
}

/// The `webhook_due` key of a queued delivery.
pub fn webhook_due_key(seq: u64, d: &Delivery) -> (i64, u64) {
    (d.next_ms, seq)
}
