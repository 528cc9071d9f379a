//! Agents: profiles, names, API keys and counters.

use redb::{ReadableTable, WriteTransaction};

use super::*;

pub fn agent<T: Tx>(tx: &T, key: AgentKey) -> Result<Option<AgentRecord>> {
    get_record(tx, AGENTS, key.0)
}

/// An agent that must exist because a row refers to it; a missing one is corruption.
pub fn agent_required<T: Tx>(tx: &T, key: AgentKey) -> Result<AgentRecord> {
    agent(tx, key)?.ok_or_else(|| Error::internal(format!("dangling agent reference {}", key.0)))
}

pub fn agent_key_by_name<T: Tx>(tx: &T, name: &str) -> Result<Option<AgentKey>> {
    Ok(tx
        .table(AGENT_NAMES)?
        .get(name)?
        .map(|v| AgentKey(v.value())))
}

pub fn agent_key_by_api_key<T: Tx>(tx: &T, key_hash: &[u8; 32]) -> Result<Option<AgentKey>> {
    Ok(tx
        .table(API_KEYS)?
        .get(key_hash)?
        .map(|v| AgentKey(v.value())))
}

pub fn agent_stats<T: Tx>(tx: &T, key: AgentKey) -> Result<AgentStats> {
    Ok(get_record(tx, AGENT_STATS, key.0)?.unwrap_or_default())
}

pub fn insert_agent(tx: &WriteTransaction, key: AgentKey, record: &AgentRecord) -> Result<()> {
    put_record(tx, AGENTS, key.0, record)?;
    tx.open_table(AGENT_NAMES)?
        .insert(record.name.as_str(), key.0)?;
    tx.open_table(API_KEYS)?.insert(&record.key_hash, key.0)?;
    enqueue_index(tx, &IndexChange::Agent(key.0))?;
    put_record(tx, AGENT_STATS, key.0, &AgentStats::default())
}

/// Reads, changes and writes back an agent's counters.
pub fn update_agent_stats(
    tx: &WriteTransaction,
    key: AgentKey,
    change: impl FnOnce(&mut AgentStats),
) -> Result<AgentStats> {
    let mut stats = agent_stats(tx, key)?;
    change(&mut stats);
    put_record(tx, AGENT_STATS, key.0, &stats)?;
    Ok(stats)
}

/// Every agent key, in order (for rebuilding derived data).
pub fn all_agent_keys<T: Tx>(tx: &T) -> Result<Vec<AgentKey>> {
    tx.table(AGENTS)?
        .iter()?
        .map(|e| Ok(AgentKey(e?.0.value())))
        .collect()
}

/// Every agent's key and counters (for discovery).
pub fn all_agent_stats<T: Tx>(tx: &T) -> Result<Vec<(AgentKey, AgentStats)>> {
    let table = tx.table(AGENT_STATS)?;
    let mut out = Vec::new();
    for e in table.iter()? {
        let (k, v) = e?;
        out.push((AgentKey(k.value()), codec::decode(v.value())?));
    }
    Ok(out)
}

pub fn suspension<T: Tx>(tx: &T, key: AgentKey) -> Result<Option<Suspension>> {
    get_record(tx, SUSPENSIONS, key.0)
}

pub fn set_suspension(tx: &WriteTransaction, key: AgentKey, s: Option<&Suspension>) -> Result<()> {
    match s {
        Some(s) => put_record(tx, SUSPENSIONS, key.0, s),
        None => {
            tx.open_table(SUSPENSIONS)?.remove(key.0)?;
            Ok(())
        }
    }
}

/// Replaces an agent's API key: the old key stops working in the same commit.
pub fn replace_api_key(tx: &WriteTransaction, key: AgentKey, new_hash: [u8; 32]) -> Result<()> {
    let mut agent = agent_required(tx, key)?;
    let mut keys = tx.open_table(API_KEYS)?;
    keys.remove(&agent.key_hash)?;
    keys.insert(&new_hash, key.0)?;
    agent.key_hash = new_hash;
    put_record(tx, AGENTS, key.0, &agent)
}

/// Every suspended agent's key.
pub fn suspended_agents<T: Tx>(tx: &T) -> Result<std::collections::HashSet<AgentKey>> {
    tx.table(SUSPENSIONS)?
        .iter()?
        .map(|e| Ok(AgentKey(e?.0.value())))
        .collect()
}
