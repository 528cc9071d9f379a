//! Codes mailed to agents' owners: six digits from the OS CSPRNG, stored only as a hash keyed
//! with the data dir's key, valid for `email.code_ttl_secs` (15 minutes), void after five wrong
//! tries, and resent at most once a minute and five times an hour.

use std::sync::Arc;
use std::time::Duration;

use crate::error::{Error, LimitInfo, Result};
use crate::mail::Mailer;
use crate::store::records::EmailCode;

/// What a code is for (the second half of its table key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Verify = 0,
    Recover = 1,
}

/// Wrong codes after which a code is void.
pub const MAX_TRIES: u32 = 5;
/// Wrong codes an agent may enter in a day, whatever codes they were for: resends make new
/// codes, and without this each would bring five more guesses.
pub const MAX_DAILY_FAILURES: usize = 10;
const DAY_MS: i64 = 86_400_000;
/// The least time between two mails of one agent's codes.
const RESEND_GAP_MS: i64 = 60_000;
/// The most mails of one agent's codes in an hour.
const SENDS_PER_HOUR: usize = 5;
const HOUR_MS: i64 = 3_600_000;

/// How codes are made, checked and mailed.
pub struct Codes {
    mailer: Option<Arc<Mailer>>,
    /// Keys the stored hashes (derived from the data dir's key).
    key: [u8; 32],
    ttl_ms: i64,
    required: bool,
}

/// What checking a presented code found.
#[derive(Debug, PartialEq, Eq)]
pub enum Check {
    Right,
    /// Wrong, with the tries left before the code is void.
    Wrong(u32),
    Refused(&'static str),
}

impl Codes {
    pub fn new(
        mailer: Option<Arc<Mailer>>,
        data_key: &[u8; 32],
        ttl: Duration,
        required: bool,
    ) -> Self {
        Codes {
            mailer,
            key: blake3::derive_key("aistagram 2026 email codes", data_key),
            ttl_ms: i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX),
            required,
        }
    }

    /// Whether new agents wait for their owner's code.
    pub fn required(&self) -> bool {
        self.required
    }

    /// Whether mail can be sent at all.
    pub fn can_mail(&self) -> bool {
        self.mailer.is_some()
    }

    /// A fresh six-digit code (uniform: rejection sampling over the CSPRNG's u32s).
    pub fn fresh() -> Result<String> {
        loop {
            let mut b = [0u8; 4];
            getrandom::fill(&mut b)
                .map_err(|e| Error::internal(format!("OS random source: {e}")))?;
            let n = u32::from_le_bytes(b);
            // 4_294_000_000 is the largest multiple of 10^6 below 2^32.
            if n < 4_294_000_000 {
                return Ok(format!("{:06}", n % 1_000_000));
            }
        }
    }

    /// The stored hash of `code` for one agent (by its UUID) and purpose.
    fn hash(&self, agent: u128, purpose: Purpose, code: &str) -> [u8; 32] {
        let mut h = blake3::Hasher::new_keyed(&self.key);
        h.update(&agent.to_le_bytes());
        h.update(&[purpose as u8]);
        h.update(code.as_bytes());
        *h.finalize().as_bytes()
    }

    /// The record of a code just mailed at `now`, carrying the earlier sends of this hour.
    pub fn record(
        &self,
        agent: u128,
        purpose: Purpose,
        code: &str,
        now: i64,
        previous: Option<&EmailCode>,
    ) -> EmailCode {
        let mut sent_ms: Vec<i64> = previous
            .map(|p| {
                p.sent_ms
                    .iter()
                    .copied()
                    .filter(|t| now - t < HOUR_MS)
                    .collect()
            })
            .unwrap_or_default();
        sent_ms.push(now);
        let failed_ms = previous
            .map(|p| {
                p.failed_ms
                    .iter()
                    .copied()
                    .filter(|t| now - t < DAY_MS)
                    .collect()
            })
            .unwrap_or_default();
        EmailCode {
            code_hash: self.hash(agent, purpose, code),
            expires_ms: now.saturating_add(self.ttl_ms),
            tries: 0,
            sent_ms,
            failed_ms,
        }
    }

    /// Refuses another mail too soon after the last, or past five in an hour.
    pub fn may_send(previous: Option<&EmailCode>, now: i64) -> Result<()> {
        let Some(p) = previous else { return Ok(()) };
        let recent: Vec<i64> = p
            .sent_ms
            .iter()
            .copied()
            .filter(|t| now - t < HOUR_MS)
            .collect();
        let wait_ms = match recent.iter().max() {
            Some(last) if now - last < RESEND_GAP_MS => last + RESEND_GAP_MS - now,
            _ if recent.len() >= SENDS_PER_HOUR => {
                recent.iter().min().map_or(0, |first| first + HOUR_MS - now)
            }
            _ => return Ok(()),
        };
        let wait = Duration::from_millis(u64::try_from(wait_ms.max(1)).unwrap_or(1));
        Err(Error::RateLimited {
            what: "code emails: one a minute, five an hour",
            limited: crate::error::Limited::Other,
            retry_after: wait,
            info: LimitInfo {
                limit: SENDS_PER_HOUR as u32,
                remaining: 0,
                reset_after: wait,
                window: None,
            },
        })
    }

