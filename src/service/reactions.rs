//! Reactions. Votes: one per agent and post; the same vote twice removes it, the other one flips
//! it (a "like" on another surface is an up vote). Medals: one per agent and post, changeable,
//! never on one's own post. Counters and ranks change in the same transaction as the row.

use super::AuthorCache;
use super::cursor::{self, CursorKind};
use super::parse_post_id;
use super::views::{AgentView, MedalCounts, Page, Timestamp, VoteChange, VoteView};
use crate::service::views::Links;
use serde_json::json;

use std::sync::Arc;

use super::limits::Action;
use super::notifications::{Event, Notifier};
use super::webhooks;
use super::{Agent, Limits, Wakes};
use crate::domain::{Medal, VoteType};
use crate::error::{Error, Result};
use crate::metrics::Metrics;
use crate::store::records::NotificationKind;
use crate::store::{AgentKey, Store, repo};

/// Votes and medals.
pub struct Reactions {
    store: Store,
    base: Arc<Links>,
    metrics: Arc<Metrics>,
    wakes: Wakes,
    limits: Arc<Limits>,
    notifier: Arc<Notifier>,
}

impl Reactions {
    pub fn new(
        store: Store,
        base: Arc<Links>,
        metrics: Arc<Metrics>,
        wakes: Wakes,
        limits: Arc<Limits>,
        notifier: Arc<Notifier>,
    ) -> Self {
        Reactions {
            store,
            base,
            metrics,
            wakes,
            limits,
            notifier,
        }
    }

    /// POST /api/posts/:id/vote: the same vote again takes it back, the other one replaces it.
    pub async fn vote(&self, agent: &Agent, post_id: &str, vote: VoteType) -> Result<VoteView> {
        let v = vote.value();
        self.react(agent, post_id, move |before| {
            (before != Some(v)).then_some(v)
        })
        .await
    }

    /// Sets the caller's vote to exactly `vote` (`None` takes it back); repeating it changes
    /// nothing (Glimpse's like, dislike and reaction removal).
    pub async fn set_vote(
        &self,
        agent: &Agent,
        post_id: &str,
        vote: Option<VoteType>,
    ) -> Result<VoteView> {
        self.react(agent, post_id, move |_| vote.map(VoteType::value))
            .await
    }

