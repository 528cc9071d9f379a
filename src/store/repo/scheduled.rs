//! Scheduled posts: stored whole (image referenced) but invisible until published.

use super::*;

pub fn insert_scheduled(tx: &WriteTx, s: &ScheduledRecord) -> Result<()> {
    take_media_ref(tx, &s.post.media, s.media_bytes, s.created_ms)?;
    tx.insert(SCHEDULED, s.id, s)?;
    tx.insert(SCHEDULE_DUE, (s.publish_ms, s.id), &())
}

pub fn scheduled<T: Tx>(tx: &T, id: u128) -> Result<Option<ScheduledRecord>> {
    tx.get(SCHEDULED, id)
}

/// Removes a scheduled post and its image reference; returns it and, when that was the image's
/// last reference, the hash whose files may go.
pub fn remove_scheduled(
    tx: &WriteTx,
    id: u128,
) -> Result<Option<(ScheduledRecord, Option<MediaHash>)>> {
    let Some(s) = scheduled(tx, id)? else {
        return Ok(None);
    };
    tx.remove(SCHEDULED, id)?;
    tx.remove(SCHEDULE_DUE, (s.publish_ms, id))?;
    let released = drop_media_ref(tx, MediaHash(s.post.media.hash))?;
    Ok(Some((s, released)))
}

/// The ids of scheduled posts due at `now_ms`, earliest first (at most `limit`).
pub fn due_scheduled<T: Tx>(tx: &T, now_ms: i64, limit: usize) -> Result<Vec<u128>> {
    let mut out = Vec::new();
    if limit == 0 {
        return Ok(out);
    }
    tx.scan_keys(
        SCHEDULE_DUE,
        (i64::MIN, 0)..=(now_ms, u128::MAX),
        false,
        |(_, id)| {
            out.push(id);
            Ok(out.len() < limit)
        },
    )?;
    Ok(out)
}

/// When the earliest queued post is due.
pub fn next_scheduled_ms<T: Tx>(tx: &T) -> Result<Option<i64>> {
    let mut first = None;
    tx.scan_all_keys(SCHEDULE_DUE, false, |(at, _)| {
        first = Some(at);
        Ok(false)
    })?;
    Ok(first)
}

/// Every scheduled post (for listing per agent and for checks), earliest first.
pub fn all_scheduled<T: Tx>(tx: &T) -> Result<Vec<ScheduledRecord>> {
    let mut out: Vec<ScheduledRecord> = Vec::new();
    tx.scan_all(SCHEDULED, false, |_, s| {
        out.push(s);
        Ok(true)
    })?;
    out.sort_by_key(|s| (s.publish_ms, s.id));
    Ok(out)
}
