//! Comments on posts and the threads they make: creation under the comment cooldown (a reply
//! names its parent on the same post, at most [`MAX_DEPTH`] deep), listing threads in order with
//! their roots newest, oldest or top first, one thread alone, and deletion that keeps a deleted
//! comment's replies in place. Each new comment notifies the agents it concerns in its own
//! transaction.

use crate::service::views::Links;
use uuid::Uuid;

use super::cursor::{self, CursorKind};
use super::parse_post_id;
use super::views::{AuthorView, CommentView, Page, Timestamp};
use std::sync::Arc;

use super::notifications::{self, Event, Notifier};
use super::webhooks;
use super::{Agent, AuthorCache, Limits, Wakes};
use crate::domain::rules;
use crate::error::{Error, Result};
use crate::metrics::Metrics;
use crate::store::records::{CommentRecord, PostStats};
use crate::store::{AgentKey, CommentKey, PostKey, Store, Tx, WriteTx, repo};

/// The orders of `GET /api/posts/:id/comments?sort=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentSort {
    New,
    Old,
    /// Comments by the highest-scored agents first (comments carry no votes of their own);
    /// ties oldest first.
    Top,
}

impl CommentSort {
    pub fn parse(raw: Option<&str>) -> Result<Self> {
        match raw.map(str::to_ascii_lowercase).as_deref() {
            None | Some("new") => Ok(CommentSort::New),
            Some("old") => Ok(CommentSort::Old),
            Some("top") => Ok(CommentSort::Top),
            Some(_) => Err(Error::validation("sort", "must be one of new, old, top")),
        }
    }

    fn kind(self) -> CursorKind {
        match self {
            CommentSort::New => CursorKind::CommentsNew,
            CommentSort::Old => CursorKind::CommentsOld,
            CommentSort::Top => CursorKind::CommentsTop,
        }
    }
}

/// How deep a thread goes: a reply to a comment at this depth is refused.
pub const MAX_DEPTH: u8 = 5;

/// Comments on posts.
pub struct Comments {
    store: Store,
    base: Arc<Links>,
    limits: Arc<Limits>,
    metrics: Arc<Metrics>,
    wakes: Wakes,
    notifier: Arc<Notifier>,
}

/// What a comment list shows: every thread of a post, or one comment and its replies.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    Post,
    Thread(&'a str),
}

impl Comments {
    pub fn new(
        store: Store,
        base: Arc<Links>,
        limits: Arc<Limits>,
        metrics: Arc<Metrics>,
        wakes: Wakes,
        notifier: Arc<Notifier>,
    ) -> Self {
        Comments {
            store,
            base,
            limits,
            metrics,
            wakes,
            notifier,
        }
    }

