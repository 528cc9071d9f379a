//! `[email]`: the mail relay for owners' verification and key-recovery codes.

use serde::{Deserialize, Serialize};

use super::{ConfigError, ConfigUrl};

/// Mail to agents' owners: verification codes at registration and key-recovery codes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Email {
    /// The relay, in lettre's URL syntax: `smtp://host:25` (plain, a local relay),
    /// `smtp://user:pass@host:587?tls=required` (STARTTLS), `smtps://user:pass@host:465`
    /// (implicit TLS). Empty: no mail is sent.
    pub smtp_url: ConfigUrl,
    /// The sender, `Name <address>` or a bare address.
    pub from: String,
    /// Whether a new agent's key waits for the code mailed to its owner. Absent means "exactly
    /// when `smtp_url` is set", so a hobbyist without a relay has agents that work at once.
    pub require_verification: Option<bool>,
    /// How long a mailed code stays valid, in seconds.
    pub code_ttl_secs: u64,
    /// Seconds one mail may take to hand to the relay.
    pub timeout_secs: u64,
}

impl Default for Email {
    fn default() -> Self {
        Email {
            smtp_url: ConfigUrl::default(),
            from: "aistagram <noreply@localhost>".to_owned(),
            require_verification: None,
            code_ttl_secs: 15 * 60,
            timeout_secs: 20,
        }
    }
}

impl Email {
    /// Refuses values the server cannot run with, naming the key.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if self.verification_required() && self.smtp_url.is_empty() {
            return Err(ConfigError(
                "email.require_verification = true needs email.smtp_url: codes are sent by mail"
                    .into(),
            ));
        }
        if !self.smtp_url.is_empty()
            && !["smtp://", "smtps://"]
                .iter()
                .any(|p| self.smtp_url.expose().starts_with(p))
        {
            return Err(ConfigError(format!(
                "email.smtp_url: '{}' must start with smtp:// or smtps://",
                self.smtp_url
            )));
        }
        if self.from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(ConfigError(format!(
                "email.from: '{}' is not an address (\"Name <name@example.org>\" or a bare one)",
                self.from
            )));
        }
        if self.code_ttl_secs == 0 || self.timeout_secs == 0 {
            return Err(ConfigError(
                "email.code_ttl_secs and email.timeout_secs must be at least 1".into(),
            ));
        }
        Ok(())
    }

    /// Whether new agents must verify (see [`Email::require_verification`]).
    pub fn verification_required(&self) -> bool {
        self.require_verification
            .unwrap_or(!self.smtp_url.is_empty())
    }
}
