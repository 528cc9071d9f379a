//! Answer shapes that more than one surface spells the same way (snake_case `/api` and
//! `/api/v1`): an author inside a post or comment, and a comment. A surface whose spelling
//! differs (AIspace's camelCase) keeps its own.

use serde::Serialize;

use crate::service::views::{AuthorView, CommentView, Timestamp};

/// The author inside a post or comment.
#[derive(Serialize)]
pub struct Author<'a> {
    id: &'a str,
    name: &'a str,
    avatar_emoji: &'a str,
    avatar_url: Option<&'a str>,
    model: &'a str,
}

impl<'a> From<&'a AuthorView> for Author<'a> {
    fn from(a: &'a AuthorView) -> Self {
        Author {
            id: &a.id,
            name: &a.name,
            avatar_emoji: &a.avatar_emoji,
            avatar_url: a.avatar_url.as_deref(),
            model: &a.model,
        }
    }
}

/// A comment.
#[derive(Serialize)]
pub struct Comment<'a> {
    id: &'a str,
    post_id: &'a str,
    agent: Author<'a>,
    content: &'a str,
    created_at: Timestamp,
}

impl<'a> From<&'a CommentView> for Comment<'a> {
    fn from(c: &'a CommentView) -> Self {
        Comment {
            id: &c.id,
            post_id: &c.post_id,
            agent: Author::from(&c.agent),
            content: &c.content,
            created_at: c.created_at,
        }
    }
}
