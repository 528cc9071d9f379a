//! Online backups and restores. A backup copies one read snapshot of every table into a fresh
//! database file (so a write is wholly in it or wholly out), adds the files of every image that
//! snapshot references (pinned, so a concurrent deletion cannot remove them mid-copy), read from
//! whichever store holds them, and ends with a manifest holding every file's size and blake3.
//! The archive is a gzipped tar written to `FILE.partial` and renamed into place only when
//! complete. Images are archived as `media/<h0h1>/<hash>/<file>` whatever their store, so an
//! archive restores into either store.
//!
//! Restores (offline, no server taking part) are in `backup/restore.rs`.

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::AdminCommand;
use crate::admin::{Admin, Outcome, Progress, Unit, human_bytes};
use crate::error::{Error, Result};
use crate::media::files::VariantName;
use crate::service::views::Timestamp;
use crate::store::{MediaHash, SCHEMA_VERSION, copy_snapshot, repo};

mod restore;

pub use restore::{MediaTarget, RestoreError, restore};

const FORMAT: &str = "aistagram-backup";
const MANIFEST: &str = "manifest.json";
const DATABASE: &str = "aistagram.redb";
/// The key webhook secrets are sealed with; without it restored webhooks could not sign.
const KEY_FILE: &str = "secret.key";

#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub version: u32,
    pub created_at: String,
    pub schema_version: u64,
    pub server_version: String,
    pub files: Vec<Entry>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Entry {
    pub path: String,
    pub bytes: u64,
    pub blake3: String,
}

fn io_err(what: impl std::fmt::Display) -> impl FnOnce(io::Error) -> Error {
    move |e| Error::internal(format!("{what}: {e}"))
}

/// Write a consistent backup (database, images, checksummed manifest) to FILE while the
/// server keeps serving.
#[derive(Debug, Clone, Args, Serialize, Deserialize)]
pub struct Backup {
    /// The archive to write (a gzipped tar; conventionally `.tar.gz`).
    // The server resolves a relative path against its own working directory, so the CLI makes
    // it absolute before sending it.
    pub file: PathBuf,
}

impl AdminCommand for Backup {
    async fn run(self, admin: &Admin, progress: Arc<dyn Progress>) -> Result<Outcome> {
        let admin = admin.clone();
        // Copying the database and archiving every image is blocking file I/O from start to end.
        tokio::task::spawn_blocking(move || write_backup(&admin, &self.file, &*progress))
            .await
            .map_err(Error::internal)?
    }
}

fn write_backup(admin: &Admin, file: &Path, progress: &dyn Progress) -> Result<Outcome> {
    let partial = PathBuf::from(format!("{}.partial", file.display()));
    let db_copy = PathBuf::from(format!("{}.db-partial", file.display()));
    let result = (|| {
        // One snapshot for the whole backup; its images are pinned before any later deletion
        // could release them.
        let ((snapshot, media), _pins) = admin.media.pin_snapshot(|| {
            let tx = admin.store.begin_read()?;
            let hashes = repo::referenced_media(&tx)?;
            let mut media = Vec::with_capacity(hashes.len());
            for hash in &hashes {
                if let Some(m) = repo::media(&tx, *hash)? {
                    media.push((*hash, m.info.has_full, m.bytes));
                }
            }
            Ok(((tx, media), hashes))
        })?;
        progress.phase("copying the database", 0, Unit::Items);
        let _ = fs::remove_file(&db_copy);
        let rows = copy_snapshot(&snapshot, &db_copy)?;
        drop(snapshot);
        let files = archive_files(admin, &db_copy, &media)?;
        let total: u64 = files
            .iter()
            .map(|(_, source)| match source {
                Source::File(p) => fs::metadata(p).map(|m| m.len()).unwrap_or(0),
                Source::Image { .. } => 0,
            })
            .sum::<u64>()
            + media.iter().map(|(_, _, bytes)| bytes).sum::<u64>();
        progress.phase("writing the archive", total, Unit::Bytes);
        write_archive(admin, &partial, &files, progress)?;
        fs::rename(&partial, file).map_err(io_err(format!("renaming to {}", file.display())))?;
        sync_parent(file);
        let size = fs::metadata(file).map(|m| m.len()).unwrap_or(0);
        Ok(Outcome::new(
            format!(
                "backup written to {}: {rows} rows, {} images, {} ({} compressed)",
                file.display(),
                media.len(),
                human_bytes(total),
                human_bytes(size)
            ),
            json!({
                "file": file, "rows": rows, "images": media.len(),
                "bytes": total, "archive_bytes": size,
            }),
        ))
    })();
    let _ = fs::remove_file(&db_copy);
    if result.is_err() {
        let _ = fs::remove_file(&partial);
    }
    result
}

/// Where an archived file's bytes come from.
enum Source {
    File(PathBuf),
    Image {
        hash: MediaHash,
        variant: VariantName,
    },
}

/// The archive path of one image file: `media/<h0h1>/<hash>/<file name>`.
fn image_path(hash: MediaHash, variant: VariantName) -> String {
    let hex = hash.to_string();
    format!("media/{}/{hex}/{}", &hex[..2], variant.file_name())
}

