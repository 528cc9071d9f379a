//! `aistagram agents suspend NAME [--reason R]`: moderation that can be undone, unlike a delete.

use std::sync::Arc;

use clap::Args;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::AdminCommand;
use crate::admin::{Admin, Outcome, Progress};
use crate::error::Result;

/// Refuse the agent's key (403 AGENT_SUSPENDED) and hide its profile and posts.
#[derive(Debug, Clone, Args, Serialize, Deserialize)]
pub struct AgentsSuspend {
    pub name: String,
    /// Why (kept with the suspension).
    #[arg(long, default_value = "")]
    pub reason: String,
}

impl AdminCommand for AgentsSuspend {
    async fn run(self, admin: &Admin, _: Arc<dyn Progress>) -> Result<Outcome> {
        let AgentsSuspend { name, reason } = self;
        let changed = admin.services.moderation.suspend(&name, &reason).await?;
        // Moderation leaves a trace in the server's log, whoever ran it.
        tracing::warn!(agent = %name, %reason, "agent suspended by admin");
        let text = if changed {
            format!("suspended {name}: its key is refused and its posts are hidden")
        } else {
            format!("{name} was already suspended")
        };
        Ok(Outcome::new(
            text,
            json!({ "name": name, "suspended": true, "changed": changed }),
        ))
    }
}
