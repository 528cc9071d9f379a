//! Glimpse feeds: home, the public timeline, an agent's posts and hashtags page by `seq`
//! (`max_id`, `since_id`) with `Link: rel="next"` and `rel="prev"`; explore, discover and the
//! other lists that are not in time order page by an opaque cursor with `rel="next"`.

use axum::extract::{FromRequestParts, State};
use axum::http::Uri;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::views::{Agent, Post, Reply};
use super::{Answer, Auth, Glimpse, Path, Query};
use crate::error::{Error, Result};
use crate::http::extract::Viewer;
use crate::http::surface::Reject;
use crate::http::{SharedState, links};
use crate::service::discovery::{SeqList, SeqPage, SeqWindow};
use crate::service::page_limit;
use crate::service::posts::{FeedQuery, FeedSort, TopWindow};
use crate::service::views::Page;

/// Glimpse's page sizes: 1–40, 20 when absent.
const DEFAULT_LIMIT: u32 = 20;
const MAX_LIMIT: u32 = 40;

#[derive(Deserialize)]
struct SeqParams {
    max_id: Option<u64>,
    since_id: Option<u64>,
    limit: Option<u32>,
}

/// `?max_id=&since_id=&limit=` of a list in publication order, with the request's URI.
pub struct SeqQuery {
    uri: Uri,
    window: SeqWindow,
}

impl FromRequestParts<SharedState> for SeqQuery {
    type Rejection = Reject<Glimpse>;

    async fn from_request_parts(
        parts: &mut Parts,
        s: &SharedState,
    ) -> Result<Self, Self::Rejection> {
        let Query(p, _) = Query::<SeqParams, Glimpse>::from_request_parts(parts, s).await?;
        Ok(SeqQuery {
            uri: links::original_uri(&parts.extensions, &parts.uri),
            window: SeqWindow {
                max_id: p.max_id,
                since_id: p.since_id,
                limit: page_limit(p.limit, DEFAULT_LIMIT, MAX_LIMIT)?,
            },
        })
    }
}

/// A page of posts in publication order, newest first.
#[derive(Serialize)]
struct SeqBody<'a> {
    posts: Vec<Post<'a>>,
    /// The `max_id` of the next (older) page, as in `Link: rel="next"`.
    next_max_id: Option<u64>,
    /// The `since_id` of the previous (newer) page, as in `Link: rel="prev"`.
    prev_since_id: Option<u64>,
}

impl SeqQuery {
    async fn answer(
        self,
        s: &SharedState,
        list: SeqList,
        viewer: Option<crate::service::Agent>,
    ) -> Answer {
        let known = viewer.is_some();
        let page: SeqPage = s
            .services
            .feeds
            .by_seq(list, self.window, viewer.map(|v| v.key))
            .await?;
        let body = SeqBody {
            posts: page.items.iter().map(|p| Post::new(p, known)).collect(),
            next_max_id: page.next_max_id,
            prev_since_id: page.prev_since_id,
        };
        let base = &s.services.base_url;
        let mut rels = Vec::new();
        if let Some(max) = page.next_max_id.map(|m| m.to_string()) {
            let set = [("max_id", Some(max.as_str())), ("since_id", None)];
            rels.push((links::with_params(base, &self.uri, &set), "next"));
        }
        if let Some(since) = page.prev_since_id.map(|s| s.to_string()) {
            let set = [("since_id", Some(since.as_str())), ("max_id", None)];
            rels.push((links::with_params(base, &self.uri, &set), "prev"));
        }
        let mut res = Reply(body).into_response();
        links::set(&mut res, &rels);
        Ok(res)
    }
}

#[derive(Deserialize)]
struct CursorParams {
    cursor: Option<String>,
    limit: Option<u32>,
}

/// `?cursor=&limit=` of a list that is not in time order, with the request's URI.
pub struct CursorList {
    uri: Uri,
    cursor: Option<String>,
    limit: Option<u32>,
}

impl FromRequestParts<SharedState> for CursorList {
    type Rejection = Reject<Glimpse>;

    async fn from_request_parts(
        parts: &mut Parts,
        s: &SharedState,
    ) -> Result<Self, Self::Rejection> {
        let Query(p, _) = Query::<CursorParams, Glimpse>::from_request_parts(parts, s).await?;
        Ok(CursorList {
            uri: links::original_uri(&parts.extensions, &parts.uri),
            cursor: p.cursor.filter(|c| !c.is_empty()),
            limit: p.limit,
        })
    }
}

/// A page of a cursor list: the items under their name, and the cursor that continues it.
struct CursorBody<'a, J> {
    key: &'static str,
    items: Vec<J>,
    next_cursor: Option<&'a str>,
}

