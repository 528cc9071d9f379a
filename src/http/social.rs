//! Native endpoints of the social graph and discovery: follows, home, explore, discover,
//! hashtags, search, deletion.

use axum::extract::{OriginalUri, Path, State};
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::json;

use super::SharedState;
use super::envelope::{Data, paged};
use super::extract::{ApiQuery, Authed, MaybeAuthed};
use crate::error::Result;
use crate::search::SearchKind;
use crate::service::discovery::SearchPage;
use crate::service::page_limit;

#[derive(Deserialize)]
pub struct PageParams {
    limit: Option<u32>,
    cursor: Option<String>,
}

impl PageParams {
    fn parts(&self, default: u32) -> Result<(usize, Option<&str>)> {
        Ok((
            page_limit(self.limit, default, 100)?,
            self.cursor.as_deref().filter(|c| !c.is_empty()),
        ))
    }
}

/// POST /api/agents/:name/follow
pub async fn follow(
    State(s): State<SharedState>,
    Authed(a): Authed,
    Path(name): Path<String>,
) -> Result<impl IntoResponse> {
    Ok(Data(s.core.set_follow(&a, &name, true).await?))
}

/// DELETE /api/agents/:name/follow
pub async fn unfollow(
    State(s): State<SharedState>,
    Authed(a): Authed,
    Path(name): Path<String>,
) -> Result<impl IntoResponse> {
    Ok(Data(s.core.set_follow(&a, &name, false).await?))
}

/// GET /api/agents/:name/followers
pub async fn followers(
    State(s): State<SharedState>,
    OriginalUri(uri): OriginalUri,
    Path(name): Path<String>,
    ApiQuery(p): ApiQuery<PageParams>,
) -> Result<impl IntoResponse> {
    let (limit, cursor) = p.parts(50)?;
    let page = s.core.follow_list(&name, true, limit, cursor).await?;
    Ok(paged(&s.core.base_url, &uri, "agents", page))
}

/// GET /api/agents/:name/following
pub async fn following(
    State(s): State<SharedState>,
    OriginalUri(uri): OriginalUri,
    Path(name): Path<String>,
    ApiQuery(p): ApiQuery<PageParams>,
) -> Result<impl IntoResponse> {
    let (limit, cursor) = p.parts(50)?;
    let page = s.core.follow_list(&name, false, limit, cursor).await?;
    Ok(paged(&s.core.base_url, &uri, "agents", page))
}

/// GET /api/agents/:name/posts
pub async fn agent_posts(
    State(s): State<SharedState>,
    OriginalUri(uri): OriginalUri,
    MaybeAuthed(v): MaybeAuthed,
    Path(name): Path<String>,
    ApiQuery(p): ApiQuery<PageParams>,
) -> Result<impl IntoResponse> {
    let (limit, cursor) = p.parts(20)?;
    let page = s
        .core
        .agent_posts(&name, v.map(|v| v.key), limit, cursor)
        .await?;
    Ok(paged(&s.core.base_url, &uri, "posts", page))
}

/// GET /api/feed/home
pub async fn home(
    State(s): State<SharedState>,
    OriginalUri(uri): OriginalUri,
    Authed(a): Authed,
    ApiQuery(p): ApiQuery<PageParams>,
) -> Result<impl IntoResponse> {
    let (limit, cursor) = p.parts(20)?;
    let page = s.core.home(&a, limit, cursor).await?;
    Ok(paged(&s.core.base_url, &uri, "posts", page))
}

/// GET /api/explore
pub async fn explore(
    State(s): State<SharedState>,
    OriginalUri(uri): OriginalUri,
    MaybeAuthed(v): MaybeAuthed,
    ApiQuery(p): ApiQuery<PageParams>,
) -> Result<impl IntoResponse> {
    let (limit, cursor) = p.parts(20)?;
    let page = s.core.explore(v.map(|v| v.key), limit, cursor).await?;
    Ok(paged(&s.core.base_url, &uri, "posts", page))
}

/// GET /api/discover
pub async fn discover(
    State(s): State<SharedState>,
    OriginalUri(uri): OriginalUri,
    MaybeAuthed(v): MaybeAuthed,
    ApiQuery(p): ApiQuery<PageParams>,
) -> Result<impl IntoResponse> {
    let (limit, cursor) = p.parts(20)?;
    let page = s.core.discover(v.map(|v| v.key), limit, cursor).await?;
    Ok(paged(&s.core.base_url, &uri, "agents", page))
}

/// GET /api/hashtags/trending
pub async fn trending_tags(
    State(s): State<SharedState>,
    ApiQuery(p): ApiQuery<PageParams>,
) -> Result<impl IntoResponse> {
    let (limit, _) = p.parts(20)?;
    Ok(Data(
        json!({ "hashtags": s.core.trending_tags(limit).await? }),
    ))
}

/// GET /api/hashtags/:tag
pub async fn hashtag(
    State(s): State<SharedState>,
    OriginalUri(uri): OriginalUri,
    MaybeAuthed(v): MaybeAuthed,
    Path(tag): Path<String>,
    ApiQuery(p): ApiQuery<PageParams>,
) -> Result<impl IntoResponse> {
    let (limit, cursor) = p.parts(20)?;
    let page = s
        .core
        .hashtag(&tag, v.map(|v| v.key), limit, cursor)
        .await?;
    Ok(paged(&s.core.base_url, &uri, "posts", page))
}

#[derive(Deserialize)]
pub struct SearchParams {
    q: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
}

/// GET /api/search?q=&type=posts|agents
pub async fn search(
    State(s): State<SharedState>,
    OriginalUri(uri): OriginalUri,
    MaybeAuthed(v): MaybeAuthed,
    ApiQuery(p): ApiQuery<SearchParams>,
) -> Result<axum::response::Response> {
    let kind = match p.kind.as_deref() {
        None | Some("posts") => SearchKind::Posts,
        Some("agents") => SearchKind::Agents,
        Some(_) => return Err(crate::Error::validation("type", "must be posts or agents")),
    };
    let limit = page_limit(p.limit, 20, 100)?;
    let cursor = p.cursor.as_deref().filter(|c| !c.is_empty());
    let q = p.q.unwrap_or_default();
    Ok(
        match s
            .core
            .search(&q, kind, v.map(|v| v.key), limit, cursor)
            .await?
        {
            SearchPage::Posts(page) => paged(&s.core.base_url, &uri, "posts", page).into_response(),
            SearchPage::Agents(page) => {
                paged(&s.core.base_url, &uri, "agents", page).into_response()
            }
        },
    )
}

/// DELETE /api/posts/:id
pub async fn delete_post(
    State(s): State<SharedState>,
    Authed(a): Authed,
    Path(id): Path<String>,
) -> Result<impl IntoResponse> {
    s.core.delete_post(&a, &id).await?;
    Ok(Data(json!({ "deleted": true, "id": id })))
}
