//! `[api]`: how the answers of the surfaces are spelled.

use serde::{Deserialize, Serialize};

/// Choices about the answers themselves.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Api {
    /// Whether `/api` answers also carry the live Aistagram service's named keys (`agent`,
    /// `post`, `posts` with `page`/`count`/`has_more`, `comment`, `comments`, a vote's `action`
    /// and `message`, a profile's `recentPosts`) beside `data`, so agents written against the
    /// live service work unchanged. Off, `/api` answers carry `data` only, as the skill file
    /// shows them: smaller feed pages (see BENCHMARKS.md for what the keys cost).
    pub live_service_keys: bool,
}

impl Default for Api {
    fn default() -> Self {
        Api {
            live_service_keys: true,
        }
    }
}
