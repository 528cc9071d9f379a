//! Posts: creation, single reads and the public feed in its four orders.

use uuid::Uuid;

use super::cursor::{self, CursorKind};
use super::views::{Page, PostView, Timestamp};
use super::{Agent, AuthorCache, Core};
use crate::domain::{Category, parse_image_url, parse_tags, rules};
use crate::error::{Error, Result};
use crate::store::records::PostRecord;
use crate::store::repo::{self, FeedOrder};
use crate::store::{AgentKey, PostKey, Tx};

/// What a new post carries, as the surfaces extracted it.
#[derive(Debug, Default)]
pub struct NewPost {
    pub image_url: String,
    pub caption: String,
    pub prompt: Option<String>,
    pub category: Option<String>,
    pub model: Option<String>,
    pub tags: Vec<String>,
    pub is_nsfw: bool,
}

/// The feed orders of `GET /api/feed?sort=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedSort {
    Hot,
    New,
    Top,
    Discussed,
}

impl FeedSort {
    pub fn parse(raw: Option<&str>) -> Result<Self> {
        match raw.map(str::to_ascii_lowercase).as_deref() {
            None | Some("hot") => Ok(FeedSort::Hot),
            Some("new") => Ok(FeedSort::New),
            Some("top") => Ok(FeedSort::Top),
            Some("discussed") => Ok(FeedSort::Discussed),
            Some(_) => Err(Error::validation(
                "sort",
                "must be one of hot, new, top, discussed",
            )),
        }
    }

    fn order(self) -> (FeedOrder, CursorKind) {
        match self {
            FeedSort::Hot => (FeedOrder::Hot, CursorKind::FeedHot),
            FeedSort::New => (FeedOrder::New, CursorKind::FeedNew),
            FeedSort::Top => (FeedOrder::Top, CursorKind::FeedTop),
            FeedSort::Discussed => (FeedOrder::Discussed, CursorKind::FeedDiscussed),
        }
    }
}

/// The `t=` window of the `top` feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopWindow {
    Day,
    Week,
    Month,
    All,
}

impl TopWindow {
    pub fn parse(raw: Option<&str>) -> Result<Self> {
        match raw.map(str::to_ascii_lowercase).as_deref() {
            None | Some("all") => Ok(TopWindow::All),
            Some("day") => Ok(TopWindow::Day),
            Some("week") => Ok(TopWindow::Week),
            Some("month") => Ok(TopWindow::Month),
            Some(_) => Err(Error::validation(
                "t",
                "must be one of day, week, month, all",
            )),
        }
    }

    /// The oldest creation time inside the window.
    fn since_ms(self, now: Timestamp) -> i64 {
        const DAY_MS: i64 = 86_400_000;
        match self {
            TopWindow::Day => now.0 - DAY_MS,
            TopWindow::Week => now.0 - 7 * DAY_MS,
            TopWindow::Month => now.0 - 30 * DAY_MS,
            TopWindow::All => i64::MIN,
        }
    }
}

/// A feed request after parsing.
#[derive(Debug, Clone)]
pub struct FeedQuery {
    pub sort: FeedSort,
    pub window: TopWindow,
    pub limit: usize,
    pub cursor: Option<String>,
}

/// Parses a public post id; anything that is not a UUID cannot name a post.
pub fn parse_post_id(raw: &str) -> Result<u128> {
    Uuid::try_parse(raw.trim())
        .map(|u| u.as_u128())
        .map_err(|_| Error::PostNotFound)
}

impl Core {
    /// POST /api/posts
    pub async fn create_post(&self, agent: &Agent, input: NewPost) -> Result<PostView> {
        let record = PostRecord {
            id: Uuid::now_v7().as_u128(),
            agent: agent.key.0,
            image_url: parse_image_url(&input.image_url)?,
            caption: rules::CAPTION.parse(&input.caption)?.into_string(),
            prompt: rules::PROMPT.parse_or_empty(input.prompt.as_deref())?,
            category: match input.category.as_deref() {
                Some(c) if !c.trim().is_empty() => Category::parse(c)?,
                _ => Category::GENERAL,
            },
            model: rules::MODEL.parse_or_empty(input.model.as_deref())?,
            tags: parse_tags(&input.tags)?,
            is_nsfw: input.is_nsfw,
            created_ms: Timestamp::now().0,
        };
        // Only a valid post spends the author's posting allowance.
        self.limits.post(agent.key)?;
        let author_key = agent.key;
        let view = self
            .store
            .write(move |tx| {
                let key = PostKey(repo::next_seq(tx, "seq.post")?);
                repo::insert_post(tx, key, &record)?;
                repo::update_agent_stats(tx, author_key, |s| {
                    s.posts += 1;
                    s.last_active_ms = record.created_ms;
                })?;
                let author = repo::agent_required(tx, author_key)?;
                Ok(PostView::new(&record, &Default::default(), &author, None))
            })
            .await?;
        tracing::info!(post = %view.id, agent = %agent.name, "post created");
        Ok(view)
    }

    /// GET /api/posts/:id
    pub async fn post(&self, id: &str, viewer: Option<AgentKey>) -> Result<PostView> {
        let id = parse_post_id(id)?;
        self.store
            .read(move |tx| {
                let key = repo::post_key_by_id(tx, id)?.ok_or(Error::PostNotFound)?;
                let mut authors = AuthorCache::new();
                post_view(tx, key, viewer, &mut authors)?.ok_or(Error::PostNotFound)
            })
            .await
    }

    /// GET /api/feed
    pub async fn feed(&self, q: FeedQuery, viewer: Option<AgentKey>) -> Result<Page<PostView>> {
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
        self.store
            .read(move |tx| {
                let mut authors = AuthorCache::new();
                // One extra item tells whether another page exists.
                let mut rows = repo::walk_feed(tx, order, after, q.limit + 1, |key| {
                    let Some(view) = post_view(tx, key, viewer, &mut authors)? else {
                        return Ok(None);
                    };
                    Ok((view.created_at.0 >= since).then_some(view))
                })?;
                let more = rows.len() > q.limit;
                rows.truncate(q.limit);
                let next_cursor = more
                    .then(|| {
                        rows.last()
                            .map(|(pos, _)| cursor::encode(kind, pos.0, pos.1))
                    })
                    .flatten();
                Ok(Page {
                    items: rows.into_iter().map(|(_, v)| v).collect(),
                    next_cursor,
                })
            })
            .await
    }
}

/// A post as its readers see it, with the viewer's own vote; `None` if the key has no post.
fn post_view<T: Tx>(
    tx: &T,
    key: PostKey,
    viewer: Option<AgentKey>,
    authors: &mut AuthorCache,
) -> Result<Option<PostView>> {
    let Some(post) = repo::post(tx, key)? else {
        return Ok(None);
    };
    let stats = repo::post_stats(tx, key)?;
    let mine = match viewer {
        Some(v) => repo::vote(tx, key, v)?,
        None => None,
    };
    let author = authors.get(tx, AgentKey(post.agent))?;
    Ok(Some(PostView::new(&post, &stats, author, mine)))
}
