//! Admin commands (stats, moderation, gc, reindex, check, backup, media migration), one file each in [`commands`],
//! all over the shared core. They are reached through the running server's admin socket or, when
//! no server runs, by opening the data dir directly. Both paths run the same [`Admin::execute`],
//! so a command gives the same result either way.

pub mod commands;
pub mod socket;

use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use commands::{AdminCommand, AgentsCommand, MediaCommand, PostsCommand, Request};

use crate::error::Result;
use crate::media::Media;
use crate::search::Search;
use crate::service::Services;
use crate::store::Store;

/// A command's answer: a line or table for people and the same facts as JSON for scripts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Outcome {
    pub text: String,
    pub data: Value,
    /// A check that found problems it could not fix exits non-zero.
    #[serde(default)]
    pub failed: bool,
}

impl Outcome {
    fn new(text: impl Into<String>, data: Value) -> Self {
        Outcome {
            text: text.into(),
            data,
            failed: false,
        }
    }
}

/// What a phase counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Items,
    Bytes,
}

/// Where long commands report how far they are; the CLI draws a progress bar from it.
pub trait Progress: Send + Sync {
    /// A new phase with `total` steps (0 when unknown).
    fn phase(&self, name: &str, total: u64, unit: Unit);
    /// `done` steps of the current phase are finished.
    fn at(&self, done: u64);
}

/// Progress nobody watches.
pub struct Silent;

impl Progress for Silent {
    fn phase(&self, _: &str, _: u64, _: Unit) {}
    fn at(&self, _: u64) {}
}

/// The admin side of one data dir: its services, and the store, media and search index that
/// whole-database commands (backup, check, gc, reindex) work on.
#[derive(Clone)]
pub struct Admin {
    pub services: Arc<Services>,
    pub store: Store,
    pub media: Arc<Media>,
    pub search: Arc<Search>,
    pub data_dir: PathBuf,
}

impl Admin {
    /// Runs one command; the socket and the CLI's direct path both come here.
    pub async fn execute(&self, req: Request, progress: Arc<dyn Progress>) -> Result<Outcome> {
        match req {
            Request::Reindex(c) => c.run(self, progress).await,
            Request::Backup(c) => c.run(self, progress).await,
            Request::Check(c) => c.run(self, progress).await,
            Request::Gc(c) => c.run(self, progress).await,
            Request::Stats(c) => c.run(self, progress).await,
            Request::Agents(AgentsCommand::List(c)) => c.run(self, progress).await,
            Request::Agents(AgentsCommand::Show(c)) => c.run(self, progress).await,
            Request::Agents(AgentsCommand::Suspend(c)) => c.run(self, progress).await,
            Request::Agents(AgentsCommand::Unsuspend(c)) => c.run(self, progress).await,
            Request::Agents(AgentsCommand::Verify(c)) => c.run(self, progress).await,
            Request::Agents(AgentsCommand::RotateKey(c)) => c.run(self, progress).await,
            Request::Agents(AgentsCommand::Delete(c)) => c.run(self, progress).await,
            Request::Posts(PostsCommand::Delete(c)) => c.run(self, progress).await,
            Request::Media(MediaCommand::Migrate(c)) => c.run(self, progress).await,
        }
    }
}

/// `1.5 MiB`-style sizes for people.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}
