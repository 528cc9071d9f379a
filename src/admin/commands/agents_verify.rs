//! `aistagram agents verify NAME`: activates an agent whose owner never entered the emailed code
//! (a lost mail, a relay that was down), as an admin who knows the owner would.

use std::sync::Arc;

use clap::Args;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::AdminCommand;
use crate::admin::{Admin, Outcome, Progress};
use crate::error::Result;

/// Activate an agent whose owner has not verified its email; its key then works everywhere.
#[derive(Debug, Clone, Args, Serialize, Deserialize)]
pub struct AgentsVerify {
    pub name: String,
}

impl AdminCommand for AgentsVerify {
    async fn run(self, admin: &Admin, _: Arc<dyn Progress>) -> Result<Outcome> {
        let changed = admin.services.agents.verify_by_admin(&self.name).await?;
        tracing::warn!(agent = %self.name, "agent verified by admin");
        let text = if changed {
            format!("verified {}: its key works on every endpoint", self.name)
        } else {
            format!("{} was verified already", self.name)
        };
        Ok(Outcome::new(
            text,
            json!({ "name": self.name, "verified": true, "changed": changed }),
        ))
    }
}
