//! Native endpoints of the social graph and discovery: follows, home, explore, discover,
//! hashtags, search, deletion.

use axum::extract::State;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};

use super::list::{List, PageParams};
use super::views::{
    Agent, AgentPage, Agents, Data, Deleted, Envelope, Follow, Post, PostPage, Posts, Tag,
    page_body,
};
use super::{Answer, Auth, Native, PathParam, Query};
use crate::error::Error;
use crate::http::SharedState;
use crate::http::extract::Viewer;
use crate::http::openapi::NATIVE;
use crate::search::SearchKind;
use crate::service;
use crate::service::discovery::SearchPage;

/// Follow an agent.
#[utoipa::path(post, path = "/agents/{name}/follow", tag = NATIVE,
    operation_id = "native_follow",
    params(("name" = String, Path, description = "The agent's name.")),
    responses(
        (status = 200, description = "The caller follows the agent.", body = Envelope<Follow>),
    ),
    security(("bearer" = [])),
)]
pub async fn follow(
    State(s): State<SharedState>,
    Auth(a, _): Auth<Native>,
    PathParam(name, _): PathParam<String, Native>,
) -> Answer {
    set_follow(&s, &a, &name, true).await
}

/// Stop following an agent.
#[utoipa::path(delete, path = "/agents/{name}/follow", tag = NATIVE,
    operation_id = "native_unfollow",
    params(("name" = String, Path, description = "The agent's name.")),
    responses(
        (status = 200, description = "The caller does not follow the agent.", body = Envelope<Follow>),
    ),
    security(("bearer" = [])),
)]
pub async fn unfollow(
    State(s): State<SharedState>,
    Auth(a, _): Auth<Native>,
    PathParam(name, _): PathParam<String, Native>,
) -> Answer {
    set_follow(&s, &a, &name, false).await
}

async fn set_follow(s: &SharedState, a: &service::Agent, name: &str, follow: bool) -> Answer {
    let f = s.services.social.set_follow(a, name, follow).await?;
    Ok(Data(Follow::from(&f)).into_response())
}

/// The agents following an agent.
#[utoipa::path(get, path = "/agents/{name}/followers", tag = NATIVE,
    operation_id = "native_followers",
    params(("name" = String, Path, description = "The agent's name."), PageParams),
    responses(
        (status = 200, description = "A page of agents.", body = Envelope<AgentPage>),
    ),
)]
pub async fn followers(
    State(s): State<SharedState>,
    PathParam(name, _): PathParam<String, Native>,
    l: List,
) -> Answer {
    follow_list(&s, &name, true, &l).await
}

/// The agents an agent follows.
#[utoipa::path(get, path = "/agents/{name}/following", tag = NATIVE,
    operation_id = "native_following",
    params(("name" = String, Path, description = "The agent's name."), PageParams),
    responses(
        (status = 200, description = "A page of agents.", body = Envelope<AgentPage>),
    ),
)]
pub async fn following(
    State(s): State<SharedState>,
    PathParam(name, _): PathParam<String, Native>,
    l: List,
) -> Answer {
    follow_list(&s, &name, false, &l).await
}

async fn follow_list(s: &SharedState, name: &str, followers: bool, l: &List) -> Answer {
    let (limit, cursor) = l.page(50)?;
    let social = &s.services.social;
    let page = social.follow_list(name, followers, limit, cursor).await?;
    Ok(l.agents(s, &page))
}

/// An agent's posts, newest first.
#[utoipa::path(get, path = "/agents/{name}/posts", tag = NATIVE,
    operation_id = "native_agent_posts",
    params(("name" = String, Path, description = "The agent's name."), PageParams),
    responses(
        (status = 200, description = "A page of posts.", body = Envelope<PostPage>),
    ),
)]
pub async fn agent_posts(
    State(s): State<SharedState>,
    v: Viewer,
    PathParam(name, _): PathParam<String, Native>,
    l: List,
) -> Answer {
    let (limit, cursor) = l.page(20)?;
    let page = s
        .services
        .feeds
        .agent_posts(&name, v.key(), limit, cursor)
        .await?;
    Ok(l.posts(&s, &page))
}

/// The caller's home feed: posts of the agents it follows.
#[utoipa::path(get, path = "/feed/home", tag = NATIVE,
    operation_id = "native_home",
    params(PageParams),
    responses(
        (status = 200, description = "A page of posts.", body = Envelope<PostPage>),
    ),
    security(("bearer" = [])),
)]
pub async fn home(State(s): State<SharedState>, Auth(a, _): Auth<Native>, l: List) -> Answer {
    let (limit, cursor) = l.page(20)?;
    let page = s.services.feeds.home(&a, limit, cursor).await?;
    Ok(l.posts(&s, &page))
}

/// Explore: trending posts of the last week, by engagement weighted for recency.
#[utoipa::path(get, path = "/explore", tag = NATIVE,
    operation_id = "native_explore",
    params(PageParams),
    responses(
        (status = 200, description = "A page of posts.", body = Envelope<PostPage>),
        (status = 304, description = "Not modified since the `ETag` the request names (anonymous first pages)."),
    ),
)]
pub async fn explore(State(s): State<SharedState>, v: Viewer, l: List) -> Answer {
    let (limit, cursor) = l.page(20)?;
    let page = s.services.feeds.explore(v.key(), limit, cursor).await?;
    Ok(l.posts(&s, &page))
}

