//! Posts, their counters and feed-index entries, votes, medals, comments, and deletion.

use super::super::derived::{self, FeedRanks};
use super::*;

pub fn post<T: Tx>(tx: &T, key: PostKey) -> Result<Option<PostRecord>> {
    tx.get(POSTS, key.0)
}

pub fn post_key_by_id<T: Tx>(tx: &T, id: u128) -> Result<Option<PostKey>> {
    Ok(tx.get(POST_IDS, id)?.map(PostKey))
}

/// A post by its public id, or `POST_NOT_FOUND`.
pub fn post_by_id<T: Tx>(tx: &T, id: u128) -> Result<(PostKey, PostRecord)> {
    let key = post_key_by_id(tx, id)?.ok_or(Error::PostNotFound)?;
    let post = post(tx, key)?.ok_or(Error::PostNotFound)?;
    Ok((key, post))
}

/// A post others may see and act on: `POST_NOT_FOUND` also when an admin suspended its author,
/// so a hidden post does not leak through its comments, likes or duplicates, nor take new ones.
pub fn visible_post_by_id<T: Tx>(tx: &T, id: u128) -> Result<(PostKey, PostRecord)> {
    let (key, post) = post_by_id(tx, id)?;
    if suspension(tx, AgentKey(post.agent))?.is_some() {
        return Err(Error::PostNotFound);
    }
    Ok((key, post))
}

pub fn post_stats<T: Tx>(tx: &T, key: PostKey) -> Result<PostStats> {
    Ok(tx.get(POST_STATS, key.0)?.unwrap_or_default())
}

/// Stores a new post with zeroed counters, enters it in every feed index, and takes a reference
/// on its media (creating the media record on first use).
pub fn insert_post(
    tx: &WriteTx,
    key: PostKey,
    record: &PostRecord,
    media_bytes: u64,
) -> Result<()> {
    tx.insert(POSTS, key.0, record)?;
    take_media_ref(tx, &record.media, media_bytes, record.created_ms)?;
    tx.insert(MEDIA_POSTS, derived::media_post_key(key.0, record), &())?;
    let day = derived::utc_day(record.created_ms);
    for tag in &record.tags {
        tx.insert(TAG_POSTS, (tag.as_str(), key.0), &())?;
        let n = tx.get(TAG_DAYS, (day, tag.as_str()))?.unwrap_or(0);
        tx.insert(TAG_DAYS, (day, tag.as_str()), &(n + 1))?;
    }
    enqueue_index(tx, &IndexChange::Post(key.0))?;
    let (id, k) = derived::post_id_row(key.0, record);
    tx.insert(POST_IDS, id, &k)?;
    tx.insert(AGENT_POSTS, derived::agent_post_key(key.0, record), &())?;
    let stats = PostStats::default();
    tx.insert(POST_STATS, key.0, &stats)?;
    index_post(tx, derived::feed_ranks(key.0, record.created_ms, &stats))
}

/// Rewrites a post its author edited (caption, tags, category, NSFW flag): the hashtag index
/// and the day's tag counts follow the tags, and the search index is told. The image, the
/// counters and the feed ranks do not change.
pub fn update_post(tx: &WriteTx, key: PostKey, old: &PostRecord, new: &PostRecord) -> Result<()> {
    tx.insert(POSTS, key.0, new)?;
    let day = derived::utc_day(new.created_ms);
    for tag in old.tags.iter().filter(|t| !new.tags.contains(t)) {
        tx.remove(TAG_POSTS, (tag.as_str(), key.0))?;
        let n = tx.get(TAG_DAYS, (day, tag.as_str()))?.unwrap_or(0);
        if n <= 1 {
            tx.remove(TAG_DAYS, (day, tag.as_str()))?;
        } else {
            tx.insert(TAG_DAYS, (day, tag.as_str()), &(n - 1))?;
        }
    }
    for tag in new.tags.iter().filter(|t| !old.tags.contains(t)) {
        tx.insert(TAG_POSTS, (tag.as_str(), key.0), &())?;
        let n = tx.get(TAG_DAYS, (day, tag.as_str()))?.unwrap_or(0);
        tx.insert(TAG_DAYS, (day, tag.as_str()), &(n + 1))?;
    }
    enqueue_index(tx, &IndexChange::Post(key.0))
}

