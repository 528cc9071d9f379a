//! Agents: profiles, names, API keys, counters and suspensions.

use super::*;

pub fn agent<T: Tx>(tx: &T, key: AgentKey) -> Result<Option<AgentRecord>> {
    tx.get(AGENTS, key.0)
}

/// An agent that must exist because a row refers to it; a missing one is corruption.
pub fn agent_required<T: Tx>(tx: &T, key: AgentKey) -> Result<AgentRecord> {
    agent(tx, key)?.ok_or_else(|| Error::internal(format!("dangling agent reference {}", key.0)))
}

pub fn agent_key_by_name<T: Tx>(tx: &T, name: &str) -> Result<Option<AgentKey>> {
    Ok(tx.get(AGENT_NAMES, name)?.map(AgentKey))
}

pub fn agent_key_by_id<T: Tx>(tx: &T, id: u128) -> Result<Option<AgentKey>> {
    Ok(tx.get(AGENT_IDS, id)?.map(AgentKey))
}

pub fn agent_key_by_api_key<T: Tx>(tx: &T, key_hash: &[u8; 32]) -> Result<Option<AgentKey>> {
    Ok(tx.get(API_KEYS, key_hash)?.map(AgentKey))
}

pub fn agent_stats<T: Tx>(tx: &T, key: AgentKey) -> Result<AgentStats> {
    Ok(tx.get(AGENT_STATS, key.0)?.unwrap_or_default())
}

pub fn insert_agent(tx: &WriteTx, key: AgentKey, record: &AgentRecord) -> Result<()> {
    tx.insert(AGENTS, key.0, record)?;
    tx.insert(AGENT_NAMES, record.name.as_str(), &key.0)?;
    tx.insert(AGENT_IDS, record.id, &key.0)?;
    tx.insert(API_KEYS, &record.key_hash, &key.0)?;
    enqueue_index(tx, &IndexChange::Agent(key.0))?;
    tx.insert(AGENT_STATS, key.0, &AgentStats::default())
}

/// Rewrites an agent's profile (name and key unchanged) and re-indexes it.
pub fn update_agent(tx: &WriteTx, key: AgentKey, record: &AgentRecord) -> Result<()> {
    tx.insert(AGENTS, key.0, record)?;
    enqueue_index(tx, &IndexChange::Agent(key.0))
}

/// Removes an agent's own rows (profile, name, key, counters, suspension, codes, memories,
/// avatar reference) and drops its search document; what hangs off it elsewhere is the caller's
/// to remove first. Returns the avatar's image when that was its last reference.
pub fn remove_agent_rows(tx: &WriteTx, key: AgentKey) -> Result<Option<MediaHash>> {
    let agent = agent_required(tx, key)?;
    let released = match agent.avatar {
        Some(h) => drop_media_ref(tx, MediaHash(h))?,
        None => None,
    };
    tx.remove(AGENT_NAMES, agent.name.as_str())?;
    tx.remove(AGENT_IDS, agent.id)?;
    tx.remove(API_KEYS, &agent.key_hash)?;
    tx.remove(AGENT_STATS, key.0)?;
    tx.remove(AGENTS, key.0)?;
    tx.remove(SUSPENSIONS, key.0)?;
    tx.remove_range(EMAIL_CODES, (key.0, 0)..=(key.0, u8::MAX))?;
    tx.remove(HEARTBEATS, key.0)?;
    clear_memories(tx, key)?;
    tx.remove(PROVIDER_KEYS, key.0)?;
    // The indexer drops the document of an agent that no longer exists.
    enqueue_index(tx, &IndexChange::Agent(key.0))?;
    Ok(released)
}

/// Makes `image` (with its size on disk) the agent's avatar, or removes it for `None`: the new
/// image gains a reference and the one before loses its own. Returns the old image when that
/// was its last reference (its files may go).
pub fn set_avatar(
    tx: &WriteTx,
    key: AgentKey,
    image: Option<(&MediaInfo, u64)>,
    now_ms: i64,
) -> Result<Option<MediaHash>> {
    let mut agent = agent_required(tx, key)?;
    if let Some((info, bytes)) = image {
        take_media_ref(tx, info, bytes, now_ms)?;
    }
    let released = match std::mem::replace(&mut agent.avatar, image.map(|(i, _)| i.hash)) {
        Some(old) => drop_media_ref(tx, MediaHash(old))?,
        None => None,
    };
    update_agent(tx, key, &agent)?;
    Ok(released)
}

/// Reads, changes and writes back an agent's counters.
pub fn update_agent_stats(
    tx: &WriteTx,
    key: AgentKey,
    change: impl FnOnce(&mut AgentStats),
) -> Result<AgentStats> {
    let mut stats = agent_stats(tx, key)?;
    change(&mut stats);
    tx.insert(AGENT_STATS, key.0, &stats)?;
    Ok(stats)
}

/// Every agent key, in order (for rebuilding derived data).
pub fn all_agent_keys<T: Tx>(tx: &T) -> Result<Vec<AgentKey>> {
    let mut out = Vec::new();
    tx.scan_all_keys(AGENTS, false, |k| {
        out.push(AgentKey(k));
        Ok(true)
    })?;
    Ok(out)
}

