//! Walking the ranked feed indexes and the hashtag index.

use super::*;

/// A window of post seqs, strictly between `above` and `below`, walked from its newest end or,
/// with `oldest_first`, from its oldest (a poller asking for what came after a seq it saw must get
/// the posts right after it, not the newest ones with a gap between).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeqSpan {
    pub above: u64,
    pub below: u64,
    pub oldest_first: bool,
}

impl SeqSpan {
    /// Everything older than `below`, newest first.
    pub fn before(below: u64) -> Self {
        SeqSpan {
            above: 0,
            below,
            oldest_first: false,
        }
    }

    /// The seqs inside the window (seqs start at 1, so `above = 0` bounds nothing).
    pub fn range(&self) -> std::ops::Range<u64> {
        self.above.saturating_add(1)..self.below
    }

    /// The same window inside the rows of one owner (an agent, a tag).
    pub(super) fn within<P: Copy>(&self, owner: P) -> std::ops::Range<(P, u64)> {
        let r = self.range();
        (owner, r.start)..(owner, r.end.max(r.start))
    }
}

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
    let table = match order {
        FeedOrder::New => {
            let span = SeqSpan::before(after.map_or(u64::MAX, |(_, seq)| seq));
            return walk_new(tx, span, limit, visit);
        }
        FeedOrder::Hot => FEED_HOT,
        FeedOrder::Top => FEED_TOP,
        FeedOrder::Discussed => FEED_DISCUSSED,
        FeedOrder::Trending => FEED_TRENDING,
    };
    let mut out = Vec::with_capacity(limit.min(128));
    let keep = |pos: (i64, u64)| -> Result<bool> {
        if let Some(item) = visit(PostKey(pos.1))? {
            out.push((pos, item));
        }
        Ok(out.len() < limit)
    };
    let upper = after.unwrap_or((i64::MAX, u64::MAX));
    tx.scan_keys(table, (i64::MIN, 0)..upper, true, keep)?;
    Ok(out)
}

/// All posts in a seq window, in its walking order, until `visit` kept `limit`.
pub fn walk_new<T: Tx, I>(
    tx: &T,
    span: SeqSpan,
    limit: usize,
    mut visit: impl FnMut(PostKey) -> Result<Option<I>>,
) -> Result<Vec<((i64, u64), I)>> {
    let mut out = Vec::with_capacity(limit.min(128));
    if limit == 0 {
        return Ok(out);
    }
    tx.scan_keys(POSTS, span.range(), !span.oldest_first, |seq| {
        if let Some(item) = visit(PostKey(seq))? {
            out.push(((seq as i64, seq), item));
        }
        Ok(out.len() < limit)
    })?;
    Ok(out)
}

/// Posts carrying `tag` in a seq window, in its walking order.
pub fn tag_posts<T: Tx>(tx: &T, tag: &str, span: SeqSpan, limit: usize) -> Result<Vec<PostKey>> {
    let mut out = Vec::new();
    if limit == 0 {
        return Ok(out);
    }
    tx.scan_keys(
        TAG_POSTS,
        span.within(tag),
        !span.oldest_first,
        |(_, post)| {
            out.push(PostKey(post));
            Ok(out.len() < limit)
        },
    )?;
    Ok(out)
}

/// Tag counts of the given UTC days, summed with a weight per day.
pub fn tag_counts<T: Tx>(tx: &T, days: &[(u32, f64)]) -> Result<Vec<(String, f64)>> {
    let mut totals: std::collections::HashMap<String, f64> = std::collections::HashMap::new();
    for &(day, weight) in days {
        tx.scan(
            TAG_DAYS,
            (day, "")..(day.saturating_add(1), ""),
            false,
            |(_, tag), n| {
                *totals.entry(tag.to_owned()).or_default() += n as f64 * weight;
                Ok(true)
            },
        )?;
    }
    Ok(totals.into_iter().collect())
}
