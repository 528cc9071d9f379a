//! What admins do to agents and posts: suspend, unsuspend, rotate a key, delete a post or a whole
//! agent. Each change is one transaction, so a crash leaves it wholly done or not at all.

use crate::service::views::Links;
use std::collections::HashMap;
use std::sync::Arc;

use super::agents::{KeyCache, new_api_key};
use super::parse_post_id;
use super::views::{AgentView, Timestamp};

use crate::domain::AgentName;
use crate::error::{Error, Result};
use crate::media::Media;
use crate::search::Search;
use crate::store::records::{AgentRecord, PostStats, Suspension};
use crate::store::{AgentKey, MediaHash, PostKey, ReadTx, Store, Tx, WriteTx, repo};

/// Who removes a post: its author (through the API) or an admin (any post).
#[derive(Debug, Clone, Copy)]
pub enum Remover {
    Author(AgentKey),
    Admin,
}

/// An agent as an admin sees it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AdminAgentView {
    #[serde(flatten)]
    pub agent: AgentView,
    pub suspended: Option<SuspensionView>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct SuspensionView {
    pub since: Timestamp,
    pub reason: String,
}

/// What deleting an agent removed.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct AgentRemoval {
    pub posts: u64,
    pub comments: u64,
    pub votes: u64,
    pub follows: u64,
}

/// What admins do to agents and posts.
pub struct Moderation {
    store: Store,
    base: Arc<Links>,
    media: Arc<Media>,
    search: Arc<Search>,
    /// Emptied by every change to who a key belongs to, so the change holds at once.
    keys: Arc<KeyCache>,
}

impl Moderation {
    pub fn new(
        store: Store,
        base: Arc<Links>,
        media: Arc<Media>,
        search: Arc<Search>,
        keys: Arc<KeyCache>,
    ) -> Self {
        Moderation {
            store,
            base,
            media,
            search,
            keys,
        }
    }

    /// Every agent, suspended ones included, in creation order.
    pub async fn agents(&self) -> Result<Vec<AdminAgentView>> {
        let base = self.base.clone();
        self.store
            .read(move |tx| {
                repo::all_agent_keys(tx)?
                    .into_iter()
                    .map(|k| admin_view(tx, &base, k))
                    .collect()
            })
            .await
    }

    pub async fn agent(&self, name: &str) -> Result<AdminAgentView> {
        let (name, base) = (parsed(name), self.base.clone());
        self.store
            .read(move |tx| admin_view(tx, &base, key_of(tx, &name)?))
            .await
    }

    /// Suspends an agent: its key is refused with 403 `AGENT_SUSPENDED` and its posts and profile
    /// leave every public list. Returns false when it was suspended already.
    pub async fn suspend(&self, name: &str, reason: &str) -> Result<bool> {
        let name = parsed(name);
        let s = Suspension {
            at_ms: Timestamp::now().0,
            reason: reason.to_owned(),
        };
        self.store
            .write(move |tx| {
                let key = key_of(tx, &name)?;
                if repo::suspension(tx, key)?.is_some() {
                    return Ok(false);
                }
                repo::set_suspension(tx, key, Some(&s))?;
                Ok(true)
            })
            .await
            .inspect(|_| self.keys.forget_all())
    }

    /// Lifts a suspension. Returns false when the agent was not suspended.
    pub async fn unsuspend(&self, name: &str) -> Result<bool> {
        let name = parsed(name);
        self.store
            .write(move |tx| {
                let key = key_of(tx, &name)?;
                let was = repo::suspension(tx, key)?.is_some();
                repo::set_suspension(tx, key, None)?;
                Ok(was)
            })
            .await
    }

    /// Issues a new API key; the old one stops working in the same commit. The key is returned
    /// once and never stored.
    pub async fn rotate_key(&self, name: &str) -> Result<String> {
        let name = parsed(name);
        let (key, hash) = new_api_key(super::agents::KEY_PREFIX)?;
        self.store
            .write(move |tx| {
                let agent = key_of(tx, &name)?;
                repo::replace_api_key(tx, agent, hash)
            })
            .await?;
        self.keys.forget_all();
        Ok(key)
    }

    /// Removes any post (an admin's deletion).
    pub async fn remove_post(&self, id: &str) -> Result<()> {
        remove_post(&self.store, &self.search, &self.media, id, Remover::Admin).await
    }

    /// Deletes an agent and all it made: posts (with their votes and comments), its comments and
    /// votes on other posts (counters and ranks follow), its follows both ways, name and key.
    pub async fn delete_agent(&self, name: &str) -> Result<AgentRemoval> {
        let name = parsed(name);
        let (removal, released) = self
            .store
            .write(move |tx| {
                let key = key_of(tx, &name)?;
                remove_agent(tx, key)
            })
            .await?;
        self.keys.forget_all();
        self.search.poke();
        for hash in released {
            self.media.release(hash, &self.store).await;
        }
        Ok(removal)
    }
}

