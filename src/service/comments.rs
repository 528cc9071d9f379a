//! Comments on posts: creation under the comment cooldown, and listing newest, oldest or top.

use crate::service::views::Links;
use uuid::Uuid;

use super::cursor::{self, CursorKind};
use super::parse_post_id;
use super::views::{CommentView, Page, Timestamp};
use std::sync::Arc;

use super::webhooks;
use super::{Agent, AuthorCache, Limits, Wakes};
use crate::domain::rules;
use crate::error::{Error, Result};
use crate::metrics::Metrics;
use crate::store::records::CommentRecord;
use crate::store::{AgentKey, CommentKey, Store, repo};

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

/// Comments on posts.
pub struct Comments {
    store: Store,
    base: Arc<Links>,
    limits: Arc<Limits>,
    metrics: Arc<Metrics>,
    wakes: Wakes,
}

impl Comments {
    pub fn new(
        store: Store,
        base: Arc<Links>,
        limits: Arc<Limits>,
        metrics: Arc<Metrics>,
        wakes: Wakes,
    ) -> Self {
        Comments {
            store,
            base,
            limits,
            metrics,
            wakes,
        }
    }

    /// POST /api/posts/:id/comments
    pub async fn create(&self, agent: &Agent, post_id: &str, content: &str) -> Result<CommentView> {
        let id = parse_post_id(post_id)?;
        let content = rules::COMMENT.parse(content)?.into_string();
        // A comment on a missing post must not spend the cooldown.
        self.store
            .read(move |tx| repo::post_key_by_id(tx, id))
            .await?
            .ok_or(Error::PostNotFound)?;
        let slot = self.limits.comment(agent.key)?;
        let record = CommentRecord {
            id: Uuid::now_v7().as_u128(),
            agent: agent.key.0,
            content,
            created_ms: Timestamp::now().0,
        };
        let author = agent.key;
        let author_name = agent.name.clone();
        let base = self.base.clone();
        self.store
            .write(move |tx| {
                let (key, post) = repo::post_by_id(tx, id)?;
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
                let new = crate::store::records::PostStats {
                    comments: old.comments + 1,
                    ..old
                };
                repo::set_post_stats(tx, key, post.created_ms, &old, &new)?;
                repo::update_agent_stats(tx, AgentKey(post.agent), |s| s.received(&old, &new))?;
                repo::update_agent_stats(tx, author, |s| {
                    s.comments += 1;
                    s.last_active_ms = record.created_ms;
                })?;
                let a = repo::agent_required(tx, author)?;
                Ok(CommentView::new(&base, id, &record, &a))
            })
            .await
            .inspect(|_| {
                slot.spend();
                self.metrics.comments_created.inc();
                self.wakes.deliverer.notify_one();
            })
    }

    /// GET /api/posts/:id/comments
    pub async fn list(
        &self,
        post_id: &str,
        sort: CommentSort,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<CommentView>> {
        let id = parse_post_id(post_id)?;
        let kind = sort.kind();
        let after = cursor.map(|c| cursor::decode(c, kind)).transpose()?;
        let base = self.base.clone();
        self.store
            .read(move |tx| {
                let key = repo::post_key_by_id(tx, id)?.ok_or(Error::PostNotFound)?;
                let mut authors = AuthorCache::new();
                // Each row with its keyset position `(rank, comment seq)`.
                let rows: Vec<((i64, u64), CommentRecord)> = match sort {
                    CommentSort::New | CommentSort::Old => {
                        let after = after.map(|(_, seq)| CommentKey(seq));
                        repo::comments(tx, key, sort == CommentSort::New, after, limit + 1)?
                            .into_iter()
                            .map(|(k, c)| ((0, k.0), c))
                            .collect()
                    }
                    CommentSort::Top => {
                        // One stats read per author, however many comments each wrote.
                        let mut scores = std::collections::HashMap::new();
                        let mut all = Vec::new();
                        for (k, c) in repo::comments(tx, key, false, None, usize::MAX)? {
                            let score = match scores.get(&c.agent) {
                                Some(s) => *s,
                                None => {
                                    let s = repo::agent_stats(tx, AgentKey(c.agent))?.score;
                                    *scores.entry(c.agent).or_insert(s)
                                }
                            };
                            all.push(((score, k.0), c));
                        }
                        // Highest author score first, then oldest first.
                        let rank = |p: &(i64, u64)| (std::cmp::Reverse(p.0), p.1);
                        all.sort_by_key(|(p, _)| rank(p));
                        all.into_iter()
                            .filter(|(p, _)| after.is_none_or(|a| rank(p) > rank(&a)))
                            .take(limit + 1)
                            .collect()
                    }
                };
                Page::cut(rows, limit, |p| cursor::encode(kind, p.0, p.1)).try_map(|c| {
                    Ok(CommentView::new(
                        &base,
                        id,
                        &c,
                        authors.get(tx, AgentKey(c.agent))?,
                    ))
                })
            })
            .await
    }
}
