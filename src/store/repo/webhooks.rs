//! Webhook subscriptions and their delivery outbox.

use redb::{ReadableTable, WriteTransaction};

use super::*;

pub fn webhook<T: Tx>(tx: &T, id: u128) -> Result<Option<WebhookRecord>> {
    let table = tx.table(WEBHOOKS)?;
    let found = table.get(id)?;
    found.map(|v| codec::decode(v.value())).transpose()
}

pub fn put_webhook(tx: &WriteTransaction, w: &WebhookRecord) -> Result<()> {
    tx.open_table(WEBHOOKS)?
        .insert(w.id, codec::encode(w)?.as_slice())?;
    tx.open_table(AGENT_WEBHOOKS)?.insert((w.agent, w.id), ())?;
    Ok(())
}

pub fn remove_webhook(tx: &WriteTransaction, w: &WebhookRecord) -> Result<()> {
    tx.open_table(WEBHOOKS)?.remove(w.id)?;
    tx.open_table(AGENT_WEBHOOKS)?.remove((w.agent, w.id))?;
    Ok(())
}

/// An agent's webhooks, oldest first.
pub fn webhooks_of<T: Tx>(tx: &T, agent: AgentKey) -> Result<Vec<WebhookRecord>> {
    let ids: Vec<u128> = {
        let t = tx.table(AGENT_WEBHOOKS)?;
        let r = t.range((agent.0, 0)..=(agent.0, u128::MAX))?;
        r.map(|e| Ok(e?.0.value().1)).collect::<Result<_>>()?
    };
    let mut out = Vec::new();
    for id in ids {
        if let Some(w) = webhook(tx, id)? {
            out.push(w);
        }
    }
    out.sort_by_key(|w| (w.created_ms, w.id));
    Ok(out)
}

/// Queues `payload` for every active webhook of `agents` that wants `kind`.
pub fn enqueue_event(
    tx: &WriteTransaction,
    kind: &str,
    agents: &[AgentKey],
    message_id: &str,
    payload: &[u8],
    now_ms: i64,
) -> Result<usize> {
    let mut seen = Vec::new();
    let mut queued = 0;
    for agent in agents {
        if seen.contains(agent) {
            continue;
        }
        seen.push(*agent);
        for w in webhooks_of(tx, *agent)? {
            if !w.active || !(w.events.is_empty() || w.events.iter().any(|e| e == kind)) {
                continue;
            }
            let seq = next_seq(tx, "seq.delivery")?;
            let d = Delivery {
                webhook: w.id,
                message_id: message_id.to_owned(),
                payload: payload.to_vec(),
                attempts: 0,
                next_ms: now_ms,
            };
            put_delivery(tx, seq, &d)?;
            queued += 1;
        }
    }
    Ok(queued)
}

pub fn put_delivery(tx: &WriteTransaction, seq: u64, d: &Delivery) -> Result<()> {
    tx.open_table(WEBHOOK_OUTBOX)?
        .insert(seq, codec::encode(d)?.as_slice())?;
    tx.open_table(WEBHOOK_DUE)?.insert((d.next_ms, seq), ())?;
    Ok(())
}

pub fn delivery<T: Tx>(tx: &T, seq: u64) -> Result<Option<Delivery>> {
    get_record(tx, WEBHOOK_OUTBOX, seq)
}

pub fn remove_delivery(tx: &WriteTransaction, seq: u64) -> Result<Option<Delivery>> {
    let Some(d) = delivery(tx, seq)? else {
        return Ok(None);
    };
    tx.open_table(WEBHOOK_OUTBOX)?.remove(seq)?;
    tx.open_table(WEBHOOK_DUE)?.remove((d.next_ms, seq))?;
    Ok(Some(d))
}

/// What is due now, and when the next one after it is.
pub struct Due {
    pub now: Vec<(u64, Delivery)>,
    pub next_ms: Option<i64>,
}

/// Deliveries due at `now_ms`, earliest first, with the earliest not yet due.
pub fn due_deliveries<T: Tx>(tx: &T, now_ms: i64, limit: usize) -> Result<Due> {
    let t = tx.table(WEBHOOK_DUE)?;
    let mut due = Vec::new();
    let mut next = None;
    for e in t.iter()? {
        let (at, seq) = e?.0.value();
        if at > now_ms || due.len() >= limit {
            next = Some(at);
            break;
        }
        if let Some(d) = delivery(tx, seq)? {
            due.push((seq, d));
        }
    }
    Ok(Due {
        now: due,
        next_ms: next,
    })
}
