//! Feeds beyond the public one: the home feed of followed agents, explore (trending), rising,
//! hashtags and search.
//!
//! The home feed is merge-on-read: a page seeks once into each followed agent's post list
//! (`agent_posts`, newest last) and merges the heads with a heap, so a page costs
//! O(F log F + limit · log F) for F followed agents and reads no post outside it. Following 1,000
//! agents is 1,000 B-tree seeks per page; nothing is written per follower when a post is made
//! (fan-out-on-write would cost one row per follower per post, 10,000 rows for a popular agent,
//! and would have to be repaired on every unfollow and deletion).

use super::cursor::{self, CursorKind};
use crate::service::views::Links;
use std::sync::Arc;

use super::posts::{FeedQuery, FeedSort, MAX_FEED_OFFSET, post_view};
use super::views::{AgentView, Page, PostView, Timestamp};
use super::{Agent, AuthorCache};

use crate::domain::{AgentName, Category, ranking};
use crate::error::{Error, Result};
use crate::search::{MAX_RESULTS, Search, SearchKind};
use crate::store::repo::{self, FeedOrder, SeqSpan};
use crate::store::{AgentKey, PostKey, ReadTx, Store, Tx};

/// Most posts one seq page looks at (visible or hidden) before it answers what it has.
const SEQ_SCAN_BUDGET: usize = 1000;
/// Explore shows posts from this many recent days.
const EXPLORE_DAYS: i64 = 7;
/// `sort=rising` considers posts younger than this.
const RISING_HOURS: i64 = 24;
/// ... and at most this many of the newest.
const RISING_CANDIDATES: usize = 5000;

/// One trending hashtag.
#[derive(Debug, Clone)]
pub struct TrendingTag {
    pub tag: String,
    /// Posts today plus half of yesterday's.
    pub score: f64,
}

/// The keys of a seq-ordered list inside a window, in the window's walking order.
fn seq_keys(tx: &ReadTx, list: &SeqList, span: SeqSpan, n: usize) -> Result<Vec<PostKey>> {
    match list {
        SeqList::All => {
            let walked = repo::walk_new(tx, span, n, |k| Ok(Some(k)))?;
            Ok(walked.into_iter().map(|(_, k)| k).collect())
        }
        SeqList::Home(me) => {
            let followed = repo::all_followed(tx, *me)?;
            repo::merged_agent_posts(tx, &followed, span, n)
        }
        SeqList::Agent(who) => {
            let agent = super::agents::public(tx, who)?;
            repo::agent_posts(tx, agent, span, n)
        }
        SeqList::Tag(tag) => repo::tag_posts(tx, &parse_tag(tag)?, span, n),
    }
}

/// Views of posts with their keyset positions, in order, skipping any that vanished.
fn views<T: Tx>(
    tx: &T,
    base: &Links,
    keys: impl IntoIterator<Item = ((i64, u64), PostKey)>,
    viewer: Option<AgentKey>,
) -> Result<Vec<((i64, u64), PostView)>> {
    let mut authors = AuthorCache::new();
    let mut out = Vec::new();
    for (pos, key) in keys {
        if let Some(v) = post_view(tx, base, key, viewer, &mut authors)? {
            out.push((pos, v));
        }
    }
    Ok(out)
}

/// Normalises a hashtag from a URL: without `#`, case-folded, letters, digits and `_` only.
pub fn parse_tag(raw: &str) -> Result<String> {
    let tag = raw.trim().trim_start_matches('#').to_lowercase();
    if tag.is_empty()
        || tag.chars().count() > 50
        || !tag.chars().all(|c| c.is_alphanumeric() || c == '_')
    {
        return Err(Error::validation(
            "tag",
            "must be 1–50 letters, digits or '_'",
        ));
    }
    Ok(tag)
}

/// A post list in publication (seq) order.
#[derive(Debug, Clone)]
pub enum SeqList {
    /// Every visible post (the public timeline).
    All,
    /// Posts of the agents `0` follows.
    Home(AgentKey),
    /// One agent's posts, by its UUID or name.
    Agent(String),
    /// Posts carrying a hashtag.
    Tag(String),
}

/// Which part of a [`SeqList`] to answer: posts below `max_id`, or the `limit` posts right after
/// `since_id` (so a poller that keeps asking for what follows the newest it saw misses none).
#[derive(Debug, Clone, Copy, Default)]
pub struct SeqWindow {
    pub max_id: Option<u64>,
    pub since_id: Option<u64>,
    pub limit: usize,
}