/// Writes new counters for a post and moves its feed index entries to match.
pub fn set_post_stats(
    tx: &WriteTx,
    key: PostKey,
    created_ms: i64,
    old: &PostStats,
    new: &PostStats,
) -> Result<()> {
    tx.insert(POST_STATS, key.0, new)?;
    unindex_post(tx, derived::feed_ranks(key.0, created_ms, old))?;
    index_post(tx, derived::feed_ranks(key.0, created_ms, new))
}

fn index_post(tx: &WriteTx, r: FeedRanks) -> Result<()> {
    tx.insert(FEED_TRENDING, r.trending, &())?;
    tx.insert(FEED_HOT, r.hot, &())?;
    tx.insert(FEED_TOP, r.top, &())?;
    tx.insert(FEED_DISCUSSED, r.discussed, &())
}

fn unindex_post(tx: &WriteTx, r: FeedRanks) -> Result<()> {
    tx.remove(FEED_TRENDING, r.trending)?;
    tx.remove(FEED_HOT, r.hot)?;
    tx.remove(FEED_TOP, r.top)?;
    tx.remove(FEED_DISCUSSED, r.discussed).map(drop)
}

pub fn vote<T: Tx>(tx: &T, post: PostKey, agent: AgentKey) -> Result<Option<i8>> {
    tx.get(VOTES, (post.0, agent.0))
}

/// Sets (`Some`) or clears (`None`) one agent's vote on a post at `now_ms`, with its time;
/// counters are the caller's job.
pub fn set_vote(
    tx: &WriteTx,
    post: PostKey,
    agent: AgentKey,
    value: Option<i8>,
    now_ms: i64,
) -> Result<()> {
    let key = (post.0, agent.0);
    match value {
        Some(v) => {
            tx.insert(VOTES, key, &v)?;
            tx.insert(VOTE_TIMES, key, &now_ms)
        }
        None => {
            tx.remove(VOTES, key)?;
            tx.remove(VOTE_TIMES, key).map(drop)
        }
    }
}

/// Up to `limit` agents after agent seq `after` whose vote on `post` is `value`.
pub fn voters<T: Tx>(
    tx: &T,
    post: PostKey,
    value: i8,
    after: u64,
    limit: usize,
) -> Result<Vec<AgentKey>> {
    let mut out = Vec::new();
    let from = after.saturating_add(1);
    tx.scan(
        VOTES,
        (post.0, from)..=(post.0, u64::MAX),
        false,
        |(_, agent), v| {
            if v == value {
                out.push(AgentKey(agent));
            }
            Ok(out.len() < limit)
        },
    )?;
    Ok(out)
}

/// Every vote an agent cast, as `(post, value)`: there is no index by voter, so this scans.
pub fn votes_by<T: Tx>(tx: &T, agent: AgentKey) -> Result<Vec<(PostKey, i8)>> {
    let mut out = Vec::new();
    tx.scan_all(VOTES, false, |(post, voter), v| {
        if voter == agent.0 {
            out.push((PostKey(post), v));
        }
        Ok(true)
    })?;
    Ok(out)
}

pub fn insert_comment(
    tx: &WriteTx,
    post: PostKey,
    key: CommentKey,
    record: &CommentRecord,
) -> Result<()> {
    tx.insert(COMMENTS, (post.0, key.0), record)?;
    tx.insert(COMMENT_IDS, record.id, &(post.0, key.0))
}