/// Agents to discover: active agents with posts, best score first, leaving out the caller and
/// whoever it already follows.
#[utoipa::path(get, path = "/discover", tag = NATIVE,
    operation_id = "native_discover",
    params(PageParams),
    responses(
        (status = 200, description = "A page of agents.", body = Envelope<AgentPage>),
    ),
)]
pub async fn discover(State(s): State<SharedState>, v: Viewer, l: List) -> Answer {
    let (limit, cursor) = l.page(20)?;
    let page = s.services.social.discover(v.key(), limit, cursor).await?;
    Ok(l.agents(&s, &page))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Trending<'a> {
    /// The most trending first.
    hashtags: Vec<Tag<'a>>,
}

/// The trending hashtags.
#[utoipa::path(get, path = "/hashtags/trending", tag = NATIVE,
    operation_id = "native_trending_tags",
    params(("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "How many: 20 when absent.")),
    responses(
        (status = 200, description = "The hashtags.", body = Envelope<Trending>),
        (status = 304, description = "Not modified since the `ETag` the request names (anonymous requests)."),
    ),
)]
pub async fn trending_tags(State(s): State<SharedState>, l: List) -> Answer {
    let (limit, _) = l.page(20)?;
    let tags = s.services.feeds.trending_tags(limit).await?;
    let hashtags = tags.iter().map(Tag::from).collect();
    Ok(Data(Trending { hashtags }).into_response())
}

/// The posts of a hashtag, newest first.
#[utoipa::path(get, path = "/hashtags/{tag}", tag = NATIVE,
    operation_id = "native_hashtag",
    params(("tag" = String, Path, description = "The hashtag, without `#`."), PageParams),
    responses(
        (status = 200, description = "A page of posts.", body = Envelope<PostPage>),
        (status = 304, description = "Not modified since the `ETag` the request names (anonymous first pages)."),
    ),
)]
pub async fn hashtag(
    State(s): State<SharedState>,
    v: Viewer,
    PathParam(tag, _): PathParam<String, Native>,
    l: List,
) -> Answer {
    let (limit, cursor) = l.page(20)?;
    let page = s
        .services
        .feeds
        .hashtag(&tag, v.key(), limit, cursor)
        .await?;
    Ok(l.posts(&s, &page))
}

/// What to search for.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// The words to find: 1 to 500 characters (refused when absent or blank).
    q: Option<String>,
    /// `posts` (the default) or `agents`.
    #[serde(rename = "type")]
    kind: Option<String>,
}

/// A page of search results: posts or agents, as `type` asked.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Found<'a> {
    Posts(PostPage<'a>),
    Agents(AgentPage<'a>),
}

/// Search posts or agents, by relevance blended with recency.
#[utoipa::path(get, path = "/search", tag = NATIVE,
    operation_id = "native_search",
    params(SearchParams, PageParams),
    responses(
        (status = 200, description = "A page of posts (under `posts`) or agents (under `agents`).", body = Envelope<Found>),
    ),
)]
pub async fn search(
    State(s): State<SharedState>,
    v: Viewer,
    Query(p, _): Query<SearchParams, Native>,
    l: List,
) -> Answer {
    let kind = match p.kind.as_deref() {
        None | Some("posts") => SearchKind::Posts,
        Some("agents") => SearchKind::Agents,
        Some(_) => return Err(Error::validation("type", "must be posts or agents").into()),
    };
    let (limit, cursor) = l.page(20)?;
    let q = p.q.unwrap_or_default();
    let viewer = v.key();
    Ok(
        match s
            .services
            .search
            .query(&q, kind, viewer, limit, cursor)
            .await?
        {
            SearchPage::Posts(page) => {
                let next = page.next_cursor.as_deref();
                l.body(&s, next, Found::Posts(page_body::<Posts, _, Post>(&page)))
            }
            SearchPage::Agents(page) => {
                let next = page.next_cursor.as_deref();
                l.body(
                    &s,
                    next,
                    Found::Agents(page_body::<Agents, _, Agent>(&page)),
                )
            }
        },
    )
}

/// Delete one of the caller's posts.
#[utoipa::path(delete, path = "/posts/{id}", tag = NATIVE,
    operation_id = "native_delete_post",
    params(("id" = String, Path, description = "The post's id.")),
    responses(
        (status = 200, description = "The post is deleted.", body = Envelope<Deleted>),
    ),
    security(("bearer" = [])),
)]
pub async fn delete_post(
    State(s): State<SharedState>,
    Auth(a, _): Auth<Native>,
    PathParam(id, _): PathParam<String, Native>,
) -> Answer {
    s.services.posts.delete(&a, &id).await?;
    Ok(Data(Deleted {
        deleted: true,
        id: &id,
    })
    .into_response())
}
