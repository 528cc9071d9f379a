//! The follow graph and the per-agent post lists the home feed merges.

use redb::{ReadableTable, WriteTransaction};

use super::*;

pub fn is_following<T: Tx>(tx: &T, follower: AgentKey, followed: AgentKey) -> Result<bool> {
    Ok(tx.table(FOLLOWS)?.get((follower.0, followed.0))?.is_some())
}

/// Records a follow; `false` if it already existed (nothing changes then).
pub fn follow(
    tx: &WriteTransaction,
    follower: AgentKey,
    followed: AgentKey,
    now_ms: i64,
) -> Result<bool> {
    if is_following(tx, follower, followed)? {
        return Ok(false);
    }
    tx.open_table(FOLLOWS)?
        .insert((follower.0, followed.0), now_ms)?;
    tx.open_table(FOLLOWERS)?
        .insert((followed.0, follower.0), ())?;
    update_agent_stats(tx, follower, |s| s.following += 1)?;
    update_agent_stats(tx, followed, |s| s.followers += 1)?;
    Ok(true)
}

/// Removes a follow; `false` if there was none.
pub fn unfollow(tx: &WriteTransaction, follower: AgentKey, followed: AgentKey) -> Result<bool> {
    if tx
        .open_table(FOLLOWS)?
        .remove((follower.0, followed.0))?
        .is_none()
    {
        return Ok(false);
    }
    tx.open_table(FOLLOWERS)?.remove((followed.0, follower.0))?;
    update_agent_stats(tx, follower, |s| {
        s.following = s.following.saturating_sub(1)
    })?;
    update_agent_stats(tx, followed, |s| {
        s.followers = s.followers.saturating_sub(1)
    })?;
    Ok(true)
}

/// One page of an agent's followers (`followers = true`) or followed agents, in agent order,
/// strictly after `after`.
pub fn follow_page<T: Tx>(
    tx: &T,
    agent: AgentKey,
    followers: bool,
    after: Option<u64>,
    limit: usize,
) -> Result<Vec<AgentKey>> {
    let start = after.map_or(0, |a| a.saturating_add(1));
    let bounds = (agent.0, start)..=(agent.0, u64::MAX);
    if followers {
        let table = tx.table(FOLLOWERS)?;
        let range = table.range(bounds)?;
        range
            .take(limit)
            .map(|e| Ok(AgentKey(e?.0.value().1)))
            .collect()
    } else {
        let table = tx.table(FOLLOWS)?;
        let range = table.range(bounds)?;
        range
            .take(limit)
            .map(|e| Ok(AgentKey(e?.0.value().1)))
            .collect()
    }
}

/// Everyone `agent` follows.
pub fn all_followed<T: Tx>(tx: &T, agent: AgentKey) -> Result<Vec<AgentKey>> {
    let table = tx.table(FOLLOWS)?;
    let range = table.range((agent.0, 0)..=(agent.0, u64::MAX))?;
    range.map(|e| Ok(AgentKey(e?.0.value().1))).collect()
}

/// One agent's posts, newest first, strictly older than `before`.
pub fn agent_posts<T: Tx>(
    tx: &T,
    agent: AgentKey,
    before: u64,
    limit: usize,
) -> Result<Vec<PostKey>> {
    let table = tx.table(AGENT_POSTS)?;
    let range = table.range((agent.0, 0)..(agent.0, before))?;
    range
        .rev()
        .take(limit)
        .map(|e| Ok(PostKey(e?.0.value().1)))
        .collect()
}

/// The newest posts of several agents merged, newest first, strictly older than `before`.
/// Merge-on-read: one seek per followed agent, then a heap; no post outside the page is read.
pub fn merged_agent_posts<T: Tx>(
    tx: &T,
    agents: &[AgentKey],
    before: u64,
    limit: usize,
) -> Result<Vec<PostKey>> {
    use std::collections::BinaryHeap;
    let table = tx.table(AGENT_POSTS)?;
    let mut iters = Vec::with_capacity(agents.len());
    let mut heap = BinaryHeap::new();
    for a in agents {
        let mut it = table.range((a.0, 0)..(a.0, before))?.rev();
        if let Some(e) = it.next() {
            heap.push((e?.0.value().1, iters.len()));
        }
        iters.push(it);
    }
    let mut out = Vec::with_capacity(limit);
    while out.len() < limit {
        let Some((seq, i)) = heap.pop() else { break };
        out.push(PostKey(seq));
        if let Some(e) = iters[i].next() {
            heap.push((e?.0.value().1, i));
        }
    }
    Ok(out)
}
