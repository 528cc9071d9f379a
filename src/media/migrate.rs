//! Moving every image to the other store while the server serves (`aistagram media migrate`):
//! mirror writes and removals to the target, copy and verify what the source holds, switch,
//! record the switch, and remove the old copies that nothing still needs.

use std::collections::HashSet;
use std::sync::Arc;

use futures_util::StreamExt;

use super::store::{self, Storage};
use super::{Media, Pin};
use crate::config::StorageKind;
use crate::domain::MediaHash;
use crate::error::{Error, Result};
use crate::store::{Store, repo};

/// Images copied at once by a migration: enough to hide a bucket's round trips.
const MIGRATION_PARALLELISM: usize = 8;

/// How far a migration is.
#[derive(Debug, Clone, Copy)]
pub enum MigrationStep {
    Copying { done: u64, total: u64 },
    RemovingSource { done: u64, total: u64 },
}

/// What a migration did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Migrated {
    pub from: StorageKind,
    pub to: StorageKind,
    /// Images copied (and checked) now.
    pub copied: u64,
    /// Bytes copied now.
    pub bytes: u64,
    /// Images the target held intact already (from a migration cut short).
    pub already_there: u64,
    /// Images removed (their last post deleted, or collected) before they were reached.
    pub gone: u64,
    /// Image writes during the migration that went to both stores.
    pub mirrored: u64,
    /// Images whose files could not be copied or removed, and why.
    pub problems: Vec<String>,
    /// Images removed from the source after the switch.
    pub removed_from_source: u64,
    /// Images whose old copies stay (not copied, or being read at the switch).
    pub left_in_source: u64,
}

/// What happened to one image in a migration.
enum Copied {
    Written(u64),
    AlreadyThere,
    Gone,
    Broken(String),
}

/// A migration's mirroring of writes to its target; stopped when dropped, so a migration that
/// fails or is cancelled leaves the server on its source alone.
struct Mirroring<'a> {
    media: &'a Media,
}

impl<'a> Mirroring<'a> {
    async fn start(media: &'a Media, target: Arc<Storage>) -> Mirroring<'a> {
        // Alone: a write in flight finishes first, so every write either happened before the
        // source is listed or is mirrored.
        let _alone = media.writes.write().await;
        Mirroring::set(media, Some(target));
        Mirroring { media }
    }

    fn set(media: &Media, to: Option<Arc<Storage>>) {
        media.set_stores(|s| s.mirror = to);
    }

    fn finish(self) {}
}

impl Drop for Mirroring<'_> {
    fn drop(&mut self) {
        Mirroring::set(self.media, None);
    }
}

impl Media {
    /// [`Media::migrate`] to the store `to` names, as configured.
    pub async fn migrate_to(
        &self,
        store: &Store,
        to: StorageKind,
        keep_source: bool,
        progress: impl Fn(MigrationStep) + Send + Sync,
    ) -> Result<Migrated> {
        if to == StorageKind::S3 && !self.cfg.s3.configured() {
            return Err(Error::validation(
                "to",
                "set [media.s3] (bucket, endpoint, region, credentials) in the config first",
            ));
        }
        let target = Storage::open(to, &self.data_dir, &self.cfg.s3)?;
        self.migrate(store, target, keep_source, progress).await
    }

