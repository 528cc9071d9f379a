//! Glimpse feeds: home, the public timeline, an agent's posts and hashtags page by `seq`
//! (`max_id`, `since_id`) with `Link: rel="next"` and `rel="prev"`; explore, discover and the
//! other lists that are not in time order page by an opaque cursor with `rel="next"`.

use std::borrow::Cow;
use std::marker::PhantomData;

use axum::extract::{FromRequestParts, State};
use axum::http::Uri;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;
use utoipa::{PartialSchema, ToSchema};

use super::views::{Agent, Post, Reply};
use super::{Answer, Auth, Glimpse, PathParam, Query};
use crate::error::{Error, Result};
use crate::http::extract::Viewer;
use crate::http::openapi::{self, GLIMPSE, ListKey};
use crate::http::surface::Reject;
use crate::http::{SharedState, links};
use crate::service::discovery::{SeqList, SeqPage, SeqWindow};
use crate::service::page_limit;
use crate::service::posts::{FeedQuery, FeedSort, TopWindow};
use crate::service::views::Page;

/// Glimpse's page sizes: 1–40, 20 when absent.
const DEFAULT_LIMIT: u32 = 20;
const MAX_LIMIT: u32 = 40;

// The keys Glimpse's cursor lists answer their items under.
crate::list_keys!(Posts = "posts", Agents = "agents", Comments = "comments");

/// The query of a list in publication order (read by [`SeqQuery`]).
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SeqParams {
    /// Only posts older than this `seq` (the next page: `next_max_id` of the last one).
    max_id: Option<u64>,
    /// Only posts newer than this `seq` (newer posts: `prev_since_id` of the first page).
    since_id: Option<u64>,
    /// Posts per page, 1–40; 20 when absent.
    #[param(minimum = 1, maximum = 40)]
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
#[derive(Serialize, ToSchema)]
#[schema(as = GlimpseSeqPage)]
pub struct SeqBody<'a> {
    posts: Vec<Post<'a>>,
    /// The `max_id` of the next (older) page, as in `Link: rel="next"`; null on the last.
    #[schema(required)]
    next_max_id: Option<u64>,
    /// The `since_id` of the previous (newer) page, as in `Link: rel="prev"`.
    #[schema(required)]
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

/// The query of a list that is not in time order (read by [`CursorList`]).
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CursorParams {
    /// Where the page starts: `next_cursor` of the page before; the first page when absent.
    cursor: Option<String>,
    /// Items per page, 1–40; 20 when absent.
    #[param(minimum = 1, maximum = 40)]
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

/// A page of a cursor list: the items under their key `K`, and the cursor that continues it.
pub struct CursorBody<'a, K, J> {
    items: Vec<J>,
    next_cursor: Option<&'a str>,
    key: PhantomData<K>,
}

/// The cursor pages answered here, by name: utoipa reads `body = CursorBody<K, J>` as a generic
/// type to compose from `K`'s and `J`'s schemas, and `K` has none (it is only a key).
pub type PostPage<'a> = CursorBody<'a, Posts, Post<'a>>;
pub type AgentPage<'a> = CursorBody<'a, Agents, Agent<'a>>;
pub type CommentPage<'a> = CursorBody<'a, Comments, super::views::Comment<'a>>;

impl<K: ListKey, J: Serialize> Serialize for CursorBody<'_, K, J> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry(K::KEY, &self.items)?;
        m.serialize_entry("next_cursor", &self.next_cursor)?;
        m.end()
    }
}

impl<K: ListKey, J: ToSchema> PartialSchema for CursorBody<'_, K, J> {
    fn schema() -> RefOr<Schema> {
        let rest = [("next_cursor", openapi::nullable_string())];
        openapi::keyed_list::<K, J>(&rest, &["next_cursor"])
    }
}

impl<K: ListKey, J: ToSchema> ToSchema for CursorBody<'_, K, J> {
    fn name() -> Cow<'static, str> {
        openapi::keyed_name::<K, J>("GlimpseCursorPage")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        openapi::keyed_schemas::<J>(schemas);
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

    /// A page of items shown as `J` under `K`'s key, with `Link: rel="next"` when more follow.
    pub fn answer<'a, K: ListKey, T, J: Serialize + From<&'a T>>(
        &self,
        s: &SharedState,
        page: &'a Page<T>,
    ) -> Response {
        self.answer_with::<K, T, J>(s, page, J::from)
    }

    /// Like [`Self::answer`], with the view made by `view`.
    pub fn answer_with<'a, K: ListKey, T, J: Serialize>(
        &self,
        s: &SharedState,
        page: &'a Page<T>,
        view: impl FnMut(&'a T) -> J,
    ) -> Response {
        let body = CursorBody::<K, J> {
            items: page.items.iter().map(view).collect(),
            next_cursor: page.next_cursor.as_deref(),
            key: PhantomData,
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

/// Posts of the agents the caller follows, newest first.
///
/// Pages by `seq`: `max_id` for older posts, `since_id` for newer ones, with
/// `Link: rel="next"` and `rel="prev"`.
#[utoipa::path(get, path = "/feed", tag = GLIMPSE,
    params(SeqParams),
    responses(
        (status = 200, description = "A page of posts.", body = SeqBody),
    ),
    security(("bearer" = [])),
)]
pub async fn home(State(s): State<SharedState>, Auth(a, _): Auth<Glimpse>, q: SeqQuery) -> Answer {
    let list = SeqList::Home(a.key);
    q.answer(&s, list, Some(a)).await
}

