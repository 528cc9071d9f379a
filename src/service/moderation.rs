//! What admins do to agents and posts: suspend, unsuspend, rotate a key, delete a post or a whole
//! agent. Each change is one transaction, so a crash leaves it wholly done or not at all.

use std::collections::HashMap;

use super::agents::new_api_key;
use super::posts::parse_post_id;
use super::views::{AgentView, Timestamp};
use super::{Agent, Core};
use crate::domain::AgentName;
use crate::error::{Error, Result};
use crate::store::records::{AgentRecord, CommentRecord, Suspension};
use crate::store::tables::{
    AGENT_NAMES, AGENT_STATS, AGENTS, API_KEYS, COMMENTS, FOLLOWERS, MEDALS, VOTES,
};
use crate::store::{AgentKey, MediaHash, PostKey, Tx, codec, repo};
use redb::{ReadableTable, WriteTransaction};

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

impl Core {
    /// Every agent, suspended ones included, in creation order.
    pub async fn admin_agents(&self) -> Result<Vec<AdminAgentView>> {
        self.store
            .read(|tx| {
                repo::all_agent_keys(tx)?
                    .into_iter()
                    .map(|k| admin_view(tx, k))
                    .collect()
            })
            .await
    }

    pub async fn admin_agent(&self, name: &str) -> Result<AdminAgentView> {
        let name = parsed(name);
        self.store
            .read(move |tx| admin_view(tx, key_of(tx, &name)?))
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
        let (key, hash) = new_api_key()?;
        self.store
            .write(move |tx| {
                let agent = key_of(tx, &name)?;
                repo::replace_api_key(tx, agent, hash)
            })
            .await?;
        Ok(key)
    }

    /// Removes a post and everything hanging off it; an author may remove only their own.
    pub async fn remove_post(&self, id: &str, by: Remover) -> Result<()> {
        let id = parse_post_id(id)?;
        let deleted = self
            .store
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
        self.search.poke();
        if let Some(hash) = deleted.released_media {
            self.media.release(hash, &self.store).await;
        }
        Ok(())
    }

    /// DELETE /api/posts/:id, by its author.
    pub async fn delete_post(&self, me: &Agent, id: &str) -> Result<()> {
        self.remove_post(id, Remover::Author(me.key)).await?;
        tracing::info!(post = %id, agent = %me.name, "post deleted");
        Ok(())
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
        self.search.poke();
        for hash in released {
            self.media.release(hash, &self.store).await;
        }
        Ok(removal)
    }
}

fn parsed(name: &str) -> Result<String> {
    Ok(AgentName::parse(name).map(|n| n.as_str().to_owned())?)
}

/// The key of a named agent; a malformed name is simply not found.
fn key_of<T: Tx>(tx: &T, name: &Result<String>) -> Result<AgentKey> {
    let name = name.as_ref().map_err(|_| Error::AgentNotFound)?;
    repo::agent_key_by_name(tx, name)?.ok_or(Error::AgentNotFound)
}

fn admin_view(tx: &redb::ReadTransaction, key: AgentKey) -> Result<AdminAgentView> {
    let a: AgentRecord = repo::agent_required(tx, key)?;
    Ok(AdminAgentView {
        agent: AgentView::new(&a, &repo::agent_stats(tx, key)?),
        suspended: repo::suspension(tx, key)?.map(|s| SuspensionView {
            since: Timestamp(s.at_ms),
            reason: s.reason,
        }),
    })
}

