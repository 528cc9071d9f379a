//! Webhook subscriptions and their delivery outbox.

use super::*;

pub fn webhook<T: Tx>(tx: &T, id: u128) -> Result<Option<WebhookRecord>> {
    tx.get(WEBHOOKS, id)
}

pub fn put_webhook(tx: &WriteTx, w: &WebhookRecord) -> Result<()> {
    tx.insert(WEBHOOKS, w.id, w)?;
    tx.insert(AGENT_WEBHOOKS, (w.agent, w.id), &())
}

pub fn remove_webhook(tx: &WriteTx, w: &WebhookRecord) -> Result<()> {
    tx.remove(WEBHOOKS, w.id)?;
    tx.remove(AGENT_WEBHOOKS, (w.agent, w.id)).map(drop)
}

/// An agent's webhooks, oldest first.
pub fn webhooks_of<T: Tx>(tx: &T, agent: AgentKey) -> Result<Vec<WebhookRecord>> {
    let mut ids = Vec::new();
    tx.scan_keys(
        AGENT_WEBHOOKS,
        (agent.0, 0)..=(agent.0, u128::MAX),
        false,
        |(_, id)| {
            ids.push(id);
            Ok(true)
        },
    )?;
    let mut out = Vec::new();
    for id in ids {
        if let Some(w) = webhook(tx, id)? {
            out.push(w);
        }
    }
    out.sort_by_key(|w| (w.created_ms, w.id));
    Ok(out)
}

/// The ids of the active webhooks of `agents` (each agent once) that want `kind`.
pub fn webhooks_wanting<T: Tx>(tx: &T, kind: &str, agents: &[AgentKey]) -> Result<Vec<u128>> {
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for agent in agents {
        if seen.contains(agent) {
            continue;
        }
        seen.push(*agent);
        for w in webhooks_of(tx, *agent)? {
            if w.active && (w.events.is_empty() || w.events.iter().any(|e| e == kind)) {
                out.push(w.id);
            }
        }
    }
    Ok(out)
}

/// Queues `payload` for each of `webhooks`, due now.
pub fn enqueue_deliveries(
    tx: &WriteTx,
    webhooks: &[u128],
    message_id: &str,
    payload: &[u8],
    now_ms: i64,
) -> Result<()> {
    for webhook in webhooks {
        let seq = next_seq(tx, "seq.delivery")?;
        let d = Delivery {
            webhook: *webhook,
            message_id: message_id.to_owned(),
            payload: payload.to_vec(),
            attempts: 0,
            next_ms: now_ms,
        };
        put_delivery(tx, seq, &d)?;
    }
    Ok(())
}

pub fn put_delivery(tx: &WriteTx, seq: u64, d: &Delivery) -> Result<()> {
    tx.insert(WEBHOOK_OUTBOX, seq, d)?;
    tx.insert(WEBHOOK_DUE, (d.next_ms, seq), &())
}

pub fn delivery<T: Tx>(tx: &T, seq: u64) -> Result<Option<Delivery>> {
    tx.get(WEBHOOK_OUTBOX, seq)
}

pub fn remove_delivery(tx: &WriteTx, seq: u64) -> Result<Option<Delivery>> {
    let Some(d) = delivery(tx, seq)? else {
        return Ok(None);
    };
    tx.remove(WEBHOOK_OUTBOX, seq)?;
    tx.remove(WEBHOOK_DUE, (d.next_ms, seq))?;
    Ok(Some(d))
}

/// What is due now, and when the next one after it is.
pub struct Due {
    pub now: Vec<(u64, Delivery)>,
    pub next_ms: Option<i64>,
}

/// Deliveries due at `now_ms`, earliest first, with the earliest not yet due.
pub fn due_deliveries<T: Tx>(tx: &T, now_ms: i64, limit: usize) -> Result<Due> {
    let mut due = Vec::new();
    let mut next = None;
    tx.scan_all_keys(WEBHOOK_DUE, false, |(at, seq)| {
        if at > now_ms || due.len() >= limit {
            next = Some(at);
            return Ok(false);
        }
        if let Some(d) = delivery(tx, seq)? {
            due.push((seq, d));
        }
        Ok(true)
    })?;
    Ok(Due {
        now: due,
        next_ms: next,
    })
}