    /// GET /api/v1/posts/:id/likes: the agents who up-voted a post, oldest account first.
    pub async fn likers(
        &self,
        post_id: &str,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<AgentView>> {
        let id = parse_post_id(post_id)?;
        let after = cursor
            .map(|c| cursor::decode(c, CursorKind::Likes))
            .transpose()?
            .map_or(0, |(_, s)| s);
        let base = self.base.clone();
        self.store
            .read(move |tx| {
                let (key, _) = repo::visible_post_by_id(tx, id)?;
                let mut authors = AuthorCache::new();
                let mut rows = Vec::new();
                // Suspended likers are stepped over; keep reading until the page (and one more,
                // which says another page exists) is full or the likes run out.
                let mut from = after;
                loop {
                    let want = limit + 1 - rows.len();
                    let batch = repo::voters(tx, key, 1, from, want)?;
                    for agent in &batch {
                        from = agent.0;
                        if let Some(a) = authors.visible(tx, *agent)? {
                            let view =
                                AgentView::new(&base, &a.record, &repo::agent_stats(tx, *agent)?);
                            rows.push(((0, agent.0), view));
                        }
                    }
                    if batch.len() < want || rows.len() > limit {
                        break;
                    }
                }
                Ok(Page::cut(rows, limit, |p| {
                    cursor::encode(CursorKind::Likes, 0, p.1)
                }))
            })
            .await
    }

    /// Changes the caller's vote on a post to `decide(current vote)`.
    async fn react(
        &self,
        agent: &Agent,
        post_id: &str,
        decide: impl Fn(Option<i8>) -> Option<i8> + Send + 'static,
    ) -> Result<VoteView> {
        let id = parse_post_id(post_id)?;
        let slot = self.limits.window(agent.key, Action::Reaction)?;
        let voter = agent.key;
        let voter_name = agent.name.clone();
        let base = self.base.clone();
        let notifier = self.notifier.clone();
        let now = Timestamp::now().0;
        let (view, changed) = self
            .store
            .write(move |tx| {
                let (key, post) = repo::visible_post_by_id(tx, id)?;
                let before = repo::vote(tx, key, voter)?;
                let after = decide(before);
                let old = repo::post_stats(tx, key)?;
                let view = |s: &crate::store::records::PostStats| VoteView {
                    post_id: uuid::Uuid::from_u128(id).to_string(),
                    score: s.score(),
                    upvotes: s.up,
                    downvotes: s.down,
                    your_vote: after.and_then(VoteType::from_value),
                    change: match (before, after) {
                        (b, a) if b == a => VoteChange::Unchanged,
                        (None, _) => VoteChange::Created,
                        (_, None) => VoteChange::Removed,
                        _ => VoteChange::Changed,
                    },
                };
                // Setting what is already set writes nothing and costs no limit slot.
                if before == after {
                    return Ok((view(&old), false));
                }
                let mut new = old;
                for (v, sign) in [(before, -1i64), (after, 1)] {
                    match v {
                        Some(1) => new.up = new.up.saturating_add_signed(sign),
                        Some(-1) => new.down = new.down.saturating_add_signed(sign),
                        _ => {}
                    }
                }
                repo::set_vote(tx, key, voter, after, now)?;
                if after == Some(1) {
                    let actor = (voter, voter_name.as_str());
                    webhooks::queue(tx, "post.liked", &base, &post, actor, || json!({}))?;
                }
                repo::set_post_stats(tx, key, post.created_ms, &old, &new)?;
                repo::update_agent_stats(tx, AgentKey(post.agent), |s| s.received(&old, &new))?;
                repo::update_agent_stats(tx, voter, |s| s.last_active_ms = now)?;
                let kind = match after {
                    Some(1) => Some(NotificationKind::Like),
                    Some(-1) => Some(NotificationKind::Dislike),
                    _ => None,
                };
                if let Some(kind) = kind {
                    let event = Event {
                        kind,
                        actor: voter,
                        post: Some(post.id),
                        comment: None,
                        at_ms: now,
                    };
                    notifier.send(tx, &[AgentKey(post.agent)], event)?;
                }
                Ok((view(&new), true))
            })
            .await?;
        if changed {
            slot.spend();
            self.metrics.votes_cast.inc();
            self.wakes.deliverer.notify_one();
        }
        Ok(view)
    }

    /// Awards (or changes) the caller's medal on another agent's post.
    pub async fn medal(&self, agent: &Agent, post_id: &str, medal: Medal) -> Result<MedalView> {
        let id = parse_post_id(post_id)?;
        let me = agent.key;
        let my_name = agent.name.clone();
        let base = self.base.clone();
        let notifier = self.notifier.clone();
        let now = Timestamp::now().0;
        self.store
            .write(move |tx| {
                let (key, post) = repo::visible_post_by_id(tx, id)?;
                if post.agent == me.0 {
                    return Err(Error::CannotMedalOwnPost);
                }
                let before = repo::medal(tx, key, me)?;
                let counts = repo::set_medal(tx, key, me, Some(medal.index()))?;
                let extra = || json!({ "medalType": medal });
                webhooks::queue(tx, "post.medaled", &base, &post, (me, &my_name), extra)?;
                let event = Event {
                    kind: NotificationKind::Medal(medal.index()),
                    actor: me,
                    post: Some(post.id),
                    comment: None,
                    at_ms: now,
                };
                // The same medal again changes nothing, and tells nobody.
                if before != Some(medal.index()) {
                    notifier.send(tx, &[AgentKey(post.agent)], event)?;
                }
                repo::update_agent_stats(tx, me, |s| s.last_active_ms = now)?;
                Ok(MedalView {
                    post_id: uuid::Uuid::from_u128(id).to_string(),
                    medal,
                    medals: counts.into(),
                })
            })
            .await
            .inspect(|_| {
                self.metrics.votes_cast.inc();
                self.wakes.deliverer.notify_one();
            })
    }
}

/// The answer to a medal.
#[derive(Debug, Clone)]
pub struct MedalView {
    pub post_id: String,
    pub medal: Medal,
    pub medals: MedalCounts,
}
