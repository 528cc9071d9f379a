//! Restores: the archive is read twice, once to verify every checksum against the manifest (a
//! damaged, truncated or partial archive is refused before anything is written), then to unpack
//! into a folder beside the target, which is renamed into place at the end; images go to the
//! data dir or a bucket.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use serde_json::json;

use super::{
    DATABASE, Entry, FORMAT, HashingReader, KEY_FILE, MANIFEST, Manifest, allowed_path, sync_parent,
};
use crate::admin::{Outcome, Progress, Unit, human_bytes};
use crate::config::StorageKind;
use crate::error::Error;
use crate::media::files::VariantName;
use crate::media::store::{ImageFiles, Storage};
use crate::store::{MediaHash, SCHEMA_VERSION};

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
