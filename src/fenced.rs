//! A bounded cache (S3-FIFO, from `quick_cache`) whose invalidations a racing fill cannot undo.
//!
//! A reader misses, reads the truth (the database), then fills the cache. If a change and its
//! invalidation land between the read and the fill, a plain cache would keep the stale value
//! after the change was acknowledged. Here every invalidation moves an epoch; a fill carries the
//! epoch taken before its read and is dropped (or undone) when the epoch moved.

use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};

use quick_cache::sync::Cache;
use quick_cache::{UnitWeighter, Weighter};

/// The epoch a fill started in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Epoch(u64);

impl Epoch {
    /// The epoch of no cache at all (a fill into nothing keeps nothing).
    pub const NONE: Epoch = Epoch(u64::MAX);
}

pub struct Fenced<K, V, W = UnitWeighter> {
    cache: Cache<K, V, W>,
    epoch: AtomicU64,
}

impl<K: Eq + Hash + Clone, V: Clone> Fenced<K, V> {
    /// At most `items` entries.
    pub fn new(items: usize) -> Self {
        Fenced {
            cache: Cache::new(items),
            epoch: AtomicU64::new(0),
        }
    }
}

impl<K: Eq + Hash + Clone, V: Clone, W: Weighter<K, V> + Clone> Fenced<K, V, W> {
    /// At most `weight` in total, as `weighter` weighs entries (about `items` of them).
    pub fn with_weighter(items: usize, weight: u64, weighter: W) -> Self {
        Fenced {
            cache: Cache::with_weighter(items, weight, weighter),
            epoch: AtomicU64::new(0),
        }
    }

    pub fn get(&self, key: &K) -> Option<V> {
        self.cache.get(key)
    }

    /// Taken before reading the truth a fill will carry.
    pub fn epoch(&self) -> Epoch {
        Epoch(self.epoch.load(Ordering::SeqCst))
    }

    /// Keeps `value` unless an invalidation happened since `since`.
    pub fn fill(&self, since: Epoch, key: K, value: V) {
        if self.epoch() != since {
            return;
        }
        self.cache.insert(key.clone(), value);
        // An invalidation may have slipped in between the check and the insert: undo the fill.
        if self.epoch() != since {
            self.cache.remove(&key);
        }
    }

    /// Forgets `keys`; fills that started before are dropped.
    pub fn invalidate(&self, keys: impl IntoIterator<Item = K>) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        for k in keys {
            self.cache.remove(&k);
        }
    }

    /// Forgets everything; fills that started before are dropped.
    pub fn invalidate_all(&self) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.cache.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fill_that_raced_with_an_invalidation_is_not_kept() {
        let c: Fenced<u32, &str> = Fenced::new(16);
        let before = c.epoch();
        c.invalidate([99]);
        c.fill(before, 1, "stale");
        assert_eq!(c.get(&1), None);
        c.fill(c.epoch(), 1, "fresh");
        assert_eq!(c.get(&1), Some("fresh"));
        c.invalidate_all();
        assert_eq!(c.get(&1), None);
    }
}