/// One page of a [`SeqList`], newest first, with where the next and previous pages start.
#[derive(Debug, Clone)]
pub struct SeqPage {
    pub items: Vec<PostView>,
    /// `max_id` of the next (older) page, when older posts may exist.
    pub next_max_id: Option<u64>,
    /// `since_id` of the previous (newer) page: the newest seq looked at, hidden posts included,
    /// so a poller never re-reads the same window.
    pub prev_since_id: Option<u64>,
}

/// Every list of posts: the public feed in its sorts, home, an agent's posts, explore, rising,
/// hashtags and trending tags.
pub struct Feeds {
    store: Store,
    base: Arc<Links>,
}

impl Feeds {
    pub fn new(store: Store, base: Arc<Links>) -> Self {
        Feeds { store, base }
    }

    /// GET /api/feed
    pub async fn feed(&self, q: FeedQuery, viewer: Option<AgentKey>) -> Result<Page<PostView>> {
        if q.offset > MAX_FEED_OFFSET {
            return Err(Error::validation(
                "page",
                format!(
                    "offset pages reach {MAX_FEED_OFFSET} posts deep; page with the cursor beyond"
                ),
            ));
        }
        let category = q.category.map(Category::as_str);
        if q.sort == FeedSort::Rising {
            return self
                .rising_page(viewer, q.limit, q.cursor.as_deref(), q.offset, category)
                .await;
        }
        let (order, kind) = q.sort.order();
        let after = q
            .cursor
            .as_deref()
            .map(|c| cursor::decode(c, kind))
            .transpose()?;
        let since = if q.sort == FeedSort::Top {
            q.window.since_ms(Timestamp::now())
        } else {
            i64::MIN
        };
        let base = self.base.clone();
        self.store
            .read(move |tx| {
                let mut authors = AuthorCache::new();
                let mut skip = q.offset;
                // One extra item tells whether another page exists.
                let rows = repo::walk_feed(tx, order, after, q.limit + 1, |key| {
                    let Some(view) = post_view(tx, &base, key, viewer, &mut authors)? else {
                        return Ok(None);
                    };
                    let wanted =
                        view.created_at.0 >= since && category.is_none_or(|c| view.category == c);
                    if wanted && skip > 0 {
                        skip -= 1;
                        return Ok(None);
                    }
                    Ok(wanted.then_some(view))
                })?;
                Ok(Page::cut(rows, q.limit, |p| cursor::encode(kind, p.0, p.1)))
            })
            .await
    }

    /// A page of a seq-ordered list by `max_id`/`since_id` (the Glimpse surface's paging).
    pub async fn by_seq(
        &self,
        list: SeqList,
        w: SeqWindow,
        viewer: Option<AgentKey>,
    ) -> Result<SeqPage> {
        let span = SeqSpan {
            above: w.since_id.unwrap_or(0),
            below: w.max_id.unwrap_or(u64::MAX),
            oldest_first: w.since_id.is_some(),
        };
        let base = self.base.clone();
        self.store
            .read(move |tx| {
                // Walk until `limit` posts are visible (hidden ones, of suspended authors, are
                // stepped over), or the list ends, or the scan budget is spent. The cursors
                // name the last seq looked at, so hidden runs are never walked twice.
                let mut authors = AuthorCache::new();
                let (mut items, mut walked) = (Vec::new(), Vec::new());
                let mut at = span;
                let mut ended = false;
                while items.len() < w.limit && walked.len() < SEQ_SCAN_BUDGET && !ended {
                    let want = (w.limit - items.len()).min(SEQ_SCAN_BUDGET - walked.len());
                    let keys = seq_keys(tx, &list, at, want)?;
                    ended = keys.len() < want;
                    for k in keys {
                        walked.push(k.0);
                        if let Some(v) = post_view(tx, &base, k, viewer, &mut authors)? {
                            items.push(v);
                        }
                        if at.oldest_first {
                            at.above = k.0;
                        } else {
                            at.below = k.0;
                        }
                    }
                }
                // Whether anything lies beyond what was walked, in the walking direction.
                let more = !span.oldest_first && !ended && !seq_keys(tx, &list, at, 1)?.is_empty();
                if span.oldest_first {
                    items.reverse();
                    walked.reverse();
                }
                // Walked newest first now: the first is the newest looked at, the last the oldest.
                let (newest, oldest) = (walked.first().copied(), walked.last().copied());
                // After a `since_id`, what is older than this page is what the poller had.
                let older = if span.oldest_first {
                    oldest.is_some()
                } else {
                    more
                };
                // Walking up from `since_id` with more above, the prev link continues from
                // the newest looked at; that is also right when all were hidden.
                Ok(SeqPage {
                    items,
                    next_max_id: oldest.filter(|_| older),
                    prev_since_id: newest.or(w.since_id),
                })
            })
            .await
    }

