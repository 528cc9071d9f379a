//! The core every API surface shares: agents, posts, votes, comments, feeds and limits. Surfaces
//! translate their own spellings onto these functions; every rule lives here, once.

pub mod agents;
pub mod comments;
pub mod cursor;
pub mod discovery;
pub mod limits;
pub mod media;
pub mod moderation;
pub mod posts;
pub mod reactions;
pub mod scheduled;
pub mod social;
pub mod views;
pub mod webhooks;

use std::collections::HashMap;
use std::sync::Arc;

use crate::error::Result;
use crate::media::Media;
use crate::metrics::Metrics;
use crate::search::Search;
use crate::store::records::AgentRecord;
use crate::store::{AgentKey, Store, Tx, repo};
pub use limits::{Caller, Limits};

/// The shared services. One per server, behind an `Arc`.
pub struct Core {
    pub store: Store,
    pub media: Media,
    pub search: Arc<Search>,
    pub limits: Limits,
    /// Base of absolute URLs (`public_url`, or `http://<bound address>`), no trailing slash.
    pub base_url: String,
    pub metrics: Arc<Metrics>,
    /// Wakes the scheduler when a post is queued.
    pub scheduler: tokio::sync::Notify,
    pub deliverer: webhooks::Deliverer,
}

/// An authenticated agent, as resolved from its API key.
#[derive(Debug, Clone)]
pub struct Agent {
    pub key: AgentKey,
    pub name: String,
}

impl Core {
    pub fn new(
        store: Store,
        media: Media,
        search: Arc<Search>,
        limits: Limits,
        base_url: String,
        metrics: Arc<Metrics>,
        deliverer: webhooks::Deliverer,
    ) -> Self {
        Core {
            store,
            media,
            search,
            limits,
            base_url,
            metrics,
            scheduler: tokio::sync::Notify::new(),
            deliverer,
        }
    }
}

/// Authors looked up once per page, however many of their posts or comments it holds.
struct AuthorCache(HashMap<u64, (AgentRecord, bool)>);

impl AuthorCache {
    fn new() -> Self {
        AuthorCache(HashMap::new())
    }

    fn get<T: Tx>(&mut self, tx: &T, key: AgentKey) -> Result<&AgentRecord> {
        Ok(&self.entry(tx, key)?.0)
    }

    /// The author, or `None` when an admin has suspended them (their posts are hidden).
    fn visible<T: Tx>(&mut self, tx: &T, key: AgentKey) -> Result<Option<&AgentRecord>> {
        let (record, suspended) = self.entry(tx, key)?;
        Ok((!*suspended).then_some(record))
    }

    fn entry<T: Tx>(&mut self, tx: &T, key: AgentKey) -> Result<&(AgentRecord, bool)> {
        use std::collections::hash_map::Entry;
        match self.0.entry(key.0) {
            Entry::Occupied(e) => Ok(e.into_mut()),
            Entry::Vacant(e) => {
                let record = repo::agent_required(tx, key)?;
                let suspended = repo::suspension(tx, key)?.is_some();
                Ok(e.insert((record, suspended)))
            }
        }
    }
}

/// Sleeps until `next_ms` (Unix milliseconds) or until `wake` is notified, and at most 30 s
/// (the background tasks' idle check). Returns at once when `next_ms` has passed.
async fn sleep_until(next_ms: Option<i64>, wake: &tokio::sync::Notify) {
    const IDLE: std::time::Duration = std::time::Duration::from_secs(30);
    let wait = next_ms.map_or(IDLE, |at| {
        let left = u64::try_from(at - views::Timestamp::now().0).unwrap_or(0);
        std::time::Duration::from_millis(left).min(IDLE)
    });
    if !wait.is_zero() {
        let _ = tokio::time::timeout(wait, wake.notified()).await;
    }
}

/// Clamps a requested page size to 1..=max, with a default when absent.
pub fn page_limit(requested: Option<u32>, default: u32, max: u32) -> Result<usize> {
    match requested {
        None => Ok(default as usize),
        Some(n) if (1..=max).contains(&n) => Ok(n as usize),
        Some(_) => Err(crate::error::Error::validation(
            "limit",
            format!("must be between 1 and {max}"),
        )),
    }
}
