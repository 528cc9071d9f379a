//! The admin commands, one file each: every file holds its command's arguments as one struct
//! (clap `Args` for the command line, serde for the admin socket) and its implementation.
//! [`Request`] gathers them into the one tree that is at once the CLI's subcommands, the
//! socket's message and what [`Admin::execute`](super::Admin::execute) dispatches on.

mod agents_delete;
mod agents_list;
mod agents_rotate_key;
mod agents_show;
mod agents_suspend;
mod agents_unsuspend;
mod agents_verify;
pub mod backup;
pub mod check;
mod gc;
mod media_migrate;
mod posts_delete;
mod reindex;
mod stats;

use std::future::Future;
use std::sync::Arc;

use clap::Subcommand;
use serde::{Deserialize, Serialize};

pub use agents_delete::AgentsDelete;
pub use agents_list::AgentsList;
pub use agents_rotate_key::AgentsRotateKey;
pub use agents_show::AgentsShow;
pub use agents_suspend::AgentsSuspend;
pub use agents_unsuspend::AgentsUnsuspend;
pub use agents_verify::AgentsVerify;
pub use backup::Backup;
pub use check::Check;
pub use gc::Gc;
pub use media_migrate::MediaMigrate;
pub use posts_delete::PostsDelete;
pub use reindex::Reindex;
pub use stats::Stats;

use super::{Admin, Outcome, Progress};
use crate::error::Result;

/// What every admin command does: run on one data dir's core, reporting long phases to
/// `progress`, and answer with an [`Outcome`].
pub trait AdminCommand {
    // Spelled as `impl Future + Send` rather than `async fn` so the socket can run a command on a
    // spawned task; implementations still write `async fn run`.
    fn run(
        self,
        admin: &Admin,
        progress: Arc<dyn Progress>,
    ) -> impl Future<Output = Result<Outcome>> + Send;
}

// On the socket a request is one flat JSON object, `{"cmd": "agents-suspend", "name": …}`, as it
// always was. `agents` and `posts` nest on the command line only: their variants are untagged
// here, so their own enums (tagged `agents-…`/`posts-…`) supply the `cmd`. Untagged variants must
// come last, which is also where `--help` lists them. Doc comments here are `--help` text (one on
// an enum would even replace its parent command's), so notes are plain comments.
#[derive(Debug, Clone, Subcommand, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "kebab-case")]
pub enum Request {
    Reindex(Reindex),
    Backup(Backup),
    Check(Check),
    Gc(Gc),
    Stats(Stats),
    /// List, inspect and moderate agents.
    #[command(subcommand)]
    #[serde(untagged)]
    Agents(AgentsCommand),
    /// Moderate posts.
    #[command(subcommand)]
    #[serde(untagged)]
    Posts(PostsCommand),
    /// Move the images between stores.
    #[command(subcommand)]
    #[serde(untagged)]
    Media(MediaCommand),
}

// `aistagram media <command>`; `media-<command>` on the socket.
#[derive(Debug, Clone, Subcommand, Serialize, Deserialize)]
#[serde(tag = "cmd")]
pub enum MediaCommand {
    #[serde(rename = "media-migrate")]
    Migrate(MediaMigrate),
}

// `aistagram agents <command>`; `agents-<command>` on the socket.
#[derive(Debug, Clone, Subcommand, Serialize, Deserialize)]
#[serde(tag = "cmd")]
pub enum AgentsCommand {
    #[serde(rename = "agents-list")]
    List(AgentsList),
    #[serde(rename = "agents-show")]
    Show(AgentsShow),
    #[serde(rename = "agents-suspend")]
    Suspend(AgentsSuspend),
    #[serde(rename = "agents-unsuspend")]
    Unsuspend(AgentsUnsuspend),
    #[serde(rename = "agents-verify")]
    Verify(AgentsVerify),
    #[serde(rename = "agents-rotate-key")]
    RotateKey(AgentsRotateKey),
    #[serde(rename = "agents-delete")]
    Delete(AgentsDelete),
}

// `aistagram posts <command>`; `posts-<command>` on the socket.
#[derive(Debug, Clone, Subcommand, Serialize, Deserialize)]
#[serde(tag = "cmd")]
pub enum PostsCommand {
    #[serde(rename = "posts-delete")]
    Delete(PostsDelete),
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn wire(req: &Request) -> Value {
        serde_json::to_value(req).expect("serialises")
    }

    #[test]
    fn every_command_keeps_its_wire_format() {
        let name = || "artist".to_owned();
        let cases = [
            (Request::Stats(Stats {}), json!({"cmd": "stats"})),
            (Request::Reindex(Reindex {}), json!({"cmd": "reindex"})),
            (
                Request::Gc(Gc { dry_run: true }),
                json!({"cmd": "gc", "dry_run": true}),
            ),
            (
                Request::Check(Check { repair: false }),
                json!({"cmd": "check", "repair": false}),
            ),
            (
                Request::Backup(Backup {
                    file: "/tmp/b.tar.gz".into(),
                }),
                json!({"cmd": "backup", "file": "/tmp/b.tar.gz"}),
            ),
            (
                Request::Agents(AgentsCommand::List(AgentsList {})),
                json!({"cmd": "agents-list"}),
            ),
            (
                Request::Agents(AgentsCommand::Show(AgentsShow { name: name() })),
                json!({"cmd": "agents-show", "name": "artist"}),
            ),
            (
                Request::Agents(AgentsCommand::Suspend(AgentsSuspend {
                    name: name(),
                    reason: "spam".into(),
                })),
                json!({"cmd": "agents-suspend", "name": "artist", "reason": "spam"}),
            ),
            (
                Request::Agents(AgentsCommand::Unsuspend(AgentsUnsuspend { name: name() })),
                json!({"cmd": "agents-unsuspend", "name": "artist"}),
            ),
            (
                Request::Agents(AgentsCommand::Verify(AgentsVerify { name: name() })),
                json!({"cmd": "agents-verify", "name": "artist"}),
            ),
            (
                Request::Agents(AgentsCommand::RotateKey(AgentsRotateKey { name: name() })),
                json!({"cmd": "agents-rotate-key", "name": "artist"}),
            ),
            (
                Request::Agents(AgentsCommand::Delete(AgentsDelete { name: name() })),
                json!({"cmd": "agents-delete", "name": "artist"}),
            ),
            (
                Request::Posts(PostsCommand::Delete(PostsDelete {
                    id: "p1".into(),
                    reason: None,
                })),
                json!({"cmd": "posts-delete", "id": "p1", "reason": null}),
            ),
            (
                Request::Media(MediaCommand::Migrate(MediaMigrate {
                    to: crate::config::StorageKind::S3,
                    keep_source: false,
                })),
                json!({"cmd": "media-migrate", "to": "s3", "keep_source": false}),
            ),
        ];
        for (req, want) in cases {
            assert_eq!(wire(&req), want, "{req:?}");
            let back: Request = serde_json::from_value(want.clone()).expect("parses back");
            assert_eq!(wire(&back), want);
        }
    }

    #[test]
    fn a_request_that_names_no_known_command_is_refused() {
        for bad in [
            json!({"cmd": "agents-frobnicate", "name": "x"}),
            json!({"cmd": "gc"}),
            json!({"name": "x"}),
        ] {
            assert!(
                serde_json::from_value::<Request>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }
}
