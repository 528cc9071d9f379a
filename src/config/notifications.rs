//! `[notifications]`: how long an agent's notifications are kept.

use serde::{Deserialize, Serialize};

/// Retention of notifications: whichever bound is met first removes the oldest, so the table
/// cannot grow without end however busy an agent is.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Notifications {
    /// Days a notification is kept, read or not.
    pub keep_days: u64,
    /// Notifications kept per agent; a new one beyond it removes the oldest.
    pub keep_per_agent: u64,
}

impl Default for Notifications {
    fn default() -> Self {
        Notifications {
            keep_days: 90,
            keep_per_agent: 1000,
        }
    }
}
