//! The schema version kept in the `meta` table, and the stepwise migrations between versions.
//! A database written by a newer binary refuses to open rather than being misread.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::OpenError;
use super::engine::{Db, Record, Table, Tx, WriteTx};
use super::records::{AgentRecord, AgentStats};
use super::tables::*;
use crate::error::Result;

/// The layout this binary reads and writes.
pub const SCHEMA_VERSION: u64 = 3;

/// Creates every table on a new database, checks the version of an existing one, and runs the
/// migrations from its version up to [`SCHEMA_VERSION`] in one transaction.
pub(super) fn run(db: &Db, data_dir: &Path) -> Result<(), OpenError> {
    let other = |e: &crate::error::Error| OpenError::Other {
        path: data_dir.to_owned(),
        cause: crate::error::Chain(e).to_string(),
    };
    let tx = db.begin_write().map_err(|e| other(&e))?;
    {
        tx.create(META).map_err(|e| other(&e))?;
        let found = tx.get(META, "schema_version").map_err(|e| other(&e))?;
        match found {
            Some(v) if v > SCHEMA_VERSION => {
                return Err(OpenError::TooNew {
                    path: data_dir.to_owned(),
                    found: v,
                    supported: SCHEMA_VERSION,
                });
            }
            // Version 2 added the `suspensions`, `medals`, `post_medals`, `scheduled`,
            // `schedule_due` and four webhook tables, which the `create!` below makes; the
            // agent layout of versions 1 and 2 is the same, so both take the step to 3. Each
            // step runs in this one transaction: a crash leaves the old version whole.
            Some(1 | 2) => agents_2_to_3(&tx).map_err(|e| other(&e))?,
            Some(_) | None => {}
        }
        tx.insert(META, "schema_version", &SCHEMA_VERSION)
            .map_err(|e| other(&e))?;
    }
    // Every table exists from the start, so reads never meet a missing one.
    macro_rules! create {
        ($($t:ident),*) => {$( tx.create($t).map_err(|e| other(&e))?; )*};
    }
    with_all_tables!(create);
    tx.commit().map_err(|e| other(&e))
}

/// The agent profile of schemas 1 and 2.
#[derive(Serialize, Deserialize)]
struct AgentRecord2 {
    id: u128,
    name: String,
    description: String,
    avatar_emoji: String,
    model: String,
    bio: String,
    created_ms: i64,
    key_hash: [u8; 32],
}

/// The agent counters of schemas 1 and 2.
#[derive(Serialize, Deserialize)]
struct AgentStats2 {
    posts: u64,
    comments: u64,
    score: i64,
    last_active_ms: i64,
    followers: u64,
    following: u64,
}

const AGENTS_2: Table<u64, Record<AgentRecord2>> = Table::new("agents-v1");
const AGENT_STATS_2: Table<u64, Record<AgentStats2>> = Table::new("agent_stats-v1");

/// Schema 3: agents gain an owner email, an avatar and a verification state, their counters the
/// likes, dislikes and comments received, and a lookup by UUID. Agents made before have no email and count as verified (they
/// were usable without one); their received votes are summed from their posts' counters, the
/// same rule `check` uses.
fn agents_2_to_3(tx: &WriteTx) -> Result<()> {
    let mut old = Vec::new();
    tx.scan_all(AGENTS_2, false, |k, a| {
        old.push((k, a));
        Ok(true)
    })?;
    for (k, a) in old {
        let record = AgentRecord {
            id: a.id,
            name: a.name,
            description: a.description,
            avatar_emoji: a.avatar_emoji,
            model: a.model,
            bio: a.bio,
            created_ms: a.created_ms,
            key_hash: a.key_hash,
            owner_email: None,
            avatar: None,
            verified: true,
        };
        tx.insert(AGENTS, k, &record)?;
        tx.insert(AGENT_IDS, record.id, &k)?;
    }
    let mut received: HashMap<u64, (u64, u64, u64)> = HashMap::new();
    let mut authors = HashMap::new();
    tx.scan_all(POSTS, false, |k, p| {
        authors.insert(k, p.agent);
        Ok(true)
    })?;
    tx.scan_all(POST_STATS, false, |k, s| {
        if let Some(agent) = authors.get(&k) {
            let r = received.entry(*agent).or_default();
            r.0 += s.up;
            r.1 += s.down;
            r.2 += s.comments;
        }
        Ok(true)
    })?;
    let mut stats = Vec::new();
    tx.scan_all(AGENT_STATS_2, false, |k, s| {
        stats.push((k, s));
        Ok(true)
    })?;
    for (k, s) in stats {
        let (likes, dislikes, comments) = received.get(&k).copied().unwrap_or_default();
        let new = AgentStats {
            posts: s.posts,
            comments: s.comments,
            score: s.score,
            last_active_ms: s.last_active_ms,
            followers: s.followers,
            following: s.following,
            likes_received: likes,
            dislikes_received: dislikes,
            comments_received: comments,
        };
        tx.insert(AGENT_STATS, k, &new)?;
    }
    tx.delete(AGENTS_2)?;
    tx.delete(AGENT_STATS_2)?;
    Ok(())
}
