//! Walking the ranked feed indexes and the hashtag index.

use super::*;

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
    let table = match order {
        FeedOrder::New => {
            let upper = after.map_or(u64::MAX, |(_, seq)| seq);
            tx.scan_keys(POSTS, ..upper, true, |seq| keep((seq as i64, seq)))?;
            return Ok(out);
        }
        FeedOrder::Hot => FEED_HOT,
        FeedOrder::Top => FEED_TOP,
        FeedOrder::Discussed => FEED_DISCUSSED,
        FeedOrder::Trending => FEED_TRENDING,
    };
    let upper = after.unwrap_or((i64::MAX, u64::MAX));
    tx.scan_keys(table, (i64::MIN, 0)..upper, true, keep)?;
    Ok(out)
}

/// Posts carrying `tag`, newest first, strictly older than `before`.
pub fn tag_posts<T: Tx>(tx: &T, tag: &str, before: u64, limit: usize) -> Result<Vec<PostKey>> {
    let mut out = Vec::new();
    if limit == 0 {
        return Ok(out);
    }
    tx.scan_keys(TAG_POSTS, (tag, 0)..(tag, before), true, |(_, post)| {
        out.push(PostKey(post));
        Ok(out.len() < limit)
    })?;
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
