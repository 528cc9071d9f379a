//! Scheduled posts: stored whole (image referenced) but invisible until published.

use redb::{ReadableTable, WriteTransaction};

use super::*;

pub fn insert_scheduled(tx: &WriteTransaction, s: &ScheduledRecord) -> Result<()> {
    take_media_ref(tx, &s.post.media, s.media_bytes, s.created_ms)?;
    tx.open_table(SCHEDULED)?
        .insert(s.id, codec::encode(s)?.as_slice())?;
    tx.open_table(SCHEDULE_DUE)?
        .insert((s.publish_ms, s.id), ())?;
    Ok(())
}

pub fn scheduled<T: Tx>(tx: &T, id: u128) -> Result<Option<ScheduledRecord>> {
    let table = tx.table(SCHEDULED)?;
    let found = table.get(id)?;
    found.map(|v| codec::decode(v.value())).transpose()
}

/// Removes a scheduled post and its image reference; returns it and, when that was the image's
/// last reference, the hash whose files may go.
pub fn remove_scheduled(
    tx: &WriteTransaction,
    id: u128,
) -> Result<Option<(ScheduledRecord, Option<MediaHash>)>> {
    let Some(s) = scheduled(tx, id)? else {
        return Ok(None);
    };
    tx.open_table(SCHEDULED)?.remove(id)?;
    tx.open_table(SCHEDULE_DUE)?.remove((s.publish_ms, id))?;
    let released = drop_media_ref(tx, MediaHash(s.post.media.hash))?;
    Ok(Some((s, released)))
}

/// The ids of scheduled posts due at `now_ms`, earliest first (at most `limit`).
pub fn due_scheduled<T: Tx>(tx: &T, now_ms: i64, limit: usize) -> Result<Vec<u128>> {
    let table = tx.table(SCHEDULE_DUE)?;
    let range = table.range((i64::MIN, 0)..=(now_ms, u128::MAX))?;
    range.take(limit).map(|e| Ok(e?.0.value().1)).collect()
}

/// When the earliest queued post is due.
pub fn next_scheduled_ms<T: Tx>(tx: &T) -> Result<Option<i64>> {
    Ok(tx.table(SCHEDULE_DUE)?.first()?.map(|(k, _)| k.value().0))
}

/// Every scheduled post (for listing per agent and for checks), earliest first.
pub fn all_scheduled<T: Tx>(tx: &T) -> Result<Vec<ScheduledRecord>> {
    let mut out: Vec<ScheduledRecord> = Vec::new();
    for e in tx.table(SCHEDULED)?.iter()? {
        out.push(codec::decode(e?.1.value())?);
    }
    out.sort_by_key(|s| (s.publish_ms, s.id));
    Ok(out)
}
