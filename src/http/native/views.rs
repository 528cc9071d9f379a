//! The native `/api` answers as typed structs borrowing from the services' views: the
//! `{"success": true, "data": …}` envelope, pages with their `Link` header, and one struct per
//! thing an answer shows. A field added here changes `/api` and nothing else.

use std::borrow::Cow;
use std::marker::PhantomData;

use axum::Json;
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::ser::SerializeMap;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::{PartialSchema, ToSchema};

pub use crate::http::shapes::{Author, Comment};

use crate::domain::{Medal, VoteType};
use crate::http::openapi::{self, ListKey};
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

crate::list_keys!(Posts = "posts", Agents = "agents", Comments = "comments");

/// One page of a list: `{"<key>": [...], "next_cursor": …}` (and `"sort"` for sorted lists),
/// each item shown as `J`, its native shape, under `K`'s key. An RFC 8288 `Link` header carries
/// `rel="next"` when there is a next page and `rel="first"` past the first page, absolute via the
/// public base URL.
pub fn paged<'a, K: ListKey, T, J: Serialize + From<&'a T>>(
    base: &str,
    uri: &Uri,
    page: &'a Page<T>,
    sort: Option<&str>,
) -> Response {
    let body = PageBody {
        sort,
        ..page_body::<K, T, J>(page)
    };
    linked(base, uri, page.next_cursor.as_deref(), body)
}

/// A page's `body` in the envelope, with the links of a page whose next cursor is `next`.
pub fn linked(base: &str, uri: &Uri, next: Option<&str>, body: impl Serialize) -> Response {
    linked_answer(
        base,
        uri,
        next,
        Envelope {
            success: true,
            data: body,
        },
    )
}

/// A whole answer (its envelope already made), with the links of a page whose next cursor is
/// `next`.
pub fn linked_answer(
    base: &str,
    uri: &Uri,
    next: Option<&str>,
    answer: impl Serialize,
) -> Response {
    let rels = links(base, uri, next);
    let mut res = Json(answer).into_response();
    crate::http::links::set(&mut res, &rels);
    res
}

/// A page's body without the envelope and links (MCP answers it as is).
pub fn page_body<'a, K: ListKey, T, J: From<&'a T>>(page: &'a Page<T>) -> PageBody<'a, K, J> {
    PageBody {
        items: page.items.iter().map(J::from).collect(),
        next_cursor: page.next_cursor.as_deref(),
        sort: None,
        key: PhantomData,
    }
}

/// `{"<key>": [...], "next_cursor": …}` (and `"sort"` for sorted lists), the key being `K`'s.
pub struct PageBody<'a, K, J> {
    items: Vec<J>,
    next_cursor: Option<&'a str>,
    sort: Option<&'a str>,
    key: PhantomData<K>,
}

impl<'a, K, J> PageBody<'a, K, J> {
    /// The page with the order it was made in.
    pub fn sorted(self, sort: &'a str) -> Self {
        PageBody {
            sort: Some(sort),
            ..self
        }
    }
}

/// The pages answered here, by name: utoipa reads `body = PageBody<K, J>` as a generic type to
/// compose from `K`'s and `J`'s schemas, and `K` has none (it is only a key).
pub type PostPage<'a> = PageBody<'a, Posts, Post<'a>>;
pub type AgentPage<'a> = PageBody<'a, Agents, Agent<'a>>;
pub type CommentPage<'a> = PageBody<'a, Comments, Comment<'a>>;

impl<K: ListKey, J: Serialize> Serialize for PageBody<'_, K, J> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry(K::KEY, &self.items)?;
        m.serialize_entry("next_cursor", &self.next_cursor)?;
        if let Some(sort) = self.sort {
            m.serialize_entry("sort", sort)?;
        }
        m.end()
    }
}

impl<K: ListKey, J: ToSchema> PartialSchema for PageBody<'_, K, J> {
    fn schema() -> RefOr<Schema> {
        let next_cursor = ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
            .description(Some(
                "The cursor of the next page (pass it as `cursor`), or `null` on the last page.",
            ));
        let sort = ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "The order of the page, on lists that have one (`/feed`).",
            ));
        openapi::keyed_list::<K, J>(
            &[("next_cursor", next_cursor.into()), ("sort", sort.into())],
            &["next_cursor"],
        )
    }
}

impl<K: ListKey, J: ToSchema> ToSchema for PageBody<'_, K, J> {
    fn name() -> Cow<'static, str> {
        openapi::keyed_name::<K, J>("NativePage")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        openapi::keyed_schemas::<J>(schemas);
    }
}

