//! Content-addressed files: `media/<h0h1>/<hash>/{original,thumb.webp,feed.webp,full.webp}`.
//! A folder is written in a temporary place, every file and the folder fsynced, then renamed into
//! place and the parent fsynced, so a crash never leaves a visible folder half-written; and it
//! is written before the database row that points at it commits. (The filesystem side of
//! [`super::store::Storage`].)

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::store::ImageFiles;
use crate::error::{Error, Result};
use crate::store::MediaHash;

/// A servable file of one image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VariantName {
    Thumb,
    Feed,
    Full,
    Original,
}

impl VariantName {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "thumb" => Some(VariantName::Thumb),
            "feed" => Some(VariantName::Feed),
            "full" => Some(VariantName::Full),
            "original" => Some(VariantName::Original),
            _ => None,
        }
    }

    /// The variant a file name in an image folder (or a backup archive) holds.
    pub fn from_file_name(name: &str) -> Option<Self> {
        [
            VariantName::Thumb,
            VariantName::Feed,
            VariantName::Full,
            VariantName::Original,
        ]
        .into_iter()
        .find(|v| v.file_name() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            VariantName::Thumb => "thumb",
            VariantName::Feed => "feed",
            VariantName::Full => "full",
            VariantName::Original => "original",
        }
    }

    /// The file's name in an image folder (and in a backup archive).
    pub fn file_name(self) -> &'static str {
        match self {
            VariantName::Thumb => "thumb.webp",
            VariantName::Feed => "feed.webp",
            VariantName::Full => "full.webp",
            VariantName::Original => "original",
        }
    }
}

/// The media folder of one data dir.
#[derive(Debug, Clone)]
pub struct MediaFiles {
    root: PathBuf,
}

impl MediaFiles {
    pub fn new(data_dir: &Path) -> Self {
        MediaFiles {
            root: data_dir.join("media"),
        }
    }

    /// Removes half-written folders a crash left behind; call only before serving starts.
    pub fn clean_temporary(&self) {
        let tmp = self.root.join("tmp");
        if let Ok(entries) = fs::read_dir(&tmp) {
            for e in entries.flatten() {
                let _ = fs::remove_dir_all(e.path());
            }
        }
    }

    /// The hash of every image folder on disk (in-progress uploads under `tmp/` excluded).
    pub fn stored(&self) -> Result<Vec<MediaHash>> {
        let mut out = Vec::new();
        let shards = match fs::read_dir(&self.root) {
            Ok(s) => s,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(Error::internal(format!("reading media folder: {e}"))),
        };
        for shard in shards.flatten() {
            if shard.file_name() == "tmp" || !shard.path().is_dir() {
                continue;
            }
            for entry in fs::read_dir(shard.path()).into_iter().flatten().flatten() {
                if let Some(hash) = entry.file_name().to_str().and_then(MediaHash::parse_hex) {
                    out.push(hash);
                }
            }
        }
        out.sort();
        Ok(out)
    }

    /// Where the media folder is.
    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn dir(&self, hash: MediaHash) -> PathBuf {
        let hex = hash.to_string();
        self.root.join(&hex[..2]).join(hex)
    }

    pub fn path(&self, hash: MediaHash, variant: VariantName) -> PathBuf {
        self.dir(hash).join(variant.file_name())
    }

    /// Whether every file of a stored image is present.
    pub fn complete(&self, hash: MediaHash, has_full: bool) -> bool {
        let dir = self.dir(hash);
        let mut names = vec!["original", "thumb.webp", "feed.webp"];
        if has_full {
            names.push("full.webp");
        }
        names.iter().all(|n| dir.join(n).is_file())
    }

    /// Removes an image's folder (one already gone is no error).
    pub fn remove(&self, hash: MediaHash) -> Result<()> {
        match fs::remove_dir_all(self.dir(hash)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::context(format!("removing image {hash}"), e)),
        }
    }

    /// Writes the original and its variants durably; returns the bytes written. If the same image
    /// is already stored (same bytes uploaded before), the existing folder is kept.
    pub fn store(&self, hash: MediaHash, image: &ImageFiles) -> Result<u64> {
        let io = |what: &str, e: std::io::Error| Error::internal(format!("media {what}: {e}"));
        let final_dir = self.dir(hash);
        let parent = final_dir
            .parent()
            .ok_or_else(|| Error::internal("media path has no parent"))?
            .to_owned();
        let tmp_root = self.root.join("tmp");
        fs::create_dir_all(&tmp_root).map_err(|e| io("mkdir", e))?;
        fs::create_dir_all(&parent).map_err(|e| io("mkdir", e))?;
        let tmp = tmp_root.join(format!("{hash}-{}", uuid::Uuid::new_v4()));
        fs::create_dir(&tmp).map_err(|e| io("mkdir", e))?;
        let result = (|| {
            let mut total = 0u64;
            for (variant, bytes) in image.parts() {
                let mut f =
                    File::create(tmp.join(variant.file_name())).map_err(|e| io("create", e))?;
                f.write_all(bytes).map_err(|e| io("write", e))?;
                f.sync_all().map_err(|e| io("fsync", e))?;
                total += bytes.len() as u64;
            }
            sync_dir(&tmp).map_err(|e| io("fsync dir", e))?;
            match fs::rename(&tmp, &final_dir) {
                Ok(()) => {}
                // Already stored by an earlier upload of the same bytes: keep that one.
                Err(_) if final_dir.is_dir() => {
                    fs::remove_dir_all(&tmp).map_err(|e| io("cleanup", e))?
                }
                Err(e) => return Err(io("rename", e)),
            }
            sync_dir(&parent).map_err(|e| io("fsync dir", e))?;
            Ok(total)
        })();
        if result.is_err() {
            let _ = fs::remove_dir_all(&tmp);
        }
        result
    }
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Bytes of the files directly inside `dir` (image folders have no subfolders).
pub fn dir_size(dir: &Path) -> u64 {
    fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum()
}
