//! Stored images: records, users and perceptual hashes.

use redb::ReadableTable;

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
