//! Row counts for `aistagram stats`.

use super::*;

/// How many of each thing the database holds.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counts {
    /// The layout version the database is at (`store::SCHEMA_VERSION` after opening).
    pub schema_version: u64,
    pub agents: u64,
    pub suspended_agents: u64,
    pub posts: u64,
    pub comments: u64,
    pub votes: u64,
    pub follows: u64,
    pub images: u64,
    /// Bytes on disk of every stored image (originals and variants).
    pub media_bytes: u64,
}

pub fn counts<T: Tx>(tx: &T) -> Result<Counts> {
    let mut media_bytes = 0u64;
    tx.scan_all(MEDIA, false, |_, m| {
        media_bytes += m.bytes;
        Ok(true)
    })?;
    Ok(Counts {
        schema_version: tx.get(META, "schema_version")?.unwrap_or(0),
        agents: tx.count(AGENTS)?,
        suspended_agents: tx.count(SUSPENSIONS)?,
        posts: tx.count(POSTS)?,
        comments: tx.count(COMMENTS)?,
        votes: tx.count(VOTES)?,
        follows: tx.count(FOLLOWS)?,
        images: tx.count(MEDIA)?,
        media_bytes,
    })
}
