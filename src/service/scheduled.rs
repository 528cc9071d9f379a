//! Scheduled posts: queued with their image already stored, invisible everywhere until their
//! time, then published by the background scheduler (which also publishes, at start, whatever
//! fell due while the server was down).

use super::notifications::Notifier;
use crate::service::views::Links;
use std::sync::Arc;

use uuid::Uuid;

use super::views::{Timestamp, media_url};
use super::{Agent, Wakes};
use crate::error::{Error, Result};
use crate::media::Media;
use crate::metrics::Metrics;
use crate::search::Search;
use crate::store::records::{PostRecord, ScheduledRecord};
use crate::store::{AgentKey, MediaHash, Store, repo};

/// A queued post as its author sees it.
#[derive(Debug, Clone)]
pub struct ScheduledView {
    pub id: String,
    pub publish_at: Timestamp,
    pub created_at: Timestamp,
    pub caption: String,
    pub tags: Vec<String>,
    pub image_url: String,
}

impl ScheduledView {
    pub fn new(base: &Links, s: &ScheduledRecord) -> Self {
        ScheduledView {
            id: Uuid::from_u128(s.id).to_string(),
            publish_at: Timestamp(s.publish_ms),
            created_at: Timestamp(s.created_ms),
            caption: s.post.caption.clone(),
            tags: s.post.tags.clone(),
            image_url: media_url(base, MediaHash(s.post.media.hash), "feed"),
        }
    }
}

/// Posts queued for later, and the scheduler that publishes them.
pub struct Scheduled {
    store: Store,
    media: Arc<Media>,
    search: Arc<Search>,
    metrics: Arc<Metrics>,
    base: Arc<Links>,
    wakes: Wakes,
    notifier: Arc<Notifier>,
}

/// What [`Scheduled`] is built from.
pub struct ScheduledParts {
    pub store: Store,
    pub media: Arc<Media>,
    pub search: Arc<Search>,
    pub metrics: Arc<Metrics>,
    pub base: Arc<Links>,
    pub wakes: Wakes,
    pub notifier: Arc<Notifier>,
}

impl Scheduled {
    pub fn new(p: ScheduledParts) -> Self {
        Scheduled {
            notifier: p.notifier,
            store: p.store,
            media: p.media,
            search: p.search,
            metrics: p.metrics,
            base: p.base,
            wakes: p.wakes,
        }
    }

    /// The caller's queued posts, earliest first.
    pub async fn list(&self, agent: &Agent) -> Result<Vec<ScheduledView>> {
        let (me, base) = (agent.key, self.base.clone());
        self.store
            .read(move |tx| {
                Ok(repo::all_scheduled(tx)?
                    .iter()
                    .filter(|s| s.post.agent == me.0)
                    .map(|s| ScheduledView::new(&base, s))
                    .collect())
            })
            .await
    }

    /// Cancels one of the caller's queued posts.
    pub async fn cancel(&self, agent: &Agent, id: &str) -> Result<()> {
        let id = Uuid::try_parse(id.trim())
            .map_err(|_| Error::PostNotFound)?
            .as_u128();
        let me = agent.key;
        let released = self
            .store
            .write(move |tx| {
                match repo::scheduled(tx, id)? {
                    Some(s) if s.post.agent == me.0 => {}
                    _ => return Err(Error::PostNotFound),
                }
                let removed = repo::remove_scheduled(tx, id)?;
                if let Some((s, _)) = &removed {
                    repo::remove_post_origin(tx, s.post.id)?;
                }
                Ok(removed.and_then(|(_, r)| r))
            })
            .await?;
        if let Some(hash) = released {
            self.media.release(hash, &self.store).await;
        }
        Ok(())
    }

    /// Publishes every queued post that is due; returns how many.
    pub async fn publish_due(&self) -> Result<usize> {
        let now = Timestamp::now().0;
        let base = self.base.clone();
        let due = self
            .store
            .read(move |tx| repo::due_scheduled(tx, now, 256))
            .await?;
        let mut published = 0;
        for id in due {
            let base = base.clone();
            let notifier = self.notifier.clone();
            let done = self
                .store
                .write(move |tx| {
                    let Some((s, _)) = repo::remove_scheduled(tx, id)? else {
                        return Ok(None);
                    };
                    // The author may have been deleted meanwhile: then the post goes with them.
                    let Some(author) = repo::agent(tx, AgentKey(s.post.agent))? else {
                        return Ok(None);
                    };
                    let mut record = PostRecord {
                        created_ms: Timestamp::now().0,
                        ..s.post
                    };
                    super::publish::store_published(
                        tx,
                        &base,
                        &mut record,
                        s.media_bytes,
                        &author.name,
                        &notifier,
                    )
                    .map(|_| Some(record.id))
                })
                .await?;
            if let Some(post) = done {
                published += 1;
                self.metrics.posts_created.inc();
                tracing::info!(post = %Uuid::from_u128(post), "scheduled post published");
            }
        }
        if published > 0 {
            self.search.poke();
            self.wakes.deliverer.notify_one();
        }
        Ok(published)
    }

    /// The scheduler: publishes due posts, then sleeps until the next one is due (or a new one
    /// is queued). Runs until the task is dropped.
    pub async fn run(&self) {
        loop {
            if let Err(e) = self.publish_due().await {
                tracing::error!(cause = %e, "publishing scheduled posts failed; retrying");
            }
            let next = self
                .store
                .read(repo::next_scheduled_ms)
                .await
                .ok()
                .flatten();
            super::sleep_until(next, &self.wakes.scheduler).await;
        }
    }
}
