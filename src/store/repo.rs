//! Typed reads and writes of single records and index entries. Each function opens the tables it
//! needs and closes them before returning, so they compose freely inside one transaction.

use redb::{ReadableTable, WriteTransaction};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::records::*;
use super::tables::*;
use super::{AgentKey, CommentKey, MediaHash, PostKey, Tx, codec};
use crate::domain::ranking;
use crate::error::{Error, Result};

fn get_record<T: Tx, R: DeserializeOwned>(
    tx: &T,
    def: redb::TableDefinition<u64, &[u8]>,
    key: u64,
) -> Result<Option<R>> {
    let table = tx.table(def)?;
    let found = table.get(key)?;
    found.map(|v| codec::decode(v.value())).transpose()
}

fn put_record<R: Serialize>(
    tx: &WriteTransaction,
    def: redb::TableDefinition<u64, &[u8]>,
    key: u64,
    record: &R,
) -> Result<()> {
    let bytes = codec::encode(record)?;
    tx.open_table(def)?.insert(key, bytes.as_slice())?;
    Ok(())
}

/// Takes the next number of a named sequence (`seq.agent`, `seq.post`, `seq.comment`); starts at 1.
pub fn next_seq(tx: &WriteTransaction, name: &str) -> Result<u64> {
    let mut meta = tx.open_table(META)?;
    let next = meta.get(name)?.map(|v| v.value()).unwrap_or(0) + 1;
    meta.insert(name, next)?;
    Ok(next)
}

// ---- agents ----

pub fn agent<T: Tx>(tx: &T, key: AgentKey) -> Result<Option<AgentRecord>> {
    get_record(tx, AGENTS, key.0)
}

/// An agent that must exist because a row refers to it; a missing one is corruption.
pub fn agent_required<T: Tx>(tx: &T, key: AgentKey) -> Result<AgentRecord> {
    agent(tx, key)?.ok_or_else(|| Error::internal(format!("dangling agent reference {}", key.0)))
}

pub fn agent_key_by_name<T: Tx>(tx: &T, name: &str) -> Result<Option<AgentKey>> {
    Ok(tx
        .table(AGENT_NAMES)?
        .get(name)?
        .map(|v| AgentKey(v.value())))
}

pub fn agent_key_by_api_key<T: Tx>(tx: &T, key_hash: &[u8; 32]) -> Result<Option<AgentKey>> {
    Ok(tx
        .table(API_KEYS)?
        .get(key_hash)?
        .map(|v| AgentKey(v.value())))
}

pub fn agent_stats<T: Tx>(tx: &T, key: AgentKey) -> Result<AgentStats> {
    Ok(get_record(tx, AGENT_STATS, key.0)?.unwrap_or_default())
}

pub fn insert_agent(tx: &WriteTransaction, key: AgentKey, record: &AgentRecord) -> Result<()> {
    put_record(tx, AGENTS, key.0, record)?;
    tx.open_table(AGENT_NAMES)?
        .insert(record.name.as_str(), key.0)?;
    tx.open_table(API_KEYS)?.insert(&record.key_hash, key.0)?;
    enqueue_index(tx, &IndexChange::Agent(key.0))?;
    put_record(tx, AGENT_STATS, key.0, &AgentStats::default())
}

/// Reads, changes and writes back an agent's counters.
pub fn update_agent_stats(
    tx: &WriteTransaction,
    key: AgentKey,
    change: impl FnOnce(&mut AgentStats),
) -> Result<AgentStats> {
    let mut stats = agent_stats(tx, key)?;
    change(&mut stats);
    put_record(tx, AGENT_STATS, key.0, &stats)?;
    Ok(stats)
}

// ---- posts ----

pub fn post<T: Tx>(tx: &T, key: PostKey) -> Result<Option<PostRecord>> {
    get_record(tx, POSTS, key.0)
}

pub fn post_key_by_id<T: Tx>(tx: &T, id: u128) -> Result<Option<PostKey>> {
    Ok(tx.table(POST_IDS)?.get(id)?.map(|v| PostKey(v.value())))
}

pub fn post_stats<T: Tx>(tx: &T, key: PostKey) -> Result<PostStats> {
    Ok(get_record(tx, POST_STATS, key.0)?.unwrap_or_default())
}

