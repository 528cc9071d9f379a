//! Hot image variants in memory: `thumb`, `feed` and `full` are small (WebP, at most 2048 px) and
//! read far more often than written, so they are answered from RAM, in one buffer, without a
//! disk read or a database lookup. The cache is bounded by bytes (`media.cache_bytes`) and evicts
//! by recency and frequency (S3-FIFO, from `quick_cache`).
//!
//! A deleted image must 404 at once: releasing an image (its last post gone) evicts it, and a
//! fill that raced with any release is not kept, so no stale entry outlives the delete.

use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use quick_cache::Weighter;
use quick_cache::sync::Cache;

use super::files::VariantName;
use crate::domain::MediaHash;

/// One variant's bytes.
#[derive(Clone)]
pub struct Cached(pub Bytes);

#[derive(Clone)]
struct ByLength;

impl Weighter<(MediaHash, VariantName), Cached> for ByLength {
    fn weight(&self, _: &(MediaHash, VariantName), v: &Cached) -> u64 {
        v.0.len() as u64
    }
}

/// The hot variants of one server.
pub struct HotVariants {
    cache: Option<Cache<(MediaHash, VariantName), Cached, ByLength>>,
    /// Bumped by every release; a fill that started before one is dropped.
    releases: AtomicU64,
    /// The largest variant kept, so one big file cannot flush the rest.
    max_item: usize,
}

/// Where a fill started, to tell whether a release came in between.
#[derive(Debug, Clone, Copy)]
pub struct Epoch(u64);

impl HotVariants {
    /// A cache of at most `bytes` (none when 0).
    pub fn new(bytes: usize) -> Self {
        // Items average a few tens of kilobytes (thumbs are ~5 KB, feed images ~100 KB).
        let items = (bytes / (32 * 1024)).max(16);
        HotVariants {
            cache: (bytes > 0).then(|| Cache::with_weighter(items, bytes as u64, ByLength)),
            releases: AtomicU64::new(0),
            max_item: bytes / 16,
        }
    }

    pub fn get(&self, hash: MediaHash, variant: VariantName) -> Option<Cached> {
        self.cache.as_ref()?.get(&(hash, variant))
    }

    /// Taken before the database says the image exists.
    pub fn epoch(&self) -> Epoch {
        Epoch(self.releases.load(Ordering::SeqCst))
    }

    /// Keeps `bytes` unless a release happened since `epoch` (the image may be gone now).
    pub fn fill(&self, since: Epoch, hash: MediaHash, variant: VariantName, bytes: &Cached) {
        let Some(cache) = &self.cache else { return };
        if bytes.0.len() > self.max_item || self.releases.load(Ordering::SeqCst) != since.0 {
            return;
        }
        cache.insert((hash, variant), bytes.clone());
        // A release may have slipped in between the check and the insert: undo the fill.
        if self.releases.load(Ordering::SeqCst) != since.0 {
            cache.remove(&(hash, variant));
        }
    }

    /// Forgets every variant of an image that is no longer used.
    pub fn release(&self, hash: MediaHash) {
        self.releases.fetch_add(1, Ordering::SeqCst);
        if let Some(cache) = &self.cache {
            for v in [VariantName::Thumb, VariantName::Feed, VariantName::Full] {
                cache.remove(&(hash, v));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fill_that_raced_with_a_release_is_not_kept() {
        let hot = HotVariants::new(1 << 20);
        let h = MediaHash::of(b"img");
        let bytes = Cached(Bytes::from_static(b"webp"));
        let before = hot.epoch();
        hot.release(MediaHash::of(b"another image"));
        hot.fill(before, h, VariantName::Feed, &bytes);
        assert!(hot.get(h, VariantName::Feed).is_none());
        hot.fill(hot.epoch(), h, VariantName::Feed, &bytes);
        assert!(hot.get(h, VariantName::Feed).is_some());
        hot.release(h);
        assert!(
            hot.get(h, VariantName::Feed).is_none(),
            "a release evicts at once"
        );
    }

    #[test]
    fn a_zero_budget_keeps_nothing() {
        let hot = HotVariants::new(0);
        let h = MediaHash::of(b"img");
        hot.fill(
            hot.epoch(),
            h,
            VariantName::Thumb,
            &Cached(Bytes::from_static(b"x")),
        );
        assert!(hot.get(h, VariantName::Thumb).is_none());
    }
}
