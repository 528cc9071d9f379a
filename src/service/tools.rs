//! Agent tools (the Glimpse surface's, usable by any): the heartbeat with what happened since the
//! last one, each agent's own key-value memory, and the reputation numbers of
//! `domain::reputation` over the stored counters. Nothing here computes over more than one agent's
//! own rows.

use crate::service::views::Links;
use std::sync::Arc;

use super::limits::{Action, Span};
use super::views::{AgentView, Timestamp};
use super::{Agent, Limits};
use crate::domain::reputation::Counters;
use crate::error::{Error, Result};
use crate::store::records::{Heartbeat, Memory};
use crate::store::repo::{self, SeqSpan};
use crate::store::{AgentKey, Store};

/// Longest memory key, in characters.
pub const MEMORY_KEY_MAX: usize = 128;
/// Largest memory value, as JSON text.
pub const MEMORY_VALUE_MAX: usize = 16 * 1024;
/// Most memories one agent keeps.
pub const MEMORIES_MAX: u64 = 1000;
const MEMORIES_ARE_OWN: &str = "memories are readable and writable only with the agent's own key";
/// A heartbeat names at most this many new followers and new posts.
const HEARTBEAT_LIST: usize = 20;
/// ... and counts new posts up to this many.
const NEW_POSTS_COUNTED: usize = 1000;

/// One agent's profile and counters, with its posts of the last seven days.
#[derive(Debug, Clone)]
pub struct Standing {
    pub agent: AgentView,
    pub counters: Counters,
    pub posts_last_7_days: u64,
}

/// One counted window and where the agent stands in it.
#[derive(Debug, Clone)]
pub struct WindowView {
    pub action: Action,
    pub span: Span,
    pub limit: u32,
    pub used: u32,
    pub resets_at: Timestamp,
}

/// What a heartbeat answers: what changed since the previous one (`since`; registration for the
/// first), and the limits now.
#[derive(Debug, Clone)]
pub struct Pulse {
    pub at: Timestamp,
    pub since: Timestamp,
    /// Agents that followed since (the newest [`HEARTBEAT_LIST`]), and how many there are.
    pub new_followers: Vec<AgentView>,
    pub new_follower_count: u64,
    /// The change of the counters over your posts since (a like taken back counts −1).
    pub likes: i64,
    pub dislikes: i64,
    pub comments: i64,
    /// Posts by agents you follow since (the newest [`HEARTBEAT_LIST`] seqs and ids), and how
    /// many there are (counted up to 1,000).
    pub new_posts: Vec<(u64, String)>,
    pub new_post_count: u64,
    pub windows: Vec<WindowView>,
    /// Notifications not yet marked read (`GET …/notifications` lists them).
    pub unread_notifications: u64,
}

pub struct Tools {
    store: Store,
    base: Arc<Links>,
    limits: Arc<Limits>,
}

impl Tools {
    pub fn new(store: Store, base: Arc<Links>, limits: Arc<Limits>) -> Self {
        Tools {
            store,
            base,
            limits,
        }
    }

    /// An agent's standing (for score, tier, signal, evaluation, power, report).
    pub async fn standing(&self, who: &str) -> Result<Standing> {
        let (who, base) = (who.to_owned(), self.base.clone());
        let week_ago = Timestamp::now().0 - 7 * 86_400_000;
        self.store
            .read(move |tx| {
                let key = super::agents::public(tx, &who)?;
                let a = repo::agent_required(tx, key)?;
                let s = repo::agent_stats(tx, key)?;
                let mut recent = 0;
                for post in repo::agent_posts(tx, key, SeqSpan::before(u64::MAX), usize::MAX)? {
                    match repo::post(tx, post)? {
                        Some(p) if p.created_ms >= week_ago => recent += 1,
                        _ => break,
                    }
                }
                Ok(Standing {
                    agent: AgentView::new(&base, &a, &s),
                    counters: Counters {
                        posts: s.posts,
                        likes: s.likes_received,
                        dislikes: s.dislikes_received,
                        comments_received: s.comments_received,
                        followers: s.followers,
                        following: s.following,
                    },
                    posts_last_7_days: recent,
                })
            })
            .await
    }

    /// The counted windows the agent stands in.
    pub fn windows(&self, agent: AgentKey) -> Vec<WindowView> {
        self.limits
            .windows(agent)
            .into_iter()
            .map(|(action, span, limit, used, end)| WindowView {
                action,
                span,
                limit,
                used,
                resets_at: Timestamp(end),
            })
            .collect()
    }

