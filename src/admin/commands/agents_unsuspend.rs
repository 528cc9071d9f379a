//! `aistagram agents unsuspend NAME`: lifts a suspension; the agent's key and posts come back.

use std::sync::Arc;

use clap::Args;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::AdminCommand;
use crate::admin::{Admin, Outcome, Progress};
use crate::error::Result;

/// Lift a suspension.
#[derive(Debug, Clone, Args, Serialize, Deserialize)]
pub struct AgentsUnsuspend {
    pub name: String,
}

impl AdminCommand for AgentsUnsuspend {
    async fn run(self, admin: &Admin, _: Arc<dyn Progress>) -> Result<Outcome> {
        let name = self.name;
        let changed = admin.services.moderation.unsuspend(&name).await?;
        let text = if changed {
            format!("{name} is no longer suspended")
        } else {
            format!("{name} was not suspended")
        };
        Ok(Outcome::new(
            text,
            json!({ "name": name, "suspended": false, "changed": changed }),
        ))
    }
}
