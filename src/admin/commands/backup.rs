//! Online backups and restores. A backup copies one read snapshot of every table into a fresh
//! database file (so a write is wholly in it or wholly out), adds the files of every image that
//! snapshot references (pinned, so a concurrent deletion cannot remove them mid-copy), read from
//! whichever store holds them, and ends with a manifest holding every file's size and blake3.
//! The archive is a gzipped tar written to `FILE.partial` and renamed into place only when
//! complete. Images are archived as `media/<h0h1>/<hash>/<file>` whatever their store, so an
//! archive restores into either store.
//!
//! A restore reads the archive twice: once to verify every checksum against the manifest (a
//! damaged, truncated or partial archive is refused before anything is written), then to unpack
//! into a temporary folder beside the target, which is renamed into place at the end.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::AdminCommand;
use crate::admin::{Admin, Outcome, Progress, Unit, human_bytes};
use crate::config::StorageKind;
use crate::error::{Error, Result};
use crate::media::files::VariantName;
use crate::media::store::{ImageFiles, Storage};
use crate::service::views::Timestamp;
use crate::store::{MediaHash, SCHEMA_VERSION, copy_snapshot, repo};

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

/// Why a restore was refused.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error("{0} is not empty; restore into an empty directory, or pass --force to replace it")]
    NotEmpty(PathBuf),
    #[error("a server is running on {0}; stop it before restoring into its data dir")]
    InUse(PathBuf),
    #[error("the archive is damaged, incomplete or not an aistagram backup: {0}")]
    Invalid(String),
    #[error("{0}")]
    Io(String),
}

/// Verifies the archive, then unpacks it into `data_dir`, its images into `media` (the data
/// dir, or the bucket). Nothing is written before every checksum has matched; images go to a
/// bucket before the data dir is moved into place, so a restore that fails leaves no data dir
/// pointing at missing images.
pub fn restore(
    archive: &Path,
    data_dir: &Path,
    force: bool,
    media: MediaTarget<'_>,
    progress: &dyn Progress,
) -> std::result::Result<Outcome, RestoreError> {
    let io = |what: &str| {
        let what = what.to_owned();
        move |e: io::Error| RestoreError::Io(format!("{what}: {e}"))
    };
    let non_empty = fs::read_dir(data_dir).is_ok_and(|mut d| d.next().is_some());
    if non_empty && !force {
        return Err(RestoreError::NotEmpty(data_dir.to_owned()));
    }
    if std::os::unix::net::UnixStream::connect(crate::admin::socket::path(data_dir)).is_ok() {
        return Err(RestoreError::InUse(data_dir.to_owned()));
    }
    let size = fs::metadata(archive)
        .map_err(io("reading the archive"))?
        .len();

    progress.phase("verifying the archive", size, Unit::Bytes);
    let manifest = verify(archive, progress)?;

    let parent = data_dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(parent).map_err(io("creating the parent folder"))?;
    let name = data_dir
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("data");
    let staging = parent.join(format!(".{name}.restoring-{}", std::process::id()));
    let _ = fs::remove_dir_all(&staging);
    progress.phase("unpacking", size, Unit::Bytes);
    let unpacked = unpack(archive, &staging, &manifest, progress)
        .and_then(|()| place_media(&staging, media, progress));
    if let Err(e) = unpacked {
        let _ = fs::remove_dir_all(&staging);
        return Err(e);
    }
    // Swap into place: the old contents (with --force) are moved aside, then removed.
    if data_dir.exists() {
        let old = parent.join(format!(".{name}.replaced-{}", std::process::id()));
        fs::rename(data_dir, &old).map_err(io("moving the old data dir aside"))?;
        fs::rename(&staging, data_dir).map_err(io("moving the restored data into place"))?;
        let _ = fs::remove_dir_all(&old);
    } else {
        fs::rename(&staging, data_dir).map_err(io("moving the restored data into place"))?;
    }
    sync_parent(data_dir);
    let bytes: u64 = manifest.files.iter().map(|f| f.bytes).sum();
    let kind = media.kind();
    Ok(Outcome::new(
        format!(
            "restored {} files ({}) from a backup of {} into {} (images in {kind})",
            manifest.files.len(),
            human_bytes(bytes),
            manifest.created_at,
            data_dir.display()
        ),
        json!({
            "data_dir": data_dir, "files": manifest.files.len(), "bytes": bytes,
            "backup_created_at": manifest.created_at, "media_storage": kind,
        }),
    ))
}

