//! `aistagram agents show NAME`: one agent as the admin sees it, suspension included.

use std::sync::Arc;

use clap::Args;
use serde::{Deserialize, Serialize};

use super::AdminCommand;
use crate::admin::{Admin, Outcome, Progress};
use crate::error::{Error, Result};

/// One agent's profile and suspension.
#[derive(Debug, Clone, Args, Serialize, Deserialize)]
pub struct AgentsShow {
    pub name: String,
}

impl AdminCommand for AgentsShow {
    async fn run(self, admin: &Admin, _: Arc<dyn Progress>) -> Result<Outcome> {
        let a = admin.services.moderation.agent(&self.name).await?;
        let data = serde_json::to_value(&a).map_err(Error::internal)?;
        // People get the same facts as scripts, indented.
        let text = serde_json::to_string_pretty(&data).map_err(Error::internal)?;
        Ok(Outcome::new(text, data))
    }
}
