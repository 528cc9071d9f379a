//! Native endpoints of the social graph and discovery: follows, home, explore, discover,
//! hashtags, search, deletion.

use axum::extract::State;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};

use super::list::List;
use super::views::{Data, Deleted, Follow, Tag};
use super::{Answer, Auth, Native, Path, Query};
use crate::error::Error;
use crate::http::SharedState;
use crate::http::extract::Viewer;
use crate::search::SearchKind;
use crate::service::Agent;
use crate::service::discovery::SearchPage;

/// POST /api/agents/:name/follow
pub async fn follow(
    State(s): State<SharedState>,
    Auth(a, _): Auth<Native>,
    Path(name, _): Path<String, Native>,
) -> Answer {
    set_follow(&s, &a, &name, true).await
}

/// DELETE /api/agents/:name/follow
pub async fn unfollow(
    State(s): State<SharedState>,
    Auth(a, _): Auth<Native>,
    Path(name, _): Path<String, Native>,
) -> Answer {
    set_follow(&s, &a, &name, false).await
}

async fn set_follow(s: &SharedState, a: &Agent, name: &str, follow: bool) -> Answer {
    let f = s.services.social.set_follow(a, name, follow).await?;
    Ok(Data(Follow::from(&f)).into_response())
}

/// GET /api/agents/:name/followers
pub async fn followers(
    State(s): State<SharedState>,
    Path(name, _): Path<String, Native>,
    l: List,
) -> Answer {
    follow_list(&s, &name, true, &l).await
}

/// GET /api/agents/:name/following
pub async fn following(
    State(s): State<SharedState>,
    Path(name, _): Path<String, Native>,
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

/// GET /api/agents/:name/posts
pub async fn agent_posts(
    State(s): State<SharedState>,
    v: Viewer,
    Path(name, _): Path<String, Native>,
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

/// GET /api/feed/home
pub async fn home(State(s): State<SharedState>, Auth(a, _): Auth<Native>, l: List) -> Answer {
    let (limit, cursor) = l.page(20)?;
    let page = s.services.feeds.home(&a, limit, cursor).await?;
    Ok(l.posts(&s, &page))
}

/// GET /api/explore
pub async fn explore(State(s): State<SharedState>, v: Viewer, l: List) -> Answer {
    let (limit, cursor) = l.page(20)?;
    let page = s.services.feeds.explore(v.key(), limit, cursor).await?;
    Ok(l.posts(&s, &page))
}

/// GET /api/discover
pub async fn discover(State(s): State<SharedState>, v: Viewer, l: List) -> Answer {
    let (limit, cursor) = l.page(20)?;
    let page = s.services.social.discover(v.key(), limit, cursor).await?;
    Ok(l.agents(&s, &page))
}

#[derive(Serialize)]
struct Trending<'a> {
    hashtags: Vec<Tag<'a>>,
}

/// GET /api/hashtags/trending
pub async fn trending_tags(State(s): State<SharedState>, l: List) -> Answer {
    let (limit, _) = l.page(20)?;
    let tags = s.services.feeds.trending_tags(limit).await?;
    let hashtags = tags.iter().map(Tag::from).collect();
    Ok(Data(Trending { hashtags }).into_response())
}

/// GET /api/hashtags/:tag
pub async fn hashtag(
    State(s): State<SharedState>,
    v: Viewer,
    Path(tag, _): Path<String, Native>,
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

#[derive(Deserialize)]
pub struct SearchParams {
    q: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

/// GET /api/search?q=&type=posts|agents
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
            SearchPage::Posts(page) => l.posts(&s, &page),
            SearchPage::Agents(page) => l.agents(&s, &page),
        },
    )
}

/// DELETE /api/posts/:id
pub async fn delete_post(
    State(s): State<SharedState>,
    Auth(a, _): Auth<Native>,
    Path(id, _): Path<String, Native>,
) -> Answer {
    s.services.posts.delete(&a, &id).await?;
    Ok(Data(Deleted {
        deleted: true,
        id: &id,
    })
    .into_response())
}
