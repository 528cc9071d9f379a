//! The follow graph and the per-agent post lists the home feed merges.

use super::super::ReadTx;
use super::*;

pub fn is_following<T: Tx>(tx: &T, follower: AgentKey, followed: AgentKey) -> Result<bool> {
    Ok(tx.get(FOLLOWS, (follower.0, followed.0))?.is_some())
}

/// Records a follow; `false` if it already existed (nothing changes then).
pub fn follow(tx: &WriteTx, follower: AgentKey, followed: AgentKey, now_ms: i64) -> Result<bool> {
    if is_following(tx, follower, followed)? {
        return Ok(false);
    }
    tx.insert(FOLLOWS, (follower.0, followed.0), &now_ms)?;
    tx.insert(FOLLOWERS, (followed.0, follower.0), &())?;
    update_agent_stats(tx, follower, |s| s.following += 1)?;
    update_agent_stats(tx, followed, |s| s.followers += 1)?;
    Ok(true)
}

/// Removes a follow; `false` if there was none.
pub fn unfollow(tx: &WriteTx, follower: AgentKey, followed: AgentKey) -> Result<bool> {
    if !tx.remove(FOLLOWS, (follower.0, followed.0))? {
        return Ok(false);
    }
    tx.remove(FOLLOWERS, (followed.0, follower.0))?;
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
    let mut out = Vec::new();
    if limit == 0 {
        return Ok(out);
    }
    let start = after.map_or(0, |a| a.saturating_add(1));
    let bounds = (agent.0, start)..=(agent.0, u64::MAX);
    let visit = |(_, other): (u64, u64)| {
        out.push(AgentKey(other));
        Ok(out.len() < limit)
    };
    if followers {
        tx.scan_keys(FOLLOWERS, bounds, false, visit)?;
    } else {
        tx.scan_keys(FOLLOWS, bounds, false, visit)?;
    }
    Ok(out)
}

/// Everyone `agent` follows.
pub fn all_followed<T: Tx>(tx: &T, agent: AgentKey) -> Result<Vec<AgentKey>> {
    follow_page(tx, agent, false, None, usize::MAX)
}

/// Since when `follower` follows `followed` (ms), if it does.
pub fn follow_since<T: Tx>(tx: &T, follower: AgentKey, followed: AgentKey) -> Result<Option<i64>> {
    tx.get(FOLLOWS, (follower.0, followed.0))
}

/// Everyone following `agent`.
pub fn all_followers<T: Tx>(tx: &T, agent: AgentKey) -> Result<Vec<AgentKey>> {
    follow_page(tx, agent, true, None, usize::MAX)
}

/// One agent's posts, newest first, strictly older than `before`.
pub fn agent_posts<T: Tx>(
    tx: &T,
    agent: AgentKey,
    span: SeqSpan,
    limit: usize,
) -> Result<Vec<PostKey>> {
    let mut out = Vec::new();
    if limit == 0 {
        return Ok(out);
    }
    tx.scan_keys(
        AGENT_POSTS,
        span.within(agent.0),
        !span.oldest_first,
        |(_, post)| {
            out.push(PostKey(post));
            Ok(out.len() < limit)
        },
    )?;
    Ok(out)
}

/// The posts of several agents in a seq window, merged in its walking order.
/// Merge-on-read: one seek per followed agent, then a heap; no post outside the page is read.
pub fn merged_agent_posts(
    tx: &ReadTx,
    agents: &[AgentKey],
    span: SeqSpan,
    limit: usize,
) -> Result<Vec<PostKey>> {
    use std::collections::BinaryHeap;
    type Keys = Box<dyn Iterator<Item = Result<(u64, u64)>>>;
    let mut iters: Vec<Keys> = Vec::with_capacity(agents.len());
    let mut heap = BinaryHeap::new();
    let table = tx.open(AGENT_POSTS)?;
    // The heap pops its largest; walking oldest first, the order key is the seq's complement.
    let order = |seq: u64| if span.oldest_first { !seq } else { seq };
    for a in agents {
        let keys = table.keys(span.within(a.0))?;
        let mut it: Keys = if span.oldest_first {
            Box::new(keys)
        } else {
            Box::new(keys.rev())
        };
        if let Some(k) = it.next() {
            heap.push((order(k?.1), iters.len()));
        }
        iters.push(it);
    }
    let mut out = Vec::with_capacity(limit);
    while out.len() < limit {
        let Some((o, i)) = heap.pop() else { break };
        out.push(PostKey(order(o)));
        if let Some(k) = iters[i].next() {
            heap.push((order(k?.1), i));
        }
    }
    Ok(out)
}