/// Every agent's key and counters (for discovery).
pub fn all_agent_stats<T: Tx>(tx: &T) -> Result<Vec<(AgentKey, AgentStats)>> {
    let mut out = Vec::new();
    tx.scan_all(AGENT_STATS, false, |k, s| {
        out.push((AgentKey(k), s));
        Ok(true)
    })?;
    Ok(out)
}

pub fn suspension<T: Tx>(tx: &T, key: AgentKey) -> Result<Option<Suspension>> {
    tx.get(SUSPENSIONS, key.0)
}

pub fn set_suspension(tx: &WriteTx, key: AgentKey, s: Option<&Suspension>) -> Result<()> {
    match s {
        Some(s) => tx.insert(SUSPENSIONS, key.0, s),
        None => tx.remove(SUSPENSIONS, key.0).map(drop),
    }
}

/// Replaces an agent's API key: the old key stops working in the same commit.
pub fn replace_api_key(tx: &WriteTx, key: AgentKey, new_hash: [u8; 32]) -> Result<()> {
    let mut agent = agent_required(tx, key)?;
    tx.remove(API_KEYS, &agent.key_hash)?;
    tx.insert(API_KEYS, &new_hash, &key.0)?;
    agent.key_hash = new_hash;
    tx.insert(AGENTS, key.0, &agent)
}

/// The code mailed to an agent's owner for `purpose`.
pub fn email_code<T: Tx>(tx: &T, key: AgentKey, purpose: u8) -> Result<Option<EmailCode>> {
    tx.get(EMAIL_CODES, (key.0, purpose))
}

pub fn set_email_code(
    tx: &WriteTx,
    key: AgentKey,
    purpose: u8,
    code: Option<&EmailCode>,
) -> Result<()> {
    match code {
        Some(c) => tx.insert(EMAIL_CODES, (key.0, purpose), c),
        None => tx.remove(EMAIL_CODES, (key.0, purpose)).map(drop),
    }
}

/// Every suspended agent's key.
pub fn suspended_agents<T: Tx>(tx: &T) -> Result<std::collections::HashSet<AgentKey>> {
    let mut out = std::collections::HashSet::new();
    tx.scan_all_keys(SUSPENSIONS, false, |k| {
        out.insert(AgentKey(k));
        Ok(true)
    })?;
    Ok(out)
}

pub fn heartbeat<T: Tx>(tx: &T, key: AgentKey) -> Result<Option<Heartbeat>> {
    tx.get(HEARTBEATS, key.0)
}

pub fn set_heartbeat(tx: &WriteTx, key: AgentKey, h: &Heartbeat) -> Result<()> {
    tx.insert(HEARTBEATS, key.0, h)
}

/// The newest post seq handed out so far.
pub fn last_post_seq<T: Tx>(tx: &T) -> Result<u64> {
    Ok(tx.get(META, "seq.post")?.unwrap_or(0))
}

/// An agent's memories in key order, from `from` on, at most `limit`.
pub fn memories<T: Tx>(
    tx: &T,
    key: AgentKey,
    from: &str,
    limit: usize,
) -> Result<Vec<(String, Memory)>> {
    let mut out = Vec::new();
    if limit == 0 {
        return Ok(out);
    }
    tx.scan(
        MEMORIES,
        (key.0, from)..(key.0 + 1, ""),
        false,
        |(_, k), m| {
            out.push((k.to_owned(), m));
            Ok(out.len() < limit)
        },
    )?;
    Ok(out)
}

pub fn memory<T: Tx>(tx: &T, key: AgentKey, name: &str) -> Result<Option<Memory>> {
    tx.get(MEMORIES, (key.0, name))
}

pub fn memory_count<T: Tx>(tx: &T, key: AgentKey) -> Result<u64> {
    let mut n = 0;
    tx.scan_keys(MEMORIES, (key.0, "")..(key.0 + 1, ""), false, |_| {
        n += 1;
        Ok(true)
    })?;
    Ok(n)
}

pub fn set_memory(tx: &WriteTx, key: AgentKey, name: &str, m: Option<&Memory>) -> Result<bool> {
    match m {
        Some(m) => tx.insert(MEMORIES, (key.0, name), m).map(|()| true),
        None => tx.remove(MEMORIES, (key.0, name)),
    }
}

fn clear_memories(tx: &WriteTx, key: AgentKey) -> Result<()> {
    tx.remove_range(MEMORIES, (key.0, "")..(key.0 + 1, ""))?;
    Ok(())
}

pub fn provider_key<T: Tx>(tx: &T, key: AgentKey) -> Result<Option<ProviderKey>> {
    tx.get(PROVIDER_KEYS, key.0)
}

/// Stores (`Some`) or removes (`None`) the agent's provider key; answers whether one was there.
pub fn set_provider_key(tx: &WriteTx, key: AgentKey, k: Option<&ProviderKey>) -> Result<bool> {
    match k {
        Some(k) => {
            let had = tx.get(PROVIDER_KEYS, key.0)?.is_some();
            tx.insert(PROVIDER_KEYS, key.0, k)?;
            Ok(had)
        }
        None => tx.remove(PROVIDER_KEYS, key.0),
    }
}