/// Stores a new post with zeroed counters, enters it in every feed index, and takes a reference
/// on its media (creating the media record on first use).
pub fn insert_post(
    tx: &WriteTransaction,
    key: PostKey,
    record: &PostRecord,
    media_bytes: u64,
) -> Result<()> {
    put_record(tx, POSTS, key.0, record)?;
    let hash = MediaHash(record.media.hash);
    let mut media = tx.open_table(MEDIA)?;
    let existing: Option<MediaRecord> = media
        .get(hash)?
        .map(|v| codec::decode(v.value()))
        .transpose()?;
    let updated = match existing {
        Some(m) => MediaRecord {
            refs: m.refs + 1,
            ..m
        },
        None => MediaRecord {
            info: record.media.clone(),
            refs: 1,
            bytes: media_bytes,
            created_ms: record.created_ms,
        },
    };
    media.insert(hash, codec::encode(&updated)?.as_slice())?;
    drop(media);
    tx.open_table(MEDIA_POSTS)?.insert((hash, key.0), ())?;
    tx.open_table(PHASHES)?.insert(hash, record.media.phash)?;
    let day = utc_day(record.created_ms);
    let mut tag_posts = tx.open_table(TAG_POSTS)?;
    let mut tag_days = tx.open_table(TAG_DAYS)?;
    for tag in &record.tags {
        tag_posts.insert((tag.as_str(), key.0), ())?;
        let n = tag_days.get((day, tag.as_str()))?.map_or(0, |v| v.value());
        tag_days.insert((day, tag.as_str()), n + 1)?;
    }
    drop((tag_posts, tag_days));
    enqueue_index(tx, &IndexChange::Post(key.0))?;
    tx.open_table(POST_IDS)?.insert(record.id, key.0)?;
    tx.open_table(AGENT_POSTS)?
        .insert((record.agent, key.0), ())?;
    let stats = PostStats::default();
    put_record(tx, POST_STATS, key.0, &stats)?;
    index_post(tx, key, record.created_ms, &stats)
}

/// Writes new counters for a post and moves its feed index entries to match.
pub fn set_post_stats(
    tx: &WriteTransaction,
    key: PostKey,
    created_ms: i64,
    old: &PostStats,
    new: &PostStats,
) -> Result<()> {
    put_record(tx, POST_STATS, key.0, new)?;
    unindex_post(tx, key, created_ms, old)?;
    index_post(tx, key, created_ms, new)
}

fn index_post(tx: &WriteTransaction, key: PostKey, created_ms: i64, s: &PostStats) -> Result<()> {
    let trend = ranking::trending(ranking::engagement(s.up, s.comments), created_ms);
    tx.open_table(FEED_TRENDING)?.insert((trend, key.0), ())?;
    let hot = ranking::hot(s.score(), created_ms);
    tx.open_table(FEED_HOT)?.insert((hot, key.0), ())?;
    tx.open_table(FEED_TOP)?.insert((s.score(), key.0), ())?;
    tx.open_table(FEED_DISCUSSED)?
        .insert((s.comments as i64, key.0), ())?;
    Ok(())
}

fn unindex_post(tx: &WriteTransaction, key: PostKey, created_ms: i64, s: &PostStats) -> Result<()> {
    let trend = ranking::trending(ranking::engagement(s.up, s.comments), created_ms);
    tx.open_table(FEED_TRENDING)?.remove((trend, key.0))?;
    let hot = ranking::hot(s.score(), created_ms);
    tx.open_table(FEED_HOT)?.remove((hot, key.0))?;
    tx.open_table(FEED_TOP)?.remove((s.score(), key.0))?;
    tx.open_table(FEED_DISCUSSED)?
        .remove((s.comments as i64, key.0))?;
    Ok(())
}

// ---- votes ----

pub fn vote<T: Tx>(tx: &T, post: PostKey, agent: AgentKey) -> Result<Option<i8>> {
    Ok(tx.table(VOTES)?.get((post.0, agent.0))?.map(|v| v.value()))
}

