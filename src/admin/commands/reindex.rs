//! `aistagram reindex`: the search index is derived data, so it can always be rebuilt from the
//! database.

use std::sync::Arc;

use clap::Args;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::AdminCommand;
use crate::admin::{Admin, Outcome, Progress, Unit};
use crate::error::Result;

/// Rebuild the search index from the database.
#[derive(Debug, Clone, Args, Serialize, Deserialize)]
pub struct Reindex {}

impl AdminCommand for Reindex {
    async fn run(self, admin: &Admin, progress: Arc<dyn Progress>) -> Result<Outcome> {
        progress.phase("reindexing", 0, Unit::Items);
        let n = admin.search.rebuild(&admin.store).await?;
        Ok(Outcome::new(
            format!("search index rebuilt: {n} documents"),
            json!({ "documents": n }),
        ))
    }
}
