//! The search outbox: index changes written with their data, acknowledged once indexed.

use redb::{ReadableTable, WriteTransaction};

use super::*;

pub fn enqueue_index(tx: &WriteTransaction, change: &IndexChange) -> Result<()> {
    let seq = next_seq(tx, "seq.index")?;
    tx.open_table(SEARCH_OUTBOX)?
        .insert(seq, codec::encode(change)?.as_slice())?;
    Ok(())
}

/// The oldest pending index changes, at most `limit`.
pub fn pending_index_changes<T: Tx>(tx: &T, limit: usize) -> Result<Vec<(u64, IndexChange)>> {
    let table = tx.table(SEARCH_OUTBOX)?;
    let mut out = Vec::new();
    for entry in table.iter()?.take(limit) {
        let (k, v) = entry?;
        out.push((k.value(), codec::decode(v.value())?));
    }
    Ok(out)
}

/// Forgets index changes up to and including `upto`, once the index has committed them.
pub fn ack_index_changes(tx: &WriteTransaction, upto: u64) -> Result<()> {
    let mut table = tx.open_table(SEARCH_OUTBOX)?;
    table.retain_in(..=upto, |_, _| false)?;
    Ok(())
}