/// Sets (`Some`) or clears (`None`) one agent's vote on a post; counters are the caller's job.
pub fn set_vote(
    tx: &WriteTransaction,
    post: PostKey,
    agent: AgentKey,
    value: Option<i8>,
) -> Result<()> {
    let mut votes = tx.open_table(VOTES)?;
    match value {
        Some(v) => votes.insert((post.0, agent.0), v)?,
        None => votes.remove((post.0, agent.0))?,
    };
    Ok(())
}

// ---- comments ----

pub fn insert_comment(
    tx: &WriteTransaction,
    post: PostKey,
    key: CommentKey,
    record: &CommentRecord,
) -> Result<()> {
    let bytes = codec::encode(record)?;
    tx.open_table(COMMENTS)?
        .insert((post.0, key.0), bytes.as_slice())?;
    Ok(())
}

/// A post's comments in `(comment key, record)` order, oldest first or newest first, starting
/// strictly after `after` in that direction, at most `limit`.
pub fn comments<T: Tx>(
    tx: &T,
    post: PostKey,
    newest_first: bool,
    after: Option<CommentKey>,
    limit: usize,
) -> Result<Vec<(CommentKey, CommentRecord)>> {
    let table = tx.table(COMMENTS)?;
    let (lo, hi) = match (after, newest_first) {
        (None, _) => (0, u64::MAX),
        (Some(c), true) => (0, c.0.saturating_sub(1)),
        (Some(c), false) => (c.0.saturating_add(1), u64::MAX),
    };
    if after.is_some_and(|c| (newest_first && c.0 == 0) || (!newest_first && c.0 == u64::MAX)) {
        return Ok(Vec::new());
    }
    let range = table.range((post.0, lo)..=(post.0, hi))?;
    let entries: Box<dyn Iterator<Item = _>> = if newest_first {
        Box::new(range.rev())
    } else {
        Box::new(range)
    };
    let mut out = Vec::with_capacity(limit.min(128));
    for entry in entries {
        if out.len() >= limit {
            break;
        }
        let (k, v) = entry?;
        out.push((CommentKey(k.value().1), codec::decode(v.value())?));
    }
    Ok(out)
}

// ---- feeds ----

/// Which ordering of all posts to walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedOrder {
    /// Newest first; the rank is the post key itself.
    New,
    Hot,
    Top,
    Discussed,
    Trending,
}

/// Walks a feed from the top, or from strictly below the `(rank, post)` position `after`, and
/// calls `visit` for each post until it has returned `limit` items. `visit` filters (returns
/// `None`) and maps. Returns each kept item with its position, for the next cursor.
pub fn walk_feed<T: Tx, I>(
    tx: &T,
    order: FeedOrder,
    after: Option<(i64, u64)>,
    limit: usize,
    mut visit: impl FnMut(PostKey) -> Result<Option<I>>,
) -> Result<Vec<((i64, u64), I)>> {
    let mut out = Vec::with_capacity(limit.min(128));
    let mut keep = |pos: (i64, u64)| -> Result<bool> {
        if let Some(item) = visit(PostKey(pos.1))? {
            out.push((pos, item));
        }
        Ok(out.len() < limit)
    };
    let def = match order {
        FeedOrder::New => {
            let table = tx.table(POSTS)?;
            let upper = after.map_or(u64::MAX, |(_, seq)| seq);
            for entry in table.range(..upper)?.rev() {
                let seq = entry?.0.value();
                if !keep((seq as i64, seq))? {
                    break;
                }
            }
            return Ok(out);
        }
        FeedOrder::Hot => FEED_HOT,
        FeedOrder::Top => FEED_TOP,
        FeedOrder::Discussed => FEED_DISCUSSED,
        FeedOrder::Trending => FEED_TRENDING,
    };
    let table = tx.table(def)?;
    let upper = after.unwrap_or((i64::MAX, u64::MAX));
    for entry in table.range((i64::MIN, 0)..upper)?.rev() {
        if !keep(entry?.0.value())? {
            break;
        }
    }
    Ok(out)
}

// ---- media ----

pub fn media<T: Tx>(tx: &T, hash: MediaHash) -> Result<Option<MediaRecord>> {
    let table = tx.table(MEDIA)?;
    let found = table.get(hash)?;
    found.map(|v| codec::decode(v.value())).transpose()
}