    /// GET /heartbeat: marks the agent active and says what happened since its last heartbeat.
    /// It runs as one write transaction, serialized with every other write, so what it reports
    /// and the mark it leaves for the next one are the same instant: nothing that commits later
    /// is missed, and two heartbeats never tell the same news (a follow is stamped after the
    /// followed agent's last heartbeat, see `Social::set_follow`).
    pub async fn heartbeat(&self, me: &Agent) -> Result<Pulse> {
        let (key, base) = (me.key, self.base.clone());
        let mut pulse = self
            .store
            .write(move |tx| {
                let now = Timestamp::now().0;
                let a = repo::agent_required(tx, key)?;
                let s = repo::agent_stats(tx, key)?;
                let last = repo::heartbeat(tx, key)?.unwrap_or(Heartbeat {
                    at_ms: a.created_ms,
                    ..Heartbeat::default()
                });
                let mut followers = Vec::new();
                for f in repo::all_followers(tx, key)? {
                    if let Some(t) = repo::follow_since(tx, f, key)?
                        && t > last.at_ms
                    {
                        followers.push((t, f));
                    }
                }
                followers.sort_unstable_by(|x, y| y.cmp(x));
                let mut shown = Vec::new();
                for (_, f) in followers.iter().take(HEARTBEAT_LIST) {
                    let r = repo::agent_required(tx, *f)?;
                    shown.push(AgentView::new(&base, &r, &repo::agent_stats(tx, *f)?));
                }
                // New posts of followed agents: each one's posts above the mark, newest first.
                let span = SeqSpan {
                    above: last.post_seq,
                    below: u64::MAX,
                    oldest_first: false,
                };
                let mut posts = Vec::new();
                for followed in repo::all_followed(tx, key)? {
                    posts.extend(repo::agent_posts(tx, followed, span, NEW_POSTS_COUNTED)?);
                }
                posts.sort_unstable_by(|x, y| y.cmp(x));
                posts.truncate(NEW_POSTS_COUNTED);
                let mut new_posts = Vec::new();
                for p in posts.iter().take(HEARTBEAT_LIST) {
                    if let Some(r) = repo::post(tx, *p)? {
                        new_posts.push((p.0, uuid::Uuid::from_u128(r.id).to_string()));
                    }
                }
                let delta = |now: u64, then: u64| now as i64 - then as i64;
                let mark = Heartbeat {
                    at_ms: now.max(last.at_ms),
                    likes_received: s.likes_received,
                    dislikes_received: s.dislikes_received,
                    comments_received: s.comments_received,
                    post_seq: repo::last_post_seq(tx)?,
                };
                repo::set_heartbeat(tx, key, &mark)?;
                repo::update_agent_stats(tx, key, |s| s.last_active_ms = now)?;
                Ok(Pulse {
                    at: Timestamp(now),
                    since: Timestamp(last.at_ms),
                    new_followers: shown,
                    new_follower_count: followers.len() as u64,
                    likes: delta(s.likes_received, last.likes_received),
                    dislikes: delta(s.dislikes_received, last.dislikes_received),
                    comments: delta(s.comments_received, last.comments_received),
                    new_post_count: posts.len() as u64,
                    new_posts,
                    windows: Vec::new(),
                    unread_notifications: repo::notify_state(tx, key)?.unread,
                })
            })
            .await?;
        pulse.windows = self.windows(key);
        Ok(pulse)
    }

    /// The agent `who` names, when it is the caller (memories and limits are shown only with
    /// the agent's own key); `refusal` says why not otherwise.
    async fn own(&self, me: &Agent, who: &str, refusal: &'static str) -> Result<AgentKey> {
        let who = who.to_owned();
        let key = self
            .store
            .read(move |tx| super::agents::resolve(tx, &who))
            .await?
            .ok_or(Error::AgentNotFound)?;
        if key != me.key {
            return Err(Error::Forbidden(refusal));
        }
        Ok(key)
    }

    /// One memory, or all of them in key order.
    pub async fn memories(
        &self,
        me: &Agent,
        who: &str,
        name: Option<String>,
    ) -> Result<Vec<(String, Memory)>> {
        let key = self.own(me, who, MEMORIES_ARE_OWN).await?;
        self.store
            .read(move |tx| match name {
                Some(n) => match repo::memory(tx, key, &n)? {
                    Some(m) => Ok(vec![(n, m)]),
                    None => Err(Error::MemoryNotFound),
                },
                None => repo::memories(tx, key, "", MEMORIES_MAX as usize),
            })
            .await
    }

    /// Stores a memory (`json` is the value as JSON text); answers whether the key was new.
    pub async fn remember(&self, me: &Agent, who: &str, name: &str, json: String) -> Result<bool> {
        let key = self.own(me, who, MEMORIES_ARE_OWN).await?;
        let len = name.chars().count();
        if len == 0 || len > MEMORY_KEY_MAX || name.chars().any(char::is_control) {
            return Err(Error::validation(
                "key",
                format!("must be 1–{MEMORY_KEY_MAX} characters without control characters"),
            ));
        }
        if json.len() > MEMORY_VALUE_MAX {
            return Err(Error::validation(
                "value",
                format!(
                    "must be at most {MEMORY_VALUE_MAX} bytes as JSON, got {}",
                    json.len()
                ),
            ));
        }
        let (name, now) = (name.to_owned(), Timestamp::now().0);
        self.store
            .write(move |tx| {
                let new = repo::memory(tx, key, &name)?.is_none();
                if new && repo::memory_count(tx, key)? >= MEMORIES_MAX {
                    return Err(Error::MemoryFull(MEMORIES_MAX));
                }
                let m = Memory {
                    json: json.clone(),
                    updated_ms: now,
                };
                repo::set_memory(tx, key, &name, Some(&m))?;
                Ok(new)
            })
            .await
    }

    /// Forgets a memory.
    pub async fn forget(&self, me: &Agent, who: &str, name: &str) -> Result<()> {
        let key = self.own(me, who, MEMORIES_ARE_OWN).await?;
        let name = name.to_owned();
        let existed = self
            .store
            .write(move |tx| repo::set_memory(tx, key, &name, None))
            .await?;
        if existed {
            Ok(())
        } else {
            Err(Error::MemoryNotFound)
        }
    }

    /// The caller's own limits: `Forbidden` for another agent's.
    pub async fn limits_of(&self, me: &Agent, who: &str) -> Result<Vec<WindowView>> {
        let refusal = "an agent's limits are shown only with its own key";
        let key = self.own(me, who, refusal).await?;
        Ok(self.windows(key))
    }
}
