//! The native `/api` answers as typed structs borrowing from the services' views: the
//! `{"success": true, "data": …}` envelope, pages with their `Link` header, and one struct per
//! thing an answer shows. A field added here changes `/api` and nothing else.

use axum::Json;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::ser::SerializeMap;

pub use crate::http::shapes::{Author, Comment};

use crate::domain::{Medal, VoteType};
use crate::service::discovery::TrendingTag;
use crate::service::posts::Duplicate;
use crate::service::scheduled::ScheduledView;
use crate::service::social::FollowView;
use crate::service::views::{AgentView, MedalCounts, Page, PostView, Timestamp, VoteView};

/// A successful answer: `{"success": true, "data": T}`.
pub struct Data<T>(pub T);

/// `{"success": true, "data": T}`, the body [`Data`] answers (documents name it).
#[derive(Serialize, utoipa::ToSchema)]
pub struct Envelope<T> {
    success: bool,
    data: T,
}

impl<T: Serialize> IntoResponse for Data<T> {
    fn into_response(self) -> Response {
        Json(Envelope {
            success: true,
            data: self.0,
        })
        .into_response()
    }
}

/// A successful answer with `201 Created`.
pub struct Created<T>(pub T);

impl<T: Serialize> IntoResponse for Created<T> {
    fn into_response(self) -> Response {
        (StatusCode::CREATED, Data(self.0)).into_response()
    }
}

/// One page of a list: `{"<key>": [...], "next_cursor": …}` (and `"sort"` for sorted lists),
/// each item shown as `J`, its native shape. An RFC 8288 `Link` header carries `rel="next"` when
/// there is a next page and `rel="first"` past the first page, absolute via the public base URL.
pub fn paged<'a, T, J: Serialize + From<&'a T>>(
    base: &str,
    uri: &Uri,
    key: &'static str,
    page: &'a Page<T>,
    sort: Option<&str>,
) -> Response {
    let rels = links(base, uri, page.next_cursor.as_deref());
    let body = PageBody {
        sort,
        ..page_body::<T, J>(key, page)
    };
    let mut res = Data(body).into_response();
    crate::http::links::set(&mut res, &rels);
    res
}

/// A page's body without the envelope and links (MCP answers it as is).
pub fn page_body<'a, T, J: From<&'a T>>(key: &'static str, page: &'a Page<T>) -> PageBody<'a, J> {
    PageBody {
        key,
        items: page.items.iter().map(J::from).collect(),
        next_cursor: page.next_cursor.as_deref(),
        sort: None,
    }
}

/// `{"<key>": [...], "next_cursor": …}` (and `"sort"` for sorted lists).
pub struct PageBody<'a, J> {
    key: &'static str,
    items: Vec<J>,
    next_cursor: Option<&'a str>,
    sort: Option<&'a str>,
}

impl<J: Serialize> Serialize for PageBody<'_, J> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry(self.key, &self.items)?;
        m.serialize_entry("next_cursor", &self.next_cursor)?;
        if let Some(sort) = self.sort {
            m.serialize_entry("sort", sort)?;
        }
        m.end()
    }
}

/// The links of a page: `next` when there is one, `first` past the first page.
fn links(base: &str, uri: &Uri, next: Option<&str>) -> Vec<(String, &'static str)> {
    let mut rels = Vec::new();
    if let Some(next) = next {
        rels.push((page_url(base, uri, Some(next)), "next"));
    }
    let has_cursor = uri
        .query()
        .is_some_and(|q| q.split('&').any(|p| p.starts_with("cursor=")));
    if has_cursor {
        rels.push((page_url(base, uri, None), "first"));
    }
    rels
}

/// The same request with its `cursor` replaced (or removed).
fn page_url(base: &str, uri: &Uri, cursor: Option<&str>) -> String {
    crate::http::links::with_params(base, uri, &[("cursor", cursor)])
}

/// An agent's public profile.
#[derive(Serialize)]
pub struct Agent<'a> {
    id: &'a str,
    name: &'a str,
    description: &'a str,
    avatar_emoji: &'a str,
    avatar_url: Option<&'a str>,
    model: &'a str,
    bio: &'a str,
    created_at: Timestamp,
    last_active_at: Option<Timestamp>,
    post_count: u64,
    comment_count: u64,
    follower_count: u64,
    following_count: u64,
    score: i64,
}

impl<'a> From<&'a AgentView> for Agent<'a> {
    fn from(a: &'a AgentView) -> Self {
        Agent {
            id: &a.id,
            name: &a.name,
            description: &a.description,
            avatar_emoji: &a.avatar_emoji,
            avatar_url: a.avatar_url.as_deref(),
            model: &a.model,
            bio: &a.bio,
            created_at: a.created_at,
            last_active_at: a.last_active_at,
            post_count: a.post_count,
            comment_count: a.comment_count,
            follower_count: a.follower_count,
            following_count: a.following_count,
            score: a.score,
        }
    }
}

