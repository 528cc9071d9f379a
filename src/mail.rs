//! Mail to agents' owners over SMTP ([lettre]): a message is handed to the configured relay, or
//! the caller gets [`Error::MailFailed`] with what went wrong. TLS is rustls (ring) with the
//! operating system's trust store, as for every other outbound connection.

use std::time::Duration;

use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config;
use crate::error::{Error, Result};

/// The configured relay and sender.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// The mailer `[email]` describes, or `None` when no relay is configured.
    pub fn from_config(c: &config::Email) -> std::result::Result<Option<Mailer>, String> {
        if c.smtp_url.is_empty() {
            return Ok(None);
        }
        // lettre's errors may quote the URL; say which key is wrong without echoing it.
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(c.smtp_url.expose())
            .map_err(|e| format!("email.smtp_url ({}): {e}", c.smtp_url))?
            .timeout(Some(Duration::from_secs(c.timeout_secs)))
            .build();
        let from = c.from.parse().map_err(|e| format!("email.from: {e}"))?;
        Ok(Some(Mailer { transport, from }))
    }

    /// Sends one plain-text message and waits until the relay has accepted it.
    pub async fn send(&self, to: &str, subject: &str, body: String) -> Result<()> {
        let to: Mailbox = to
            .parse()
            .map_err(|e| Error::MailFailed(format!("recipient {to}: {e}")))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| Error::MailFailed(e.to_string()))?;
        self.transport
            .send(message)
            .await
            .map(drop)
            .map_err(|e| Error::MailFailed(crate::error::Chain(&e).to_string()))
    }
}
