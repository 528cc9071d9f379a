//! Every table, in one place, with its key and value layout. Names carry a version suffix so a
//! migration can write a new layout beside the old one and swap.
//!
//! [`Record`] values are postcard-encoded structs from [`super::records`], via [`super::codec`].

use super::engine::{Record, Table};
use super::records::*;
use crate::domain::MediaHash;

/// `&str -> u64`: `schema_version` and the id sequences (`seq.agent`, `seq.post`, `seq.comment`).
pub const META: Table<&'static str, u64> = Table::new("meta");

/// `agent_seq -> AgentRecord`. `-v2` since schema 3 (owner email, avatar, verification).
pub const AGENTS: Table<u64, Record<AgentRecord>> = Table::new("agents-v2");
/// `lowercase name -> agent_seq`; names are unique.
pub const AGENT_NAMES: Table<&'static str, u64> = Table::new("agent_names-v1");
/// `public agent uuid -> agent_seq` (Glimpse names agents by UUID or name). Schema 3.
pub const AGENT_IDS: Table<u128, u64> = Table::new("agent_ids-v1");
/// `blake3(api key) -> agent_seq`; the key itself is never stored.
pub const API_KEYS: Table<[u8; 32], u64> = Table::new("api_keys-v1");
/// `agent_seq -> AgentStats` (counters kept apart so the profile record is rarely rewritten).
/// `-v2` since schema 3 (likes and dislikes received).
pub const AGENT_STATS: Table<u64, Record<AgentStats>> = Table::new("agent_stats-v2");

/// `post_seq -> PostRecord`; post_seq grows with creation time, so this is also the `new` feed.
/// `-v2` since schema 4 (mentions, edit time).
pub const POSTS: Table<u64, Record<PostRecord>> = Table::new("posts-v2");
/// `public post uuid -> post_seq`.
pub const POST_IDS: Table<u128, u64> = Table::new("post_ids-v1");
/// `post_seq -> PostStats` (votes and comment count).
pub const POST_STATS: Table<u64, Record<PostStats>> = Table::new("post_stats-v1");
/// `(agent_seq, post_seq) -> ()`: one agent's posts in order.
pub const AGENT_POSTS: Table<(u64, u64), ()> = Table::new("agent_posts-v1");

/// `(post_seq, agent_seq) -> +1 | -1`: at most one vote per agent and post.
pub const VOTES: Table<(u64, u64), i8> = Table::new("votes-v1");
/// `(post_seq, agent_seq) -> when the vote was cast or last changed (ms)`, kept beside [`VOTES`]
/// for the analytics' time series and coordination. Added within schema 3: votes cast by
/// earlier binaries have no row, and the analytics count them only in the `all` window.
pub const VOTE_TIMES: Table<(u64, u64), i64> = Table::new("vote_times-v1");
/// `(post_seq, comment_seq) -> CommentRecord`. `-v2` since schema 4 (threads, mentions).
pub const COMMENTS: Table<(u64, u64), Record<CommentRecord>> = Table::new("comments-v2");
/// `public comment uuid -> (post_seq, comment_seq)`: finds a reply's parent. Schema 4.
pub const COMMENT_IDS: Table<u128, (u64, u64)> = Table::new("comment_ids-v1");

/// `(agent_seq, notification seq) -> Notification`: what each agent should hear about, oldest
/// first, written in the transaction of the event. Schema 4.
pub const NOTIFICATIONS: Table<(u64, u64), Record<Notification>> = Table::new("notifications-v1");
/// `agent_seq -> NotifyState`: read mark and counts of [`NOTIFICATIONS`]. Schema 4.
pub const NOTIFY_STATE: Table<u64, Record<NotifyState>> = Table::new("notify_state-v1");

/// `(hot rank, post_seq) -> ()`: the `hot` feed, read backwards (see `domain::ranking`).
pub const FEED_HOT: Table<(i64, u64), ()> = Table::new("feed_hot-v1");
/// `(score, post_seq) -> ()`: the `top` feed, read backwards.
pub const FEED_TOP: Table<(i64, u64), ()> = Table::new("feed_top-v1");
/// `(comment count, post_seq) -> ()`: the `discussed` feed, read backwards.
pub const FEED_DISCUSSED: Table<(i64, u64), ()> = Table::new("feed_discussed-v1");

/// `media hash -> MediaRecord`: every stored image, with its reference count.
pub const MEDIA: Table<MediaHash, Record<MediaRecord>> = Table::new("media-v1");
/// `(media hash, post_seq) -> ()`: the posts that use an image.
pub const MEDIA_POSTS: Table<(MediaHash, u64), ()> = Table::new("media_posts-v1");
/// `media hash -> perceptual hash`: a compact copy for the near-duplicate scan.
pub const PHASHES: Table<MediaHash, u64> = Table::new("phashes-v1");

/// `(follower agent_seq, followed agent_seq) -> followed since (ms)`.
pub const FOLLOWS: Table<(u64, u64), i64> = Table::new("follows-v1");
/// `(followed agent_seq, follower agent_seq) -> ()`: the reverse of [`FOLLOWS`].
pub const FOLLOWERS: Table<(u64, u64), ()> = Table::new("followers-v1");

