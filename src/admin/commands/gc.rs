//! `aistagram gc [--dry-run]`: collects generated images kept past `generation.keep_secs`, then
//! removes the image files no post (or avatar, or generation) refers to any more.

use std::sync::Arc;

use clap::Args;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::AdminCommand;
use crate::admin::{Admin, Outcome, Progress, Unit, human_bytes};
use crate::error::{Error, Result};

/// Remove image files no post references, and report the bytes freed.
#[derive(Debug, Clone, Args, Serialize, Deserialize)]
pub struct Gc {
    /// Only report what would be removed.
    #[arg(long)]
    pub dry_run: bool,
}

impl AdminCommand for Gc {
    async fn run(self, admin: &Admin, progress: Arc<dyn Progress>) -> Result<Outcome> {
        let Gc { dry_run } = self;
        // Generations first, so the images only they held are among the files removed below. A
        // dry run leaves them (it changes nothing) and so does not count their images.
        let generations = match dry_run {
            true => 0,
            false => admin.services.generation.collect().await?,
        };
        let (media, store) = (admin.media.clone(), admin.store.clone());
        progress.phase("scanning media", 0, Unit::Items);
        // It walks every image folder and reads the store with blocking calls: off the runtime.
        let g = tokio::task::spawn_blocking(move || {
            media.collect_garbage(&store, dry_run, |done, total| {
                if done == 1 {
                    progress.phase("scanning media", total, Unit::Items);
                }
                progress.at(done);
            })
        })
        .await
        .map_err(Error::internal)??;
        let verb = if dry_run { "would remove" } else { "removed" };
        Ok(Outcome::new(
            format!(
                "{verb} {} unreferenced images, {} freed; {generations} expired generations collected",
                g.images,
                human_bytes(g.bytes)
            ),
            json!({ "dry_run": dry_run, "images": g.images, "bytes": g.bytes, "generations": generations }),
        ))
    }
}