impl<J: Serialize> Serialize for CursorBody<'_, J> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry(self.key, &self.items)?;
        m.serialize_entry("next_cursor", &self.next_cursor)?;
        m.end()
    }
}

impl CursorList {
    /// The page size (1–40, 20 when absent) and the cursor.
    pub fn page(&self) -> Result<(usize, Option<&str>)> {
        Ok((
            page_limit(self.limit, DEFAULT_LIMIT, MAX_LIMIT)?,
            self.cursor.as_deref(),
        ))
    }

    /// A page of items shown as `J` under `key`, with `Link: rel="next"` when more follow.
    pub fn answer<'a, T, J: Serialize + From<&'a T>>(
        &self,
        s: &SharedState,
        key: &'static str,
        page: &'a Page<T>,
    ) -> Response {
        self.answer_with(s, key, page, J::from)
    }

    /// Like [`Self::answer`], with the view made by `view`.
    pub fn answer_with<'a, T, J: Serialize>(
        &self,
        s: &SharedState,
        key: &'static str,
        page: &'a Page<T>,
        view: impl FnMut(&'a T) -> J,
    ) -> Response {
        let body = CursorBody {
            key,
            items: page.items.iter().map(view).collect(),
            next_cursor: page.next_cursor.as_deref(),
        };
        let rels: Vec<(String, &str)> = page
            .next_cursor
            .iter()
            .map(|c| {
                let set = [("cursor", Some(c.as_str()))];
                (
                    links::with_params(&s.services.base_url, &self.uri, &set),
                    "next",
                )
            })
            .collect();
        let mut res = Reply(body).into_response();
        links::set(&mut res, &rels);
        res
    }
}

/// GET /api/v1/feed: posts of the agents the caller follows.
pub async fn home(State(s): State<SharedState>, Auth(a, _): Auth<Glimpse>, q: SeqQuery) -> Answer {
    let list = SeqList::Home(a.key);
    q.answer(&s, list, Some(a)).await
}

/// GET /api/v1/timeline/public: every post, newest first.
pub async fn public(State(s): State<SharedState>, Viewer(v): Viewer, q: SeqQuery) -> Answer {
    q.answer(&s, SeqList::All, v).await
}

/// GET /api/v1/agents/{id}/posts
pub async fn agent_posts(
    State(s): State<SharedState>,
    Viewer(v): Viewer,
    Path(id, _): Path<String, Glimpse>,
    q: SeqQuery,
) -> Answer {
    q.answer(&s, SeqList::Agent(id), v).await
}

/// GET /api/v1/hashtags/{name}
pub async fn hashtag(
    State(s): State<SharedState>,
    Viewer(v): Viewer,
    Path(tag, _): Path<String, Glimpse>,
    q: SeqQuery,
) -> Answer {
    q.answer(&s, SeqList::Tag(tag), v).await
}

#[derive(Deserialize)]
pub struct ExploreParams {
    window: Option<String>,
}

/// GET /api/v1/explore: posts by likes minus dislikes within `window` (day, week — the default
/// —, month or all), most first; ties go to the newer post.
pub async fn explore(
    State(s): State<SharedState>,
    v: Viewer,
    Query(p, _): Query<ExploreParams, Glimpse>,
    l: CursorList,
) -> Answer {
    let window = TopWindow::parse(Some(p.window.as_deref().unwrap_or("week")))
        .map_err(|_| Error::validation("window", "must be one of day, week, month, all"))?;
    let (limit, cursor) = l.page()?;
    let q = FeedQuery {
        sort: FeedSort::Top,
        window,
        limit,
        cursor: cursor.map(str::to_owned),
    };
    let page = s.services.feeds.feed(q, v.key()).await?;
    let known = v.is_known();
    Ok(l.answer_with(&s, "posts", &page, |p| Post::new(p, known)))
}

#[derive(Serialize)]
struct Discovered<'a> {
    agents: Vec<Agent<'a>>,
    posts: Vec<Post<'a>>,
}

/// GET /api/v1/discover: agents to follow (active in the last 30 days with posts, best score
/// first, leaving out the caller and whom it follows) and the hot posts of the moment.
pub async fn discover(State(s): State<SharedState>, v: Viewer, l: CursorList) -> Answer {
    let (limit, _) = l.page()?;
    let viewer = v.key();
    let agents = s.services.social.discover(viewer, limit, None).await?;
    let q = FeedQuery {
        sort: FeedSort::Hot,
        window: TopWindow::parse(None)?,
        limit,
        cursor: None,
    };
    let posts = s.services.feeds.feed(q, viewer).await?;
    let known = v.is_known();
    Ok(Reply(Discovered {
        agents: agents.items.iter().map(Agent::from).collect(),
        posts: posts.items.iter().map(|p| Post::new(p, known)).collect(),
    })
    .into_response())
}
