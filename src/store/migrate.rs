//! The schema version kept in the `meta` table, and the stepwise migrations between versions.
//! A database written by a newer binary refuses to open rather than being misread.

use std::path::Path;

use super::OpenError;
use super::engine::{Db, Tx};
use super::tables::*;

/// The layout this binary reads and writes.
pub const SCHEMA_VERSION: u64 = 2;

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
            // `schedule_due` and four webhook tables, which the
            // `create!` below makes; nothing else changed. Later steps go here (`Some(2) => migrate_2_to_3(&tx)?`), each in this
            // same transaction. A version-2 database refuses to open in a version-1 binary, which
            // would otherwise let suspended agents back in.
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
