//! Publishing: the one step that makes a post visible, shared by posts made now and scheduled
//! ones when their time comes.

use super::webhooks;
use crate::error::Result;
use crate::store::records::PostRecord;
use crate::store::{AgentKey, PostKey, WriteTx, repo};

/// Stores `record` as a published post, counts it for its author and queues its
/// `post.created` event, in the caller's transaction (posts made now and scheduled ones alike).
pub(super) fn store_published(
    tx: &WriteTx,
    base: &str,
    record: &PostRecord,
    media_bytes: u64,
    author_name: &str,
) -> Result<PostKey> {
    let author = AgentKey(record.agent);
    let key = PostKey(repo::next_seq(tx, "seq.post")?);
    repo::insert_post(tx, key, record, media_bytes)?;
    repo::update_agent_stats(tx, author, |s| s.posts += 1)?;
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
