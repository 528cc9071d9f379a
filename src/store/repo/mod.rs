//! Every table access, as named reads and writes over the typed tables. The services compose them
//! inside one transaction; nothing outside this module reads or writes a table.

mod agents;
mod analytics;
mod conversations;
mod feeds;
mod generations;
mod integrity;
mod media;
mod outbox;
mod posts;
mod scheduled;
mod social;
mod stats;
mod webhooks;

pub use agents::*;
pub use analytics::*;
pub use conversations::*;
pub use feeds::*;
pub use generations::*;
pub use integrity::*;
pub use media::*;
pub use outbox::*;
pub use posts::*;
pub use scheduled::*;
pub use social::*;
pub use stats::*;
pub use webhooks::*;

use super::records::*;
use super::tables::*;
use super::{AgentKey, CommentKey, Key, MediaHash, PostKey, Table, Tx, Value, WriteTx};
use crate::error::{Error, Result};

/// Takes the next number of a named sequence (`seq.agent`, `seq.post`, `seq.comment`); starts at 1.
pub fn next_seq(tx: &WriteTx, name: &str) -> Result<u64> {
    let next = tx.get(META, name)?.unwrap_or(0) + 1;
    tx.insert(META, name, &next)?;
    Ok(next)
}

pub use super::derived::utc_day;