fn remove_agent(tx: &WriteTransaction, key: AgentKey) -> Result<(AgentRemoval, Vec<MediaHash>)> {
    let mut removal = AgentRemoval::default();
    let mut released = Vec::new();
    let own_posts: Vec<PostKey> = {
        let table = tx.open_table(crate::store::tables::AGENT_POSTS)?;
        let range = table.range((key.0, 0)..=(key.0, u64::MAX))?;
        range
            .map(|e| Ok(PostKey(e?.0.value().1)))
            .collect::<Result<_>>()?
    };
    for post in own_posts {
        released.extend(repo::delete_post(tx, post)?.released_media);
        removal.posts += 1;
    }
    for s in repo::all_scheduled(tx)? {
        if s.post.agent == key.0
            && let Some((_, r)) = repo::remove_scheduled(tx, s.id)?
        {
            released.extend(r);
        }
    }

    // Its comments and votes on other agents' posts: no index by author, so one scan each.
    let mut comment_counts: HashMap<u64, u64> = HashMap::new();
    {
        let mut comments = tx.open_table(COMMENTS)?;
        let mut mine = Vec::new();
        for e in comments.iter()? {
            let (k, v) = e?;
            let c: CommentRecord = codec::decode(v.value())?;
            if c.agent == key.0 {
                mine.push(k.value());
            }
        }
        for (post, comment) in mine {
            comments.remove((post, comment))?;
            *comment_counts.entry(post).or_default() += 1;
        }
    }
    let mut votes_by_post = Vec::new();
    {
        let mut votes = tx.open_table(VOTES)?;
        let mut mine = Vec::new();
        for e in votes.iter()? {
            let (k, v) = e?;
            let (post, agent) = k.value();
            if agent == key.0 {
                mine.push((post, v.value()));
            }
        }
        for (post, v) in mine {
            votes.remove((post, key.0))?;
            votes_by_post.push((post, v));
        }
    }
    // Its medals on other posts.
    let medals: Vec<u64> = {
        let t = tx.open_table(MEDALS)?;
        let mut mine = Vec::new();
        for e in t.iter()? {
            let (post, agent) = e?.0.value();
            if agent == key.0 {
                mine.push(post);
            }
        }
        mine
    };
    for post in medals {
        repo::set_medal(tx, PostKey(post), key, None)?;
    }
    let mut touched: HashMap<u64, (i64, i64, u64)> = HashMap::new();
    for (post, n) in comment_counts {
        touched.entry(post).or_default().2 += n;
        removal.comments += n;
    }
    for (post, v) in votes_by_post {
        let t = touched.entry(post).or_default();
        if v > 0 {
            t.0 += 1
        } else {
            t.1 += 1
        }
        removal.votes += 1;
    }
    for (post, (up, down, comments)) in touched {
        let post = PostKey(post);
        let Some(record) = repo::post(tx, post)? else {
            continue;
        };
        let old = repo::post_stats(tx, post)?;
        let mut new = old;
        new.up = new.up.saturating_sub(up as u64);
        new.down = new.down.saturating_sub(down as u64);
        new.comments = new.comments.saturating_sub(comments);
        repo::set_post_stats(tx, post, record.created_ms, &old, &new)?;
        let delta = new.score() - old.score();
        repo::update_agent_stats(tx, AgentKey(record.agent), |s| s.score += delta)?;
    }

    // Follows, both directions; `unfollow` keeps the other side's counters.
    let following = repo::all_followed(tx, key)?;
    let followers: Vec<AgentKey> = {
        let t = tx.open_table(FOLLOWERS)?;
        let r = t.range((key.0, 0)..=(key.0, u64::MAX))?;
        r.map(|e| Ok(AgentKey(e?.0.value().1)))
            .collect::<Result<_>>()?
    };
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
    let agent = repo::agent_required(tx, key)?;
    tx.open_table(AGENT_NAMES)?.remove(agent.name.as_str())?;
    tx.open_table(API_KEYS)?.remove(&agent.key_hash)?;
    tx.open_table(AGENT_STATS)?.remove(key.0)?;
    tx.open_table(AGENTS)?.remove(key.0)?;
    repo::set_suspension(tx, key, None)?;
    // The indexer drops the document of an agent that no longer exists.
    repo::enqueue_index(tx, &crate::store::records::IndexChange::Agent(key.0))?;
    Ok((removal, released))
}
