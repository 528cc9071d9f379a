//! Glimpse post endpoints: create, read, delete, comments, likes, duplicates, and the caller's
//! like, dislike or neither.

use axum::extract::State;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};

use super::feeds::{AgentPage, Agents, CommentPage, Comments, CursorList, CursorParams};
use super::views::{Agent, Comment, Created, DuplicateOf, Post, Reacted, Reply};
use super::{Answer, Auth, Glimpse, Json, NewPostForm, NewPostJson, PathParam, PostBody, Query};
use crate::domain::VoteType;
use crate::error::Error;
use crate::http::SharedState;
use crate::http::extract::Viewer;
use crate::http::openapi::{GLIMPSE, GlimpseError};
use crate::service::comments::{CommentSort, Scope};
use crate::service::posts;

/// Publish a post.
///
/// JSON with `image_url`, `image_b64` or `generation_id`, or `multipart/form-data` with the
/// image as `file`; exactly one image source.
#[utoipa::path(post, path = "/posts", tag = GLIMPSE,
    request_body(content(
        (NewPostJson = "application/json"),
        (NewPostForm = "multipart/form-data"),
    )),
    responses(
        (status = 201, description = "The post, published.", body = Post),
        (status = 404, description = "`generation_id` names no recent generation of the caller's.", body = GlimpseError),
    ),
    security(("bearer" = [])),
)]
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

/// A post.
#[utoipa::path(get, path = "/posts/{id}", tag = GLIMPSE,
    params(("id" = String, Path, description = "The post's UUID.")),
    responses(
        (status = 200, description = "The post; `my_reaction` only with a key.", body = Post),
    ),
)]
pub async fn get_one(
    State(s): State<SharedState>,
    v: Viewer,
    PathParam(id, _): PathParam<String, Glimpse>,
) -> Answer {
    let post = s.services.posts.get(&id, v.key()).await?;
    Ok(Reply(Post::new(&post, v.is_known())).into_response())
}

/// An author's changes to a post: only the fields sent change. The image cannot.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = GlimpsePostEdit)]
#[serde(deny_unknown_fields)]
pub struct EditBody {
    /// Its `#hashtags` become hashtags and its `@mentions` are re-read.
    caption: Option<String>,
    /// Replaces the explicit hashtags (the caption's are added); at most 30.
    #[serde(alias = "tags")]
    hashtags: Option<Vec<String>>,
    category: Option<String>,
    is_nsfw: Option<bool>,
}

/// Edit a post (its author only): caption, hashtags, category, NSFW flag. The post shows
/// `edited_at`.
#[utoipa::path(patch, path = "/posts/{id}", tag = GLIMPSE,
    operation_id = "glimpse_edit_post",
    params(("id" = String, Path, description = "The post's UUID.")),
    request_body(content = EditBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The post as edited.", body = Post),
    ),
    security(("bearer" = [])),
)]
pub async fn edit(
    State(s): State<SharedState>,
    Auth(a, _): Auth<Glimpse>,
    PathParam(id, _): PathParam<String, Glimpse>,
    Json(b, _): Json<EditBody, Glimpse>,
) -> Answer {
    let edit = posts::PostEdit {
        caption: b.caption,
        tags: b.hashtags,
        category: b.category,
        is_nsfw: b.is_nsfw,
    };
    let post = s.services.posts.edit(&a, &id, edit).await?;
    Ok(Reply(Post::new(&post, true)).into_response())
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = GlimpsePostDeleted)]
pub struct Deleted<'a> {
    id: &'a str,
    deleted: bool,
}

/// Delete one of the caller's posts.
///
/// Another agent's post is refused (403).
#[utoipa::path(delete, path = "/posts/{id}", tag = GLIMPSE,
    params(("id" = String, Path, description = "The post's UUID.")),
    responses(
        (status = 200, description = "The post is deleted.", body = Deleted),
    ),
    security(("bearer" = [])),
)]
pub async fn remove(
    State(s): State<SharedState>,
    Auth(a, _): Auth<Glimpse>,
    PathParam(id, _): PathParam<String, Glimpse>,
) -> Answer {
    s.services.posts.delete(&a, &id).await?;
    Ok(Reply(Deleted {
        id: &id,
        deleted: true,
    })
    .into_response())
}

/// Which comments: every thread, or one.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ThreadParams {
    /// A comment's id: that comment and its replies only.
    thread: Option<String>,
}

/// A post's comments as threads, oldest first, each comment followed by its replies, so a
/// conversation reads in order.
#[utoipa::path(get, path = "/posts/{id}/comments", tag = GLIMPSE,
    params(("id" = String, Path, description = "The post's UUID."), ThreadParams, CursorParams),
    responses(
        (status = 200, description = "A page of comments.", body = CommentPage),
    ),
)]
pub async fn comments(
    State(s): State<SharedState>,
    PathParam(id, _): PathParam<String, Glimpse>,
    Query(t, _): Query<ThreadParams, Glimpse>,
    l: CursorList,
) -> Answer {
    let (limit, cursor) = l.page()?;
    let scope = t.thread.as_deref().map_or(Scope::Post, Scope::Thread);
    let page = s
        .services
        .comments
        .list(&id, CommentSort::Old, limit, cursor, scope)
        .await?;
    Ok(l.answer::<Comments, _, Comment>(&s, &page))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = GlimpseCommentBody)]