    /// POST /api/posts/:id/comments, a reply when `parent_id` names a comment on the same post.
    pub async fn create(
        &self,
        agent: &Agent,
        post_id: &str,
        content: &str,
        parent_id: Option<&str>,
    ) -> Result<CommentView> {
        let id = parse_post_id(post_id)?;
        let content = rules::COMMENT.parse(content)?.into_string();
        let parent = parent_id
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| {
                Uuid::try_parse(p)
                    .map(|u| u.as_u128())
                    .map_err(|_| Error::validation("parent_id", "must be a comment id (a UUID)"))
            })
            .transpose()?;
        // A comment on a missing post, or under a parent it may not have, must not spend the
        // cooldown.
        self.store
            .read(move |tx| {
                let (post, _) = repo::visible_post_by_id(tx, id)?;
                parent.map(|p| parent_of(tx, post, p)).transpose()?;
                Ok(())
            })
            .await?;
        let slot = self.limits.comment(agent.key)?;
        let author = agent.key;
        let author_name = agent.name.clone();
        let base = self.base.clone();
        let notifier = self.notifier.clone();
        let now = Timestamp::now().0;
        self.store
            .write(move |tx| {
                let (key, post) = repo::visible_post_by_id(tx, id)?;
                let parent = parent.map(|p| parent_of(tx, key, p)).transpose()?;
                let mentioned = repo::resolve_mentions(tx, &content)?;
                let record = CommentRecord {
                    id: Uuid::now_v7().as_u128(),
                    agent: author.0,
                    mentions: mentioned.iter().map(|(_, n)| n.clone()).collect(),
                    content: content.clone(),
                    created_ms: now,
                    parent: parent.as_ref().map(|(k, _)| k.0),
                    depth: parent.as_ref().map_or(0, |(_, p)| p.depth + 1),
                    deleted: false,
                };
                let ckey = CommentKey(repo::next_seq(tx, "seq.comment")?);
                repo::insert_comment(tx, key, ckey, &record)?;
                let extra = || {
                    serde_json::json!({
                        "commentId": uuid::Uuid::from_u128(record.id).to_string(),
                        "body": record.content,
                    })
                };
                let actor = (author, author_name.as_str());
                webhooks::queue(tx, "post.commented", &base, &post, actor, extra)?;
                let old = repo::post_stats(tx, key)?;
                let new = PostStats {
                    comments: old.comments + 1,
                    ..old
                };
                repo::set_post_stats(tx, key, post.created_ms, &old, &new)?;
                repo::update_agent_stats(tx, AgentKey(post.agent), |s| s.received(&old, &new))?;
                repo::update_agent_stats(tx, author, |s| {
                    s.comments += 1;
                    s.last_active_ms = record.created_ms;
                })?;
                let parent_author = parent.as_ref().map(|(_, p)| AgentKey(p.agent));
                for (to, kind) in notifications::comment_recipients(
                    AgentKey(post.agent),
                    parent_author,
                    &mentioned,
                ) {
                    let event = Event {
                        kind,
                        actor: author,
                        post: Some(post.id),
                        comment: Some(record.id),
                        at_ms: now,
                    };
                    notifier.send(tx, &[to], event)?;
                }
                let a = repo::agent_required(tx, author)?;
                let karma = repo::agent_stats(tx, author)?.score;
                let mentions = record.mentions.clone();
                let parent_id = parent.map(|(_, p)| p.id);
                Ok(CommentView::new(
                    id,
                    &record,
                    Some(AuthorView::new(&base, &a, karma)),
                    parent_id,
                    0,
                    mentions,
                ))
            })
            .await
            .inspect(|_| {
                slot.spend();
                self.metrics.comments_created.inc();
                self.wakes.deliverer.notify_one();
            })
    }

    /// GET /api/posts/:id/comments: threads in order. Roots come newest, oldest or top first;
    /// under each, its replies oldest first, each followed by its own replies (so a page reads
    /// like the conversation). A deleted comment shows while it has replies shown.
    pub async fn list(
        &self,
        post_id: &str,
        sort: CommentSort,
        limit: usize,
        cursor: Option<&str>,
        scope: Scope<'_>,
    ) -> Result<Page<CommentView>> {
        let id = parse_post_id(post_id)?;
        let kind = sort.kind();
        let after = cursor.map(|c| cursor::decode_at(c, kind)).transpose()?;
        let thread = match scope {
            Scope::Post => None,
            Scope::Thread(t) => Some(
                Uuid::try_parse(t.trim())
                    .map_err(|_| Error::CommentNotFound)?
                    .as_u128(),
            ),
        };
        let base = self.base.clone();
        self.store
            .read(move |tx| {
                let (key, _) = repo::visible_post_by_id(tx, id)?;
                let all = repo::all_comments(tx, key)?;
                let root = match thread {
                    None => None,
                    Some(t) => Some(
                        all.iter()
                            .find(|(_, c)| c.id == t)
                            .map(|(k, _)| k.0)
                            .ok_or(Error::CommentNotFound)?,
                    ),
                };
                let mut authors = AuthorCache::new();
                // Comments by agents an admin suspended are hidden like their posts: as
                // `[hidden]` while a reply under them is shown, left out otherwise.
                let mut hidden = std::collections::HashSet::new();
                for (k, c) in &all {
                    if !c.deleted
                        && authors
                            .present(tx, AgentKey(c.agent))?
                            .is_some_and(|a| a.suspended)
                    {
                        hidden.insert(k.0);
                    }
                }
                let tree = Tree::new(&all, &hidden);
                let mut roots: Vec<((i64, u64), u64)> = Vec::new();
                for r in root.map_or_else(|| tree.roots.clone(), |r| vec![r]) {
                    let rank = match sort {
                        // The author's karma, cached with the author; a deleted author's last.
                        CommentSort::Top => authors
                            .present(tx, AgentKey(tree.record(r)?.agent))?
                            .map_or(i64::MIN, |a| a.karma),
                        _ => 0,
                    };
                    roots.push(((rank, r), r));
                }
                // Each root's keyset position; the order of roots is by it.
                let order = |p: &(i64, u64)| match sort {
                    CommentSort::New => (0, std::cmp::Reverse(p.1), 0),
                    CommentSort::Old => (0, std::cmp::Reverse(0), p.1),
                    CommentSort::Top => (-(p.0 as i128), std::cmp::Reverse(0), p.1),
                };
                roots.sort_by_key(|(p, _)| order(p));
                let mut rows: Vec<((i64, u64), u64)> = Vec::new();
                let mut started = after.is_none();
                'roots: for (pos, r) in &roots {
                    if let Some((rank, seq, at)) = after
                        && !started
                    {
                        let (here, there) = (order(pos), order(&(rank, seq)));
                        if here < there {
                            continue;
                        }
                        // Past the cursor's root, or its comment is gone: start here.
                        if here > there || !tree.has(at as u64) {
                            started = true;
                        }
                    }
                    for c in tree.preorder(*r) {
                        if !started {
                            // Inside the cursor's root: resume after its comment.
                            started = after.is_some_and(|a| a.2 as u64 == c);
                            continue;
                        }
                        if tree.shown(c) {
                            rows.push((*pos, c));
                            if rows.len() > limit {
                                break 'roots;
                            }
                        }
                    }
                }
                let more = rows.len() > limit;
                rows.truncate(limit);
                let next_cursor = more
                    .then(|| {
                        rows.last()
                            .map(|(p, c)| cursor::encode_at(kind, p.0, p.1, *c as i64))
                    })
                    .flatten();
                let mut items = Vec::with_capacity(rows.len());
                for (_, c) in rows {
                    let record = tree.record(c)?;
                    if hidden.contains(&c) {
                        let replies = tree.replies_shown(c);
                        let parent = parent_id(&tree, record);
                        items.push(CommentView::hidden(id, record, parent, replies));
                        continue;
                    }
                    let author = if record.deleted {
                        None
                    } else {
                        authors
                            .present(tx, AgentKey(record.agent))?
                            .map(|k| k.view(&base))
                    };
                    items.push(CommentView::new(
                        id,
                        record,
                        author,
                        parent_id(&tree, record),
                        tree.replies_shown(c),
                        record.mentions.clone(),
                    ));
                }
                Ok(Page { items, next_cursor })
            })
            .await
    }

    /// DELETE /api/posts/:id/comments/:comment_id, by the comment's author or the post's. A
    /// comment with replies shows as `[deleted]` so its thread holds together; one without
    /// leaves the lists.
    pub async fn delete(&self, agent: &Agent, post_id: &str, comment_id: &str) -> Result<()> {
        let id = parse_post_id(post_id)?;
        let cid = Uuid::try_parse(comment_id.trim())
            .map_err(|_| Error::CommentNotFound)?
            .as_u128();
        let me = agent.key;
        self.store
            .write(move |tx| {
                let (key, post) = repo::post_by_id(tx, id)?;
                let (on, ckey, c) = repo::comment_by_id(tx, cid)?
                    .filter(|(p, _, c)| *p == key && !c.deleted)
                    .ok_or(Error::CommentNotFound)?;
                if c.agent != me.0 && post.agent != me.0 {
                    return Err(Error::Forbidden(
                        "only the comment's author or the post's can delete a comment",
                    ));
                }
                remove_comment(tx, on, ckey, c)?;
                let old = repo::post_stats(tx, key)?;
                let new = PostStats {
                    comments: old.comments.saturating_sub(1),
                    ..old
                };
                repo::set_post_stats(tx, key, post.created_ms, &old, &new)?;
                repo::update_agent_stats(tx, AgentKey(post.agent), |s| s.received(&old, &new))?;
                Ok(())
            })
            .await
    }
}