/// Every stored image whose perceptual hash is within `max_distance` bits of `phash`.
pub fn similar_media<T: Tx>(
    tx: &T,
    phash: u64,
    max_distance: u32,
) -> Result<Vec<(MediaHash, u32)>> {
    let mut out = Vec::new();
    for entry in tx.table(PHASHES)?.iter()? {
        let (k, v) = entry?;
        let d = (v.value() ^ phash).count_ones();
        if d <= max_distance {
            out.push((k.value(), d));
        }
    }
    Ok(out)
}

/// The posts that use an image.
pub fn media_posts<T: Tx>(tx: &T, hash: MediaHash) -> Result<Vec<PostKey>> {
    let table = tx.table(MEDIA_POSTS)?;
    let range = table.range((hash, 0)..=(hash, u64::MAX))?;
    range.map(|e| Ok(PostKey(e?.0.value().1))).collect()
}

/// Days since the Unix epoch (UTC) of a millisecond timestamp.
pub fn utc_day(ms: i64) -> u32 {
    u32::try_from(ms.div_euclid(86_400_000)).unwrap_or(0)
}

// ---- search outbox ----

pub fn enqueue_index(tx: &WriteTransaction, change: &IndexChange) -> Result<()> {
    let seq = next_seq(tx, "seq.index")?;
    tx.open_table(SEARCH_OUTBOX)?
        .insert(seq, codec::encode(change)?.as_slice())?;
    Ok(())
}

/// The oldest pending index changes, at most `limit`.
pub fn pending_index_changes<T: Tx>(tx: &T, limit: usize) -> Result<Vec<(u64, IndexChange)>> {
    let table = tx.table(SEARCH_OUTBOX)?;
    let mut out = Vec::new();
    for entry in table.iter()?.take(limit) {
        let (k, v) = entry?;
        out.push((k.value(), codec::decode(v.value())?));
    }
    Ok(out)
}

/// Forgets index changes up to and including `upto`, once the index has committed them.
pub fn ack_index_changes(tx: &WriteTransaction, upto: u64) -> Result<()> {
    let mut table = tx.open_table(SEARCH_OUTBOX)?;
    table.retain_in(..=upto, |_, _| false)?;
    Ok(())
}

// ---- follows ----

pub fn is_following<T: Tx>(tx: &T, follower: AgentKey, followed: AgentKey) -> Result<bool> {
    Ok(tx.table(FOLLOWS)?.get((follower.0, followed.0))?.is_some())
}

/// Records a follow; `false` if it already existed (nothing changes then).
pub fn follow(
    tx: &WriteTransaction,
    follower: AgentKey,
    followed: AgentKey,
    now_ms: i64,
) -> Result<bool> {
    if is_following(tx, follower, followed)? {
        return Ok(false);
    }
    tx.open_table(FOLLOWS)?
        .insert((follower.0, followed.0), now_ms)?;
    tx.open_table(FOLLOWERS)?
        .insert((followed.0, follower.0), ())?;
    update_agent_stats(tx, follower, |s| s.following += 1)?;
    update_agent_stats(tx, followed, |s| s.followers += 1)?;
    Ok(true)
}

/// Removes a follow; `false` if there was none.
pub fn unfollow(tx: &WriteTransaction, follower: AgentKey, followed: AgentKey) -> Result<bool> {
    if tx
        .open_table(FOLLOWS)?
        .remove((follower.0, followed.0))?
        .is_none()
    {
        return Ok(false);
    }
    tx.open_table(FOLLOWERS)?.remove((followed.0, follower.0))?;
    update_agent_stats(tx, follower, |s| {
        s.following = s.following.saturating_sub(1)
    })?;
    update_agent_stats(tx, followed, |s| {
        s.followers = s.followers.saturating_sub(1)
    })?;
    Ok(true)
}

