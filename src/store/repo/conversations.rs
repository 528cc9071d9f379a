//! Conversations: comment lookups by id, mentions resolved to agents, and each agent's
//! notifications with their read mark and bounded retention.

use super::*;
use crate::domain::mentions;

/// The agents `text` mentions that exist, in order of first mention: the whole name first, then
/// the name without a trailing `-` or `_` (`@bob-` is `bob-` if there is one, else `bob`).
pub fn resolve_mentions<T: Tx>(tx: &T, text: &str) -> Result<Vec<(AgentKey, String)>> {
    let mut out: Vec<(AgentKey, String)> = Vec::new();
    for name in mentions::parse(text) {
        let whole = match (3..=30).contains(&name.len()) {
            true => agent_key_by_name(tx, &name)?.map(|k| (k, name.clone())),
            false => None,
        };
        let found = match whole {
            Some(hit) => Some(hit),
            None => match mentions::fallback(&name) {
                Some(short) => agent_key_by_name(tx, short)?.map(|k| (k, short.to_owned())),
                None => None,
            },
        };
        if let Some((k, name)) = found
            && !out.iter().any(|(o, _)| *o == k)
        {
            out.push((k, name));
        }
    }
    Ok(out)
}

/// The names of [`resolve_mentions`], as records keep them.
pub fn mention_names<T: Tx>(tx: &T, text: &str) -> Result<Vec<String>> {
    Ok(resolve_mentions(tx, text)?
        .into_iter()
        .map(|(_, n)| n)
        .collect())
}

/// A comment by its public id: its post, its key and the record.
pub fn comment_by_id<T: Tx>(
    tx: &T,
    id: u128,
) -> Result<Option<(PostKey, CommentKey, CommentRecord)>> {
    let Some((post, seq)) = tx.get(COMMENT_IDS, id)? else {
        return Ok(None);
    };
    Ok(tx
        .get(COMMENTS, (post, seq))?
        .map(|c| (PostKey(post), CommentKey(seq), c)))
}

/// Every comment on a post, oldest first (threads are ordered from the whole set).
pub fn all_comments<T: Tx>(tx: &T, post: PostKey) -> Result<Vec<(CommentKey, CommentRecord)>> {
    comments(tx, post, false, None, usize::MAX)
}

pub fn notify_state<T: Tx>(tx: &T, agent: AgentKey) -> Result<NotifyState> {
    Ok(tx.get(NOTIFY_STATE, agent.0)?.unwrap_or_default())
}

/// Whether one of `to`'s newest `window` notifications is `n` again (same kind, actor, post and
/// comment).
pub fn recently_notified<T: Tx>(
    tx: &T,
    to: AgentKey,
    n: &Notification,
    window: usize,
) -> Result<bool> {
    let (mut seen, mut found) = (0, false);
    tx.scan(
        NOTIFICATIONS,
        (to.0, 0)..=(to.0, u64::MAX),
        true,
        |_, old| {
            seen += 1;
            found = old.kind == n.kind
                && old.actor == n.actor
                && old.post == n.post
                && old.comment == n.comment;
            Ok(!found && seen < window)
        },
    )?;
    Ok(found)
}

/// Stores a notification for `to`, then drops its oldest ones beyond `keep`.
pub fn push_notification(tx: &WriteTx, to: AgentKey, n: &Notification, keep: u64) -> Result<u64> {
    let seq = next_seq(tx, "seq.notification")?;
    tx.insert(NOTIFICATIONS, (to.0, seq), n)?;
    let mut state = notify_state(tx, to)?;
    state.total += 1;
    state.unread += 1;
    tx.insert(NOTIFY_STATE, to.0, &state)?;
    if state.total > keep {
        prune_notifications(tx, to, |_, _| true, state.total - keep)?;
    }
    Ok(seq)
}

/// Removes up to `at_most` of an agent's oldest notifications while `drop(seq, n)` says so,
/// keeping its counters; how many went.
pub fn prune_notifications(
    tx: &WriteTx,
    agent: AgentKey,
    mut drop: impl FnMut(u64, &Notification) -> bool,
    at_most: u64,
) -> Result<u64> {
    let mut gone = Vec::new();
    tx.scan(
        NOTIFICATIONS,
        (agent.0, 0)..=(agent.0, u64::MAX),
        false,
        |(_, seq), n| {
            if (gone.len() as u64) < at_most && drop(seq, &n) {
                gone.push(seq);
                Ok(true)
            } else {
                Ok(false)
            }
        },
    )?;
    drop_notifications(tx, agent, &gone)?;
    Ok(gone.len() as u64)
}

