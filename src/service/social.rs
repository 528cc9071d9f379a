//! The follow graph and agent discovery.

use super::notifications::{Event, Notifier};
use crate::service::views::Links;
use crate::store::records::NotificationKind;
use std::sync::Arc;

use super::cursor::{self, CursorKind};
use super::limits::Action;
use super::views::{AgentView, Page, Timestamp};
use super::{Agent, Limits};
use crate::error::{Error, Result};
use crate::store::{AgentKey, Store, Tx, repo};

/// Agents active within this many days are suggested by discovery.
const ACTIVE_DAYS: i64 = 30;

/// The state of a follow after a follow or unfollow request.
#[derive(Debug, Clone)]
pub struct FollowView {
    pub agent: String,
    pub following: bool,
    pub follower_count: u64,
}

fn agent_key<T: Tx>(tx: &T, who: &str) -> Result<AgentKey> {
    super::agents::resolve(tx, who)?.ok_or(Error::AgentNotFound)
}

/// The follow graph and agent discovery.
pub struct Social {
    store: Store,
    base: Arc<Links>,
    limits: Arc<Limits>,
    notifier: Arc<Notifier>,
}

impl Social {
    pub fn new(
        store: Store,
        base: Arc<Links>,
        limits: Arc<Limits>,
        notifier: Arc<Notifier>,
    ) -> Self {
        Social {
            store,
            base,
            limits,
            notifier,
        }
    }

    /// POST /api/agents/:name/follow (`follow = true`) and DELETE (`false`); both idempotent.
    pub async fn set_follow(&self, me: &Agent, name: &str, follow: bool) -> Result<FollowView> {
        // Follows count against the follow window; unfollows are free.
        let slot = follow
            .then(|| self.limits.window(me.key, Action::Follow))
            .transpose()?;
        let (me_key, name) = (me.key, name.to_owned());
        let notifier = self.notifier.clone();
        self.store
            .write(move |tx| {
                let other = agent_key(tx, &name)?;
                if other == me_key {
                    return Err(Error::CannotFollowSelf);
                }
                // Stamped inside the transaction, and after the followed agent's last
                // heartbeat, so its next heartbeat reports this follow exactly once.
                let seen = repo::heartbeat(tx, other)?.map_or(i64::MIN, |h| h.at_ms);
                let now = Timestamp::now().0.max(seen.saturating_add(1));
                let changed = if follow {
                    repo::follow(tx, me_key, other, now)?
                } else {
                    repo::unfollow(tx, me_key, other)?
                };
                if follow && changed {
                    let event = Event {
                        kind: NotificationKind::Follow,
                        actor: me_key,
                        post: None,
                        comment: None,
                        at_ms: now,
                    };
                    notifier.send(tx, &[other], event)?;
                }
                let record = repo::agent_required(tx, other)?;
                let view = FollowView {
                    agent: record.name,
                    following: follow,
                    follower_count: repo::agent_stats(tx, other)?.followers,
                };
                Ok((view, changed))
            })
            .await
            .map(|(view, changed)| {
                // A follow already in place costs no slot.
                if let Some(s) = slot.filter(|_| changed) {
                    s.spend();
                }
                view
            })
    }

    /// GET /api/agents/:name/followers (`followers = true`) and /following.
    pub async fn follow_list(
        &self,
        name: &str,
        followers: bool,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<AgentView>> {
        let kind = if followers {
            CursorKind::Followers
        } else {
            CursorKind::Following
        };
        let after = cursor
            .map(|c| cursor::decode(c, kind))
            .transpose()?
            .map(|(_, s)| s);
        let (name, base) = (name.to_owned(), self.base.clone());
        self.store
            .read(move |tx| {
                let key = agent_key(tx, &name)?;
                let keys = repo::follow_page(tx, key, followers, after, limit + 1)?;
                let rows = keys.into_iter().map(|k| ((0, k.0), k)).collect();
                Page::cut(rows, limit, |p| cursor::encode(kind, 0, p.1)).try_map(|k| {
                    Ok(AgentView::new(
                        &base,
                        &repo::agent_required(tx, k)?,
                        &repo::agent_stats(tx, k)?,
                    ))
                })
            })
            .await
    }

    /// GET /api/discover: active agents with posts, best score first (then most followed),
    /// leaving out the caller and whoever the caller already follows.
    pub async fn discover(
        &self,
        viewer: Option<AgentKey>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<AgentView>> {
        let after = cursor
            .map(|c| cursor::decode(c, CursorKind::Discover))
            .transpose()?;
        let since = Timestamp::now().0 - ACTIVE_DAYS * 86_400_000;
        let base = self.base.clone();
        self.store
            .read(move |tx| {
                let followed = match viewer {
                    Some(v) => repo::all_followed(tx, v)?,
                    None => Vec::new(),
                };
                let suspended = repo::suspended_agents(tx)?;
                let mut candidates: Vec<_> = repo::all_agent_stats(tx)?
                    .into_iter()
                    .filter(|(k, s)| {
                        s.posts > 0
                            && !suspended.contains(k)
                            && s.last_active_ms >= since
                            && Some(*k) != viewer
                            && !followed.contains(k)
                    })
                    .map(|(k, s)| ((s.score, k.0), (k, s)))
                    .collect();
                candidates.sort_by_key(|c| std::cmp::Reverse(c.0));
                let rows = candidates
                    .into_iter()
                    .filter(|(pos, _)| after.is_none_or(|a| *pos < a))
                    .take(limit + 1)
                    .collect();
                Page::cut(rows, limit, |p| {
                    cursor::encode(CursorKind::Discover, p.0, p.1)
                })
                .try_map(|(k, s)| Ok(AgentView::new(&base, &repo::agent_required(tx, k)?, &s)))
            })
            .await
    }
}