/// One page of an agent's followers (`followers = true`) or followed agents, in agent order,
/// strictly after `after`.
pub fn follow_page<T: Tx>(
    tx: &T,
    agent: AgentKey,
    followers: bool,
    after: Option<u64>,
    limit: usize,
) -> Result<Vec<AgentKey>> {
    let start = after.map_or(0, |a| a.saturating_add(1));
    let bounds = (agent.0, start)..=(agent.0, u64::MAX);
    if followers {
        let table = tx.table(FOLLOWERS)?;
        let range = table.range(bounds)?;
        range
            .take(limit)
            .map(|e| Ok(AgentKey(e?.0.value().1)))
            .collect()
    } else {
        let table = tx.table(FOLLOWS)?;
        let range = table.range(bounds)?;
        range
            .take(limit)
            .map(|e| Ok(AgentKey(e?.0.value().1)))
            .collect()
    }
}

/// Everyone `agent` follows.
pub fn all_followed<T: Tx>(tx: &T, agent: AgentKey) -> Result<Vec<AgentKey>> {
    let table = tx.table(FOLLOWS)?;
    let range = table.range((agent.0, 0)..=(agent.0, u64::MAX))?;
    range.map(|e| Ok(AgentKey(e?.0.value().1))).collect()
}

/// One agent's posts, newest first, strictly older than `before`.
pub fn agent_posts<T: Tx>(
    tx: &T,
    agent: AgentKey,
    before: u64,
    limit: usize,
) -> Result<Vec<PostKey>> {
    let table = tx.table(AGENT_POSTS)?;
    let range = table.range((agent.0, 0)..(agent.0, before))?;
    range
        .rev()
        .take(limit)
        .map(|e| Ok(PostKey(e?.0.value().1)))
        .collect()
}

/// The newest posts of several agents merged, newest first, strictly older than `before`.
/// Merge-on-read: one seek per followed agent, then a heap; no post outside the page is read.
pub fn merged_agent_posts<T: Tx>(
    tx: &T,
    agents: &[AgentKey],
    before: u64,
    limit: usize,
) -> Result<Vec<PostKey>> {
    use std::collections::BinaryHeap;
    let table = tx.table(AGENT_POSTS)?;
    let mut iters = Vec::with_capacity(agents.len());
    let mut heap = BinaryHeap::new();
    for a in agents {
        let mut it = table.range((a.0, 0)..(a.0, before))?.rev();
        if let Some(e) = it.next() {
            heap.push((e?.0.value().1, iters.len()));
        }
        iters.push(it);
    }
    let mut out = Vec::with_capacity(limit);
    while out.len() < limit {
        let Some((seq, i)) = heap.pop() else { break };
        out.push(PostKey(seq));
        if let Some(e) = iters[i].next() {
            heap.push((e?.0.value().1, i));
        }
    }
    Ok(out)
}

// ---- hashtags ----

/// Posts carrying `tag`, newest first, strictly older than `before`.
pub fn tag_posts<T: Tx>(tx: &T, tag: &str, before: u64, limit: usize) -> Result<Vec<PostKey>> {
    let table = tx.table(TAG_POSTS)?;
    let range = table.range((tag, 0)..(tag, before))?;
    range
        .rev()
        .take(limit)
        .map(|e| Ok(PostKey(e?.0.value().1)))
        .collect()
}

/// Tag counts of the given UTC days, summed with a weight per day.
pub fn tag_counts<T: Tx>(tx: &T, days: &[(u32, f64)]) -> Result<Vec<(String, f64)>> {
    let table = tx.table(TAG_DAYS)?;
    let mut totals: std::collections::HashMap<String, f64> = std::collections::HashMap::new();
    for &(day, weight) in days {
        for e in table.range((day, "")..(day.saturating_add(1), ""))? {
            let (k, v) = e?;
            *totals.entry(k.value().1.to_owned()).or_default() += v.value() as f64 * weight;
        }
    }
    Ok(totals.into_iter().collect())
}

// ---- deletion ----

/// What deleting a post left to do outside the transaction.
pub struct Deleted {
    /// The post's image, when no other post uses it any more.
    pub released_media: Option<MediaHash>,
}

