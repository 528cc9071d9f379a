//! The schema version kept in the `meta` table, and the stepwise migrations between versions.
//! A database written by a newer binary refuses to open rather than being misread.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::OpenError;
use super::engine::{Db, Record, Table, Tx, WriteTx};
use super::records::{
    AgentRecord, AgentStats, CommentRecord, MediaInfo, PostRecord, ScheduledRecord,
};
use super::tables::*;
use crate::domain::Category;
use crate::error::Result;

/// The layout this binary reads and writes.
pub const SCHEMA_VERSION: u64 = 4;

/// Creates every table on a new database, checks the version of an existing one, and runs the
/// migrations from its version up to [`SCHEMA_VERSION`] in one transaction.
pub(super) fn run(db: &Db, data_dir: &Path) -> Result<(), OpenError> {
    let other = |e: &crate::error::Error| OpenError::Other {
        path: data_dir.to_owned(),
        cause: crate::error::Chain(e).to_string(),
    };
    let tx = db.begin_write().map_err(|e| other(&e))?;
    {
        tx.create(META).map_err(|e| other(&e))?;
        let found = tx.get(META, "schema_version").map_err(|e| other(&e))?;
        match found {
            Some(v) if v > SCHEMA_VERSION => {
                return Err(OpenError::TooNew {
                    path: data_dir.to_owned(),
                    found: v,
                    supported: SCHEMA_VERSION,
                });
            }
            // Version 2 added the `suspensions`, `medals`, `post_medals`, `scheduled`,
            // `schedule_due` and four webhook tables, which the `create!` below makes; the
            // agent layout of versions 1 and 2 is the same, so both take the step to 3. Each
            // step runs in this one transaction: a crash leaves the old version whole.
            Some(1 | 2) => {
                agents_2_to_3(&tx).map_err(|e| other(&e))?;
                conversations_3_to_4(&tx).map_err(|e| other(&e))?;
            }
            Some(3) => conversations_3_to_4(&tx).map_err(|e| other(&e))?,
            Some(_) | None => {}
        }
        tx.insert(META, "schema_version", &SCHEMA_VERSION)
            .map_err(|e| other(&e))?;
    }
    // Every table exists from the start, so reads never meet a missing one.
    macro_rules! create {
        ($($t:ident),*) => {$( tx.create($t).map_err(|e| other(&e))?; )*};
    }
    with_all_tables!(create);
    tx.commit().map_err(|e| other(&e))
}

/// The agent profile of schemas 1 and 2.
#[derive(Serialize, Deserialize)]
struct AgentRecord2 {
    id: u128,
    name: String,
    description: String,
    avatar_emoji: String,
    model: String,
    bio: String,
    created_ms: i64,
    key_hash: [u8; 32],
}

/// The agent counters of schemas 1 and 2.
#[derive(Serialize, Deserialize)]
struct AgentStats2 {
    posts: u64,
    comments: u64,
    score: i64,
    last_active_ms: i64,
    followers: u64,
    following: u64,
}

const AGENTS_2: Table<u64, Record<AgentRecord2>> = Table::new("agents-v1");
const AGENT_STATS_2: Table<u64, Record<AgentStats2>> = Table::new("agent_stats-v1");

/// Schema 3: agents gain an owner email, an avatar and a verification state, their counters the
/// likes, dislikes and comments received, and a lookup by UUID. Agents made before have no email and count as verified (they
/// were usable without one); their received votes are summed from their posts' counters, the
/// same rule `check` uses.
fn agents_2_to_3(tx: &WriteTx) -> Result<()> {
    let mut old = Vec::new();
    tx.scan_all(AGENTS_2, false, |k, a| {
        old.push((k, a));
        Ok(true)
    })?;
    for (k, a) in old {
        let record = AgentRecord {
            id: a.id,
            name: a.name,
            description: a.description,
            avatar_emoji: a.avatar_emoji,
            model: a.model,
            bio: a.bio,
            created_ms: a.created_ms,
            key_hash: a.key_hash,
            owner_email: None,
            avatar: None,
            verified: true,
        };
        tx.insert(AGENTS, k, &record)?;
        tx.insert(AGENT_IDS, record.id, &k)?;
    }
    let mut received: HashMap<u64, (u64, u64, u64)> = HashMap::new();
    let mut authors = HashMap::new();
    // The posts are still in their schema-3 table: the step to 4 runs after this one.
    tx.scan_all(POSTS_3, false, |k, p| {
        authors.insert(k, p.agent);
        Ok(true)
    })?;
    tx.scan_all(POST_STATS, false, |k, s| {
        if let Some(agent) = authors.get(&k) {
            let r = received.entry(*agent).or_default();
            r.0 += s.up;
            r.1 += s.down;
            r.2 += s.comments;
        }
        Ok(true)
    })?;
    let mut stats = Vec::new();
    tx.scan_all(AGENT_STATS_2, false, |k, s| {
        stats.push((k, s));
        Ok(true)
    })?;
    for (k, s) in stats {
        let (likes, dislikes, comments) = received.get(&k).copied().unwrap_or_default();
        let new = AgentStats {
            posts: s.posts,
            comments: s.comments,
            score: s.score,
            last_active_ms: s.last_active_ms,
            followers: s.followers,
            following: s.following,
            likes_received: likes,
            dislikes_received: dislikes,
            comments_received: comments,
        };
        tx.insert(AGENT_STATS, k, &new)?;
    }
    tx.delete(AGENTS_2)?;
    tx.delete(AGENT_STATS_2)?;
    Ok(())
}