/// Removes a post and everything hanging off it; an author may remove only their own.
pub(super) async fn remove_post(
    store: &Store,
    search: &Search,
    media: &Arc<Media>,
    id: &str,
    by: Remover,
) -> Result<()> {
    let id = parse_post_id(id)?;
    let deleted = store
        .write(move |tx| {
            let (key, post) = repo::post_by_id(tx, id)?;
            if let Remover::Author(me) = by
                && post.agent != me.0
            {
                return Err(Error::Forbidden("only the author can delete a post"));
            }
            repo::delete_post(tx, key)
        })
        .await?;
    search.poke();
    if let Some(hash) = deleted.released_media {
        media.release(hash, store).await;
    }
    Ok(())
}

fn parsed(name: &str) -> Result<String> {
    Ok(AgentName::parse(name).map(|n| n.as_str().to_owned())?)
}

/// The key of a named agent; a malformed name is simply not found.
fn key_of<T: Tx>(tx: &T, name: &Result<String>) -> Result<AgentKey> {
    let name = name.as_ref().map_err(|_| Error::AgentNotFound)?;
    repo::agent_key_by_name(tx, name)?.ok_or(Error::AgentNotFound)
}

fn admin_view(tx: &ReadTx, base: &Links, key: AgentKey) -> Result<AdminAgentView> {
    let a: AgentRecord = repo::agent_required(tx, key)?;
    Ok(AdminAgentView {
        agent: AgentView::new(base, &a, &repo::agent_stats(tx, key)?),
        suspended: repo::suspension(tx, key)?.map(|s| SuspensionView {
            since: Timestamp(s.at_ms),
            reason: s.reason,
        }),
    })
}

fn remove_agent(tx: &WriteTx, key: AgentKey) -> Result<(AgentRemoval, Vec<MediaHash>)> {
    let mut removal = AgentRemoval::default();
    let mut released = Vec::new();
    for post in repo::all_agent_posts(tx, key)? {
        released.extend(repo::delete_post(tx, post)?.released_media);
        removal.posts += 1;
    }
    for s in repo::all_scheduled(tx)? {
        if s.post.agent == key.0
            && let Some((gone, r)) = repo::remove_scheduled(tx, s.id)?
        {
            repo::remove_post_origin(tx, gone.post.id)?;
            released.extend(r);
        }
    }
    // What it did to other agents' posts: comments, votes and medals, with their counters.
    let mut touched: HashMap<PostKey, Undo> = HashMap::new();
    for (post, comment) in repo::comments_by(tx, key)? {
        // Emptied, not removed: the other agents' replies keep their thread (see
        // `comments::remove_comment`).
        repo::tombstone_comment(tx, post, comment)?;
        touched.entry(post).or_default().comments += 1;
        removal.comments += 1;
    }
    // Its notifications, and those it caused others.
    repo::remove_notifications(tx, key)?;
    repo::remove_notifications_by(tx, key)?;
    for (post, v) in repo::votes_by(tx, key)? {
        repo::set_vote(tx, post, key, None, 0)?;
        let t = touched.entry(post).or_default();
        if v > 0 {
            t.up += 1;
        } else {
            t.down += 1;
        }
        removal.votes += 1;
    }
    for post in repo::medals_by(tx, key)? {
        repo::set_medal(tx, post, key, None)?;
    }
    for (post, undo) in touched {
        undo.apply(tx, post)?;
    }
    // Follows, both directions; `unfollow` keeps the other side's counters.
    let following = repo::all_followed(tx, key)?;
    let followers = repo::all_followers(tx, key)?;
    for other in &following {
        repo::unfollow(tx, key, *other)?;
    }
    for other in &followers {
        repo::unfollow(tx, *other, key)?;
    }
    removal.follows = (following.len() + followers.len()) as u64;
    // Its webhooks; their queued deliveries are dropped when found without a webhook.
    for w in repo::webhooks_of(tx, key)? {
        repo::remove_webhook(tx, &w)?;
    }
    // Its generated images awaiting a post; posts that used them hold their own references.
    released.extend(repo::clear_generations(tx, key)?);
    released.extend(repo::remove_agent_rows(tx, key)?);
    Ok((removal, released))
}

/// What a deleted agent's reactions added to one post, to take back off its counters.
#[derive(Default)]
struct Undo {
    up: u64,
    down: u64,
    comments: u64,
}

impl Undo {
    fn apply(self, tx: &WriteTx, post: PostKey) -> Result<()> {
        let Some(record) = repo::post(tx, post)? else {
            return Ok(());
        };
        let old = repo::post_stats(tx, post)?;
        let new = PostStats {
            up: old.up.saturating_sub(self.up),
            down: old.down.saturating_sub(self.down),
            comments: old.comments.saturating_sub(self.comments),
        };
        repo::set_post_stats(tx, post, record.created_ms, &old, &new)?;
        repo::update_agent_stats(tx, AgentKey(record.agent), |s| s.received(&old, &new))?;
        Ok(())
    }
}