/// Empties a comment in place and marks it deleted, keeping its id and place in its thread;
/// counters are the caller's job.
pub fn tombstone_comment(tx: &WriteTx, post: PostKey, key: CommentKey) -> Result<()> {
    if let Some(c) = tx.get(COMMENTS, (post.0, key.0))? {
        let tombstone = CommentRecord {
            content: String::new(),
            mentions: Vec::new(),
            deleted: true,
            ..c
        };
        tx.insert(COMMENTS, (post.0, key.0), &tombstone)?;
    }
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
    let (lo, hi) = match (after, newest_first) {
        (None, _) => (0, u64::MAX),
        (Some(c), true) => (0, c.0.saturating_sub(1)),
        (Some(c), false) => (c.0.saturating_add(1), u64::MAX),
    };
    let mut out = Vec::with_capacity(limit.min(128));
    let exhausted =
        after.is_some_and(|c| (newest_first && c.0 == 0) || (!newest_first && c.0 == u64::MAX));
    if exhausted || limit == 0 {
        return Ok(out);
    }
    tx.scan(
        COMMENTS,
        (post.0, lo)..=(post.0, hi),
        newest_first,
        |(_, c), record| {
            out.push((CommentKey(c), record));
            Ok(out.len() < limit)
        },
    )?;
    Ok(out)
}

/// Every comment an agent wrote, as `(post, comment)`: there is no index by author, so this
/// scans.
pub fn comments_by<T: Tx>(tx: &T, agent: AgentKey) -> Result<Vec<(PostKey, CommentKey)>> {
    let mut out = Vec::new();
    tx.scan_all(COMMENTS, false, |(post, c), record| {
        if record.agent == agent.0 && !record.deleted {
            out.push((PostKey(post), CommentKey(c)));
        }
        Ok(true)
    })?;
    Ok(out)
}

/// What deleting a post left to do outside the transaction.
pub struct Deleted {
    /// The post's image, when no other post uses it any more.
    pub released_media: Option<MediaHash>,
}

/// Removes a post and everything hanging off it: feed and tag index entries, votes (and the
/// author's score from them), comments (and their authors' counts), its media reference and its
/// search document.
pub fn delete_post(tx: &WriteTx, key: PostKey) -> Result<Deleted> {
    let post: PostRecord = post(tx, key)?.ok_or(Error::PostNotFound)?;
    let stats = post_stats(tx, key)?;
    unindex_post(tx, derived::feed_ranks(key.0, post.created_ms, &stats))?;
    tx.remove(POSTS, key.0)?;
    tx.remove(POST_IDS, post.id)?;
    tx.remove(POST_ORIGINS, post.id)?;
    tx.remove(POST_STATS, key.0)?;
    tx.remove(AGENT_POSTS, derived::agent_post_key(key.0, &post))?;
    let all = (key.0, 0)..=(key.0, u64::MAX);
    tx.remove_range(VOTES, all.clone())?;
    tx.remove_range(VOTE_TIMES, all.clone())?;
    tx.remove_range(MEDALS, all.clone())?;
    tx.remove(POST_MEDALS, key.0)?;
    let mut commenters: std::collections::HashMap<u64, u64> = std::collections::HashMap::new();
    let mut comment_ids = Vec::new();
    tx.scan(COMMENTS, all.clone(), false, |_, c| {
        comment_ids.push(c.id);
        // A deleted comment was taken off its author's count when it was deleted.
        if !c.deleted {
            *commenters.entry(c.agent).or_default() += 1;
        }
        Ok(true)
    })?;
    for id in comment_ids {
        tx.remove(COMMENT_IDS, id)?;
    }
    tx.remove_range(COMMENTS, all)?;
    for (agent, n) in commenters {
        update_agent_stats(tx, AgentKey(agent), |s| {
            s.comments = s.comments.saturating_sub(n)
        })?;
    }
    let day = derived::utc_day(post.created_ms);
    for tag in &post.tags {
        tx.remove(TAG_POSTS, (tag.as_str(), key.0))?;
        let n = tx.get(TAG_DAYS, (day, tag.as_str()))?.unwrap_or(0);
        if n <= 1 {
            tx.remove(TAG_DAYS, (day, tag.as_str()))?;
        } else {
            tx.insert(TAG_DAYS, (day, tag.as_str()), &(n - 1))?;
        }
    }
    update_agent_stats(tx, AgentKey(post.agent), |s| {
        s.posts = s.posts.saturating_sub(1);
        s.received(&stats, &PostStats::default());
    })?;
    tx.remove(MEDIA_POSTS, derived::media_post_key(key.0, &post))?;
    let released_media = drop_media_ref(tx, MediaHash(post.media.hash))?;
    enqueue_index(tx, &IndexChange::DeletePost(key.0))?;
    Ok(Deleted { released_media })
}