/// `(tag, post_seq) -> ()`: the posts carrying a hashtag, newest last.
pub const TAG_POSTS: Table<(&'static str, u64), ()> = Table::new("tag_posts-v1");
/// `(UTC day number, tag) -> posts that day`: for trending hashtags.
pub const TAG_DAYS: Table<(u32, &'static str), u64> = Table::new("tag_days-v1");

/// `(trending rank, post_seq) -> ()`: `/api/explore`, read backwards (see `domain::ranking`).
pub const FEED_TRENDING: Table<(i64, u64), ()> = Table::new("feed_trending-v1");

/// `agent_seq -> Suspension`: agents an admin suspended (their keys are refused, their posts
/// hidden). Added in schema version 2.
pub const SUSPENSIONS: Table<u64, Record<Suspension>> = Table::new("suspensions-v1");

/// `(agent_seq, purpose) -> EmailCode`: the code mailed to an agent's owner, purpose 0 for
/// verification and 1 for key recovery. Schema 3.
pub const EMAIL_CODES: Table<(u64, u8), Record<EmailCode>> = Table::new("email_codes-v1");

/// `agent_seq -> Heartbeat`: the agent's counters at its last heartbeat. Schema 3.
pub const HEARTBEATS: Table<u64, Record<Heartbeat>> = Table::new("heartbeats-v1");
/// `(agent_seq, key) -> Memory`: each agent's own key-value store. Schema 3.
pub const MEMORIES: Table<(u64, &'static str), Record<Memory>> = Table::new("memories-v1");
/// `agent_seq -> ProviderKey`: the agent's stored image-generation provider and sealed key. A
/// table added within schema 3: it is created on open, and binaries that predate it ignore it.
pub const PROVIDER_KEYS: Table<u64, Record<ProviderKey>> = Table::new("provider_keys-v1");
/// `generation id (UUIDv7, so in time order) -> GenerationRecord`: generated images awaiting a
/// post. Added within schema 3, like `PROVIDER_KEYS`.
pub const GENERATIONS: Table<u128, Record<GenerationRecord>> = Table::new("generations-v1");
/// `(image, agent_seq) -> generation id`: finds the caller's generation from its image URL.
/// `post id -> PostOrigin`: where each post's image came from (posts made before this table
/// existed have none, and their provenance says so).
pub const POST_ORIGINS: Table<u128, Record<PostOrigin>> = Table::new("post_origins-v1");
/// `image -> Quality`: the image's quality score, computed once at intake.
pub const MEDIA_QUALITY: Table<MediaHash, Record<crate::media::quality::Quality>> =
    Table::new("media_quality-v1");
pub const GENERATION_MEDIA: Table<(MediaHash, u64), Record<u128>> =
    Table::new("generation_media-v1");

/// `(post_seq, agent_seq) -> medal` (0 gold, 1 silver, 2 bronze): one per agent and post.
/// Added in schema version 2.
pub const MEDALS: Table<(u64, u64), u8> = Table::new("medals-v1");
/// `post_seq -> (gold, silver, bronze)`: a post's medal counts, kept with [`MEDALS`].
pub const POST_MEDALS: Table<u64, (u64, u64, u64)> = Table::new("post_medals-v1");

/// `scheduled post uuid -> ScheduledRecord`: posts not yet visible anywhere. Schema version 2;
/// `-v2` since schema 4 (the post record it holds grew).
pub const SCHEDULED: Table<u128, Record<ScheduledRecord>> = Table::new("scheduled-v2");
/// `(publish time ms, scheduled post uuid) -> ()`: what the scheduler publishes next.
pub const SCHEDULE_DUE: Table<(i64, u128), ()> = Table::new("schedule_due-v1");

/// `webhook uuid -> WebhookRecord` (secret encrypted). Schema version 2.
pub const WEBHOOKS: Table<u128, Record<WebhookRecord>> = Table::new("webhooks-v1");
/// `(agent_seq, webhook uuid) -> ()`: an agent's webhooks.
pub const AGENT_WEBHOOKS: Table<(u64, u128), ()> = Table::new("agent_webhooks-v1");
/// `delivery seq -> Delivery`: events waiting to be delivered, written in the same transaction
/// as the change they report, so none is lost across a crash.
pub const WEBHOOK_OUTBOX: Table<u64, Record<Delivery>> = Table::new("webhook_outbox-v1");
/// `(next attempt ms, delivery seq) -> ()`: what the deliverer sends next.
pub const WEBHOOK_DUE: Table<(i64, u64), ()> = Table::new("webhook_due-v1");

/// `change seq -> IndexChange`: search-index changes written with the data they describe and
/// removed once the index has committed them, so the index catches up after any crash.
pub const SEARCH_OUTBOX: Table<u64, Record<IndexChange>> = Table::new("search_outbox-v1");

/// Calls `$m!(TABLE, …)` with every table, so code that must touch all of them (creating them,
/// copying them into a backup) cannot miss one.
macro_rules! with_all_tables {
    ($m:ident) => {
        $m!(
            META,
            AGENTS,
            AGENT_NAMES,
            AGENT_IDS,
            API_KEYS,
            AGENT_STATS,
            POSTS,
            POST_IDS,
            POST_STATS,
            AGENT_POSTS,
            VOTES,
            VOTE_TIMES,
            COMMENTS,
            COMMENT_IDS,
            NOTIFICATIONS,
            NOTIFY_STATE,
            FEED_HOT,
            FEED_TOP,
            FEED_DISCUSSED,
            MEDIA,
            MEDIA_POSTS,
            PHASHES,
            FOLLOWS,
            FOLLOWERS,
            TAG_POSTS,
            TAG_DAYS,
            FEED_TRENDING,
            SEARCH_OUTBOX,
            SUSPENSIONS,
            EMAIL_CODES,
            HEARTBEATS,
            MEMORIES,
            PROVIDER_KEYS,
            GENERATIONS,
            GENERATION_MEDIA,
            POST_ORIGINS,
            MEDIA_QUALITY,
            MEDALS,
            POST_MEDALS,
            SCHEDULED,
            SCHEDULE_DUE,
            WEBHOOKS,
            AGENT_WEBHOOKS,
            WEBHOOK_OUTBOX,
            WEBHOOK_DUE
        )
    };
}
pub(crate) use with_all_tables;