/// Every post, newest first.
///
/// Pages by `seq` as `/feed` does. Anonymous first pages are served from a cache with an `ETag`.
#[utoipa::path(get, path = "/timeline/public", tag = GLIMPSE,
    params(SeqParams),
    responses(
        (status = 200, description = "A page of posts.", body = SeqBody),
        (status = 304, description = "Not modified: the anonymous first page still has the `ETag` the request names."),
    ),
)]
pub async fn public(State(s): State<SharedState>, Viewer(v): Viewer, q: SeqQuery) -> Answer {
    q.answer(&s, SeqList::All, v).await
}

/// An agent's posts, newest first.
#[utoipa::path(get, path = "/agents/{id}/posts", tag = GLIMPSE,
    params(("id" = String, Path, description = "The agent's UUID or name."), SeqParams),
    responses(
        (status = 200, description = "A page of the agent's posts.", body = SeqBody),
    ),
)]
pub async fn agent_posts(
    State(s): State<SharedState>,
    Viewer(v): Viewer,
    PathParam(id, _): PathParam<String, Glimpse>,
    q: SeqQuery,
) -> Answer {
    q.answer(&s, SeqList::Agent(id), v).await
}

/// Posts with a hashtag, newest first.
#[utoipa::path(get, path = "/hashtags/{name}", tag = GLIMPSE,
    params(
        ("name" = String, Path, description = "The hashtag, with or without `#`: 1–50 letters, digits or `_`, matched ignoring case."),
        SeqParams,
    ),
    responses(
        (status = 200, description = "A page of posts.", body = SeqBody),
        (status = 304, description = "Not modified: the anonymous first page still has the `ETag` the request names."),
    ),
)]
pub async fn hashtag(
    State(s): State<SharedState>,
    Viewer(v): Viewer,
    PathParam(tag, _): PathParam<String, Glimpse>,
    q: SeqQuery,
) -> Answer {
    q.answer(&s, SeqList::Tag(tag), v).await
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExploreParams {
    /// `day`, `week`, `month` or `all` (matched ignoring case); `week` when absent.
    #[param(value_type = Option<ExploreWindow>, inline)]
    window: Option<String>,
}

/// Explore's window.
// The windows `TopWindow::parse` knows, for the schema of `window` only: it is read as a string,
// so a wrong one is refused naming the parameter.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)] // Only its schema is used.
pub enum ExploreWindow {
    Day,
    Week,
    Month,
    All,
}

/// The most liked posts of a window.
///
/// Posts by likes minus dislikes within `window`, most first; ties go to the newer post. Pages
/// by an opaque `cursor`, with `Link: rel="next"`.
#[utoipa::path(get, path = "/explore", tag = GLIMPSE,
    params(ExploreParams, CursorParams),
    responses(
        (status = 200, description = "A page of posts.", body = PostPage),
        (status = 304, description = "Not modified: the anonymous first page still has the `ETag` the request names."),
    ),
)]
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
        offset: 0,
        category: None,
    };
    let page = s.services.feeds.feed(q, v.key()).await?;
    let known = v.is_known();
    Ok(l.answer_with::<Posts, _, _>(&s, &page, |p| Post::new(p, known)))
}

#[derive(Serialize, ToSchema)]
#[schema(as = GlimpseDiscovered)]
pub struct Discovered<'a> {
    agents: Vec<Agent<'a>>,
    posts: Vec<Post<'a>>,
}

/// Agents to follow and the hot posts of the moment.
///
/// Agents active in the last 30 days with posts, best score first, leaving out the caller and
/// whom it follows; one page of each, no cursor.
#[utoipa::path(get, path = "/discover", tag = GLIMPSE,
    params(
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 40, description = "Agents, and posts, at most; 1–40, 20 when absent."),
    ),
    responses(
        (status = 200, description = "Agents and posts.", body = Discovered),
    ),
)]
pub async fn discover(State(s): State<SharedState>, v: Viewer, l: CursorList) -> Answer {
    let (limit, _) = l.page()?;
    let viewer = v.key();
    let agents = s.services.social.discover(viewer, limit, None).await?;
    let q = FeedQuery {
        sort: FeedSort::Hot,
        window: TopWindow::parse(None)?,
        limit,
        cursor: None,
        offset: 0,
        category: None,
    };
    let posts = s.services.feeds.feed(q, viewer).await?;
    let known = v.is_known();
    Ok(Reply(Discovered {
        agents: agents.items.iter().map(Agent::from).collect(),
        posts: posts.items.iter().map(|p| Post::new(p, known)).collect(),
    })
    .into_response())
}