/// Where a restore puts the images.
#[derive(Debug, Clone, Copy)]
pub enum MediaTarget<'a> {
    /// `<data_dir>/media`, as archived.
    Fs,
    /// This bucket.
    S3(&'a crate::config::S3),
}

impl MediaTarget<'_> {
    fn kind(&self) -> StorageKind {
        match self {
            MediaTarget::Fs => StorageKind::Fs,
            MediaTarget::S3(_) => StorageKind::S3,
        }
    }
}

/// Records in the unpacked data dir where its images are; for a bucket, first moves them there
/// (each read back and checked) and out of the staging folder.
fn place_media(
    staging: &Path,
    media: MediaTarget<'_>,
    progress: &dyn Progress,
) -> std::result::Result<(), RestoreError> {
    let failed = |e: Error| RestoreError::Io(format!("{}", crate::error::Chain(&e)));
    if let MediaTarget::S3(cfg) = media {
        let files = crate::media::files::MediaFiles::new(staging);
        let hashes = files.stored().map_err(failed)?;
        let bucket = Storage::open(StorageKind::S3, staging, cfg).map_err(failed)?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| RestoreError::Io(format!("starting the async runtime: {e}")))?;
        progress.phase(
            &format!("uploading images to {}", bucket.describe()),
            hashes.len() as u64,
            Unit::Items,
        );
        for (i, hash) in hashes.iter().enumerate() {
            let image = read_unpacked(&files, *hash)?;
            rt.block_on(async {
                bucket.put(*hash, &image).await?;
                match bucket.holds(*hash, &image).await? {
                    true => Ok(()),
                    false => Err(Error::internal(format!(
                        "image {hash}: the bucket's copy does not read back as written"
                    ))),
                }
            })
            .map_err(failed)?;
            progress.at(i as u64 + 1);
        }
        match fs::remove_dir_all(files.root()) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                return Err(RestoreError::Io(format!(
                    "removing the unpacked images: {e}"
                )));
            }
            _ => {}
        }
    }
    crate::media::store::record(staging, media.kind()).map_err(failed)
}

/// An unpacked image folder as the files a store keeps.
fn read_unpacked(
    files: &crate::media::files::MediaFiles,
    hash: MediaHash,
) -> std::result::Result<ImageFiles, RestoreError> {
    let read = |v: VariantName| -> std::result::Result<Option<bytes::Bytes>, RestoreError> {
        match fs::read(files.path(hash, v)) {
            Ok(b) => Ok(Some(bytes::Bytes::from(b))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(RestoreError::Io(format!("reading image {hash}: {e}"))),
        }
    };
    let missing = || RestoreError::Invalid(format!("image {hash} is incomplete in the archive"));
    let original = read(VariantName::Original)?.ok_or_else(missing)?;
    let content_type = crate::media::sniff::sniff(&original)
        .map(|f| f.content_type().to_owned())
        .map_err(|_| RestoreError::Invalid(format!("image {hash}: the original is no image")))?;
    Ok(ImageFiles {
        content_type,
        thumb: read(VariantName::Thumb)?.ok_or_else(missing)?,
        feed: read(VariantName::Feed)?.ok_or_else(missing)?,
        full: read(VariantName::Full)?,
        original,
    })
}

/// Counts compressed bytes read, for progress.
struct Counting<'a, R> {
    inner: R,
    read: u64,
    progress: &'a dyn Progress,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        self.progress.at(self.read);
        Ok(n)
    }
}

fn open_archive<'a>(
    archive: &Path,
    progress: &'a dyn Progress,
) -> std::result::Result<tar::Archive<flate2::read::GzDecoder<Counting<'a, File>>>, RestoreError> {
    let f =
        File::open(archive).map_err(|e| RestoreError::Io(format!("opening the archive: {e}")))?;
    Ok(tar::Archive::new(flate2::read::GzDecoder::new(Counting {
        inner: f,
        read: 0,
        progress,
    })))
}

