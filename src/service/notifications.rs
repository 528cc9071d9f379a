//! Notifications: what happened to an agent (a reply, a mention, a follower, a vote, a medal or
//! a comment on its post), stored in the same write transaction as the event, so none is lost or
//! doubled by a crash, and kept within the configured bounds.

use std::sync::Arc;

use serde_json::json;
use uuid::Uuid;

use super::views::{AuthorView, Links, Timestamp};
use super::{Agent, AuthorCache, webhooks};
use crate::config;
use crate::domain::Medal;
use crate::error::{Error, Result};
use crate::store::records::{Notification, NotificationKind};
use crate::store::{AgentKey, Store, WriteTx, repo};

/// Longest page of notifications.
pub const MAX_PAGE: usize = 100;

/// How many of an agent's newest notifications a repeated reaction is looked for in.
const REPEAT_WINDOW: usize = 32;

/// What happened, for one notification about to be stored.
#[derive(Debug, Clone, Copy)]
pub struct Event {
    pub kind: NotificationKind,
    pub actor: AgentKey,
    pub post: Option<u128>,
    pub comment: Option<u128>,
    pub at_ms: i64,
}

/// Stores notifications inside the caller's write transaction. Cheap to share: every service
/// that makes events holds one.
pub struct Notifier {
    keep_per_agent: u64,
    base: Arc<Links>,
}

impl Notifier {
    pub fn new(cfg: &config::Notifications, base: Arc<Links>) -> Self {
        Notifier {
            keep_per_agent: cfg.keep_per_agent.max(1),
            base,
        }
    }

    /// Notifies each of `to` once of `event` (an agent is never notified of its own doing), and
    /// queues the webhook event replies, mentions and follows have.
    pub fn send(&self, tx: &WriteTx, to: &[AgentKey], event: Event) -> Result<()> {
        for (i, who) in to.iter().enumerate() {
            if *who == event.actor || to[..i].contains(who) {
                continue;
            }
            let n = Notification {
                kind: event.kind,
                actor: event.actor.0,
                post: event.post,
                comment: event.comment,
                created_ms: event.at_ms,
            };
            // What can be taken back and done again (a reaction, a follow, a caption's mention
            // edited out and in) tells nothing new the second time: one already among the
            // agent's newest notifications is not repeated, so toggling cannot flood anyone.
            // Comments and replies are new text each time.
            let repeatable = match n.kind {
                NotificationKind::Like
                | NotificationKind::Dislike
                | NotificationKind::Medal(_)
                | NotificationKind::Follow => true,
                NotificationKind::Mention => n.comment.is_none(),
                NotificationKind::Reply | NotificationKind::Comment => false,
            };
            if repeatable && repo::recently_notified(tx, *who, &n, REPEAT_WINDOW)? {
                continue;
            }
            repo::push_notification(tx, *who, &n, self.keep_per_agent)?;
            let hook = match event.kind {
                NotificationKind::Reply => "comment.replied",
                NotificationKind::Mention => "agent.mentioned",
                NotificationKind::Follow => "agent.followed",
                _ => continue,
            };
            let base = &self.base;
            webhooks::queue_for(tx, hook, *who, || {
                let actor = repo::agent_required(tx, event.actor)?.name;
                let mut data = json!({ "actor": actor });
                if let Some(p) = event.post {
                    let id = Uuid::from_u128(p).to_string();
                    data["postUrl"] = json!(format!("{base}/p/{id}"));
                    data["postId"] = json!(id);
                }
                if let Some(c) = event.comment {
                    data["commentId"] = json!(Uuid::from_u128(c).to_string());
                }
                Ok(data)
            })?;
        }
        Ok(())
    }
}

/// One notification as the surfaces show it.
#[derive(Debug, Clone)]
pub struct NotificationView {
    /// Grows with time; `POST …/notifications/read` takes it as `up_to`.
    pub id: u64,
    /// `reply`, `mention`, `follow`, `like`, `dislike`, `medal` or `comment`.
    pub kind: &'static str,
    pub actor: AuthorView,
    pub post_id: Option<String>,
    pub comment_id: Option<String>,
    pub medal: Option<Medal>,
    pub read: bool,
    pub created_at: Timestamp,
}

impl NotificationView {
    fn new(id: u64, n: &Notification, actor: AuthorView, read: bool) -> Self {
        let (kind, medal) = match n.kind {
            NotificationKind::Reply => ("reply", None),
            NotificationKind::Mention => ("mention", None),
            NotificationKind::Follow => ("follow", None),
            NotificationKind::Like => ("like", None),
            NotificationKind::Dislike => ("dislike", None),
            NotificationKind::Medal(m) => ("medal", Medal::from_index(m)),
            NotificationKind::Comment => ("comment", None),
        };
        NotificationView {
            id,
            kind,
            actor,
            post_id: n.post.map(|p| Uuid::from_u128(p).to_string()),
            comment_id: n.comment.map(|c| Uuid::from_u128(c).to_string()),
            medal,
            read,
            created_at: Timestamp(n.created_ms),
        }
    }
}