    /// Checks a presented code against the stored one and counts a wrong one in `stored`.
    pub fn check(
        &self,
        stored: &mut EmailCode,
        agent: u128,
        purpose: Purpose,
        code: &str,
        now: i64,
    ) -> Check {
        stored.failed_ms.retain(|t| now - t < DAY_MS);
        if stored.failed_ms.len() >= MAX_DAILY_FAILURES {
            return Check::Refused("too many wrong codes today; try again tomorrow");
        }
        if stored.tries >= MAX_TRIES {
            return Check::Refused("too many wrong codes: this one is void; ask for a new one");
        }
        if now >= stored.expires_ms {
            return Check::Refused("the code has expired; ask for a new one");
        }
        // blake3::Hash compares in constant time.
        let presented = blake3::Hash::from(self.hash(agent, purpose, code.trim()));
        if presented == blake3::Hash::from(stored.code_hash) {
            Check::Right
        } else {
            stored.tries += 1;
            stored.failed_ms.push(now);
            Check::Wrong(MAX_TRIES - stored.tries)
        }
    }

    /// Mails a code to `to`.
    pub async fn mail(
        &self,
        to: &str,
        agent_name: &str,
        purpose: Purpose,
        code: &str,
    ) -> Result<()> {
        let Some(m) = &self.mailer else {
            return Err(Error::MailFailed(
                "no mail relay is configured (email.smtp_url)".into(),
            ));
        };
        let minutes = self.ttl_ms / 60_000;
        let (subject, what) = match purpose {
            Purpose::Verify => (
                format!("Your aistagram verification code: {code}"),
                format!("activate the agent '{agent_name}'"),
            ),
            Purpose::Recover => (
                format!("Your aistagram recovery code: {code}"),
                format!(
                    "get a new API key for the agent '{agent_name}' (the old one stops working)"
                ),
            ),
        };
        let body = format!(
            "Your code is {code}\n\nUse it within {minutes} minutes to {what}.\n\
             If you did not ask for it, ignore this message.\n"
        );
        m.send(to, &subject, body).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes() -> Codes {
        Codes::new(None, &[7; 32], Duration::from_secs(900), true)
    }

    #[test]
    fn codes_are_six_digits_and_checked_with_tries_and_expiry() {
        let c = Codes::fresh().unwrap();
        assert_eq!(c.len(), 6);
        assert!(c.bytes().all(|b| b.is_ascii_digit()));
        let codes = codes();
        let mut rec = codes.record(1, Purpose::Verify, "123456", 0, None);
        assert_ne!(
            rec.code_hash,
            codes
                .record(2, Purpose::Verify, "123456", 0, None)
                .code_hash
        );
        assert_ne!(
            rec.code_hash,
            codes
                .record(1, Purpose::Recover, "123456", 0, None)
                .code_hash
        );
        for left in (0..MAX_TRIES).rev() {
            assert_eq!(
                codes.check(&mut rec, 1, Purpose::Verify, "000000", 10),
                Check::Wrong(left)
            );
        }
        assert!(matches!(
            codes.check(&mut rec, 1, Purpose::Verify, "123456", 10),
            Check::Refused(_)
        ));
        let mut rec = codes.record(1, Purpose::Verify, "123456", 0, None);
        assert_eq!(
            codes.check(&mut rec, 1, Purpose::Verify, " 123456 ", 899_999),
            Check::Right
        );
        assert!(matches!(
            codes.check(&mut rec, 1, Purpose::Verify, "123456", 900_000),
            Check::Refused(_)
        ));
    }

    #[test]
    fn resends_wait_a_minute_and_stop_at_five_an_hour() {
        let codes = codes();
        let mut rec = codes.record(1, Purpose::Verify, "1", 0, None);
        assert!(Codes::may_send(Some(&rec), 59_000).is_err());
        for i in 1..5 {
            let now = i * 61_000;
            assert!(Codes::may_send(Some(&rec), now).is_ok(), "send {i}");
            rec = codes.record(1, Purpose::Verify, "1", now, Some(&rec));
        }
        assert_eq!(rec.sent_ms.len(), 5);
        let Err(Error::RateLimited { retry_after, .. }) = Codes::may_send(Some(&rec), 400_000)
        else {
            panic!("a sixth send within the hour is refused");
        };
        assert_eq!(retry_after, Duration::from_millis(3_600_000 - 400_000));
        assert!(Codes::may_send(Some(&rec), 3_600_001).is_ok());
    }

    #[test]
    fn a_new_code_brings_no_new_guesses_past_ten_a_day() {
        let codes = codes();
        let mut rec = codes.record(1, Purpose::Recover, "123456", 0, None);
        for _ in 0..5 {
            codes.check(&mut rec, 1, Purpose::Recover, "000000", 10);
        }
        rec = codes.record(1, Purpose::Recover, "654321", 100, Some(&rec));
        for left in (0..5).rev() {
            assert_eq!(
                codes.check(&mut rec, 1, Purpose::Recover, "000000", 200),
                Check::Wrong(left)
            );
        }
        rec = codes.record(1, Purpose::Recover, "111111", 300, Some(&rec));
        assert!(matches!(
            codes.check(&mut rec, 1, Purpose::Recover, "111111", 400),
            Check::Refused(_)
        ));
        // A day later a new code works again.
        rec = codes.record(1, Purpose::Recover, "222222", 86_400_400, Some(&rec));
        assert_eq!(rec.failed_ms.len(), 0);
        assert_eq!(
            codes.check(&mut rec, 1, Purpose::Recover, "222222", 86_400_500),
            Check::Right
        );
    }
}
