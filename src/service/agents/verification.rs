//! Owners' email verification and key recovery: the mailed codes of [`super::super::codes`]
//! checked against what an agent presents, and what a right one changes.

use super::{AccountView, Agents, GLIMPSE_KEY_PREFIX, new_api_key, resolve};
use crate::domain::Email;
use crate::error::{Error, Result};
use crate::service::Agent;
use crate::service::codes::{Check, Codes, Purpose};
use crate::service::views::Timestamp;
use crate::store::{AgentKey, WriteTx, repo};

/// What a successful verification answers: the account to its key, the name to anyone else.
pub enum Verified {
    Account(Box<AccountView>),
    Name(String),
}

/// How a code is presented: with the agent's own (pending) key, or by the agent's name.
pub enum Claimant<'a> {
    Key(&'a Agent),
    Name(&'a str),
}

impl Agents {
    /// Checks the owner's verification code; the right one activates the key everywhere.
    /// With the key, the answer is the account (also when it was verified already); by name it
    /// is only the name, and a name that is unknown or has nothing pending gets the same refusal
    /// as a wrong code, so an anonymous caller learns nothing about any account.
    pub async fn verify(&self, who: Claimant<'_>, code: &str) -> Result<Verified> {
        let target = match who {
            Claimant::Key(a) => a.key.0.to_string(),
            Claimant::Name(n) => n.to_owned(),
        };
        let by_key = matches!(who, Claimant::Key(_));
        let (codes, code, now) = (self.codes.clone(), code.to_owned(), Timestamp::now().0);
        let found = self
            .store
            .write(move |tx| {
                let key = if by_key {
                    target.parse().ok().map(AgentKey)
                } else {
                    resolve(tx, &target)?
                };
                let Some(key) = key else {
                    return Ok(Err("wrong code"));
                };
                let agent = repo::agent_required(tx, key)?;
                if agent.verified {
                    return Ok(if by_key {
                        Ok((key, false))
                    } else {
                        Err("wrong code")
                    });
                }
                // A wrong try is counted: it is committed, then refused.
                Ok(
                    match spend_code(&codes, tx, key, agent.id, Purpose::Verify, &code, now)? {
                        None if by_key => {
                            Err("no code is pending; ask for one at /api/v1/agents/verify/resend")
                        }
                        None => Err("wrong code"),
                        Some(Check::Right) => Ok((key, mark_verified(tx, key)?)),
                        Some(Check::Wrong(0)) => {
                            Err("wrong code; that was the last try, ask for a new code")
                        }
                        Some(Check::Wrong(_)) => Err("wrong code"),
                        Some(Check::Refused(why)) => Err(why),
                    },
                )
            })
            .await?;
        let (key, changed) = found.map_err(Error::InvalidCode)?;
        if changed {
            // Cached identities say "not verified"; the next request must see the change.
            self.keys.forget_all();
        }
        match who {
            Claimant::Key(_) => {
                let me = Agent {
                    key,
                    name: String::new(),
                    verified: true,
                };
                Ok(Verified::Account(Box::new(self.account(&me).await?)))
            }
            Claimant::Name(n) => Ok(Verified::Name(n.to_owned())),
        }
    }

    /// Mails the caller a new verification code (the old one stops working).
    pub async fn resend_code(&self, agent: &Agent) -> Result<()> {
        let key = agent.key;
        let (record, previous) = self
            .store
            .read(move |tx| {
                let a = repo::agent_required(tx, key)?;
                Ok((a, repo::email_code(tx, key, Purpose::Verify as u8)?))
            })
            .await?;
        if record.verified {
            return Err(Error::InvalidCode(
                "nothing to verify: this agent is verified",
            ));
        }
        let Some(to) = record.owner_email.as_deref() else {
            return Err(Error::InvalidCode(
                "this agent has no owner email to send a code to",
            ));
        };
        let now = Timestamp::now().0;
        Codes::may_send(previous.as_ref(), now)?;
        let code = Codes::fresh()?;
        self.codes
            .mail(to, &record.name, Purpose::Verify, &code)
            .await?;
        let stored = self
            .codes
            .record(record.id, Purpose::Verify, &code, now, previous.as_ref());
        self.store
            .write(move |tx| repo::set_email_code(tx, key, Purpose::Verify as u8, Some(&stored)))
            .await
    }

    /// Key recovery, step one: when `name` exists and `owner_email` is its owner's address, a
    /// recovery code is stored and mailed. The caller learns nothing either way (the same
    /// answer, and the mail goes out after the answer).
    pub async fn recover(&self, name: &str, owner_email: &str) -> Result<()> {
        let Ok(email) = Email::parse(owner_email) else {
            return Ok(());
        };
        let (name, codes) = (name.to_owned(), self.codes.clone());
        if !codes.can_mail() {
            return Err(Error::MailFailed(
                "no mail relay is configured (email.smtp_url), so keys cannot be recovered".into(),
            ));
        }
        let now = Timestamp::now().0;
        let code = Codes::fresh()?;
        let mailed = code.clone();
        let to = self
            .store
            .write(move |tx| {
                let Some(key) = resolve(tx, &name)? else {
                    return Ok(None);
                };
                let agent = repo::agent_required(tx, key)?;
                // Mail goes to the address on record, not to the spelling the caller typed.
                let Some(on_record) = agent.owner_email.clone() else {
                    return Ok(None);
                };
                let same = on_record.eq_ignore_ascii_case(email.as_str());
                let previous = repo::email_code(tx, key, Purpose::Recover as u8)?;
                if !same || Codes::may_send(previous.as_ref(), now).is_err() {
                    return Ok(None);
                }
                let stored =
                    codes.record(agent.id, Purpose::Recover, &code, now, previous.as_ref());
                repo::set_email_code(tx, key, Purpose::Recover as u8, Some(&stored))?;
                Ok(Some((on_record, agent.name)))
            })
            .await?;
        if let Some((to, name)) = to {
            let codes = self.codes.clone();
            tokio::spawn(async move {
                if let Err(e) = codes.mail(&to, &name, Purpose::Recover, &mailed).await {
                    tracing::warn!(agent = %name, error = %e, "recovery code not mailed");
                }
            });
        }
        Ok(())
    }

    /// Key recovery, step two: the right code answers a new key, and the old key dies in the same
    /// commit. Entering it also proves the owner's mailbox, so a pending agent is verified.
    pub async fn recover_confirm(&self, name: &str, code: &str) -> Result<String> {
        let (api_key, key_hash) = new_api_key(GLIMPSE_KEY_PREFIX)?;
        let (name, code, codes) = (name.to_owned(), code.to_owned(), self.codes.clone());
        let now = Timestamp::now().0;
        let outcome = self
            .store
            .write(move |tx| {
                let wrong = Err("wrong or expired code");
                let Some(key) = resolve(tx, &name)? else {
                    return Ok(wrong);
                };
                let id = repo::agent_required(tx, key)?.id;
                // One answer for every failure: which state a code is in is nobody's business
                // but its owner's.
                match spend_code(&codes, tx, key, id, Purpose::Recover, &code, now)? {
                    Some(Check::Right) => {
                        repo::replace_api_key(tx, key, key_hash)?;
                        mark_verified(tx, key)?;
                        Ok(Ok(()))
                    }
                    _ => Ok(wrong),
                }
            })
            .await?;
        outcome.map_err(Error::InvalidCode)?;
        self.keys.forget_all();
        Ok(api_key)
    }

    /// `aistagram agents verify NAME`: activates an agent by hand. False if it was already.
    pub async fn verify_by_admin(&self, name: &str) -> Result<bool> {
        let name = name.to_owned();
        let changed = self
            .store
            .write(move |tx| {
                let key = resolve(tx, &name)?.ok_or(Error::AgentNotFound)?;
                repo::set_email_code(tx, key, Purpose::Verify as u8, None)?;
                mark_verified(tx, key)
            })
            .await?;
        if changed {
            self.keys.forget_all();
        }
        Ok(changed)
    }
}

/// Checks `code` against the agent's pending code for `purpose`, inside the write that acts on
/// it: a right code is used up, a wrong one is counted (written back, so the count survives the
/// refusal). `None` when no code is pending.
fn spend_code(
    codes: &Codes,
    tx: &WriteTx,
    key: AgentKey,
    agent_id: u128,
    purpose: Purpose,
    code: &str,
    now: i64,
) -> Result<Option<Check>> {
    let Some(mut stored) = repo::email_code(tx, key, purpose as u8)? else {
        return Ok(None);
    };
    let check = codes.check(&mut stored, agent_id, purpose, code, now);
    match check {
        Check::Right => repo::set_email_code(tx, key, purpose as u8, None)?,
        Check::Wrong(_) => repo::set_email_code(tx, key, purpose as u8, Some(&stored))?,
        Check::Refused(_) => {}
    }
    Ok(Some(check))
}

/// Marks an agent verified; `false` when it was already.
fn mark_verified(tx: &WriteTx, key: AgentKey) -> Result<bool> {
    let mut agent = repo::agent_required(tx, key)?;
    if agent.verified {
        return Ok(false);
    }
    agent.verified = true;
    repo::update_agent(tx, key, &agent)?;
    Ok(true)
}
