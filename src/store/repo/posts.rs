//! Posts, their counters and feed-index entries, votes, comments, and deletion.

use redb::{ReadableTable, WriteTransaction};

use super::*;

pub fn post<T: Tx>(tx: &T, key: PostKey) -> Result<Option<PostRecord>> {
    get_record(tx, POSTS, key.0)
}

pub fn post_key_by_id<T: Tx>(tx: &T, id: u128) -> Result<Option<PostKey>> {
    Ok(tx.table(POST_IDS)?.get(id)?.map(|v| PostKey(v.value())))
}

/// A post by its public id, or `POST_NOT_FOUND`.
pub fn post_by_id<T: Tx>(tx: &T, id: u128) -> Result<(PostKey, PostRecord)> {
    let key = post_key_by_id(tx, id)?.ok_or(Error::PostNotFound)?;
    let post = post(tx, key)?.ok_or(Error::PostNotFound)?;
    Ok((key, post))
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
    take_media_ref(tx, &record.media, media_bytes, record.created_ms)?;
    tx.open_table(MEDIA_POSTS)?.insert((hash, key.0), ())?;
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
    tx.open_table(MEDALS)?
        .retain_in((key.0, 0)..=(key.0, u64::MAX), |_, _| false)?;
    tx.open_table(POST_MEDALS)?.remove(key.0)?;
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
    let released_media = drop_media_ref(tx, hash)?;
    enqueue_index(tx, &IndexChange::DeletePost(key.0))?;
    Ok(Deleted { released_media })
}

/// Every post key, in order (for rebuilding derived data).
pub fn all_post_keys<T: Tx>(tx: &T) -> Result<Vec<PostKey>> {
    tx.table(POSTS)?
        .iter()?
        .map(|e| Ok(PostKey(e?.0.value())))
        .collect()
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

/// A post's medal counts: `[gold, silver, bronze]`.
pub fn medal_counts<T: Tx>(tx: &T, post: PostKey) -> Result<[u64; 3]> {
    Ok(tx
        .table(POST_MEDALS)?
        .get(post.0)?
        .map(|v| {
            let (g, s, b) = v.value();
            [g, s, b]
        })
        .unwrap_or_default())
}

/// The medal (as its index) an agent gave a post.
pub fn medal<T: Tx>(tx: &T, post: PostKey, agent: AgentKey) -> Result<Option<u8>> {
    Ok(tx.table(MEDALS)?.get((post.0, agent.0))?.map(|v| v.value()))
}

/// Sets or clears one agent's medal on a post and keeps the post's counts with it.
pub fn set_medal(
    tx: &WriteTransaction,
    post: PostKey,
    agent: AgentKey,
    medal: Option<u8>,
) -> Result<[u64; 3]> {
    let before = self::medal(tx, post, agent)?;
    let mut counts = medal_counts(tx, post)?;
    if let Some(i) = before.and_then(|m| counts.get_mut(usize::from(m))) {
        *i = i.saturating_sub(1);
    }
    let mut medals = tx.open_table(MEDALS)?;
    match medal {
        Some(m) => {
            medals.insert((post.0, agent.0), m)?;
            if let Some(i) = counts.get_mut(usize::from(m)) {
                *i += 1;
            }
        }
        None => {
            medals.remove((post.0, agent.0))?;
        }
    }
    let mut table = tx.open_table(POST_MEDALS)?;
    if counts == [0; 3] {
        table.remove(post.0)?;
    } else {
        table.insert(post.0, (counts[0], counts[1], counts[2]))?;
    }
    Ok(counts)
}