/// The post of schemas 1 to 3.
#[derive(Serialize, Deserialize)]
struct PostRecord3 {
    id: u128,
    agent: u64,
    media: MediaInfo,
    source_url: Option<String>,
    caption: String,
    prompt: String,
    category: Category,
    model: String,
    tags: Vec<String>,
    is_nsfw: bool,
    created_ms: i64,
}

impl PostRecord3 {
    fn upgrade(self, mentions: Vec<String>) -> PostRecord {
        PostRecord {
            id: self.id,
            agent: self.agent,
            media: self.media,
            source_url: self.source_url,
            caption: self.caption,
            prompt: self.prompt,
            category: self.category,
            model: self.model,
            tags: self.tags,
            is_nsfw: self.is_nsfw,
            created_ms: self.created_ms,
            mentions,
            edited_ms: None,
        }
    }
}

/// The comment of schemas 1 to 3.
#[derive(Serialize, Deserialize)]
struct CommentRecord3 {
    id: u128,
    agent: u64,
    content: String,
    created_ms: i64,
}

/// The scheduled post of schemas 2 and 3.
#[derive(Serialize, Deserialize)]
struct ScheduledRecord3 {
    id: u128,
    publish_ms: i64,
    created_ms: i64,
    media_bytes: u64,
    post: PostRecord3,
}

const POSTS_3: Table<u64, Record<PostRecord3>> = Table::new("posts-v1");
const COMMENTS_3: Table<(u64, u64), Record<CommentRecord3>> = Table::new("comments-v1");
const SCHEDULED_3: Table<u128, Record<ScheduledRecord3>> = Table::new("scheduled-v1");

/// Schema 4: posts gain their mentions and an edit time, comments a parent, depth, mentions and
/// a deleted flag, and comments a lookup by id. Every existing comment is at the top of its
/// thread; mentions in existing captions and comments are resolved by the same rule new ones
/// are, so old and new text read alike. No notification is made for the past.
fn conversations_3_to_4(tx: &WriteTx) -> Result<()> {
    let mentions = |text: &str| super::repo::mention_names(tx, text);
    let mut posts = Vec::new();
    tx.scan_all(POSTS_3, false, |k, p| {
        posts.push((k, p));
        Ok(true)
    })?;
    for (k, p) in posts {
        let found = mentions(&p.caption)?;
        tx.insert(POSTS, k, &p.upgrade(found))?;
    }
    let mut comments = Vec::new();
    tx.scan_all(COMMENTS_3, false, |k, c| {
        comments.push((k, c));
        Ok(true)
    })?;
    for (k, c) in comments {
        let record = CommentRecord {
            id: c.id,
            agent: c.agent,
            mentions: mentions(&c.content)?,
            content: c.content,
            created_ms: c.created_ms,
            parent: None,
            depth: 0,
            deleted: false,
        };
        tx.insert(COMMENTS, k, &record)?;
        tx.insert(COMMENT_IDS, record.id, &k)?;
    }
    let mut scheduled = Vec::new();
    tx.scan_all(SCHEDULED_3, false, |k, s| {
        scheduled.push((k, s));
        Ok(true)
    })?;
    for (k, s) in scheduled {
        // Mentions of a scheduled post are resolved when it is published.
        let record = ScheduledRecord {
            id: s.id,
            publish_ms: s.publish_ms,
            created_ms: s.created_ms,
            media_bytes: s.media_bytes,
            post: s.post.upgrade(Vec::new()),
        };
        tx.insert(SCHEDULED, k, &record)?;
    }
    tx.delete(POSTS_3)?;
    tx.delete(COMMENTS_3)?;
    tx.delete(SCHEDULED_3)?;
    Ok(())
}