/// Deletes one comment, keeping it as an emptied tombstone, and takes it off its author's
/// count; the post's counters are the caller's. The tombstone holds the thread of any replies
/// together (lists show it while a reply under it is shown) and keeps its place, so a list
/// cursor resting on it still knows where to resume; it goes with its post.
pub(super) fn remove_comment(
    tx: &WriteTx,
    post: PostKey,
    key: CommentKey,
    c: CommentRecord,
) -> Result<()> {
    let author = AgentKey(c.agent);
    repo::tombstone_comment(tx, post, key)?;
    if repo::agent(tx, author)?.is_some() {
        repo::update_agent_stats(tx, author, |s| s.comments = s.comments.saturating_sub(1))?;
    }
    Ok(())
}

/// A reply's parent: on `post`, not deleted, and not at the deepest level.
fn parent_of<T: Tx>(tx: &T, post: PostKey, parent: u128) -> Result<(CommentKey, CommentRecord)> {
    let (on, key, c) = repo::comment_by_id(tx, parent)?.ok_or(Error::CommentNotFound)?;
    if on != post {
        return Err(Error::ParentNotOnPost);
    }
    if c.deleted {
        return Err(Error::CommentNotFound);
    }
    if c.depth >= MAX_DEPTH {
        return Err(Error::ThreadTooDeep(MAX_DEPTH));
    }
    Ok((key, c))
}