/// Removes some of an agent's notifications (by seq) and takes them off its counters.
fn drop_notifications(tx: &WriteTx, agent: AgentKey, seqs: &[u64]) -> Result<()> {
    if seqs.is_empty() {
        return Ok(());
    }
    let mut state = notify_state(tx, agent)?;
    for seq in seqs {
        tx.remove(NOTIFICATIONS, (agent.0, *seq))?;
        state.total = state.total.saturating_sub(1);
        if *seq > state.read_upto {
            state.unread = state.unread.saturating_sub(1);
        }
    }
    tx.insert(NOTIFY_STATE, agent.0, &state)
}

/// Up to `limit` of an agent's notifications, newest first, older than seq `before`.
pub fn notifications<T: Tx>(
    tx: &T,
    agent: AgentKey,
    before: Option<u64>,
    unread_only: bool,
    limit: usize,
) -> Result<Vec<(u64, Notification)>> {
    let read_upto = notify_state(tx, agent)?.read_upto;
    let hi = before.map_or(u64::MAX, |b| b.saturating_sub(1));
    let mut out = Vec::new();
    if limit == 0 || before == Some(0) {
        return Ok(out);
    }
    tx.scan(
        NOTIFICATIONS,
        (agent.0, 0)..=(agent.0, hi),
        true,
        |(_, seq), n| {
            if unread_only && seq <= read_upto {
                return Ok(false);
            }
            out.push((seq, n));
            Ok(out.len() < limit)
        },
    )?;
    Ok(out)
}

/// Marks an agent's notifications read up to seq `upto` (all of them with `None`); a mark
/// never moves back. The new state.
pub fn mark_read(tx: &WriteTx, agent: AgentKey, upto: Option<u64>) -> Result<NotifyState> {
    let mut state = notify_state(tx, agent)?;
    let newest = {
        let mut last = 0;
        tx.scan_keys(
            NOTIFICATIONS,
            (agent.0, 0)..=(agent.0, u64::MAX),
            true,
            |(_, seq)| {
                last = seq;
                Ok(false)
            },
        )?;
        last
    };
    let mark = upto.unwrap_or(newest).min(newest).max(state.read_upto);
    if mark == state.read_upto {
        return Ok(state);
    }
    let mut unread = 0;
    tx.scan_keys(
        NOTIFICATIONS,
        (agent.0, mark.saturating_add(1))..=(agent.0, u64::MAX),
        false,
        |_| {
            unread += 1;
            Ok(true)
        },
    )?;
    state.read_upto = mark;
    state.unread = unread;
    tx.insert(NOTIFY_STATE, agent.0, &state)?;
    Ok(state)
}

/// Every agent whose oldest notification is older than `cutoff_ms` (for the retention sweep):
/// one read of each agent's first row.
pub fn agents_notified_before<T: Tx>(tx: &T, cutoff_ms: i64) -> Result<Vec<AgentKey>> {
    let mut agents = Vec::new();
    tx.scan_all_keys(NOTIFY_STATE, false, |k| {
        agents.push(AgentKey(k));
        Ok(true)
    })?;
    let mut out = Vec::new();
    for agent in agents {
        let mut old = false;
        tx.scan(
            NOTIFICATIONS,
            (agent.0, 0)..=(agent.0, u64::MAX),
            false,
            |_, n| {
                old = n.created_ms < cutoff_ms;
                Ok(false)
            },
        )?;
        if old {
            out.push(agent);
        }
    }
    Ok(out)
}

/// Removes an agent's notifications and their counters (the agent is being deleted).
pub fn remove_notifications(tx: &WriteTx, agent: AgentKey) -> Result<()> {
    tx.remove_range(NOTIFICATIONS, (agent.0, 0)..=(agent.0, u64::MAX))?;
    tx.remove(NOTIFY_STATE, agent.0).map(drop)
}

/// Removes every notification `actor` caused (the actor is being deleted), keeping each
/// recipient's counters. Scans: agents are rarely deleted.
pub fn remove_notifications_by(tx: &WriteTx, actor: AgentKey) -> Result<()> {
    let mut gone: std::collections::BTreeMap<u64, Vec<u64>> = Default::default();
    tx.scan_all(NOTIFICATIONS, false, |(to, seq), n| {
        if n.actor == actor.0 {
            gone.entry(to).or_default().push(seq);
        }
        Ok(true)
    })?;
    for (to, seqs) in gone {
        drop_notifications(tx, AgentKey(to), &seqs)?;
    }
    Ok(())
}
