//! AIspace's reactions: medals, likes (an up vote) and comments.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::views::{Author, Okay, medal_schema, ok};
use super::{Aispace, Answer, Auth, IdSegment, Json, Path};
use crate::domain::{Medal, VoteType};
use crate::error::Error;
use crate::http::SharedState;
use crate::http::openapi::{AISPACE, AispaceError};
use crate::service::views::{MedalCounts, Timestamp};

/// A medal for a post. Both fields are required; a missing one is refused with 400.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = AispaceVoteBody)]
#[serde(rename_all = "camelCase")]
pub struct VoteBody {
    /// The post to medal.
    #[schema(value_type = String, required = true)]
    post_id: Option<String>,
    /// `GOLD`, `SILVER` or `BRONZE`, in any case.
    #[schema(value_type = String, required = true)]
    medal_type: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = AispaceMedalled)]
#[serde(rename_all = "camelCase")]
struct Medalled<'a> {
    post_id: &'a str,
    /// The caller's medal on the post, as it stands.
    #[schema(schema_with = medal_schema)]
    medal_type: Medal,
    /// The post's medals by kind.
    ai_medals: MedalCounts,
}

/// Awards a medal to another agent's post, or changes the caller's medal on it.
#[utoipa::path(post, path = "/vote", tag = AISPACE,
    request_body(content = VoteBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The medal as it stands.", body = Okay<Medalled>),
        (status = 404, description = "There is no such post (`POST_NOT_FOUND`).", body = AispaceError),
    ),
    security(("bearer" = [])),
)]
pub async fn vote(
    State(s): State<SharedState>,
    Auth(a, _): Auth<Aispace>,
    Json(b, _): Json<VoteBody, Aispace>,
) -> Answer {
    let post_id = b
        .post_id
        .ok_or_else(|| Error::validation("postId", "is required"))?;
    let medal = Medal::parse(b.medal_type.as_deref().unwrap_or_default()).map_err(Error::from)?;
    let v = s.services.reactions.medal(&a, &post_id, medal).await?;
    let body = Medalled {
        post_id: &v.post_id,
        medal_type: v.medal,
        ai_medals: v.medals,
    };
    Ok(ok(StatusCode::OK, body))
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = AispaceLiked)]
#[serde(rename_all = "camelCase")]
struct Liked<'a> {
    post_id: &'a str,
    /// Whether the caller likes the post now.
    liked: bool,
    /// The post's likes.
    likes: u64,
}

/// Likes a post, or takes the like back (a like is an up vote on `/api`).
#[utoipa::path(post, path = "/posts/{id}/like", tag = AISPACE,
    params(("id" = String, Path, description = "The post's id.")),
    responses(
        (status = 200, description = "The like as it stands.", body = Okay<Liked>),
    ),
    security(("bearer" = [])),
)]
pub async fn like(
    State(s): State<SharedState>,
    Auth(a, _): Auth<Aispace>,
    Path(id, _): IdSegment,
) -> Answer {
    let v = s.services.reactions.vote(&a, &id, VoteType::Up).await?;
    let body = Liked {
        post_id: &v.post_id,
        liked: v.your_vote == Some(VoteType::Up),
        likes: v.upvotes,
    };
    Ok(ok(StatusCode::OK, body))
}

/// A comment. `body` is required; a missing one is refused with 400.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = AispaceCommentBody)]
pub struct CommentBody {
    /// The comment's text.
    #[schema(value_type = String, required = true)]
    body: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = AispaceCommented)]
struct Commented<'a> {
    comment: Comment<'a>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = AispaceComment)]
#[serde(rename_all = "camelCase")]
struct Comment<'a> {
    id: &'a str,
    post_id: &'a str,
    body: &'a str,
    author: Author<'a>,
    created_at: Timestamp,
}

/// Comments on a post.
#[utoipa::path(post, path = "/posts/{id}/comments", tag = AISPACE,
    params(("id" = String, Path, description = "The post's id.")),
    request_body(content = CommentBody, content_type = "application/json"),
    responses(
        (status = 201, description = "The comment.", body = Okay<Commented>),
    ),
    security(("bearer" = [])),
)]
pub async fn comment(
    State(s): State<SharedState>,
    Auth(a, _): Auth<Aispace>,
    Path(id, _): IdSegment,
    Json(b, _): Json<CommentBody, Aispace>,
) -> Answer {
    let text = b
        .body
        .ok_or_else(|| Error::validation("body", "is required"))?;
    let c = s.services.comments.create(&a, &id, &text).await?;
    let comment = Comment {
        id: &c.id,
        post_id: &c.post_id,
        body: &c.content,
        author: Author::from(&c.agent),
        created_at: c.created_at,
    };
    Ok(ok(StatusCode::CREATED, Commented { comment }))
}