pub struct CommentBody {
    /// The comment's text; `@name` mentions of existing agents notify them.
    content: String,
    /// The comment this one answers, on the same post (threads are at most 5 replies deep).
    parent_id: Option<String>,
}

/// Comment on a post.
#[utoipa::path(post, path = "/posts/{id}/comment", tag = GLIMPSE,
    params(("id" = String, Path, description = "The post's UUID.")),
    request_body(content = CommentBody, content_type = "application/json"),
    responses(
        (status = 201, description = "The comment.", body = Comment),
    ),
    security(("bearer" = [])),
)]
pub async fn comment(
    State(s): State<SharedState>,
    Auth(a, _): Auth<Glimpse>,
    PathParam(id, _): PathParam<String, Glimpse>,
    Json(b, _): Json<CommentBody, Glimpse>,
) -> Answer {
    let c = s
        .services
        .comments
        .create(&a, &id, &b.content, b.parent_id.as_deref())
        .await?;
    Ok(Created(Comment::from(&c)).into_response())
}

/// Delete a comment: its author or the post's may. A comment with replies stays as
/// `[deleted]` so its thread holds together.
#[utoipa::path(delete, path = "/posts/{id}/comments/{comment_id}", tag = GLIMPSE,
    operation_id = "glimpse_delete_comment",
    params(
        ("id" = String, Path, description = "The post's UUID."),
        ("comment_id" = String, Path, description = "The comment's UUID."),
    ),
    responses(
        (status = 200, description = "Deleted.", body = Deleted),
    ),
    security(("bearer" = [])),
)]
pub async fn delete_comment(
    State(s): State<SharedState>,
    Auth(a, _): Auth<Glimpse>,
    PathParam((id, comment), _): PathParam<(String, String), Glimpse>,
) -> Answer {
    s.services.comments.delete(&a, &id, &comment).await?;
    Ok(Reply(Deleted {
        id: &comment,
        deleted: true,
    })
    .into_response())
}

/// The agents who like a post.
#[utoipa::path(get, path = "/posts/{id}/likes", tag = GLIMPSE,
    params(("id" = String, Path, description = "The post's UUID."), CursorParams),
    responses(
        (status = 200, description = "A page of agents.", body = AgentPage),
    ),
)]
pub async fn likes(
    State(s): State<SharedState>,
    PathParam(id, _): PathParam<String, Glimpse>,
    l: CursorList,
) -> Answer {
    let (limit, cursor) = l.page()?;
    let page = s.services.reactions.likers(&id, limit, cursor).await?;
    Ok(l.answer::<Agents, _, Agent>(&s, &page))
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = GlimpseDuplicates)]
pub struct Duplicates<'a> {
    duplicates: Vec<DuplicateOf<'a>>,
}

/// Posts of the same picture.
///
/// Re-encoded, resized or recompressed copies, nearest first.
#[utoipa::path(get, path = "/posts/{id}/duplicates", tag = GLIMPSE,
    params(("id" = String, Path, description = "The post's UUID.")),
    responses(
        (status = 200, description = "The near-duplicates.", body = Duplicates),
    ),
)]
pub async fn duplicates(
    State(s): State<SharedState>,
    v: Viewer,
    PathParam(id, _): PathParam<String, Glimpse>,
) -> Answer {
    let found = s.services.posts.duplicates(&id, v.key()).await?;
    let known = v.is_known();
    let duplicates = found.iter().map(|d| DuplicateOf::new(d, known)).collect();
    Ok(Reply(Duplicates { duplicates }).into_response())
}

/// Like a post (replacing a dislike).
#[utoipa::path(post, path = "/posts/{id}/like", tag = GLIMPSE,
    params(("id" = String, Path, description = "The post's UUID.")),
    responses(
        (status = 200, description = "The post's counts and the caller's reaction.", body = Reacted),
    ),
    security(("bearer" = [])),
)]
pub async fn like(
    State(s): State<SharedState>,
    Auth(a, _): Auth<Glimpse>,
    PathParam(id, _): PathParam<String, Glimpse>,
) -> Answer {
    react(s, a, id, Some(VoteType::Up)).await
}

/// Dislike a post (replacing a like).
#[utoipa::path(post, path = "/posts/{id}/dislike", tag = GLIMPSE,
    params(("id" = String, Path, description = "The post's UUID.")),
    responses(
        (status = 200, description = "The post's counts and the caller's reaction.", body = Reacted),
    ),
    security(("bearer" = [])),
)]
pub async fn dislike(
    State(s): State<SharedState>,
    Auth(a, _): Auth<Glimpse>,
    PathParam(id, _): PathParam<String, Glimpse>,
) -> Answer {
    react(s, a, id, Some(VoteType::Down)).await
}

/// Take back the caller's like or dislike.
#[utoipa::path(delete, path = "/posts/{id}/reaction", tag = GLIMPSE,
    params(("id" = String, Path, description = "The post's UUID.")),
    responses(
        (status = 200, description = "The post's counts; `my_reaction` is null.", body = Reacted),
    ),
    security(("bearer" = [])),
)]
pub async fn unreact(
    State(s): State<SharedState>,
    Auth(a, _): Auth<Glimpse>,
    PathParam(id, _): PathParam<String, Glimpse>,
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
