//! Webhooks: agents subscribe a URL to events on their own posts and by themselves
//! (`post.created`, `post.liked`, `post.medaled`, `post.commented`), and to what others do to
//! them (`comment.replied`, `agent.mentioned`, `agent.followed`). Events are queued in the
//! same transaction as the change they report and delivered by a background task, signed the
//! Standard Webhooks way (`webhook-id`, `webhook-timestamp`, `webhook-signature` = `v1,` +
//! base64 HMAC-SHA256 over `id.timestamp.body`), retried with exponential backoff, and a webhook
//! that keeps failing is switched off.
//!
//! Secrets must be readable to sign with, so they cannot be hashed: they are sealed with
//! ChaCha20-Poly1305 under a key kept in the data dir (`secret.key`, owner-only), so a copy of
//! the database alone does not reveal them.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use uuid::Uuid;

use super::views::Timestamp;
use super::{Agent, Wakes};
use crate::config;
use crate::error::{Error, Result};
use crate::media::ssrf::AddressPolicy;
use crate::secret_key::Sealer;
use crate::store::records::{Delivery, PostRecord, WebhookRecord};
use crate::store::{AgentKey, Store, WriteTx, repo};

/// Event types a webhook may ask for.
pub const EVENTS: [&str; 7] = [
    "post.created",
    "post.medaled",
    "post.liked",
    "post.commented",
    "comment.replied",
    "agent.mentioned",
    "agent.followed",
];
/// Webhooks one agent may have.
pub const MAX_PER_AGENT: usize = 5;
const SECRET_PREFIX: &str = "whsec_";

/// Webhook secrets were sealed before sealing took associated data; none keeps them opening.
const WEBHOOK_AAD: &[u8] = b"";

/// What delivering needs: the sealer, an address-checked client and the retry policy.
pub struct Deliverer {
    pub sealer: Sealer,
    client: reqwest::Client,
    policy: AddressPolicy,
    allow_http: bool,
    cfg: config::Webhooks,
}

impl Deliverer {
    pub fn new(data_key: &[u8; 32], cfg: &config::Config, user_agent: &str) -> Result<Deliverer> {
        let policy = || {
            AddressPolicy::new(
                cfg.media.allow_private_fetch,
                cfg.media.deny_networks.clone(),
            )
        };
        Ok(Deliverer {
            sealer: Sealer::new(data_key),
            client: crate::media::fetch::delivery_client(
                policy(),
                Duration::from_secs(cfg.webhooks.timeout_secs.max(1)),
                user_agent,
            )?,
            policy: policy(),
            allow_http: cfg.media.allow_private_fetch,
            cfg: cfg.webhooks.clone(),
        })
    }
}

/// A webhook as its owner sees it (the secret only once, at creation).
#[derive(Debug, Clone)]
pub struct WebhookView {
    pub id: String,
    pub url: String,
    pub secret: Option<String>,
    pub events: Vec<String>,
    pub active: bool,
    pub created_at: Timestamp,
}

impl WebhookView {
    fn new(w: &WebhookRecord, secret: Option<String>) -> Self {
        WebhookView {
            id: Uuid::from_u128(w.id).to_string(),
            url: w.url.clone(),
            secret,
            events: if w.events.is_empty() {
                EVENTS.iter().map(|e| (*e).to_owned()).collect()
            } else {
                w.events.clone()
            },
            active: w.active,
            created_at: Timestamp(w.created_ms),
        }
    }
}

/// Queues a `kind` event about `post`, done by `actor`, for the webhooks of the post's owner and
/// of the actor, inside the caller's write transaction. `data` carries `postId`, `postUrl`, the
/// owner's and actor's handles, and the fields of `extra`.
pub fn queue(
    tx: &WriteTx,
    kind: &'static str,
    base: &str,
    post: &PostRecord,
    actor: (AgentKey, &str),
    extra: impl FnOnce() -> Value,
) -> Result<()> {
    let owner_key = AgentKey(post.agent);
    let hooks = repo::webhooks_wanting(tx, kind, &[owner_key, actor.0])?;
    // Most events have no subscriber: then no name is looked up and no payload is built.
    if hooks.is_empty() {
        return Ok(());
    }
    let owner = if owner_key == actor.0 {
        actor.1.to_owned()
    } else {
        repo::agent_required(tx, owner_key)?.name
    };
    let post_id = Uuid::from_u128(post.id).to_string();
    let mut data = json!({
        "postId": post_id,
        "postUrl": format!("{base}/p/{post_id}"),
        "owner": owner,
        "actor": actor.1,
    });
    if let (Some(d), Value::Object(x)) = (data.as_object_mut(), extra()) {
        d.extend(x);
    }
    enqueue(tx, kind, &hooks, data)
}

