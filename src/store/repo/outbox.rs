//! The search outbox: index changes written with their data, acknowledged once indexed.

use super::*;

pub fn enqueue_index(tx: &WriteTx, change: &IndexChange) -> Result<()> {
    let seq = next_seq(tx, "seq.index")?;
    tx.insert(SEARCH_OUTBOX, seq, change)
}

/// The oldest pending index changes, at most `limit`.
pub fn pending_index_changes<T: Tx>(tx: &T, limit: usize) -> Result<Vec<(u64, IndexChange)>> {
    let mut out = Vec::new();
    if limit == 0 {
        return Ok(out);
    }
    tx.scan_all(SEARCH_OUTBOX, false, |k, c| {
        out.push((k, c));
        Ok(out.len() < limit)
    })?;
    Ok(out)
}

/// Forgets index changes up to and including `upto`, once the index has committed them.
pub fn ack_index_changes(tx: &WriteTx, upto: u64) -> Result<()> {
    tx.remove_range(SEARCH_OUTBOX, ..=upto)
}