/// The public id of a listed comment's parent.
fn parent_id(tree: &Tree<'_>, c: &CommentRecord) -> Option<u128> {
    c.parent.and_then(|p| tree.get(p)).map(|p| p.id)
}

/// A post's comments as threads.
struct Tree<'a> {
    by_seq: std::collections::HashMap<u64, &'a CommentRecord>,
    children: std::collections::HashMap<u64, Vec<u64>>,
    roots: Vec<u64>,
    /// Comments shown: not deleted, or with a shown reply.
    shown: std::collections::HashSet<u64>,
}

impl<'a> Tree<'a> {
    /// `all` in seq order (oldest first).
    /// `hidden`: comments shown only as placeholders (their authors are suspended), like
    /// deleted ones.
    fn new(
        all: &'a [(CommentKey, CommentRecord)],
        hidden: &std::collections::HashSet<u64>,
    ) -> Self {
        let by_seq: std::collections::HashMap<u64, &CommentRecord> =
            all.iter().map(|(k, c)| (k.0, c)).collect();
        let mut children: std::collections::HashMap<u64, Vec<u64>> = Default::default();
        let mut roots = Vec::new();
        for (k, c) in all {
            match c.parent.filter(|p| by_seq.contains_key(p)) {
                Some(p) => children.entry(p).or_default().push(k.0),
                None => roots.push(k.0),
            }
        }
        // Replies are newer than their parents: deciding from the newest back sees every reply
        // before its parent.
        let mut shown = std::collections::HashSet::new();
        for (k, c) in all.iter().rev() {
            let has_shown_reply = children
                .get(&k.0)
                .is_some_and(|cs| cs.iter().any(|r| shown.contains(r)));
            if !(c.deleted || hidden.contains(&k.0)) || has_shown_reply {
                shown.insert(k.0);
            }
        }
        Tree {
            by_seq,
            children,
            roots,
            shown,
        }
    }

    fn has(&self, seq: u64) -> bool {
        self.by_seq.contains_key(&seq)
    }

    fn get(&self, seq: u64) -> Option<&'a CommentRecord> {
        self.by_seq.get(&seq).copied()
    }

    /// A comment the tree holds (callers only pass seqs taken from it).
    fn record(&self, seq: u64) -> Result<&'a CommentRecord> {
        self.get(seq)
            .ok_or_else(|| Error::internal("comment missing from its tree"))
    }

    fn shown(&self, seq: u64) -> bool {
        self.shown.contains(&seq)
    }

    fn replies_shown(&self, seq: u64) -> u64 {
        self.children
            .get(&seq)
            .map_or(0, |cs| cs.iter().filter(|c| self.shown(**c)).count() as u64)
    }

    /// `root` and everything under it, each comment followed by its replies, oldest first.
    fn preorder(&self, root: u64) -> Vec<u64> {
        let mut out = Vec::new();
        let mut stack = vec![root];
        while let Some(c) = stack.pop() {
            out.push(c);
            if let Some(cs) = self.children.get(&c) {
                stack.extend(cs.iter().rev());
            }
        }
        out
    }
}