/// Queues a `kind` event addressed to one agent (a reply to it, a mention of it, a new
/// follower) for that agent's webhooks, inside the caller's write transaction.
/// `data` is built (and the names in it looked up) only when a webhook wants the event.
pub fn queue_for(
    tx: &WriteTx,
    kind: &'static str,
    to: AgentKey,
    data: impl FnOnce() -> Result<Value>,
) -> Result<()> {
    let hooks = repo::webhooks_wanting(tx, kind, &[to])?;
    if hooks.is_empty() {
        return Ok(());
    }
    let mut data = data()?;
    data["agent"] = json!(repo::agent_required(tx, to)?.name);
    enqueue(tx, kind, &hooks, data)
}

/// Queues one `{"type", "timestamp", "data"}` message, under one id, for each of `hooks`.
fn enqueue(tx: &WriteTx, kind: &'static str, hooks: &[u128], data: Value) -> Result<()> {
    let now = Timestamp::now();
    let id = format!("msg_{}", Uuid::now_v7().simple());
    let payload = serde_json::to_vec(&json!({ "type": kind, "timestamp": now, "data": data }))
        .map_err(Error::internal)?;
    repo::enqueue_deliveries(tx, hooks, &id, &payload, now.0)
}

/// `v1,<base64 HMAC-SHA256(secret, "{id}.{timestamp}.{body}")>`.
pub fn signature(secret: &[u8], id: &str, timestamp: i64, body: &[u8]) -> Result<String> {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(secret).map_err(|_| Error::internal("HMAC key"))?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// Webhook subscriptions and their deliverer.
pub struct Webhooks {
    store: Store,
    deliverer: Deliverer,
    wakes: Wakes,
}

impl Webhooks {
    pub fn new(store: Store, deliverer: Deliverer, wakes: Wakes) -> Self {
        Webhooks {
            store,
            deliverer,
            wakes,
        }
    }

    /// Registers a webhook; the answer carries its secret, shown this once.
    pub async fn add(&self, agent: &Agent, url: &str, events: Vec<String>) -> Result<WebhookView> {
        let d = &self.deliverer;
        let parsed = url::Url::parse(url.trim())
            .map_err(|e| Error::validation("url", format!("not a valid URL: {e}")))?;
        match parsed.scheme() {
            "https" => {}
            "http" if d.allow_http => {}
            _ => return Err(Error::ForbiddenUrl("webhook URLs must use https".into())),
        }
        crate::media::fetch::check_url(&parsed, &d.policy).map_err(Error::ForbiddenUrl)?;
        for e in &events {
            if !EVENTS.contains(&e.as_str()) {
                return Err(Error::validation(
                    "events",
                    format!("unknown event {e:?}; known: {}", EVENTS.join(", ")),
                ));
            }
        }
        // The name's addresses too, so the agent hears of a private target now (after the
        // cheap checks: a refused request looks nothing up).
        crate::media::fetch::check_resolved(&parsed, &d.policy)
            .await
            .map_err(Error::ForbiddenUrl)?;
        let mut raw = [0u8; 24];
        getrandom::fill(&mut raw).map_err(|e| Error::internal(e.to_string()))?;
        let secret = format!("{SECRET_PREFIX}{}", STANDARD.encode(raw));
        let record = WebhookRecord {
            id: Uuid::now_v7().as_u128(),
            agent: agent.key.0,
            url: parsed.to_string(),
            sealed_secret: d.sealer.seal(&raw, WEBHOOK_AAD)?,
            events,
            active: true,
            failures: 0,
            created_ms: Timestamp::now().0,
        };
        let view = WebhookView::new(&record, Some(secret));
        let me = agent.key;
        self.store
            .write(move |tx| {
                if repo::webhooks_of(tx, me)?.len() >= MAX_PER_AGENT {
                    return Err(Error::TooManyWebhooks(MAX_PER_AGENT));
                }
                repo::put_webhook(tx, &record)
            })
            .await?;
        Ok(view)
    }

    pub async fn list(&self, agent: &Agent) -> Result<Vec<WebhookView>> {
        let me = agent.key;
        self.store
            .read(move |tx| {
                Ok(repo::webhooks_of(tx, me)?
                    .iter()
                    .map(|w| WebhookView::new(w, None))
                    .collect())
            })
            .await
    }

    pub async fn remove(&self, agent: &Agent, id: &str) -> Result<()> {
        let id = Uuid::try_parse(id.trim())
            .map_err(|_| Error::WebhookNotFound)?
            .as_u128();
        let me = agent.key;
        self.store
            .write(move |tx| match repo::webhook(tx, id)? {
                Some(w) if w.agent == me.0 => repo::remove_webhook(tx, &w),
                _ => Err(Error::WebhookNotFound),
            })
            .await
    }

    /// The deliverer: sends due deliveries, then sleeps until the next is due (or one is
    /// queued). Runs until the task is dropped.
    pub async fn run(&self) {
        loop {
            let next = match self.deliver_due().await {
                Ok(next) => next,
                Err(e) => {
                    tracing::error!(cause = %e, "webhook delivery failed; retrying");
                    Some(Timestamp::now().0 + 1000)
                }
            };
            super::sleep_until(next, &self.wakes.deliverer).await;
        }
    }

    /// Sends every due delivery (concurrently); returns when the next one is due.
    async fn deliver_due(&self) -> Result<Option<i64>> {
        let now = Timestamp::now().0;
        let repo::Due {
            now: due,
            next_ms: next,
        } = self
            .store
            .read(move |tx| repo::due_deliveries(tx, now, 64))
            .await?;
        if due.is_empty() {
            return Ok(next);
        }
        let mut sends = tokio::task::JoinSet::new();
        for (seq, d) in due {
            let Some(w) = self
                .store
                .read(move |tx| repo::webhook(tx, d.webhook))
                .await?
                .filter(|w| w.active)
            else {
                // Deleted or switched off: the event has nowhere to go.
                self.store
                    .write(move |tx| repo::remove_delivery(tx, seq).map(|_| ()))
                    .await?;
                continue;
            };
            // A secret that no longer opens (the key file was replaced) fails like a refused
            // delivery, so the webhook is eventually switched off instead of retried forever.
            let Ok(secret) = self.deliverer.sealer.unseal(&w.sealed_secret, WEBHOOK_AAD) else {
                tracing::warn!(webhook = %Uuid::from_u128(w.id), "webhook secret does not open");
                self.settle(seq, d, w.id, false).await?;
                continue;
            };
            // Checked again at every delivery: a target stored under an older, looser policy
            // (or whose address the operator has since denied) fails like a refusal and is
            // eventually switched off; nothing is sent to it.
            let target_ok = url::Url::parse(&w.url)
                .is_ok_and(|u| crate::media::fetch::check_url(&u, &self.deliverer.policy).is_ok());
            if !target_ok {
                tracing::warn!(webhook = %Uuid::from_u128(w.id), "webhook target refused by the address policy");
                self.settle(seq, d, w.id, false).await?;
                continue;
            }
            let client = self.deliverer.client.clone();
            sends.spawn(async move {
                let ts = Timestamp::now().0 / 1000;
                let Ok(sig) = signature(&secret, &d.message_id, ts, &d.payload) else {
                    return (seq, d, w.id, false);
                };
                let ok = client
                    .post(&w.url)
                    .header("content-type", "application/json")
                    .header("webhook-id", &d.message_id)
                    .header("webhook-timestamp", ts.to_string())
                    .header("webhook-signature", sig)
                    .body(d.payload.clone())
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                (seq, d, w.id, ok)
            });
        }
        while let Some(done) = sends.join_next().await {
            let (seq, d, webhook, ok) = done.map_err(Error::internal)?;
            self.settle(seq, d, webhook, ok).await?;
        }
        Ok(Some(Timestamp::now().0))
    }

    /// Records one attempt: a success clears the delivery; a failure schedules the next attempt
    /// (or gives up) and may switch the webhook off.
    async fn settle(&self, seq: u64, d: Delivery, webhook: u128, ok: bool) -> Result<()> {
        let cfg = self.deliverer.cfg.clone();
        let now = Timestamp::now().0;
        // The write may be run again (a batch retried without a failed operation), so it only
        // says whether it switched the webhook off; the log line comes after the commit.
        let switched_off = self
            .store
            .write(move |tx| {
                let Some(mut w) = repo::webhook(tx, webhook)? else {
                    repo::remove_delivery(tx, seq)?;
                    return Ok(false);
                };
                let was_active = w.active;
                repo::remove_delivery(tx, seq)?;
                if ok {
                    w.failures = 0;
                } else {
                    w.failures += 1;
                    let attempts = d.attempts + 1;
                    if attempts < cfg.max_attempts {
                        let backoff = cfg
                            .retry_base_ms
                            .saturating_mul(1 << (attempts - 1).min(20))
                            .min(3_600_000);
                        let retry = Delivery {
                            attempts,
                            next_ms: now + i64::try_from(backoff).unwrap_or(i64::MAX / 2),
                            ..d.clone()
                        };
                        repo::put_delivery(tx, seq, &retry)?;
                    }
                    if w.failures >= cfg.disable_after_failures {
                        w.active = false;
                    }
                }
                repo::put_webhook(tx, &w)?;
                Ok(was_active && !w.active)
            })
            .await?;
        if switched_off {
            let id = Uuid::from_u128(webhook);
            tracing::warn!(webhook = %id, "webhook switched off after repeated failures");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_follow_the_standard_webhooks_example() {
        // The example from the Standard Webhooks specification.
        let secret = STANDARD.decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            signature(&secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).unwrap(),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }
}