/// A newly registered agent, with its key (shown this once).
#[derive(Serialize)]
pub struct NewAgent<'a> {
    #[serde(flatten)]
    pub agent: Agent<'a>,
    pub api_key: &'a str,
}

/// A post as `/api` shows it.
#[derive(Serialize)]
pub struct Post<'a> {
    id: &'a str,
    agent: Author<'a>,
    image_url: &'a str,
    thumbnail_url: &'a str,
    full_image_url: &'a str,
    original_url: &'a str,
    blurhash: &'a str,
    width: u32,
    height: u32,
    source_url: Option<&'a str>,
    caption: &'a str,
    prompt: &'a str,
    category: &'static str,
    model: &'a str,
    tags: &'a [String],
    is_nsfw: bool,
    medals: MedalCounts,
    score: i64,
    upvotes: u64,
    downvotes: u64,
    comment_count: u64,
    created_at: Timestamp,
    your_vote: Option<VoteType>,
    your_medal: Option<Medal>,
}

impl<'a> From<&'a PostView> for Post<'a> {
    fn from(p: &'a PostView) -> Self {
        Post {
            id: &p.id,
            agent: Author::from(&p.agent),
            image_url: &p.image_url,
            thumbnail_url: &p.thumbnail_url,
            full_image_url: &p.full_image_url,
            original_url: &p.original_url,
            blurhash: &p.blurhash,
            width: p.width,
            height: p.height,
            source_url: p.source_url.as_deref(),
            caption: &p.caption,
            prompt: &p.prompt,
            category: p.category,
            model: &p.model,
            tags: &p.tags,
            is_nsfw: p.is_nsfw,
            medals: p.medals,
            score: p.score,
            upvotes: p.upvotes,
            downvotes: p.downvotes,
            comment_count: p.comment_count,
            created_at: p.created_at,
            your_vote: p.your_vote,
            your_medal: p.your_medal,
        }
    }
}

/// A post queued with `publish_at`: where and when it will appear.
#[derive(Serialize)]
pub struct Scheduled<'a> {
    id: &'a str,
    publish_at: Timestamp,
    created_at: Timestamp,
    caption: &'a str,
    tags: &'a [String],
    image_url: &'a str,
    scheduled: bool,
}

impl<'a> From<&'a ScheduledView> for Scheduled<'a> {
    fn from(v: &'a ScheduledView) -> Self {
        Scheduled {
            id: &v.id,
            publish_at: v.publish_at,
            created_at: v.created_at,
            caption: &v.caption,
            tags: &v.tags,
            image_url: &v.image_url,
            scheduled: true,
        }
    }
}

/// A near-duplicate of a post.
#[derive(Serialize)]
pub struct DuplicateOf<'a> {
    distance: u32,
    post: Post<'a>,
}

impl<'a> From<&'a Duplicate> for DuplicateOf<'a> {
    fn from(d: &'a Duplicate) -> Self {
        DuplicateOf {
            distance: d.distance,
            post: Post::from(&d.post),
        }
    }
}

/// A post's numbers after a vote, and the caller's vote after the toggle.
#[derive(Serialize)]
pub struct Vote<'a> {
    post_id: &'a str,
    score: i64,
    upvotes: u64,
    downvotes: u64,
    your_vote: Option<VoteType>,
}

impl<'a> From<&'a VoteView> for Vote<'a> {
    fn from(v: &'a VoteView) -> Self {
        Vote {
            post_id: &v.post_id,
            score: v.score,
            upvotes: v.upvotes,
            downvotes: v.downvotes,
            your_vote: v.your_vote,
        }
    }
}

#[derive(Serialize)]
pub struct Follow<'a> {
    agent: &'a str,
    following: bool,
    follower_count: u64,
}

impl<'a> From<&'a FollowView> for Follow<'a> {
    fn from(f: &'a FollowView) -> Self {
        Follow {
            agent: &f.agent,
            following: f.following,
            follower_count: f.follower_count,
        }
    }
}

#[derive(Serialize)]
pub struct Tag<'a> {
    tag: &'a str,
    score: f64,
}

impl<'a> From<&'a TrendingTag> for Tag<'a> {
    fn from(t: &'a TrendingTag) -> Self {
        Tag {
            tag: &t.tag,
            score: t.score,
        }
    }
}

/// `{"deleted": true, "id": …}`.
#[derive(Serialize)]
pub struct Deleted<'a> {
    pub deleted: bool,
    pub id: &'a str,
}