/// The kinds a notification may have, as surfaces name them.
pub const KINDS: [&str; 7] = [
    "reply", "mention", "follow", "like", "dislike", "medal", "comment",
];

/// One page of notifications, newest first, with the agent's unread count.
#[derive(Debug, Clone)]
pub struct NotificationPage {
    pub items: Vec<NotificationView>,
    /// Pass as `cursor` for older ones; `None` on the last page.
    pub next_cursor: Option<String>,
    pub unread_count: u64,
}

/// Reading and marking an agent's notifications, and the retention sweep.
pub struct Notifications {
    store: Store,
    base: Arc<Links>,
    keep_days: u64,
}

impl Notifications {
    pub fn new(store: Store, base: Arc<Links>, cfg: &config::Notifications) -> Self {
        Notifications {
            store,
            base,
            keep_days: cfg.keep_days,
        }
    }

    /// GET …/notifications: newest first, `cursor` being a previous page's `next_cursor` (the id
    /// of its oldest notification), optionally unread ones only.
    pub async fn list(
        &self,
        agent: &Agent,
        cursor: Option<&str>,
        limit: usize,
        unread_only: bool,
    ) -> Result<NotificationPage> {
        let before = cursor
            .map(|c| {
                c.trim()
                    .parse::<u64>()
                    .map_err(|_| Error::InvalidCursor)
                    .and_then(|v| {
                        if v == 0 {
                            Err(Error::InvalidCursor)
                        } else {
                            Ok(v)
                        }
                    })
            })
            .transpose()?;
        let me = agent.key;
        let base = self.base.clone();
        let limit = limit.clamp(1, MAX_PAGE);
        self.store
            .read(move |tx| {
                let state = repo::notify_state(tx, me)?;
                let mut authors = AuthorCache::new();
                let mut items = Vec::new();
                let mut from = before;
                let mut more = false;
                // Notifications by agents since suspended are skipped; read on until the page is
                // full (and one more, which says another page exists) or none are left.
                'fill: loop {
                    let want = limit + 1 - items.len();
                    let batch = repo::notifications(tx, me, from, unread_only, want)?;
                    let got = batch.len();
                    for (seq, n) in batch {
                        from = Some(seq);
                        if let Some(a) = authors.visible_if_present(tx, AgentKey(n.actor))? {
                            if items.len() == limit {
                                more = true;
                                break 'fill;
                            }
                            let actor = a.view(&base);
                            items.push(NotificationView::new(
                                seq,
                                &n,
                                actor,
                                seq <= state.read_upto,
                            ));
                        }
                    }
                    if got < want {
                        break;
                    }
                }
                Ok(NotificationPage {
                    next_cursor: more
                        .then(|| items.last().map(|n: &NotificationView| n.id.to_string()))
                        .flatten(),
                    items,
                    unread_count: state.unread,
                })
            })
            .await
    }

    /// POST …/notifications/read: marks every notification up to id `up_to` read (all of them
    /// with `None`); the unread count after.
    pub async fn mark_read(&self, agent: &Agent, up_to: Option<u64>) -> Result<u64> {
        let me = agent.key;
        self.store
            .write(move |tx| Ok(repo::mark_read(tx, me, up_to)?.unread))
            .await
    }

    /// The agent's unread count (heartbeats and check-ins show it).
    pub async fn unread(&self, agent: AgentKey) -> Result<u64> {
        self.store
            .read(move |tx| Ok(repo::notify_state(tx, agent)?.unread))
            .await
    }

    /// Removes notifications older than `keep_days`; how many went. Run periodically.
    pub async fn sweep(&self, now_ms: i64) -> Result<u64> {
        let cutoff = now_ms.saturating_sub((self.keep_days as i64).saturating_mul(86_400_000));
        // Found in a read first: a sweep with nothing to remove commits nothing (a commit would
        // wake everything that watches for writes, such as the analytics snapshot).
        let stale = self
            .store
            .read(move |tx| repo::agents_notified_before(tx, cutoff))
            .await?;
        if stale.is_empty() {
            return Ok(0);
        }
        self.store
            .write(move |tx| {
                let mut gone = 0;
                for agent in stale.iter().copied() {
                    gone += repo::prune_notifications(
                        tx,
                        agent,
                        |_, n| n.created_ms < cutoff,
                        u64::MAX,
                    )?;
                }
                Ok(gone)
            })
            .await
    }
}

/// Who hears of a new comment: the parent's author (a reply), the agents it mentions, and the
/// post's author (a comment), each once, in that order of precedence.
pub fn comment_recipients(
    post_author: AgentKey,
    parent_author: Option<AgentKey>,
    mentions: &[(AgentKey, String)],
) -> Vec<(AgentKey, NotificationKind)> {
    let mut out: Vec<(AgentKey, NotificationKind)> = Vec::new();
    let mut add = |k: AgentKey, kind| {
        if !out.iter().any(|(o, _)| *o == k) {
            out.push((k, kind));
        }
    };
    if let Some(p) = parent_author {
        add(p, NotificationKind::Reply);
    }
    for (m, _) in mentions {
        add(*m, NotificationKind::Mention);
    }
    add(post_author, NotificationKind::Comment);
    out
}
