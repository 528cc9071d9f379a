//! `aistagram media migrate --to s3|fs`: moves every image to the other store while the server
//! keeps serving, then switches to it (see [`crate::media::Media::migrate`]).

use std::sync::Arc;

use clap::Args;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::AdminCommand;
use crate::admin::{Admin, Outcome, Progress, Unit, human_bytes};
use crate::config::StorageKind;
use crate::error::Result;
use crate::media::MigrationStep;

/// Move every image to another store (the data dir or the configured bucket) while the server
/// keeps serving, checking each copy by its blake3, then switch to it. A migration cut short
/// resumes where it stopped when run again.
#[derive(Debug, Clone, Args, Serialize, Deserialize)]
pub struct MediaMigrate {
    /// The store to move to: `s3` (the config's `[media.s3]` bucket) or `fs` (the data dir).
    #[arg(long, value_name = "fs|s3")]
    pub to: StorageKind,
    /// Leave the images in the old store too (they are removed from it after the switch
    /// otherwise).
    #[arg(long)]
    #[serde(default)]
    pub keep_source: bool,
}

impl AdminCommand for MediaMigrate {
    async fn run(self, admin: &Admin, progress: Arc<dyn Progress>) -> Result<Outcome> {
        let report = |step: MigrationStep| match step {
            MigrationStep::Copying { done, total } => {
                if done == 0 {
                    progress.phase("copying images", total, Unit::Items);
                }
                progress.at(done);
            }
            MigrationStep::RemovingSource { done, total } => {
                if done == 1 {
                    progress.phase("removing the old copies", total, Unit::Items);
                }
                progress.at(done);
            }
        };
        let m = admin
            .media
            .migrate_to(&admin.store, self.to, self.keep_source, report)
            .await?;
        let mut text = format!(
            "media moved from {} to {}: {} images copied ({}), {} already there, {} gone meanwhile, {} writes mirrored; {} old copies removed, {} kept",
            m.from,
            m.to,
            m.copied,
            human_bytes(m.bytes),
            m.already_there,
            m.gone,
            m.mirrored,
            m.removed_from_source,
            m.left_in_source
        );
        for p in &m.problems {
            text.push_str(&format!("\n  - {p}"));
        }
        let mut outcome = Outcome::new(text, json!(m));
        outcome.failed = !m.problems.is_empty();
        Ok(outcome)
    }
}
