//! Hot image variants in memory: `thumb`, `feed` and `full` are small (WebP, at most 2048 px) and
//! read far more often than written, so they are answered from RAM, in one buffer, without a
//! disk read or a database lookup. The cache is bounded by bytes (`media.cache_bytes`) and evicts
//! by recency and frequency (S3-FIFO, from `quick_cache`).
//!
//! A deleted image must 404 at once: releasing an image (its last post gone) evicts it, and a
//! fill that raced with any release is not kept, so no stale entry outlives the delete.

use bytes::Bytes;
use quick_cache::Weighter;

use super::files::VariantName;
use crate::domain::MediaHash;
pub use crate::fenced::Epoch;
use crate::fenced::Fenced;

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
    cache: Option<Fenced<(MediaHash, VariantName), Cached, ByLength>>,
    /// The largest variant kept, so one big file cannot flush the rest.
    max_item: usize,
}

impl HotVariants {
    /// A cache of at most `bytes` (none when 0).
    pub fn new(bytes: usize) -> Self {
        // Items average a few tens of kilobytes (thumbs are ~5 KB, feed images ~100 KB).
        let items = (bytes / (32 * 1024)).max(16);
        HotVariants {
            cache: (bytes > 0).then(|| Fenced::with_weighter(items, bytes as u64, ByLength)),
            max_item: bytes / 16,
        }
    }

    pub fn get(&self, hash: MediaHash, variant: VariantName) -> Option<Cached> {
        self.cache.as_ref()?.get(&(hash, variant))
    }

    /// Taken before the database says the image exists.
    pub fn epoch(&self) -> Epoch {
        self.cache.as_ref().map_or(Epoch::NONE, Fenced::epoch)
    }

    /// Keeps `bytes` unless a release happened since `since` (the image may be gone now).
    pub fn fill(&self, since: Epoch, hash: MediaHash, variant: VariantName, bytes: &Cached) {
        if let Some(cache) = &self.cache
            && bytes.0.len() <= self.max_item
        {
            cache.fill(since, (hash, variant), bytes.clone());
        }
    }

    /// Forgets every variant of an image that is no longer used.
    pub fn release(&self, hash: MediaHash) {
        if let Some(cache) = &self.cache {
            let variants = [VariantName::Thumb, VariantName::Feed, VariantName::Full];
            cache.invalidate(variants.map(|v| (hash, v)));
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