/// Every post key, in order (for rebuilding derived data).
pub fn all_post_keys<T: Tx>(tx: &T) -> Result<Vec<PostKey>> {
    let mut out = Vec::new();
    tx.scan_all_keys(POSTS, false, |k| {
        out.push(PostKey(k));
        Ok(true)
    })?;
    Ok(out)
}

/// One agent's post keys, oldest first.
pub fn all_agent_posts<T: Tx>(tx: &T, agent: AgentKey) -> Result<Vec<PostKey>> {
    agent_posts(tx, agent, SeqSpan::before(u64::MAX), usize::MAX).map(|mut v| {
        v.reverse();
        v
    })
}

/// The newest posts, newest first, created at or after `since_ms` (at most `limit`).
pub fn recent_posts<T: Tx>(
    tx: &T,
    since_ms: i64,
    limit: usize,
) -> Result<Vec<(PostKey, PostRecord)>> {
    let mut out = Vec::new();
    tx.scan_all(POSTS, true, |k, p| {
        if p.created_ms < since_ms || out.len() >= limit {
            return Ok(false);
        }
        out.push((PostKey(k), p));
        Ok(true)
    })?;
    Ok(out)
}

/// A post's medal counts: `[gold, silver, bronze]`.
pub fn medal_counts<T: Tx>(tx: &T, post: PostKey) -> Result<[u64; 3]> {
    Ok(tx
        .get(POST_MEDALS, post.0)?
        .map(|(g, s, b)| [g, s, b])
        .unwrap_or_default())
}

/// The medal (as its index) an agent gave a post.
pub fn medal<T: Tx>(tx: &T, post: PostKey, agent: AgentKey) -> Result<Option<u8>> {
    tx.get(MEDALS, (post.0, agent.0))
}

/// Every post an agent gave a medal to: there is no index by giver, so this scans.
pub fn medals_by<T: Tx>(tx: &T, agent: AgentKey) -> Result<Vec<PostKey>> {
    let mut out = Vec::new();
    tx.scan_all_keys(MEDALS, false, |(post, giver)| {
        if giver == agent.0 {
            out.push(PostKey(post));
        }
        Ok(true)
    })?;
    Ok(out)
}

/// Sets or clears one agent's medal on a post and keeps the post's counts with it.
pub fn set_medal(
    tx: &WriteTx,
    post: PostKey,
    agent: AgentKey,
    medal: Option<u8>,
) -> Result<[u64; 3]> {
    let before = self::medal(tx, post, agent)?;
    let mut counts = medal_counts(tx, post)?;
    if let Some(i) = before.and_then(|m| counts.get_mut(usize::from(m))) {
        *i = i.saturating_sub(1);
    }
    match medal {
        Some(m) => {
            tx.insert(MEDALS, (post.0, agent.0), &m)?;
            if let Some(i) = counts.get_mut(usize::from(m)) {
                *i += 1;
            }
        }
        None => {
            tx.remove(MEDALS, (post.0, agent.0))?;
        }
    }
    if counts == [0; 3] {
        tx.remove(POST_MEDALS, post.0)?;
    } else {
        tx.insert(POST_MEDALS, post.0, &(counts[0], counts[1], counts[2]))?;
    }
    Ok(counts)
}