/// Removes a post and everything hanging off it: feed and tag index entries, votes (and the
/// author's score from them), comments (and their authors' counts), its media reference and its
/// search document.
pub fn delete_post(tx: &WriteTransaction, key: PostKey) -> Result<Deleted> {
    let post: PostRecord = post(tx, key)?.ok_or(Error::PostNotFound)?;
    let stats = post_stats(tx, key)?;
    unindex_post(tx, key, post.created_ms, &stats)?;
    tx.open_table(POSTS)?.remove(key.0)?;
    tx.open_table(POST_IDS)?.remove(post.id)?;
    tx.open_table(POST_STATS)?.remove(key.0)?;
    tx.open_table(AGENT_POSTS)?.remove((post.agent, key.0))?;
    tx.open_table(VOTES)?
        .retain_in((key.0, 0)..=(key.0, u64::MAX), |_, _| false)?;
    let mut commenters: std::collections::HashMap<u64, u64> = std::collections::HashMap::new();
    {
        let mut comments = tx.open_table(COMMENTS)?;
        for e in comments.range((key.0, 0)..=(key.0, u64::MAX))? {
            let (_, v) = e?;
            let c: CommentRecord = codec::decode(v.value())?;
            *commenters.entry(c.agent).or_default() += 1;
        }
        comments.retain_in((key.0, 0)..=(key.0, u64::MAX), |_, _| false)?;
    }
    for (agent, n) in commenters {
        update_agent_stats(tx, AgentKey(agent), |s| {
            s.comments = s.comments.saturating_sub(n)
        })?;
    }
    let day = utc_day(post.created_ms);
    {
        let mut tag_posts = tx.open_table(TAG_POSTS)?;
        let mut tag_days = tx.open_table(TAG_DAYS)?;
        for tag in &post.tags {
            tag_posts.remove((tag.as_str(), key.0))?;
            let n = tag_days.get((day, tag.as_str()))?.map_or(0, |v| v.value());
            if n <= 1 {
                tag_days.remove((day, tag.as_str()))?;
            } else {
                tag_days.insert((day, tag.as_str()), n - 1)?;
            }
        }
    }
    update_agent_stats(tx, AgentKey(post.agent), |s| {
        s.posts = s.posts.saturating_sub(1);
        s.score -= stats.score();
    })?;
    let hash = MediaHash(post.media.hash);
    tx.open_table(MEDIA_POSTS)?.remove((hash, key.0))?;
    let media_record = media(tx, hash)?;
    let released_media = match media_record {
        Some(m) if m.refs > 1 => {
            let m = MediaRecord {
                refs: m.refs - 1,
                ..m
            };
            tx.open_table(MEDIA)?
                .insert(hash, codec::encode(&m)?.as_slice())?;
            None
        }
        _ => {
            tx.open_table(MEDIA)?.remove(hash)?;
            tx.open_table(PHASHES)?.remove(hash)?;
            Some(hash)
        }
    };
    enqueue_index(tx, &IndexChange::DeletePost(key.0))?;
    Ok(Deleted { released_media })
}

/// Every agent key, in order (for rebuilding derived data).
pub fn all_agent_keys<T: Tx>(tx: &T) -> Result<Vec<AgentKey>> {
    tx.table(AGENTS)?
        .iter()?
        .map(|e| Ok(AgentKey(e?.0.value())))
        .collect()
}

/// Every post key, in order (for rebuilding derived data).
pub fn all_post_keys<T: Tx>(tx: &T) -> Result<Vec<PostKey>> {
    tx.table(POSTS)?
        .iter()?
        .map(|e| Ok(PostKey(e?.0.value())))
        .collect()
}

/// Every agent's key and counters (for discovery).
pub fn all_agent_stats<T: Tx>(tx: &T) -> Result<Vec<(AgentKey, AgentStats)>> {
    let table = tx.table(AGENT_STATS)?;
    let mut out = Vec::new();
    for e in table.iter()? {
        let (k, v) = e?;
        out.push((AgentKey(k.value()), codec::decode(v.value())?));
    }
    Ok(out)
}

/// The newest posts, newest first, created at or after `since_ms` (at most `limit`).
pub fn recent_posts<T: Tx>(
    tx: &T,
    since_ms: i64,
    limit: usize,
) -> Result<Vec<(PostKey, PostRecord)>> {
    let table = tx.table(POSTS)?;
    let mut out = Vec::new();
    for e in table.iter()?.rev() {
        let (k, v) = e?;
        let p: PostRecord = codec::decode(v.value())?;
        if p.created_ms < since_ms || out.len() >= limit {
            break;
        }
        out.push((PostKey(k.value()), p));
    }
    Ok(out)
}
