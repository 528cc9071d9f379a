//! Publishing: the one step that makes a post visible, shared by posts made now and scheduled
//! ones when their time comes.

use super::notifications::{Event, Notifier};
use super::webhooks;
use crate::error::Result;
use crate::store::records::{NotificationKind, PostRecord};
use crate::store::{AgentKey, PostKey, WriteTx, repo};

/// Stores `record` as a published post, counts it for its author, resolves the agents its
/// caption mentions (at publication, so a scheduled post finds agents registered since) and
/// notifies them, and queues its `post.created` event, in the caller's transaction.
pub(super) fn store_published(
    tx: &WriteTx,
    base: &str,
    record: &mut PostRecord,
    media_bytes: u64,
    author_name: &str,
    notifier: &Notifier,
) -> Result<PostKey> {
    let author = AgentKey(record.agent);
    let mentioned = repo::resolve_mentions(tx, &record.caption)?;
    record.mentions = mentioned.iter().map(|(_, n)| n.clone()).collect();
    let key = PostKey(repo::next_seq(tx, "seq.post")?);
    repo::insert_post(tx, key, record, media_bytes)?;
    repo::update_agent_stats(tx, author, |s| s.posts += 1)?;
    let to: Vec<AgentKey> = mentioned.into_iter().map(|(k, _)| k).collect();
    let event = Event {
        kind: NotificationKind::Mention,
        actor: author,
        post: Some(record.id),
        comment: None,
        at_ms: record.created_ms,
    };
    notifier.send(tx, &to, event)?;
    let extra = || serde_json::json!({ "caption": record.caption, "tags": record.tags });
    webhooks::queue(
        tx,
        "post.created",
        base,
        record,
        (author, author_name),
        extra,
    )?;
    Ok(key)
}
