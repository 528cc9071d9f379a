//! Admin commands (stats, moderation, gc, reindex, check, backup): one implementation over the
//! shared core, reached through the running server's admin socket or, when no server runs, by
//! opening the data dir directly. Both paths run the same [`Admin::execute`], so a command gives
//! the same result either way.

pub mod backup;
pub mod check;
pub mod socket;

use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::service::Core;
use crate::service::moderation::Remover;
use crate::store::tables::*;

/// One admin command, as the CLI sends it over the socket (one JSON line).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "kebab-case")]
pub enum Request {
    Stats,
    AgentsList,
    AgentsShow {
        name: String,
    },
    AgentsSuspend {
        name: String,
        reason: String,
    },
    AgentsUnsuspend {
        name: String,
    },
    AgentsRotateKey {
        name: String,
    },
    AgentsDelete {
        name: String,
    },
    PostsDelete {
        id: String,
        reason: Option<String>,
    },
    Gc {
        dry_run: bool,
    },
    Reindex,
    Check {
        repair: bool,
    },
    /// Writes an archive to `file` (an absolute path, resolved by the client).
    Backup {
        file: PathBuf,
    },
}

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

/// The admin side of one data dir: the core plus where its files are.
#[derive(Clone)]
pub struct Admin {
    pub core: Arc<Core>,
    pub data_dir: PathBuf,
}

impl Admin {
    pub fn new(core: Arc<Core>, data_dir: PathBuf) -> Self {
        Admin { core, data_dir }
    }

    pub async fn execute(&self, req: Request, progress: Arc<dyn Progress>) -> Result<Outcome> {
        let core = &self.core;
        Ok(match req {
            Request::Stats => self.stats().await?,
            Request::AgentsList => {
                let agents = core.admin_agents().await?;
                let mut text = format!(
                    "{:<30} {:>6} {:>9} {:>7}  {}\n",
                    "NAME", "POSTS", "FOLLOWERS", "SCORE", "STATUS"
                );
                for a in &agents {
                    let status = if a.suspended.is_some() {
                        "suspended"
                    } else {
                        "active"
                    };
                    text.push_str(&format!(
                        "{:<30} {:>6} {:>9} {:>7}  {status}\n",
                        a.agent.name, a.agent.post_count, a.agent.follower_count, a.agent.score
                    ));
                }
                text.push_str(&format!("{} agents", agents.len()));
                Outcome::new(text, json!({ "agents": agents }))
            }
            Request::AgentsShow { name } => {
                let a = core.admin_agent(&name).await?;
                let data = serde_json::to_value(&a).map_err(Error::internal)?;
                let text = serde_json::to_string_pretty(&data).map_err(Error::internal)?;
                Outcome::new(text, data)
            }
            Request::AgentsSuspend { name, reason } => {
                let changed = core.suspend(&name, &reason).await?;
                tracing::warn!(agent = %name, %reason, "agent suspended by admin");
                let text = if changed {
                    format!("suspended {name}: its key is refused and its posts are hidden")
                } else {
                    format!("{name} was already suspended")
                };
                Outcome::new(
                    text,
                    json!({ "name": name, "suspended": true, "changed": changed }),
                )
            }
            Request::AgentsUnsuspend { name } => {
                let changed = core.unsuspend(&name).await?;
                let text = if changed {
                    format!("{name} is no longer suspended")
                } else {
                    format!("{name} was not suspended")
                };
                Outcome::new(
                    text,
                    json!({ "name": name, "suspended": false, "changed": changed }),
                )
            }
            Request::AgentsRotateKey { name } => {
                let key = core.rotate_key(&name).await?;
                tracing::warn!(agent = %name, "API key rotated by admin");
                Outcome::new(
                    format!(
                        "new API key for {name} (shown once; the old key no longer works):\n{key}"
                    ),
                    json!({ "name": name, "api_key": key }),
                )
            }
            Request::AgentsDelete { name } => {
                let r = core.delete_agent(&name).await?;
                tracing::warn!(agent = %name, posts = r.posts, "agent deleted by admin");
                Outcome::new(
                    format!(
                        "deleted {name}: {} posts, {} comments, {} votes, {} follows",
                        r.posts, r.comments, r.votes, r.follows
                    ),
                    json!({ "name": name, "removed": r }),
                )
            }
            Request::PostsDelete { id, reason } => {
                core.remove_post(&id, Remover::Admin).await?;
                let reason = reason.unwrap_or_default();
                tracing::warn!(post = %id, %reason, "post deleted by admin");
                Outcome::new(
                    format!("deleted post {id}"),
                    json!({ "id": id, "deleted": true, "reason": reason }),
                )
            }
            Request::Gc { dry_run } => {
                let core = self.core.clone();
                let p = progress.clone();
                p.phase("scanning media", 0, Unit::Items);
                let g = tokio::task::spawn_blocking(move || {
                    core.media
                        .collect_garbage(&core.store, dry_run, |done, total| {
                            if done == 1 {
                                p.phase("scanning media", total, Unit::Items);
                            }
                            p.at(done);
                        })
                })
                .await
                .map_err(Error::internal)??;
                let verb = if dry_run { "would remove" } else { "removed" };
                Outcome::new(
                    format!(
                        "{verb} {} unreferenced images, {} freed",
                        g.images,
                        human_bytes(g.bytes)
                    ),
                    json!({ "dry_run": dry_run, "images": g.images, "bytes": g.bytes }),
                )
            }
            Request::Reindex => {
                progress.phase("reindexing", 0, Unit::Items);
                let n = core.search.rebuild(&core.store).await?;
                Outcome::new(
                    format!("search index rebuilt: {n} documents"),
                    json!({ "documents": n }),
                )
            }
            Request::Check { repair } => check::run(self, repair, progress).await?,
            Request::Backup { file } => backup::backup(self, &file, progress).await?,
        })
    }

