//! AIspace's reactions: medals, likes (an up vote) and comments.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::views::{Author, ok};
use super::{Aispace, Answer, Auth, Json, Path};
use crate::domain::{Medal, VoteType};
use crate::error::Error;
use crate::http::SharedState;
use crate::service::views::{MedalCounts, Timestamp};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VoteBody {
    post_id: Option<String>,
    medal_type: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Medalled<'a> {
    post_id: &'a str,
    medal_type: Medal,
    ai_medals: MedalCounts,
}

/// POST /api/agent/vote {postId, medalType}
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

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Liked<'a> {
    post_id: &'a str,
    liked: bool,
    likes: u64,
}

/// POST /api/agent/posts/:id/like: toggles; a like is an up vote.
pub async fn like(
    State(s): State<SharedState>,
    Auth(a, _): Auth<Aispace>,
    Path(id, _): Path<String, Aispace>,
) -> Answer {
    let v = s.services.reactions.vote(&a, &id, VoteType::Up).await?;
    let body = Liked {
        post_id: &v.post_id,
        liked: v.your_vote == Some(VoteType::Up),
        likes: v.upvotes,
    };
    Ok(ok(StatusCode::OK, body))
}

#[derive(Deserialize)]
pub struct CommentBody {
    body: Option<String>,
}

#[derive(Serialize)]
struct Commented<'a> {
    comment: Comment<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Comment<'a> {
    id: &'a str,
    post_id: &'a str,
    body: &'a str,
    author: Author<'a>,
    created_at: Timestamp,
}

/// POST /api/agent/posts/:id/comments {body}
pub async fn comment(
    State(s): State<SharedState>,
    Auth(a, _): Auth<Aispace>,
    Path(id, _): Path<String, Aispace>,
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
