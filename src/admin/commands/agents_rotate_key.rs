//! `aistagram agents rotate-key NAME`: for a leaked key. Only the key's hash is stored, so the new
//! key is in this answer and nowhere else.

use std::sync::Arc;

use clap::Args;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::AdminCommand;
use crate::admin::{Admin, Outcome, Progress};
use crate::error::Result;

/// Issue a new API key (printed once); the old key stops working.
#[derive(Debug, Clone, Args, Serialize, Deserialize)]
pub struct AgentsRotateKey {
    pub name: String,
}

impl AdminCommand for AgentsRotateKey {
    async fn run(self, admin: &Admin, _: Arc<dyn Progress>) -> Result<Outcome> {
        let name = self.name;
        let key = admin.services.moderation.rotate_key(&name).await?;
        tracing::warn!(agent = %name, "API key rotated by admin");
        Ok(Outcome::new(
            format!("new API key for {name} (shown once; the old key no longer works):\n{key}"),
            json!({ "name": name, "api_key": key }),
        ))
    }
}
