//! Stored images: records, users and perceptual hashes.

use redb::{ReadableTable, WriteTransaction};

use super::*;

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

/// Takes one reference on an image (a post or a scheduled post uses it), creating its record on
/// first use.
pub fn take_media_ref(
    tx: &WriteTransaction,
    info: &MediaInfo,
    bytes: u64,
    now_ms: i64,
) -> Result<()> {
    let hash = MediaHash(info.hash);
    let updated = match media(tx, hash)? {
        Some(m) => MediaRecord {
            refs: m.refs + 1,
            ..m
        },
        None => MediaRecord {
            info: info.clone(),
            refs: 1,
            bytes,
            created_ms: now_ms,
        },
    };
    tx.open_table(MEDIA)?
        .insert(hash, codec::encode(&updated)?.as_slice())?;
    tx.open_table(PHASHES)?.insert(hash, info.phash)?;
    Ok(())
}

/// Drops one reference; returns the hash when that was the last (its files may go).
pub fn drop_media_ref(tx: &WriteTransaction, hash: MediaHash) -> Result<Option<MediaHash>> {
    match media(tx, hash)? {
        Some(m) if m.refs > 1 => {
            let m = MediaRecord {
                refs: m.refs - 1,
                ..m
            };
            tx.open_table(MEDIA)?
                .insert(hash, codec::encode(&m)?.as_slice())?;
            Ok(None)
        }
        _ => {
            tx.open_table(MEDIA)?.remove(hash)?;
            tx.open_table(PHASHES)?.remove(hash)?;
            Ok(Some(hash))
        }
    }
}
