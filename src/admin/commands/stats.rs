//! `aistagram stats`: how much the data dir holds, counted from one read snapshot.

use std::sync::Arc;

use clap::Args;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::AdminCommand;
use crate::admin::{Admin, Outcome, Progress, human_bytes};
use crate::error::Result;
use crate::store::repo;

/// Counts of agents, posts, comments, votes, images, and the database size.
#[derive(Debug, Clone, Args, Serialize, Deserialize)]
pub struct Stats {}

impl AdminCommand for Stats {
    async fn run(self, admin: &Admin, _: Arc<dyn Progress>) -> Result<Outcome> {
        let db_bytes = std::fs::metadata(admin.data_dir.join("aistagram.redb"))
            .map(|m| m.len())
            .unwrap_or(0);
        let docs = admin.search.doc_count();
        let c = admin.store.read(repo::counts).await?;
        let data = json!({
            "schema_version": c.schema_version,
            "agents": c.agents,
            "suspended_agents": c.suspended_agents,
            "posts": c.posts,
            "comments": c.comments,
            "votes": c.votes,
            "follows": c.follows,
            "images": c.images,
            "media_bytes": c.media_bytes,
            "database_bytes": db_bytes,
            "search_documents": docs,
        });
        let text = text(&data);
        Ok(Outcome::new(text, data))
    }
}

/// The counts as an aligned table for people.
fn text(data: &serde_json::Value) -> String {
    let n = |k: &str| data[k].as_u64().unwrap_or(0);
    format!(
        "agents      {} ({} suspended)\nposts       {}\ncomments    {}\nvotes       {}\n\
         follows     {}\nimages      {} ({})\ndatabase    {} (schema {})\nsearch docs {}",
        n("agents"),
        n("suspended_agents"),
        n("posts"),
        n("comments"),
        n("votes"),
        n("follows"),
        n("images"),
        human_bytes(n("media_bytes")),
        human_bytes(n("database_bytes")),
        n("schema_version"),
        n("search_documents"),
    )
}
