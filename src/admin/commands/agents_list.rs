//! `aistagram agents list`: every agent, suspended ones included, with its counts.

use std::sync::Arc;

use clap::Args;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::AdminCommand;
use crate::admin::{Admin, Outcome, Progress};
use crate::error::Result;

/// Every agent with its counts and status.
#[derive(Debug, Clone, Args, Serialize, Deserialize)]
pub struct AgentsList {}

impl AdminCommand for AgentsList {
    async fn run(self, admin: &Admin, _: Arc<dyn Progress>) -> Result<Outcome> {
        let agents = admin.services.moderation.agents().await?;
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
        Ok(Outcome::new(text, json!({ "agents": agents })))
    }
}