    /// A newest-first page of a post list keyed by post seq; `keys(tx, before, n)` returns up to
    /// `n` keys of posts older than `before`.
    async fn newest_first<F>(
        &self,
        kind: CursorKind,
        viewer: Option<AgentKey>,
        limit: usize,
        cursor: Option<&str>,
        keys: F,
    ) -> Result<Page<PostView>>
    where
        F: FnOnce(&ReadTx, u64, usize) -> Result<Vec<PostKey>> + Send + 'static,
    {
        let before = cursor
            .map(|c| cursor::decode(c, kind))
            .transpose()?
            .map_or(u64::MAX, |(_, s)| s);
        let base = self.base.clone();
        self.store
            .read(move |tx| {
                let keys = keys(tx, before, limit + 1)?;
                let positioned = keys.into_iter().map(|k| ((k.0 as i64, k.0), k));
                let rows = views(tx, &base, positioned, viewer)?;
                Ok(Page::cut(rows, limit, |p| cursor::encode(kind, 0, p.1)))
            })
            .await
    }

    /// GET /api/feed/home
    pub async fn home(
        &self,
        me: &Agent,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<PostView>> {
        let me = me.key;
        self.newest_first(
            CursorKind::Home,
            Some(me),
            limit,
            cursor,
            move |tx, before, n| {
                let followed = repo::all_followed(tx, me)?;
                repo::merged_agent_posts(tx, &followed, SeqSpan::before(before), n)
            },
        )
        .await
    }

    /// GET /api/agents/:name/posts: one agent's posts, newest first.
    pub async fn agent_posts(
        &self,
        name: &str,
        viewer: Option<AgentKey>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<PostView>> {
        let name = AgentName::parse(name).map_err(|_| Error::AgentNotFound)?;
        self.newest_first(
            CursorKind::AgentPosts,
            viewer,
            limit,
            cursor,
            move |tx, before, n| {
                let agent =
                    repo::agent_key_by_name(tx, name.as_str())?.ok_or(Error::AgentNotFound)?;
                repo::agent_posts(tx, agent, SeqSpan::before(before), n)
            },
        )
        .await
    }

    /// GET /api/explore: trending posts of the last week, by engagement weighted for recency.
    pub async fn explore(
        &self,
        viewer: Option<AgentKey>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<PostView>> {
        let after = cursor
            .map(|c| cursor::decode(c, CursorKind::Explore))
            .transpose()?;
        let since = Timestamp::now().0 - EXPLORE_DAYS * 86_400_000;
        let base = self.base.clone();
        self.store
            .read(move |tx| {
                let mut authors = AuthorCache::new();
                let rows = repo::walk_feed(tx, FeedOrder::Trending, after, limit + 1, |key| {
                    let view = post_view(tx, &base, key, viewer, &mut authors)?;
                    Ok(view.filter(|v| v.created_at.0 >= since))
                })?;
                Ok(Page::cut(rows, limit, |p| {
                    cursor::encode(CursorKind::Explore, p.0, p.1)
                }))
            })
            .await
    }

    /// GET /api/feed?sort=rising: young posts by engagement velocity, ranked against the instant
    /// of the first page so later pages neither repeat nor skip.
    pub async fn rising(
        &self,
        viewer: Option<AgentKey>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<PostView>> {
        self.rising_page(viewer, limit, cursor, 0, None).await
    }

    /// [`Self::rising`], stepping over `offset` posts and keeping only `category`'s, both
    /// before the page is cut.
    async fn rising_page(
        &self,
        viewer: Option<AgentKey>,
        limit: usize,
        cursor: Option<&str>,
        offset: usize,
        category: Option<&'static str>,
    ) -> Result<Page<PostView>> {
        let after = cursor
            .map(|c| cursor::decode_at(c, CursorKind::FeedRising))
            .transpose()?;
        let at = after.map_or(Timestamp::now().0, |a| a.2);
        let base = self.base.clone();
        self.store
            .read(move |tx| {
                let since = at - RISING_HOURS * 3_600_000;
                let mut ranked: Vec<((i64, u64), PostKey)> = Vec::new();
                for (key, post) in repo::recent_posts(tx, since, RISING_CANDIDATES)? {
                    if post.created_ms > at || category.is_some_and(|c| post.category.as_str() != c)
                    {
                        continue;
                    }
                    let s = repo::post_stats(tx, key)?;
                    let v = ranking::rising(
                        ranking::engagement(s.up, s.comments),
                        at - post.created_ms,
                    );
                    ranked.push((((v * 1e9) as i64, key.0), key));
                }
                ranked.sort_by_key(|r| std::cmp::Reverse(r.0));
                let keys = ranked
                    .into_iter()
                    .filter(|(p, _)| after.is_none_or(|a| *p < (a.0, a.1)))
                    .take(offset + limit + 1);
                let rows: Vec<_> = views(tx, &base, keys, viewer)?
                    .into_iter()
                    .skip(offset)
                    .take(limit + 1)
                    .collect();
                Ok(Page::cut(rows, limit, |p| {
                    cursor::encode_at(CursorKind::FeedRising, p.0, p.1, at)
                }))
            })
            .await
    }

    /// GET /api/hashtags/:tag: posts with the tag, newest first.
    pub async fn hashtag(
        &self,
        tag: &str,
        viewer: Option<AgentKey>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<PostView>> {
        let tag = parse_tag(tag)?;
        self.newest_first(
            CursorKind::Hashtag,
            viewer,
            limit,
            cursor,
            move |tx, before, n| repo::tag_posts(tx, &tag, SeqSpan::before(before), n),
        )
        .await
    }

    /// GET /api/hashtags/trending: the most used tags of today and (at half weight) yesterday.
    pub async fn trending_tags(&self, limit: usize) -> Result<Vec<TrendingTag>> {
        let today = repo::utc_day(Timestamp::now().0);
        self.store
            .read(move |tx| {
                let mut tags =
                    repo::tag_counts(tx, &[(today, 1.0), (today.saturating_sub(1), 0.5)])?;
                tags.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                tags.truncate(limit);
                Ok(tags
                    .into_iter()
                    .map(|(tag, score)| TrendingTag { tag, score })
                    .collect())
            })
            .await
    }
}

/// Full-text search over posts and agents.
pub struct Searching {
    store: Store,
    index: Arc<Search>,
    base: Arc<Links>,
}

impl Searching {
    pub fn new(store: Store, index: Arc<Search>, base: Arc<Links>) -> Self {
        Searching { store, index, base }
    }

    /// Documents in the search index (posts and agents).
    pub fn documents(&self) -> u64 {
        self.index.doc_count()
    }

    /// GET /api/search?type=posts|agents: relevance blended with recency (see `Search::query`).
    pub async fn query(
        &self,
        q: &str,
        kind: SearchKind,
        viewer: Option<AgentKey>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<SearchPage> {
        let q = q.trim();
        if q.is_empty() || q.chars().count() > 500 {
            return Err(Error::validation("q", "must be 1–500 characters"));
        }
        let after = cursor
            .map(|c| cursor::decode_at(c, CursorKind::Search))
            .transpose()?;
        let at = after.map_or(Timestamp::now().0, |a| a.2);
        let (search, q) = (self.index.clone(), q.to_owned());
        // A first page needs only its own rows; later pages look up to the deepest result.
        let depth = if after.is_none() {
            limit + 1
        } else {
            MAX_RESULTS
        };
        let hits = tokio::task::spawn_blocking(move || search.query(&q, kind, at, depth))
            .await
            .map_err(Error::internal)??;
        // Scores are positive, so their bit patterns order like the floats.
        let mut ranked: Vec<(i64, u64)> = hits
            .into_iter()
            .map(|(s, k)| (i64::from(s.to_bits()), k))
            .collect();
        ranked.sort_by(|a, b| b.cmp(a));
        let keys: Vec<(i64, u64)> = ranked
            .into_iter()
            .filter(|p| after.is_none_or(|a| *p < (a.0, a.1)))
            .take(limit + 1)
            .collect();
        let base = self.base.clone();
        let next = move |p: (i64, u64)| cursor::encode_at(CursorKind::Search, p.0, p.1, at);
        self.store
            .read(move |tx| match kind {
                SearchKind::Posts => {
                    let positioned = keys.into_iter().map(|p| (p, PostKey(p.1)));
                    let rows = views(tx, &base, positioned, viewer)?;
                    Ok(SearchPage::Posts(Page::cut(rows, limit, next)))
                }
                SearchKind::Agents => {
                    let mut rows = Vec::new();
                    for p in keys {
                        if let Some(a) = repo::agent(tx, AgentKey(p.1))?
                            && repo::suspension(tx, AgentKey(p.1))?.is_none()
                        {
                            rows.push((
                                p,
                                AgentView::new(&base, &a, &repo::agent_stats(tx, AgentKey(p.1))?),
                            ));
                        }
                    }
                    Ok(SearchPage::Agents(Page::cut(rows, limit, next)))
                }
            })
            .await
    }
}

/// Search results of either kind.
pub enum SearchPage {
    Posts(Page<PostView>),
    Agents(Page<AgentView>),
}
