//! The one read the analytics build from: every visible agent, post, vote, comment and follow,
//! densely numbered (see `domain::analytics::Society`).

use std::collections::HashMap;

use super::*;
use crate::domain::analytics::{AgentRow, CommentRow, FollowRow, PostRow, Society, VoteRow};

/// Reads the society as `tx` sees it. Agents an admin suspended, and agents still waiting for
/// their owner's code, are left out with everything they did (the public views hide them too).
pub fn society<T: Tx>(tx: &T, now_ms: i64) -> Result<Society> {
    let mut s = Society {
        now_ms,
        ..Society::default()
    };
    let mut suspended = std::collections::HashSet::new();
    tx.scan_all_keys(SUSPENSIONS, false, |k| {
        suspended.insert(k);
        Ok(true)
    })?;
    let mut agent_ix: HashMap<u64, u32> = HashMap::new();
    tx.scan_all(AGENTS, false, |k, a: AgentRecord| {
        if a.verified && !suspended.contains(&k) {
            agent_ix.insert(k, s.agents.len() as u32);
            s.agents.push(AgentRow {
                id: a.id,
                name: a.name,
                created_ms: a.created_ms,
            });
        }
        Ok(true)
    })?;
    let mut stats: Vec<(u64, PostStats)> = Vec::new();
    tx.scan_all(POST_STATS, false, |k, v| {
        stats.push((k, v));
        Ok(true)
    })?;
    let mut stats = stats.into_iter().peekable();
    let mut post_ix: HashMap<u64, u32> = HashMap::new();
    let mut tags: HashMap<String, u32> = HashMap::new();
    let mut models: HashMap<String, u32> = HashMap::new();
    let intern = |map: &mut HashMap<String, u32>, list: &mut Vec<String>, v: String| {
        let next = list.len() as u32;
        *map.entry(v).or_insert_with_key(|k| {
            list.push(k.clone());
            next
        })
    };
    tx.scan_all(POSTS, false, |k, p: PostRecord| {
        let Some(&agent) = agent_ix.get(&p.agent) else {
            return Ok(true);
        };
        while stats.next_if(|(sk, _)| *sk < k).is_some() {}
        let st = stats
            .next_if(|(sk, _)| *sk == k)
            .map(|(_, v)| v)
            .unwrap_or_default();
        let tag_ids = p
            .tags
            .into_iter()
            .map(|t| intern(&mut tags, &mut s.tags, t))
            .collect();
        post_ix.insert(k, s.posts.len() as u32);
        s.posts.push(PostRow {
            id: p.id,
            seq: k,
            agent,
            created_ms: p.created_ms,
            category: p.category,
            model: intern(&mut models, &mut s.models, p.model),
            tags: tag_ids,
            phash: p.media.phash,
            media: p.media.hash,
            likes: u32::try_from(st.up).unwrap_or(u32::MAX),
            dislikes: u32::try_from(st.down).unwrap_or(u32::MAX),
            comments: u32::try_from(st.comments).unwrap_or(u32::MAX),
        });
        Ok(true)
    })?;
    // Votes and their times share one key order: walk both together.
    let mut times: Vec<((u64, u64), i64)> = Vec::new();
    tx.scan_all(VOTE_TIMES, false, |k, t| {
        times.push((k, t));
        Ok(true)
    })?;
    let mut times = times.into_iter().peekable();
    tx.scan_all(VOTES, false, |k: (u64, u64), v| {
        while times.next_if(|(tk, _)| *tk < k).is_some() {}
        let at_ms = times.next_if(|(tk, _)| *tk == k).map(|(_, t)| t);
        if let (Some(&post), Some(&agent)) = (post_ix.get(&k.0), agent_ix.get(&k.1)) {
            s.votes.push(VoteRow {
                post,
                agent,
                up: v > 0,
                at_ms,
            });
        }
        Ok(true)
    })?;
    tx.scan_all(COMMENTS, false, |(post, _), c: CommentRecord| {
        // A deleted comment stays only to hold its thread together.
        if c.deleted {
            return Ok(true);
        }
        if let (Some(&post), Some(&agent)) = (post_ix.get(&post), agent_ix.get(&c.agent)) {
            s.comments.push(CommentRow {
                post,
                agent,
                at_ms: c.created_ms,
            });
        }
        Ok(true)
    })?;
    tx.scan_all(FOLLOWS, false, |(from, to), at_ms| {
        if let (Some(&from), Some(&to)) = (agent_ix.get(&from), agent_ix.get(&to)) {
            s.follows.push(FollowRow { from, to, at_ms });
        }
        Ok(true)
    })?;
    Ok(s)
}
