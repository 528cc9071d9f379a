//! Typed reads and writes of single records and index entries. Each function opens the tables it
//! needs and closes them before returning, so they compose freely inside one transaction.

mod agents;
mod feeds;
mod media;
mod outbox;
mod posts;
mod scheduled;
mod social;
mod webhooks;

pub use agents::*;
pub use feeds::*;
pub use media::*;
pub use outbox::*;
pub use posts::*;
pub use scheduled::*;
pub use social::*;
pub use webhooks::*;

use redb::{ReadableTable, WriteTransaction};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::records::*;
use super::tables::*;
use super::{AgentKey, CommentKey, MediaHash, PostKey, Tx, codec};
use crate::domain::ranking;
use crate::error::{Error, Result};

pub(super) fn get_record<T: Tx, R: DeserializeOwned>(
    tx: &T,
    def: redb::TableDefinition<u64, &[u8]>,
    key: u64,
) -> Result<Option<R>> {
    let table = tx.table(def)?;
    let found = table.get(key)?;
    found.map(|v| codec::decode(v.value())).transpose()
}

pub(super) fn put_record<R: Serialize>(
    tx: &WriteTransaction,
    def: redb::TableDefinition<u64, &[u8]>,
    key: u64,
    record: &R,
) -> Result<()> {
    let bytes = codec::encode(record)?;
    tx.open_table(def)?.insert(key, bytes.as_slice())?;
    Ok(())
}

/// Takes the next number of a named sequence (`seq.agent`, `seq.post`, `seq.comment`); starts at 1.
pub fn next_seq(tx: &WriteTransaction, name: &str) -> Result<u64> {
    let mut meta = tx.open_table(META)?;
    let next = meta.get(name)?.map(|v| v.value()).unwrap_or(0) + 1;
    meta.insert(name, next)?;
    Ok(next)
}

/// Days since the Unix epoch (UTC) of a millisecond timestamp.
pub fn utc_day(ms: i64) -> u32 {
    u32::try_from(ms.div_euclid(86_400_000)).unwrap_or(0)
}