/// What goes in the archive, as `(archive path, source)`: the database copy, the data dir's
/// key, and every file of every image the snapshot uses (`(hash, has_full, bytes)`).
fn archive_files(
    admin: &Admin,
    db_copy: &Path,
    media: &[(MediaHash, bool, u64)],
) -> Result<Vec<(String, Source)>> {
    let mut files = vec![(DATABASE.to_owned(), Source::File(db_copy.to_owned()))];
    let key = admin.data_dir.join(KEY_FILE);
    if key.is_file() {
        files.push((KEY_FILE.to_owned(), Source::File(key)));
    }
    for &(hash, has_full, _) in media {
        let mut variants = vec![VariantName::Feed, VariantName::Original, VariantName::Thumb];
        if has_full {
            variants.insert(1, VariantName::Full);
        }
        for variant in variants {
            files.push((image_path(hash, variant), Source::Image { hash, variant }));
        }
    }
    Ok(files)
}

/// Writes `files` and their checksummed manifest (last) as a gzipped tar to `partial`, synced.
fn write_archive(
    admin: &Admin,
    partial: &Path,
    files: &[(String, Source)],
    progress: &dyn Progress,
) -> Result<()> {
    // Called off the async workers: blocking on the store is what is wanted here.
    let rt = tokio::runtime::Handle::current();
    let storage = admin.media.storage();
    let out = File::create(partial).map_err(io_err(format!("creating {}", partial.display())))?;
    let gz = flate2::write::GzEncoder::new(io::BufWriter::new(out), flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    let mut entries = Vec::new();
    let mut done = 0u64;
    for (name, source) in files {
        let (reader, bytes): (Box<dyn Read>, u64) = match source {
            Source::File(path) => {
                let f = File::open(path).map_err(io_err(format!("reading {}", path.display())))?;
                let bytes = f.metadata().map_err(io_err("stat"))?.len();
                (Box::new(f), bytes)
            }
            Source::Image { hash, variant } => {
                let data = rt.block_on(storage.get(*hash, *variant))?.ok_or_else(|| {
                    Error::internal(format!(
                        "image {hash}: {} missing from the store",
                        variant.as_str()
                    ))
                })?;
                let bytes = data.len() as u64;
                (Box::new(io::Cursor::new(data)), bytes)
            }
        };
        let mut hashing = HashingReader::new(reader);
        tar.append_data(&mut entry_header(bytes), name, &mut hashing)
            .map_err(io_err(format!("archiving {name}")))?;
        entries.push(Entry {
            path: name.clone(),
            bytes,
            blake3: hashing.finish(),
        });
        done += bytes;
        progress.at(done);
    }
    let manifest = Manifest {
        format: FORMAT.to_owned(),
        version: 1,
        created_at: Timestamp::now().rfc3339(),
        schema_version: SCHEMA_VERSION,
        server_version: env!("CARGO_PKG_VERSION").to_owned(),
        files: entries,
    };
    let json = serde_json::to_vec_pretty(&manifest).map_err(Error::internal)?;
    tar.append_data(
        &mut entry_header(json.len() as u64),
        MANIFEST,
        json.as_slice(),
    )
    .map_err(io_err("archiving the manifest"))?;
    let gz = tar.into_inner().map_err(io_err("finishing the archive"))?;
    let out = gz.finish().map_err(io_err("finishing the archive"))?;
    let out = out
        .into_inner()
        .map_err(|e| Error::internal(format!("flushing the archive: {e}")))?;
    out.sync_all().map_err(io_err("syncing the archive"))
}

/// The header of one archive entry: owner-only, no timestamp (the manifest dates the archive).
fn entry_header(bytes: u64) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_size(bytes);
    header.set_mode(0o600);
    header.set_mtime(0);
    header
}

/// Whether an archive path is one a backup writes: the database, the manifest, or
/// `media/<2 hex>/<64 hex>/<file>`. Anything else (absolute paths, `..`) is refused.
fn allowed_path(p: &str) -> bool {
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    match p.split('/').collect::<Vec<_>>().as_slice() {
        [DATABASE] | [MANIFEST] | [KEY_FILE] => true,
        ["media", shard, hash, file] => {
            hex(shard, 2)
                && hex(hash, 64)
                && hash.starts_with(shard)
                && !file.is_empty()
                && *file != "."
                && *file != ".."
        }
        _ => false,
    }
}

struct HashingReader<R> {
    inner: R,
    hasher: blake3::Hasher,
}

impl<R: Read> HashingReader<R> {
    fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hasher: blake3::Hasher::new(),
        }
    }

    fn finish(&self) -> String {
        self.hasher.finalize().to_hex().to_string()
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

fn sync_parent(path: &Path) {
    if let Some(dir) = path.parent()
        && let Ok(d) = File::open(if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        })
    {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_a_backup_writes_are_accepted() {
        let hash = "ab".to_owned() + &"0".repeat(62);
        assert!(allowed_path(DATABASE));
        assert!(allowed_path(MANIFEST));
        assert!(allowed_path(&format!("media/ab/{hash}/feed.webp")));
        for bad in [
            "../etc/passwd".to_owned(),
            "/etc/passwd".to_owned(),
            format!("media/cd/{hash}/feed.webp"),
            format!("media/ab/{hash}/../../x"),
            format!("media/ab/{hash}/.."),
            "media/ab/short/feed.webp".to_owned(),
            "search/meta.json".to_owned(),
        ] {
            assert!(!allowed_path(&bad), "{bad}");
        }
    }
}
