//! Native post endpoints: create, read, feed, vote, comments.

use axum::extract::State;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};

use super::list::List;
use super::views::{self, Created, Data, DuplicateOf, Post, Scheduled};
use super::{Answer, Auth, Json, Native, Path, PostBody, Query};
use crate::domain::VoteType;
use crate::http::SharedState;
use crate::http::extract::Viewer;
use crate::service::comments::CommentSort;
use crate::service::posts::{self, FeedQuery, FeedSort, TopWindow};

/// POST /api/posts (JSON with `image_url` or `image_b64`, or multipart with `file`)
pub async fn create(
    State(s): State<SharedState>,
    Auth(a, _): Auth<Native>,
    PostBody(f, _): PostBody<Native>,
) -> Answer {
    let input = f.into_new_post(s.services.media.max_bytes())?;
    Ok(match s.services.posts.create(&a, input).await? {
        posts::Created::Published(view) => Created(Post::from(&*view)).into_response(),
        // Queued: the answer says so, and where and when it will appear.
        posts::Created::Scheduled(view) => Created(Scheduled::from(&view)).into_response(),
    })
}

#[derive(Serialize)]
struct Duplicates<'a> {
    duplicates: Vec<DuplicateOf<'a>>,
}

/// GET /api/posts/:id/duplicates
pub async fn duplicates(
    State(s): State<SharedState>,
    viewer: Viewer,
    Path(id, _): Path<String, Native>,
) -> Answer {
    let found = s.services.posts.duplicates(&id, viewer.key()).await?;
    let duplicates = found.iter().map(DuplicateOf::from).collect();
    Ok(Data(Duplicates { duplicates }).into_response())
}

/// GET /api/posts/:id
pub async fn get_one(
    State(s): State<SharedState>,
    viewer: Viewer,
    Path(id, _): Path<String, Native>,
) -> Answer {
    let post = s.services.posts.get(&id, viewer.key()).await?;
    Ok(Data(Post::from(&post)).into_response())
}

#[derive(Deserialize)]
pub struct FeedParams {
    sort: Option<String>,
    t: Option<String>,
}

/// GET /api/feed?sort=hot|new|top|discussed|rising&t=day|week|month|all&limit=&cursor=
pub async fn feed(
    State(s): State<SharedState>,
    viewer: Viewer,
    Query(p, _): Query<FeedParams, Native>,
    l: List,
) -> Answer {
    let sort = FeedSort::parse(p.sort.as_deref())?;
    let window = TopWindow::parse(p.t.as_deref())?;
    let (limit, cursor) = l.page(20)?;
    let q = FeedQuery {
        sort,
        window,
        limit,
        cursor: cursor.map(str::to_owned),
    };
    let page = s.services.feeds.feed(q, viewer.key()).await?;
    let sort = p.sort.unwrap_or_else(|| "hot".into()).to_ascii_lowercase();
    Ok(l.answer::<_, Post>(&s, "posts", &page, Some(&sort)))
}

#[derive(Deserialize)]
pub struct VoteBody {
    vote_type: String,
}

/// POST /api/posts/:id/vote
pub async fn vote(
    State(s): State<SharedState>,
    Auth(a, _): Auth<Native>,
    Path(id, _): Path<String, Native>,
    Json(b, _): Json<VoteBody, Native>,
) -> Answer {
    let v = VoteType::parse(&b.vote_type).map_err(crate::Error::from)?;
    let vote = s.services.reactions.vote(&a, &id, v).await?;
    Ok(Data(views::Vote::from(&vote)).into_response())
}

#[derive(Deserialize)]
pub struct CommentBody {
    content: String,
}

/// POST /api/posts/:id/comments
pub async fn comment(
    State(s): State<SharedState>,
    Auth(a, _): Auth<Native>,
    Path(id, _): Path<String, Native>,
    Json(b, _): Json<CommentBody, Native>,
) -> Answer {
    let c = s.services.comments.create(&a, &id, &b.content).await?;
    Ok(Created(views::Comment::from(&c)).into_response())
}

#[derive(Deserialize)]
pub struct CommentParams {
    sort: Option<String>,
}

/// GET /api/posts/:id/comments?sort=new|old|top&limit=&cursor=
pub async fn comments(
    State(s): State<SharedState>,
    Path(id, _): Path<String, Native>,
    Query(p, _): Query<CommentParams, Native>,
    l: List,
) -> Answer {
    let sort = CommentSort::parse(p.sort.as_deref())?;
    let (limit, cursor) = l.page(50)?;
    let page = s.services.comments.list(&id, sort, limit, cursor).await?;
    Ok(l.answer::<_, views::Comment>(&s, "comments", &page, None))
}
