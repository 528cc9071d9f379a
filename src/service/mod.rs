//! The services every API surface shares: agents, posts, feeds, reactions, comments, the social
//! graph, search, media, webhooks, scheduled posts, moderation and limits. Surfaces translate
//! their own spellings onto these methods; every rule lives here, once.

pub mod agents;
pub mod analytics;
pub mod codes;
pub mod comments;
pub mod creative;
pub mod cursor;
pub mod discovery;
pub mod generation;
pub mod limits;
pub mod media;
pub mod moderation;
pub mod notifications;
pub mod posts;
pub mod provenance;
mod publish;
pub mod reactions;
pub mod scheduled;
pub mod social;
pub mod tools;
pub mod views;
pub mod webhooks;

use crate::service::views::Links;
use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::Notify;

use crate::error::Result;
use crate::media::Media;
use crate::metrics::Metrics;
use crate::search::Search;
pub use crate::store::AgentKey;
use crate::store::records::AgentRecord;
use crate::store::{Store, Tx, repo};
pub use limits::{Caller, Limits};

/// Every service of one server. Each owns what it needs (a store handle, the media pipeline, the
/// search index, the limits…) in private fields; surfaces and admin commands call their methods.
pub struct Services {
    pub agents: agents::Agents,
    pub analytics: analytics::Analytics,
    pub generation: generation::Generation,
    pub creative: creative::Creative,
    pub provenance: provenance::Provenance,
    pub posts: posts::Posts,
    pub feeds: discovery::Feeds,
    pub reactions: reactions::Reactions,
    pub comments: comments::Comments,
    pub social: social::Social,
    pub tools: tools::Tools,
    pub search: discovery::Searching,
    pub media: media::Images,
    pub webhooks: webhooks::Webhooks,
    pub scheduled: scheduled::Scheduled,
    pub moderation: moderation::Moderation,
    pub notifications: notifications::Notifications,
    pub limits: Arc<Limits>,
    /// Base of absolute URLs (`public_url`, or `http://<bound address>`), no trailing slash.
    pub base_url: Arc<Links>,
    pub metrics: Arc<Metrics>,
    store: Store,
}

/// What the services are built from.
pub struct Parts {
    pub store: Store,
    pub media: Arc<Media>,
    pub search: Arc<Search>,
    pub limits: Limits,
    pub base_url: String,
    pub metrics: Arc<Metrics>,
    pub deliverer: webhooks::Deliverer,
    pub codes: codes::Codes,
    /// The data dir's key, which seals agents' provider keys.
    pub data_key: [u8; 32],
    pub generation: crate::config::Generation,
    /// The HTTP client image providers are called with.
    pub generation_client: reqwest::Client,
    pub analytics: crate::config::Analytics,
    pub notifications: crate::config::Notifications,
}

/// Wakes the background tasks when there is new work for them.
#[derive(Clone, Default)]
pub struct Wakes {
    /// A post was queued for later.
    pub scheduler: Arc<Notify>,
    /// A webhook event was queued.
    pub deliverer: Arc<Notify>,
}

impl Services {
    pub fn new(p: Parts) -> Self {
        let wakes = Wakes::default();
        let limits = Arc::new(p.limits);
        let base = Arc::new(views::Links::new(p.base_url, p.media.clone()));
        let store = p.store;
        // Holds the keys of the most active agents; each entry is a few dozen bytes.
        let keys = Arc::new(agents::KeyCache::new(16 * 1024));
        let notifier = Arc::new(notifications::Notifier::new(&p.notifications, base.clone()));
        Services {
            analytics: analytics::Analytics::new(store.clone(), p.analytics, p.metrics.clone()),
            agents: agents::Agents::new(agents::AgentsParts {
                store: store.clone(),
                base: base.clone(),
                media: p.media.clone(),
                search: p.search.clone(),
                limits: limits.clone(),
                keys: keys.clone(),
                codes: Arc::new(p.codes),
            }),
            posts: posts::Posts::new(posts::PostsParts {
                store: store.clone(),
                media: p.media.clone(),
                search: p.search.clone(),
                limits: limits.clone(),
                metrics: p.metrics.clone(),
                base: base.clone(),
                wakes: wakes.clone(),
                notifier: notifier.clone(),
                builtin: p.generation.builtin,
                generation_keep_secs: p.generation.keep_secs,
            }),
            feeds: discovery::Feeds::new(store.clone(), base.clone()),
            reactions: reactions::Reactions::new(
                store.clone(),
                base.clone(),
                p.metrics.clone(),
                wakes.clone(),
                limits.clone(),
                notifier.clone(),
            ),
            comments: comments::Comments::new(
                store.clone(),
                base.clone(),
                limits.clone(),
                p.metrics.clone(),
                wakes.clone(),
                notifier.clone(),
            ),
            social: social::Social::new(
                store.clone(),
                base.clone(),
                limits.clone(),
                notifier.clone(),
            ),
            notifications: notifications::Notifications::new(
                store.clone(),
                base.clone(),
                &p.notifications,
            ),
            tools: tools::Tools::new(store.clone(), base.clone(), limits.clone()),
            creative: creative::Creative::new(store.clone()),
            provenance: provenance::Provenance::new(
                store.clone(),
                p.media.clone(),
                base.clone(),
                &p.data_key,
            ),
            generation: generation::Generation::new(generation::GenerationParts {
                store: store.clone(),
                data_key: p.data_key,
                limits: limits.clone(),
                media: p.media.clone(),
                base: base.clone(),
                cfg: p.generation,
                client: p.generation_client,
            }),
            search: discovery::Searching::new(store.clone(), p.search.clone(), base.clone()),
            media: media::Images::new(store.clone(), p.media.clone()),
            webhooks: webhooks::Webhooks::new(store.clone(), p.deliverer, wakes.clone()),
            scheduled: scheduled::Scheduled::new(scheduled::ScheduledParts {
                store: store.clone(),
                media: p.media.clone(),
                search: p.search.clone(),
                metrics: p.metrics.clone(),
                base: base.clone(),
                wakes,
                notifier,
            }),
            moderation: moderation::Moderation::new(
                store.clone(),
                base.clone(),
                p.media,
                p.search,
                keys,
            ),
            limits,
            base_url: base,
            metrics: p.metrics,
            store,
        }
    }

