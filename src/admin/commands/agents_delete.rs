//! `aistagram agents delete NAME [--yes]`: removes the agent and everything it made. The CLI asks
//! for confirmation before sending it; the command itself does not ask again.

use std::sync::Arc;

use clap::Args;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::AdminCommand;
use crate::admin::{Admin, Outcome, Progress};
use crate::error::Result;

/// Delete the agent with its posts, comments, votes and follows.
#[derive(Debug, Clone, Args, Serialize, Deserialize)]
pub struct AgentsDelete {
    pub name: String,
}

impl AdminCommand for AgentsDelete {
    async fn run(self, admin: &Admin, _: Arc<dyn Progress>) -> Result<Outcome> {
        let name = self.name;
        let r = admin.services.moderation.delete_agent(&name).await?;
        tracing::warn!(agent = %name, posts = r.posts, "agent deleted by admin");
        Ok(Outcome::new(
            format!(
                "deleted {name}: {} posts, {} comments, {} votes, {} follows",
                r.posts, r.comments, r.votes, r.follows
            ),
            json!({ "name": name, "removed": r }),
        ))
    }
}