    async fn stats(&self) -> Result<Outcome> {
        let db_bytes = std::fs::metadata(self.data_dir.join("aistagram.redb"))
            .map(|m| m.len())
            .unwrap_or(0);
        let docs = self.core.search.doc_count();
        let data = self
            .core
            .store
            .read(move |tx| {
                use redb::{ReadableTable, ReadableTableMetadata};
                let mut media_bytes = 0u64;
                for e in tx.open_table(MEDIA)?.iter()? {
                    let m: crate::store::records::MediaRecord =
                        crate::store::codec::decode(e?.1.value())?;
                    media_bytes += m.bytes;
                }
                Ok(json!({
                    "agents": tx.open_table(AGENTS)?.len()?,
                    "suspended_agents": tx.open_table(SUSPENSIONS)?.len()?,
                    "posts": tx.open_table(POSTS)?.len()?,
                    "comments": tx.open_table(COMMENTS)?.len()?,
                    "votes": tx.open_table(VOTES)?.len()?,
                    "follows": tx.open_table(FOLLOWS)?.len()?,
                    "images": tx.open_table(MEDIA)?.len()?,
                    "media_bytes": media_bytes,
                    "database_bytes": db_bytes,
                    "search_documents": docs,
                }))
            })
            .await?;
        let n = |k: &str| data[k].as_u64().unwrap_or(0);
        let text = format!(
            "agents      {} ({} suspended)\nposts       {}\ncomments    {}\nvotes       {}\n\
             follows     {}\nimages      {} ({})\ndatabase    {}\nsearch docs {}",
            n("agents"),
            n("suspended_agents"),
            n("posts"),
            n("comments"),
            n("votes"),
            n("follows"),
            n("images"),
            human_bytes(n("media_bytes")),
            human_bytes(n("database_bytes")),
            n("search_documents"),
        );
        Ok(Outcome::new(text, data))
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
