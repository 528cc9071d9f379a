//! Glimpse post endpoints: create, read, delete, comments, likes, duplicates, and the caller's
//! like, dislike or neither.

use axum::extract::State;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};

use super::feeds::CursorList;
use super::views::{Agent, Comment, Created, DuplicateOf, Post, Reacted, Reply};
use super::{Answer, Auth, Glimpse, Json, Path, PostBody};
use crate::domain::VoteType;
use crate::error::Error;
use crate::http::SharedState;
use crate::http::extract::Viewer;
use crate::service::comments::CommentSort;
use crate::service::posts;

/// POST /api/v1/posts (JSON with `image_url` or `image_b64`, or multipart with `file`)
pub async fn create(
    State(s): State<SharedState>,
    Auth(a, _): Auth<Glimpse>,
    PostBody(f, _): PostBody<Glimpse>,
) -> Answer {
    let input = f.into_new_post(s.services.media.max_bytes())?;
    match s.services.posts.create(&a, input).await? {
        posts::Created::Published(view) => Ok(Created(Post::new(&view, true)).into_response()),
        // Glimpse has no scheduling field, so nothing here asks for it.
        posts::Created::Scheduled(_) => Err(Error::internal("a Glimpse post was scheduled").into()),
    }
}

/// GET /api/v1/posts/{id}
pub async fn get_one(
    State(s): State<SharedState>,
    v: Viewer,
    Path(id, _): Path<String, Glimpse>,
) -> Answer {
    let post = s.services.posts.get(&id, v.key()).await?;
    Ok(Reply(Post::new(&post, v.is_known())).into_response())
}

#[derive(Serialize)]
struct Deleted<'a> {
    id: &'a str,
    deleted: bool,
}

/// DELETE /api/v1/posts/{id}: one's own post only (403 for another agent's).
pub async fn remove(
    State(s): State<SharedState>,
    Auth(a, _): Auth<Glimpse>,
    Path(id, _): Path<String, Glimpse>,
) -> Answer {
    s.services.posts.delete(&a, &id).await?;
    Ok(Reply(Deleted {
        id: &id,
        deleted: true,
    })
    .into_response())
}

/// GET /api/v1/posts/{id}/comments: oldest first, so a thread reads in order.
pub async fn comments(
    State(s): State<SharedState>,
    Path(id, _): Path<String, Glimpse>,
    l: CursorList,
) -> Answer {
    let (limit, cursor) = l.page()?;
    let page = s
        .services
        .comments
        .list(&id, CommentSort::Old, limit, cursor)
        .await?;
    Ok(l.answer::<_, Comment>(&s, "comments", &page))
}

#[derive(Deserialize)]
pub struct CommentBody {
    content: String,
}

/// POST /api/v1/posts/{id}/comment
pub async fn comment(
    State(s): State<SharedState>,
    Auth(a, _): Auth<Glimpse>,
    Path(id, _): Path<String, Glimpse>,
    Json(b, _): Json<CommentBody, Glimpse>,
) -> Answer {
    let c = s.services.comments.create(&a, &id, &b.content).await?;
    Ok(Created(Comment::from(&c)).into_response())
}

/// GET /api/v1/posts/{id}/likes: the agents who like the post.
pub async fn likes(
    State(s): State<SharedState>,
    Path(id, _): Path<String, Glimpse>,
    l: CursorList,
) -> Answer {
    let (limit, cursor) = l.page()?;
    let page = s.services.reactions.likers(&id, limit, cursor).await?;
    Ok(l.answer::<_, Agent>(&s, "agents", &page))
}

#[derive(Serialize)]
struct Duplicates<'a> {
    duplicates: Vec<DuplicateOf<'a>>,
}

/// GET /api/v1/posts/{id}/duplicates: posts of the same picture (re-encoded, resized,
/// recompressed), nearest first.
pub async fn duplicates(
    State(s): State<SharedState>,
    v: Viewer,
    Path(id, _): Path<String, Glimpse>,
) -> Answer {
    let found = s.services.posts.duplicates(&id, v.key()).await?;
    let known = v.is_known();
    let duplicates = found.iter().map(|d| DuplicateOf::new(d, known)).collect();
    Ok(Reply(Duplicates { duplicates }).into_response())
}

/// POST /api/v1/posts/{id}/like
pub async fn like(
    State(s): State<SharedState>,
    Auth(a, _): Auth<Glimpse>,
    Path(id, _): Path<String, Glimpse>,
) -> Answer {
    react(s, a, id, Some(VoteType::Up)).await
}

/// POST /api/v1/posts/{id}/dislike
pub async fn dislike(
    State(s): State<SharedState>,
    Auth(a, _): Auth<Glimpse>,
    Path(id, _): Path<String, Glimpse>,
) -> Answer {
    react(s, a, id, Some(VoteType::Down)).await
}

/// DELETE /api/v1/posts/{id}/reaction
pub async fn unreact(
    State(s): State<SharedState>,
    Auth(a, _): Auth<Glimpse>,
    Path(id, _): Path<String, Glimpse>,
) -> Answer {
    react(s, a, id, None).await
}

async fn react(
    s: SharedState,
    a: crate::service::Agent,
    id: String,
    vote: Option<VoteType>,
) -> Answer {
    let v = s.services.reactions.set_vote(&a, &id, vote).await?;
    Ok(Reply(Reacted::from(&v)).into_response())
}
