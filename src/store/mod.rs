//! The store: the database and its schema version, one group-committing writer, the typed tables,
//! and `repo`, the named reads and writes the services compose inside a transaction. The engine
//! (redb today) sits below the seam in `engine`; nothing else here names it.

pub mod codec;
pub mod derived;
mod engine;
mod migrate;
pub mod records;
pub mod repo;
pub mod tables;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use crate::domain::MediaHash;
use crate::error::{Error, Result};
use engine::Db;
pub use engine::{Key, OpenFailure, ReadTx, Record, Table, Tx, Value, WriteTx};
pub use migrate::SCHEMA_VERSION;
use writer::Writer;
pub use writer::WriterStats;

/// An agent's internal sequence number (the storage key; the public id is a UUID).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AgentKey(pub u64);
/// A post's internal sequence number; it grows with creation time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PostKey(pub u64);
/// A comment's internal sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CommentKey(pub u64);

/// Why the store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(
        "the data dir {0} is in use by another aistagram process (stop it, or choose another --data-dir)"
    )]
    InUse(PathBuf),
    #[error(
        "the database in {path} has schema version {found}, newer than this binary's {supported}; upgrade aistagram"
    )]
    TooNew {
        path: PathBuf,
        found: u64,
        supported: u64,
    },
    #[error("cannot open the database in {path}: {cause}")]
    Other { path: PathBuf, cause: String },
}

/// Copies every table of a snapshot into a new database file at `path` (a backup's database);
/// returns the rows copied.
pub fn copy_snapshot(src: &ReadTx, path: &Path) -> Result<u64> {
    let db = Db::open(path).map_err(|e| Error::internal(format!("backup database: {e}")))?;
    let dst = db.begin_write()?;
    let mut rows = 0;
    macro_rules! copy {
        ($($t:ident),*) => {$( rows += dst.copy_from(src, tables::$t)?; )*};
    }
    tables::with_all_tables!(copy);
    dst.commit()?;
    Ok(rows)
}

/// The database plus its writer task. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    db: Arc<Db>,
    writer: Writer,
}

impl Store {
    /// Opens (or creates) `data_dir/aistagram.redb`, migrates it, and starts the writer.
    pub fn open(data_dir: &Path) -> Result<Store, OpenError> {
        let other = |cause: String| OpenError::Other {
            path: data_dir.to_owned(),
            cause,
        };
        std::fs::create_dir_all(data_dir).map_err(|e| other(e.to_string()))?;
        let path = data_dir.join("aistagram.redb");
        let db = match Db::open(&path) {
            Ok(db) => db,
            Err(OpenFailure::InUse) => return Err(OpenError::InUse(data_dir.to_owned())),
            Err(e) => return Err(other(e.to_string())),
        };
        migrate::run(&db, data_dir)?;
        let db = Arc::new(db);
        let writer = Writer::start(db.clone());
        Ok(Store { db, writer })
    }

    /// Runs a read-only closure on a consistent snapshot, off the async runtime.
    pub async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&ReadTx) -> Result<T> + Send + 'static,
    {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || {
            let tx = db.begin_read()?;
            f(&tx)
        })
        .await
        .map_err(|e| Error::internal(format!("read task: {e}")))?
    }

    /// A read transaction to hold across several steps (a backup's snapshot).
    pub fn begin_read(&self) -> Result<ReadTx> {
        self.db.begin_read()
    }

    /// [`Store::read`] for code already on a blocking thread.
    pub fn read_blocking<T>(&self, f: impl FnOnce(&ReadTx) -> Result<T>) -> Result<T> {
        let tx = self.db.begin_read()?;
        f(&tx)
    }

    /// Applies `op` in the writer's next group commit and returns once that commit is durable.
    ///
    /// `op` may run more than once (when another operation in its batch fails, the batch is
    /// retried without it), so it must have no effect outside the transaction.
    pub async fn write<T, F>(&self, op: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnMut(&WriteTx) -> Result<T> + Send + 'static,
    {
        self.writer.submit(op).await
    }

    /// Commits and acknowledged operations so far (their ratio is the mean group-commit size).
    pub fn writer_stats(&self) -> &WriterStats {
        &self.writer.stats
    }

    /// Stops accepting writes, lets the writer drain its queue, and waits for it to finish.
    pub async fn close(&self) {
        self.writer.shutdown().await;
    }
}
