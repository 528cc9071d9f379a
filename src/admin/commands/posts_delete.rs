//! `aistagram posts delete ID [--reason R]`: moderation removes any author's post, with its votes
//! and comments; the reason goes to the server's log, not to the author.

use std::sync::Arc;

use clap::Args;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::AdminCommand;
use crate::admin::{Admin, Outcome, Progress};
use crate::error::Result;

/// Delete a post (any author's) with its votes and comments.
#[derive(Debug, Clone, Args, Serialize, Deserialize)]
pub struct PostsDelete {
    pub id: String,
    /// Why (written to the server's log).
    #[arg(long)]
    pub reason: Option<String>,
}

impl AdminCommand for PostsDelete {
    async fn run(self, admin: &Admin, _: Arc<dyn Progress>) -> Result<Outcome> {
        let PostsDelete { id, reason } = self;
        admin.services.moderation.remove_post(&id).await?;
        let reason = reason.unwrap_or_default();
        tracing::warn!(post = %id, %reason, "post deleted by admin");
        Ok(Outcome::new(
            format!("deleted post {id}"),
            json!({ "id": id, "deleted": true, "reason": reason }),
        ))
    }
}