    /// Moves every image to `target` while the server keeps serving, then switches to it and
    /// records the switch. Images written or removed meanwhile are written to or removed from
    /// both stores. Each copy is read back and checked by blake3; an image the target already
    /// holds intact is not copied again, so a migration cut short resumes where it stopped. The
    /// source's copies are removed after the switch unless `keep_source`; those of images that
    /// could not be copied, or that something still reads, stay.
    pub async fn migrate(
        &self,
        store: &Store,
        target: Storage,
        keep_source: bool,
        progress: impl Fn(MigrationStep) + Send + Sync,
    ) -> Result<Migrated> {
        let Ok(_one) = self.migrating.try_lock() else {
            return Err(Error::Conflict(
                "a media migration is already running".into(),
            ));
        };
        let source = self.storage();
        if source.kind() == target.kind() {
            return Err(Error::Conflict(format!(
                "the media is in {} already",
                target.kind()
            )));
        }
        let target = Arc::new(target);
        let mirrored_before = self.mirrored.load(std::sync::atomic::Ordering::Relaxed);
        let mirroring = Mirroring::start(self, target.clone()).await;
        let hashes = source.list().await?;
        let total = hashes.len() as u64;
        progress(MigrationStep::Copying { done: 0, total });
        let mut out = Migrated {
            from: source.kind(),
            to: target.kind(),
            ..Migrated::default()
        };
        let mut broken = HashSet::new();
        let copies = futures_util::stream::iter(hashes)
            .map(|hash| {
                let (source, target) = (&source, &target);
                async move { (hash, self.copy_image(store, source, target, hash).await) }
            })
            .buffer_unordered(MIGRATION_PARALLELISM);
        futures_util::pin_mut!(copies);
        let mut done = 0;
        while let Some((hash, copied)) = copies.next().await {
            match copied? {
                Copied::Written(bytes) => {
                    out.copied += 1;
                    out.bytes += bytes;
                }
                Copied::AlreadyThere => out.already_there += 1,
                Copied::Gone => out.gone += 1,
                Copied::Broken(problem) => {
                    broken.insert(hash);
                    out.problems.push(problem);
                }
            }
            done += 1;
            progress(MigrationStep::Copying { done, total });
        }
        // The switch: no image write is in flight, and every later one goes to the target.
        {
            let _alone = self.writes.write().await;
            let (dir, kind) = (self.data_dir.clone(), target.kind());
            tokio::task::spawn_blocking(move || store::record(&dir, kind))
                .await
                .map_err(Error::internal)??;
            self.set_stores(|s| s.current = target.clone());
            out.mirrored =
                self.mirrored.load(std::sync::atomic::Ordering::Relaxed) - mirrored_before;
            mirroring.finish();
        }
        tracing::info!(from = %source.kind(), to = %target.kind(), at = %target.describe(), "media migrated");
        if !keep_source {
            self.remove_source(&source, &broken, &mut out, &progress)
                .await;
        }
        Ok(out)
    }

    /// Removes the old store's copies after a switch, but not those of images that could not be
    /// copied, nor of images pinned now (a backup or a request that opened the old store before
    /// the switch may still read them). The switch has happened: a failure here is reported,
    /// not returned.
    async fn remove_source(
        &self,
        source: &Storage,
        broken: &HashSet<MediaHash>,
        out: &mut Migrated,
        progress: &(impl Fn(MigrationStep) + Send + Sync),
    ) {
        let left = match source.list().await {
            Ok(left) => left,
            Err(e) => {
                out.problems.push(format!(
                    "the old copies were not removed: {}",
                    crate::error::Chain(&e)
                ));
                return;
            }
        };
        let total = left.len() as u64;
        for (i, hash) in left.into_iter().enumerate() {
            progress(MigrationStep::RemovingSource {
                done: i as u64 + 1,
                total,
            });
            let pinned = self
                .pins
                .lock()
                .map(|st| st.counts.contains_key(&hash))
                .unwrap_or(true);
            if broken.contains(&hash) || pinned {
                out.left_in_source += 1;
                continue;
            }
            match source.delete(hash).await {
                Ok(()) => out.removed_from_source += 1,
                Err(e) => {
                    out.left_in_source += 1;
                    tracing::warn!(%hash, error = %crate::error::Chain(&e), "old copy not removed");
                }
            }
        }
    }

    /// Copies one image to `target` and checks it there. Every image the source holds is
    /// copied, used or not: a post may be committing right now with an image whose row is not
    /// there yet (`gc` collects what ends up unused).
    async fn copy_image(
        &self,
        store: &Store,
        source: &Storage,
        target: &Storage,
        hash: MediaHash,
    ) -> Result<Copied> {
        // Pinned: no removal can start until the copy is done, and one under way has finished.
        let _pin = Pin::new(&self.pins, hash).await?;
        let record = store.read(move |tx| repo::media(tx, hash)).await?;
        let Some(mut files) = source.read_any(hash).await? else {
            return Ok(match record {
                Some(r) if r.refs > 0 => {
                    Copied::Broken(format!("image {hash}: files missing in the source"))
                }
                // Removed before the pin (its last post deleted, or collected).
                _ => Copied::Gone,
            });
        };
        if record.as_ref().is_some_and(|r| !r.info.has_full) {
            // A bucket keeps `full` even for small images; the disk does not.
            files.full = None;
        }
        if MediaHash::of(&files.original) != hash {
            return Ok(Copied::Broken(format!(
                "image {hash}: the source's original does not match its hash; not copied"
            )));
        }
        if target.holds(hash, &files).await? {
            return Ok(Copied::AlreadyThere);
        }
        // A damaged copy on disk (from an earlier, cut-short run) would be kept by `put`.
        if target.kind() == StorageKind::Fs {
            target.delete(hash).await?;
        }
        let bytes = target.put(hash, &files).await?;
        if !target.holds(hash, &files).await? {
            return Err(Error::internal(format!(
                "image {hash}: the copy in {} does not read back as written",
                target.describe()
            )));
        }
        Ok(Copied::Written(bytes))
    }
}