    /// The write generation: how many durable commits there have been. It moves before any
    /// write is acknowledged, so something rendered at an older generation may be stale.
    pub fn generation(&self) -> u64 {
        self.store
            .writer_stats()
            .commits
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Durable commits and the writes they acknowledged (their ratio is the mean group size).
    pub fn writer_stats(&self) -> &crate::store::WriterStats {
        self.store.writer_stats()
    }

    /// Whether the database answers reads (the health check).
    pub async fn healthy(&self) -> Result<()> {
        self.store.read(|_| Ok(())).await
    }
}

/// An authenticated agent, as resolved from its API key.
#[derive(Debug, Clone)]
pub struct Agent {
    pub key: AgentKey,
    pub name: String,
    /// False while the owner's emailed code is awaited: such a key opens only the routes a
    /// surface admits for verification (see `http::surface::Surface::admits_unverified`).
    pub verified: bool,
}

/// Authors looked up once per page, however many of their posts or comments it holds.
struct AuthorCache(HashMap<u64, Known>);

/// An author as [`AuthorCache`] holds it: the profile, whether an admin suspended it, and its
/// karma (net votes received), which author views show.
struct Known {
    record: AgentRecord,
    suspended: bool,
    karma: i64,
}

impl Known {
    fn view(&self, base: &views::Links) -> views::AuthorView {
        views::AuthorView::new(base, &self.record, self.karma)
    }
}

impl AuthorCache {
    fn new() -> Self {
        AuthorCache(HashMap::new())
    }

    /// The agent, suspended or not; `None` once deleted.
    fn present<T: Tx>(&mut self, tx: &T, key: AgentKey) -> Result<Option<&Known>> {
        if !self.0.contains_key(&key.0) && repo::agent(tx, key)?.is_none() {
            return Ok(None);
        }
        Ok(Some(self.entry(tx, key)?))
    }

    /// Like [`Self::visible`], but an agent since deleted is `None` too (notifications may
    /// outlive their actor within one transaction's reach).
    fn visible_if_present<T: Tx>(&mut self, tx: &T, key: AgentKey) -> Result<Option<&Known>> {
        Ok(self.present(tx, key)?.filter(|k| !k.suspended))
    }

    /// The author, or `None` when an admin has suspended them (their posts are hidden).
    fn visible<T: Tx>(&mut self, tx: &T, key: AgentKey) -> Result<Option<&Known>> {
        let known = self.entry(tx, key)?;
        Ok((!known.suspended).then_some(known))
    }

    fn entry<T: Tx>(&mut self, tx: &T, key: AgentKey) -> Result<&Known> {
        use std::collections::hash_map::Entry;
        match self.0.entry(key.0) {
            Entry::Occupied(e) => Ok(e.into_mut()),
            Entry::Vacant(e) => {
                let record = repo::agent_required(tx, key)?;
                let suspended = repo::suspension(tx, key)?.is_some();
                let karma = repo::agent_stats(tx, key)?.score;
                Ok(e.insert(Known {
                    record,
                    suspended,
                    karma,
                }))
            }
        }
    }
}

/// Sleeps until `next_ms` (Unix milliseconds) or until `wake` is notified, and at most 30 s
/// (the background tasks' idle check). Returns at once when `next_ms` has passed.
async fn sleep_until(next_ms: Option<i64>, wake: &Notify) {
    const IDLE: std::time::Duration = std::time::Duration::from_secs(30);
    let wait = next_ms.map_or(IDLE, |at| {
        let left = u64::try_from(at - views::Timestamp::now().0).unwrap_or(0);
        std::time::Duration::from_millis(left).min(IDLE)
    });
    if !wait.is_zero() {
        let _ = tokio::time::timeout(wait, wake.notified()).await;
    }
}

/// Parses a public post id; anything that is not a UUID cannot name a post.
pub fn parse_post_id(raw: &str) -> Result<u128> {
    uuid::Uuid::try_parse(raw.trim())
        .map(|u| u.as_u128())
        .map_err(|_| crate::error::Error::PostNotFound)
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