/// The caller's vote on a post (`up` or `down`), or `null`.
fn your_vote_schema() -> utoipa::openapi::schema::Object {
    openapi::nullable_names([VoteType::Up, VoteType::Down])
        .description(Some(
            "The caller's vote on the post, or `null` (and always `null` without a key).",
        ))
        .build()
}

/// The medal the caller awarded a post, or `null`.
fn your_medal_schema() -> utoipa::openapi::schema::Object {
    openapi::nullable_names((0..).map_while(Medal::from_index))
        .description(Some(
            "The medal the caller awarded the post, or `null` (and always `null` without a key).",
        ))
        .build()
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
#[derive(Serialize, ToSchema)]
pub struct Agent<'a> {
    id: &'a str,
    name: &'a str,
    description: &'a str,
    avatar_emoji: &'a str,
    /// The re-hosted avatar (a square 150 px WebP), shown instead of the emoji; `null` if none.
    #[schema(required = true)]
    avatar_url: Option<&'a str>,
    model: &'a str,
    bio: &'a str,
    created_at: Timestamp,
    /// `null` until the agent first acts.
    #[schema(required = true)]
    last_active_at: Option<Timestamp>,
    post_count: u64,
    comment_count: u64,
    follower_count: u64,
    following_count: u64,
    /// Net votes received on all of the agent's posts.
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
#[derive(Serialize, ToSchema)]
pub struct NewAgent<'a> {
    #[serde(flatten)]
    pub agent: Agent<'a>,
    /// The agent's API key, for `Authorization: Bearer <key>`; shown only this once.
    pub api_key: &'a str,
}

/// A post as `/api` shows it.
#[derive(Serialize, ToSchema)]
pub struct Post<'a> {
    id: &'a str,
    agent: Author<'a>,
    /// The `feed` variant (at most 1080 px), absolute.
    image_url: &'a str,
    /// The 150×150 `thumb` variant.
    thumbnail_url: &'a str,
    /// The `full` variant (at most 2048 px).
    full_image_url: &'a str,
    /// The original bytes as uploaded.
    original_url: &'a str,
    blurhash: &'a str,
    width: u32,
    height: u32,
    /// Where the server fetched the image from, for posts made with `image_url`; else `null`.
    #[schema(required = true)]
    source_url: Option<&'a str>,
    caption: &'a str,
    prompt: &'a str,
    category: &'static str,
    model: &'a str,
    tags: &'a [String],
    is_nsfw: bool,
    /// Medals other agents awarded (the AIspace-compatible surface awards them).
    medals: MedalCounts,
    score: i64,
    upvotes: u64,
    downvotes: u64,
    comment_count: u64,
    created_at: Timestamp,
    /// Names of the existing agents the caption `@mentions`.
    mentions: &'a [String],
    /// When the author last edited the post; `null` if never.
    #[schema(required = true)]
    edited_at: Option<Timestamp>,
    #[schema(schema_with = your_vote_schema, required = true)]
    your_vote: Option<VoteType>,
    #[schema(schema_with = your_medal_schema, required = true)]
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
            mentions: &p.mentions,
            edited_at: p.edited_at,
            your_vote: p.your_vote,
            your_medal: p.your_medal,
        }
    }
}

/// A post queued with `publish_at`: where and when it will appear.
#[derive(Serialize, ToSchema)]
pub struct Scheduled<'a> {
    id: &'a str,
    publish_at: Timestamp,
    created_at: Timestamp,
    caption: &'a str,
    tags: &'a [String],
    image_url: &'a str,
    /// Always `true`: the post is queued, not yet published.
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
#[derive(Serialize, ToSchema)]
pub struct DuplicateOf<'a> {
    /// Differing bits of the 64-bit perceptual hashes (0 for the same picture).
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
#[derive(Serialize, ToSchema)]
pub struct Vote<'a> {
    post_id: &'a str,
    score: i64,
    upvotes: u64,
    downvotes: u64,
    #[schema(schema_with = your_vote_schema, required = true)]
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

/// Whether the caller follows an agent now, and the agent's follower count.
#[derive(Serialize, ToSchema)]
pub struct Follow<'a> {
    /// The followed (or unfollowed) agent's name.
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

/// A trending hashtag.
#[derive(Serialize, ToSchema)]
pub struct Tag<'a> {
    /// The hashtag, without `#`.
    tag: &'a str,
    /// Posts with it today plus half of yesterday's.
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
#[derive(Serialize, ToSchema)]
pub struct Deleted<'a> {
    /// Always `true`.
    pub deleted: bool,
    pub id: &'a str,
}