/// Reads the whole archive once: every file's checksum must match the manifest, which must be
/// the last entry and list exactly the files present.
fn verify(archive: &Path, progress: &dyn Progress) -> std::result::Result<Manifest, RestoreError> {
    let invalid = |m: String| RestoreError::Invalid(m);
    let mut ar = open_archive(archive, progress)?;
    let mut seen = Vec::new();
    let mut manifest: Option<Manifest> = None;
    for entry in ar.entries().map_err(|e| invalid(e.to_string()))? {
        let mut entry = entry.map_err(|e| invalid(e.to_string()))?;
        let path = entry
            .path()
            .map_err(|e| invalid(e.to_string()))?
            .to_string_lossy()
            .into_owned();
        if manifest.is_some() {
            return Err(invalid(format!("{path} follows the manifest")));
        }
        if !allowed_path(&path) {
            return Err(invalid(format!("unexpected entry {path}")));
        }
        if path == MANIFEST {
            let mut json = Vec::new();
            entry
                .read_to_end(&mut json)
                .map_err(|e| invalid(e.to_string()))?;
            let m: Manifest =
                serde_json::from_slice(&json).map_err(|e| invalid(format!("manifest: {e}")))?;
            manifest = Some(m);
            continue;
        }
        let mut hashing = HashingReader::new(&mut entry);
        let bytes = io::copy(&mut hashing, &mut io::sink()).map_err(|e| invalid(e.to_string()))?;
        seen.push(Entry {
            path,
            bytes,
            blake3: hashing.finish(),
        });
    }
    let manifest = manifest.ok_or_else(|| invalid("no manifest (a partial archive?)".into()))?;
    if manifest.format != FORMAT {
        return Err(invalid(format!("format {:?}", manifest.format)));
    }
    if manifest.schema_version > SCHEMA_VERSION {
        return Err(invalid(format!(
            "schema version {} is newer than this binary's {SCHEMA_VERSION}; upgrade aistagram",
            manifest.schema_version
        )));
    }
    if !manifest.files.iter().any(|f| f.path == DATABASE) {
        return Err(invalid("the manifest lists no database".into()));
    }
    if seen != manifest.files {
        let bad = manifest
            .files
            .iter()
            .find(|f| !seen.contains(f))
            .map(|f| format!("{} does not match its checksum or is missing", f.path))
            .unwrap_or_else(|| "files not in the manifest".into());
        return Err(invalid(bad));
    }
    Ok(manifest)
}

fn unpack(
    archive: &Path,
    staging: &Path,
    manifest: &Manifest,
    progress: &dyn Progress,
) -> std::result::Result<(), RestoreError> {
    let io = |e: io::Error| RestoreError::Io(format!("unpacking: {e}"));
    let mut ar = open_archive(archive, progress)?;
    fs::create_dir_all(staging).map_err(io)?;
    for entry in ar.entries().map_err(io)? {
        let mut entry = entry.map_err(io)?;
        let path = entry.path().map_err(io)?.to_string_lossy().into_owned();
        if path == MANIFEST {
            continue;
        }
        let expected = manifest
            .files
            .iter()
            .find(|f| f.path == path)
            .ok_or_else(|| RestoreError::Invalid(format!("unexpected entry {path}")))?;
        let target = staging.join(&path);
        if let Some(dir) = target.parent() {
            fs::create_dir_all(dir).map_err(io)?;
        }
        let mut out = File::create(&target).map_err(io)?;
        let mut hashing = HashingReader::new(&mut entry);
        io::copy(&mut hashing, &mut out).map_err(io)?;
        // The archive could have changed since it was verified: check again as it is written.
        if hashing.finish() != expected.blake3 {
            return Err(RestoreError::Invalid(format!(
                "{path} changed during the restore"
            )));
        }
        out.flush().map_err(io)?;
        if path == KEY_FILE {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&target, fs::Permissions::from_mode(0o600)).map_err(io)?;
        }
        out.sync_all().map_err(io)?;
    }
    Ok(())
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
