//! Stored images: records, users and perceptual hashes.

use super::*;

pub fn media<T: Tx>(tx: &T, hash: MediaHash) -> Result<Option<MediaRecord>> {
    tx.get(MEDIA, hash)
}

/// Every stored image record, in hash order.
pub fn all_media<T: Tx>(tx: &T) -> Result<Vec<(MediaHash, MediaRecord)>> {
    let mut out = Vec::new();
    tx.scan_all(MEDIA, false, |k, m| {
        out.push((k, m));
        Ok(true)
    })?;
    Ok(out)
}

/// Every image some post or scheduled post uses.
pub fn referenced_media<T: Tx>(tx: &T) -> Result<Vec<MediaHash>> {
    let mut out = Vec::new();
    tx.scan_all(MEDIA, false, |k, m| {
        if m.refs > 0 {
            out.push(k);
        }
        Ok(true)
    })?;
    Ok(out)
}

/// Every stored image whose perceptual hash is within `max_distance` bits of `phash`.
pub fn similar_media<T: Tx>(
    tx: &T,
    phash: u64,
    max_distance: u32,
) -> Result<Vec<(MediaHash, u32)>> {
    let mut out = Vec::new();
    tx.scan_all(PHASHES, false, |k, v| {
        let d = (v ^ phash).count_ones();
        if d <= max_distance {
            out.push((k, d));
        }
        Ok(true)
    })?;
    Ok(out)
}

/// The posts that use an image.
pub fn media_posts<T: Tx>(tx: &T, hash: MediaHash) -> Result<Vec<PostKey>> {
    let mut out = Vec::new();
    tx.scan_keys(
        MEDIA_POSTS,
        (hash, 0)..=(hash, u64::MAX),
        false,
        |(_, p)| {
            out.push(PostKey(p));
            Ok(true)
        },
    )?;
    Ok(out)
}

/// Takes one reference on an image (a post or a scheduled post uses it), creating its record on
/// first use.
pub fn take_media_ref(tx: &WriteTx, info: &MediaInfo, bytes: u64, now_ms: i64) -> Result<()> {
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
    put_media(tx, hash, &updated)
}

/// Writes an image record and its perceptual-hash copy.
pub fn put_media(tx: &WriteTx, hash: MediaHash, m: &MediaRecord) -> Result<()> {
    tx.insert(MEDIA, hash, m)?;
    tx.insert(PHASHES, hash, &m.info.phash)
}

/// Forgets an image record and its perceptual-hash copy.
pub fn remove_media(tx: &WriteTx, hash: MediaHash) -> Result<()> {
    tx.remove(MEDIA, hash)?;
    tx.remove(MEDIA_QUALITY, hash)?;
    tx.remove(PHASHES, hash).map(drop)
}

/// Drops one reference; returns the hash when that was the last (its files may go).
pub fn drop_media_ref(tx: &WriteTx, hash: MediaHash) -> Result<Option<MediaHash>> {
    match media(tx, hash)? {
        Some(m) if m.refs > 1 => {
            let m = MediaRecord {
                refs: m.refs - 1,
                ..m
            };
            tx.insert(MEDIA, hash, &m)?;
            Ok(None)
        }
        _ => {
            remove_media(tx, hash)?;
            Ok(Some(hash))
        }
    }
}

pub fn media_quality<T: Tx>(
    tx: &T,
    hash: MediaHash,
) -> Result<Option<crate::media::quality::Quality>> {
    tx.get(MEDIA_QUALITY, hash)
}

/// Records an image's quality unless it is known already.
pub fn put_media_quality(
    tx: &WriteTx,
    hash: MediaHash,
    q: &crate::media::quality::Quality,
) -> Result<()> {
    if tx.get(MEDIA_QUALITY, hash)?.is_none() {
        tx.insert(MEDIA_QUALITY, hash, q)?;
    }
    Ok(())
}

pub fn post_origin<T: Tx>(tx: &T, post_id: u128) -> Result<Option<PostOrigin>> {
    tx.get(POST_ORIGINS, post_id)
}

pub fn put_post_origin(tx: &WriteTx, post_id: u128, o: &PostOrigin) -> Result<()> {
    tx.insert(POST_ORIGINS, post_id, o)
}

/// Forgets the origin of a post that will never be published (a cancelled scheduled post).
pub fn remove_post_origin(tx: &WriteTx, post_id: u128) -> Result<()> {
    tx.remove(POST_ORIGINS, post_id).map(drop)
}
