//! The storage engine, and the only file that names it: redb. Everything above is written against
//! the narrow seam defined here: typed [`Table`]s, ordered reads and range scans in read and
//! write transactions ([`Tx`]), inserts and removes in write transactions ([`WriteTx`]), and a
//! database that begins them ([`Db`]). A second engine (a server database, for deployments that
//! outgrow one machine) implements the same seam; nothing in `repo`, the services or the admin
//! commands changes with it.
//!
//! A write transaction runs an operation that may be applied more than once (the group-commit
//! writer re-runs a batch without an operation that failed; a server database retries a whole
//! transaction after a conflict), so the seam offers nothing with effects outside the
//! transaction.

use std::borrow::Borrow;
use std::marker::PhantomData;
use std::ops::RangeBounds;
use std::path::Path;

use redb::{ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::codec;
use crate::domain::MediaHash;
use crate::error::{Error, Result};

/// A key type tables may use. The set is closed: each engine orders every one of them.
pub trait Key: redb::Key + 'static {}

macro_rules! keys {
    ($($t:ty),* $(,)?) => {$( impl Key for $t {} )*};
}
keys!(
    u64,
    u128,
    &'static str,
    [u8; 32],
    MediaHash,
    (u64, u64),
    (i64, u64),
    (i64, u128),
    (u64, u128),
    (u64, u8),
    (&'static str, u64),
    (u64, &'static str),
    (u32, &'static str),
    (MediaHash, u64),
);

/// Keys that borrow nothing (numbers, hashes and tuples of them), so reads hand them out owned.
pub trait OwnedKey: Key + for<'a> redb::Value<SelfType<'a> = Self> {}
impl<T: Key + for<'a> redb::Value<SelfType<'a> = T>> OwnedKey for T {}

/// What a table's rows hold: a plain value stored as itself, or a [`Record`] stored through the
/// codec. A value that does not decode is an error, never a panic.
pub trait Value: 'static {
    #[doc(hidden)]
    type Raw: redb::Value + 'static;
    /// What a read returns.
    type Out;
    /// What a write takes.
    type In: ?Sized;
    #[doc(hidden)]
    fn decode(raw: <Self::Raw as redb::Value>::SelfType<'_>) -> Result<Self::Out>;
    #[doc(hidden)]
    fn with_raw<T>(
        value: &Self::In,
        f: impl FnOnce(<Self::Raw as redb::Value>::SelfType<'_>) -> Result<T>,
    ) -> Result<T>;
}

macro_rules! plain_values {
    ($($t:ty),* $(,)?) => {$(
        impl Value for $t {
            type Raw = $t;
            type Out = $t;
            type In = $t;
            fn decode(raw: $t) -> Result<$t> {
                Ok(raw)
            }
            fn with_raw<T>(value: &$t, f: impl FnOnce($t) -> Result<T>) -> Result<T> {
                f(*value)
            }
        }
    )*};
}
plain_values!((), i8, u8, u64, i64, (u64, u64), (u64, u64, u64));

/// A postcard-encoded `R` (see [`codec`]).
pub struct Record<R>(PhantomData<R>);

impl<R: Serialize + DeserializeOwned + 'static> Value for Record<R> {
    type Raw = &'static [u8];
    type Out = R;
    type In = R;
    fn decode(raw: &[u8]) -> Result<R> {
        codec::decode(raw)
    }
    fn with_raw<T>(value: &R, f: impl FnOnce(&[u8]) -> Result<T>) -> Result<T> {
        f(&codec::encode(value)?)
    }
}

/// A named table of `K -> V` rows.
pub struct Table<K, V> {
    name: &'static str,
    types: PhantomData<fn() -> (K, V)>,
}

impl<K, V> Clone for Table<K, V> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<K, V> Copy for Table<K, V> {}

impl<K: Key, V: Value> Table<K, V> {
    pub const fn new(name: &'static str) -> Self {
        Table {
            name,
            types: PhantomData,
        }
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    fn def(self) -> TableDefinition<'static, K, V::Raw> {
        TableDefinition::new(self.name)
    }
}

/// Reads, the same in read and write transactions, so accessors are written once.
pub trait Tx {
    /// The row under `key`.
    fn get<'k, K: Key, V: Value>(
        &self,
        t: Table<K, V>,
        key: impl Borrow<K::SelfType<'k>>,
    ) -> Result<Option<V::Out>>;

    /// Visits the rows in `range` in key order (or reversed), until `visit` returns false.
    fn scan<'k, K: Key, V: Value, KR: Borrow<K::SelfType<'k>> + 'k>(
        &self,
        t: Table<K, V>,
        range: impl RangeBounds<KR> + 'k,
        rev: bool,
        visit: impl FnMut(K::SelfType<'_>, V::Out) -> Result<bool>,
    ) -> Result<()>;

    /// Visits every row in key order (or reversed), until `visit` returns false.
    fn scan_all<K: Key, V: Value>(
        &self,
        t: Table<K, V>,
        rev: bool,
        visit: impl FnMut(K::SelfType<'_>, V::Out) -> Result<bool>,
    ) -> Result<()>;

    /// Visits the keys in `range` in order (or reversed), without reading the values, until
    /// `visit` returns false.
    fn scan_keys<'k, K: Key, V: Value, KR: Borrow<K::SelfType<'k>> + 'k>(
        &self,
        t: Table<K, V>,
        range: impl RangeBounds<KR> + 'k,
        rev: bool,
        visit: impl FnMut(K::SelfType<'_>) -> Result<bool>,
    ) -> Result<()>;

    /// Visits every key in order (or reversed), without reading the values.
    fn scan_all_keys<K: Key, V: Value>(
        &self,
        t: Table<K, V>,
        rev: bool,
        visit: impl FnMut(K::SelfType<'_>) -> Result<bool>,
    ) -> Result<()>;

    /// How many rows the table has.
    fn count<K: Key, V: Value>(&self, t: Table<K, V>) -> Result<u64>;
}

fn get_in<'k, K: Key, V: Value>(
    table: &impl ReadableTable<K, V::Raw>,
    key: impl Borrow<K::SelfType<'k>>,
) -> Result<Option<V::Out>> {
    match table.get(key)? {
        Some(guard) => Ok(Some(V::decode(guard.value())?)),
        None => Ok(None),
    }
}

fn visit_rows<'t, K: Key, V: Value>(
    rows: impl Iterator<
        Item = std::result::Result<
            (redb::AccessGuard<'t, K>, redb::AccessGuard<'t, V::Raw>),
            redb::StorageError,
        >,
    >,
    mut visit: impl FnMut(K::SelfType<'_>, V::Out) -> Result<bool>,
) -> Result<()> {
    for row in rows {
        let (k, v) = row?;
        if !visit(k.value(), V::decode(v.value())?)? {
            break;
        }
    }
    Ok(())
}

/// Key-only visits: the value is never decoded.
fn visit_keys<'t, K: Key, V: redb::Value + 'static>(
    rows: impl Iterator<
        Item = std::result::Result<
            (redb::AccessGuard<'t, K>, redb::AccessGuard<'t, V>),
            redb::StorageError,
        >,
    >,
    mut visit: impl FnMut(K::SelfType<'_>) -> Result<bool>,
) -> Result<()> {
    for row in rows {
        if !visit(row?.0.value())? {
            break;
        }
    }
    Ok(())
}

fn scan_in<'k, K: Key, V: Value, KR: Borrow<K::SelfType<'k>> + 'k>(
    table: &impl ReadableTable<K, V::Raw>,
    range: impl RangeBounds<KR> + 'k,
    rev: bool,
    visit: impl FnMut(K::SelfType<'_>, V::Out) -> Result<bool>,
) -> Result<()> {
    let rows = table.range(range)?;
    if rev {
        visit_rows::<K, V>(rows.rev(), visit)
    } else {
        visit_rows::<K, V>(rows, visit)
    }
}

fn scan_all_in<K: Key, V: Value>(
    table: &impl ReadableTable<K, V::Raw>,
    rev: bool,
    visit: impl FnMut(K::SelfType<'_>, V::Out) -> Result<bool>,
) -> Result<()> {
    let rows = table.iter()?;
    if rev {
        visit_rows::<K, V>(rows.rev(), visit)
    } else {
        visit_rows::<K, V>(rows, visit)
    }
}

/// Implements [`Tx`] for a transaction type through its `open_table`.
macro_rules! readable {
    ($tx:ty) => {
        impl Tx for $tx {
            fn get<'k, K: Key, V: Value>(
                &self,
                t: Table<K, V>,
                key: impl Borrow<K::SelfType<'k>>,
            ) -> Result<Option<V::Out>> {
                get_in::<K, V>(&self.0.open_table(t.def())?, key)
            }

            fn scan<'k, K: Key, V: Value, KR: Borrow<K::SelfType<'k>> + 'k>(
                &self,
                t: Table<K, V>,
                range: impl RangeBounds<KR> + 'k,
                rev: bool,
                visit: impl FnMut(K::SelfType<'_>, V::Out) -> Result<bool>,
            ) -> Result<()> {
                scan_in::<K, V, KR>(&self.0.open_table(t.def())?, range, rev, visit)
            }

            fn scan_all<K: Key, V: Value>(
                &self,
                t: Table<K, V>,
                rev: bool,
                visit: impl FnMut(K::SelfType<'_>, V::Out) -> Result<bool>,
            ) -> Result<()> {
                scan_all_in::<K, V>(&self.0.open_table(t.def())?, rev, visit)
            }

            fn scan_keys<'k, K: Key, V: Value, KR: Borrow<K::SelfType<'k>> + 'k>(
                &self,
                t: Table<K, V>,
                range: impl RangeBounds<KR> + 'k,
                rev: bool,
                visit: impl FnMut(K::SelfType<'_>) -> Result<bool>,
            ) -> Result<()> {
                let table = self.0.open_table(t.def())?;
                let rows = table.range(range)?;
                if rev {
                    visit_keys(rows.rev(), visit)
                } else {
                    visit_keys(rows, visit)
                }
            }

            fn scan_all_keys<K: Key, V: Value>(
                &self,
                t: Table<K, V>,
                rev: bool,
                visit: impl FnMut(K::SelfType<'_>) -> Result<bool>,
            ) -> Result<()> {
                let table = self.0.open_table(t.def())?;
                let rows = table.iter()?;
                if rev {
                    visit_keys(rows.rev(), visit)
                } else {
                    visit_keys(rows, visit)
                }
            }

            fn count<K: Key, V: Value>(&self, t: Table<K, V>) -> Result<u64> {
                Ok(self.0.open_table(t.def())?.len()?)
            }
        }
    };
}

/// A consistent read-only snapshot.
pub struct ReadTx(redb::ReadTransaction);

/// A write transaction: all of its changes commit together, or none do.
pub struct WriteTx(redb::WriteTransaction);

readable!(ReadTx);
readable!(WriteTx);

impl ReadTx {
    /// One table of the snapshot, opened once for many reads (a merge of many ranges).
    pub fn open<K: Key, V: Value>(&self, t: Table<K, V>) -> Result<ReadTable<K, V>> {
        Ok(ReadTable(self.0.open_table(t.def())?))
    }
}

/// A table opened in a read snapshot.
pub struct ReadTable<K: Key, V: Value>(redb::ReadOnlyTable<K, V::Raw>);

impl<K: OwnedKey, V: Value> ReadTable<K, V> {
    /// The keys in `range`, as an iterator that outlives this call (several can be merged).
    pub fn keys<'k, KR: Borrow<K::SelfType<'k>> + 'k>(
        &self,
        range: impl RangeBounds<KR> + 'k,
    ) -> Result<impl DoubleEndedIterator<Item = Result<K>> + 'static> {
        let rows = self.0.range(range)?;
        Ok(rows.map(|row| Ok(row?.0.value())))
    }
}

impl WriteTx {
    /// Writes the row under `key`, replacing any.
    pub fn insert<'k, K: Key, V: Value>(
        &self,
        t: Table<K, V>,
        key: impl Borrow<K::SelfType<'k>>,
        value: &V::In,
    ) -> Result<()> {
        let mut table = self.0.open_table(t.def())?;
        V::with_raw(value, |raw| {
            table.insert(key, raw)?;
            Ok(())
        })
    }

    /// Removes the row under `key`; whether there was one.
    pub fn remove<'k, K: Key, V: Value>(
        &self,
        t: Table<K, V>,
        key: impl Borrow<K::SelfType<'k>>,
    ) -> Result<bool> {
        Ok(self.0.open_table(t.def())?.remove(key)?.is_some())
    }

    /// Removes every row in `range`.
    pub fn remove_range<'k, K: Key, V: Value, KR: Borrow<K::SelfType<'k>> + 'k>(
        &self,
        t: Table<K, V>,
        range: impl RangeBounds<KR> + 'k,
    ) -> Result<()> {
        self.0.open_table(t.def())?.retain_in(range, |_, _| false)?;
        Ok(())
    }

    /// Removes every row.
    pub fn clear<K: Key, V: Value>(&self, t: Table<K, V>) -> Result<()> {
        self.0.open_table(t.def())?.retain(|_, _| false)?;
        Ok(())
    }

    /// Deletes a table with all its rows (a migration dropping an old layout); `false` if it
    /// did not exist.
    pub fn delete<K: Key, V: Value>(&self, t: Table<K, V>) -> Result<bool> {
        Ok(self.0.delete_table(t.def())?)
    }

    /// Makes sure the table exists, so reads never meet a missing one.
    pub fn create<K: Key, V: Value>(&self, t: Table<K, V>) -> Result<()> {
        self.0.open_table(t.def())?;
        Ok(())
    }

    /// Makes every change durable (two-phase, fsynced) before returning.
    pub fn commit(self) -> Result<()> {
        Ok(self.0.commit()?)
    }

    /// Forgets every change.
    pub fn abort(self) -> Result<()> {
        Ok(self.0.abort()?)
    }

    /// Copies every row of `t` in `src` into this transaction; returns how many.
    pub fn copy_from<K: Key, V: Value>(&self, src: &ReadTx, t: Table<K, V>) -> Result<u64> {
        let from = src.0.open_table(t.def())?;
        let mut to = self.0.open_table(t.def())?;
        let mut n = 0;
        for row in from.iter()? {
            let (k, v) = row?;
            to.insert(k.value(), v.value())?;
            n += 1;
        }
        Ok(n)
    }
}

/// Why a database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenFailure {
    /// Another process holds it.
    #[error("in use by another process")]
    InUse,
    #[error("{0}")]
    Other(String),
}

/// One database file.
pub struct Db(redb::Database);

impl Db {
    /// Opens the database file at `path`, creating it when missing.
    pub fn open(path: &Path) -> Result<Db, OpenFailure> {
        match redb::Database::create(path) {
            Ok(db) => Ok(Db(db)),
            Err(redb::DatabaseError::DatabaseAlreadyOpen) => Err(OpenFailure::InUse),
            Err(e) => Err(OpenFailure::Other(e.to_string())),
        }
    }

    pub fn begin_read(&self) -> Result<ReadTx> {
        Ok(ReadTx(self.0.begin_read()?))
    }

    /// A write transaction whose commit is durable and two-phase: redb recommends two-phase
    /// commit for databases fed untrusted input, and group commit pays for it.
    pub fn begin_write(&self) -> Result<WriteTx> {
        let mut tx = self.0.begin_write()?;
        tx.set_two_phase_commit(true);
        Ok(WriteTx(tx))
    }
}

/// [`MediaHash`] as its own key type, so a table keyed by content hash cannot be confused with
/// one keyed by any other 32 bytes.
impl redb::Value for MediaHash {
    type SelfType<'a> = MediaHash;
    type AsBytes<'a> = [u8; 32];

    fn fixed_width() -> Option<usize> {
        Some(32)
    }

    fn from_bytes<'a>(data: &'a [u8]) -> MediaHash
    where
        Self: 'a,
    {
        // redb hands back exactly the 32 bytes `as_bytes` wrote.
        let mut h = [0u8; 32];
        let n = data.len().min(32);
        h[..n].copy_from_slice(&data[..n]);
        MediaHash(h)
    }

    fn as_bytes<'a, 'b: 'a>(value: &'a MediaHash) -> [u8; 32]
    where
        Self: 'b,
    {
        value.0
    }

    fn type_name() -> redb::TypeName {
        redb::TypeName::new("aistagram::MediaHash")
    }
}

impl redb::Key for MediaHash {
    fn compare(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
        a.cmp(b)
    }
}

/// Engine failures are unexpected: they become [`Error::Internal`] with the engine's error kept
/// as the source, so the log shows the whole chain.
macro_rules! storage_error {
    ($($t:ty),*) => {$(
        impl From<$t> for Error {
            fn from(e: $t) -> Self {
                Error::context("storage", e)
            }
        }
    )*};
}
storage_error!(
    redb::Error,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_hash_keys_are_their_32_bytes() {
        let h = MediaHash::of(b"hello");
        let bytes = <MediaHash as redb::Value>::as_bytes(&h);
        assert_eq!(<MediaHash as redb::Value>::from_bytes(&bytes), h);
    }

    #[test]
    fn a_record_that_does_not_decode_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.redb")).unwrap();
        const RAW: Table<u64, Record<Vec<u8>>> = Table::new("raw");
        const STATS: Table<u64, Record<crate::store::records::PostStats>> = Table::new("raw");
        let tx = db.begin_write().unwrap();
        tx.insert(RAW, 1, &vec![0xff; 3]).unwrap();
        tx.commit().unwrap();
        let tx = db.begin_read().unwrap();
        assert!(tx.get(STATS, 1).is_err());
    }
}
