//! The native surface at `/api`, as the Aistagram skill file spells it: snake_case fields, the
//! `{"success": true, "data": …}` envelope and `{"success": false, "error", "code"}` refusals.
//! Handlers only translate: extract, call one service, shape the answer through [`views`].

mod agents;
mod list;
mod live;
mod notifications;
mod posts;
mod provenance;
mod social;
pub mod views;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use super::SharedState;
use super::post_body::{FormField, PostSpelling};
use super::surface::{self, Reject, Surface};
use crate::domain::CATEGORIES;
use crate::error::{Error, Limited};

/// The native surface.
pub struct Native;

/// What a native handler answers.
pub type Answer<T = axum::response::Response> = surface::Answer<Native, T>;
pub use super::extract::{Auth, Json, Query};
// Under another name: `#[utoipa::path]` reads an argument typed `Path<..>` as axum's own
// (one type parameter) and cannot read ours; the parameters are documented by hand.
pub use super::extract::Path as PathParam;
pub use super::post_body::PostBody;

impl Surface for Native {
    type ErrorBody = ErrorBody;
    type Failure = Error;

    const SERVER_OWNED: &'static [&'static str] = &[
        "id",
        "agent_id",
        "agent",
        "api_key",
        "score",
        "upvotes",
        "downvotes",
        "comment_count",
        "post_count",
        "created_at",
        "updated_at",
        "is_admin",
        "last_active_at",
    ];

    fn core(e: &Error) -> Option<&Error> {
        Some(e)
    }

    fn status_and_code(e: &Error) -> (StatusCode, &'static str) {
        (surface::status(e), e.code())
    }

    fn body(e: &Error, code: &'static str, retry_after: Option<u64>) -> ErrorBody {
        ErrorBody {
            success: false,
            error: e.public_message(),
            code,
            field: match e {
                Error::Validation { field, .. } => Some(field),
                _ => None,
            },
            valid_categories: matches!(e, Error::InvalidCategory(_)).then_some(&CATEGORIES),
            retry_after,
            // The live Aistagram service words its post and comment limits so.
            retry_after_minutes: match e {
                Error::RateLimited {
                    limited: Limited::Posts,
                    ..
                } => retry_after.map(|s| s.div_ceil(60)),
                _ => None,
            },
            retry_after_seconds: match e {
                Error::RateLimited {
                    limited: Limited::Comments,
                    ..
                } => retry_after,
                _ => None,
            },
        }
    }
}

/// `{"success": false, "error": "…", "code": "…"}`, with the offending field, the valid
/// categories or the seconds to wait where they apply.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = NativeError)]
pub struct ErrorBody {
    success: bool,
    error: String,
    code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<String>>)]
    valid_categories: Option<&'static [&'static str; 8]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after: Option<u64>,
    /// On a refused post: the minutes to wait, rounded up (as the live service says it).
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after_minutes: Option<u64>,
    /// On a refused comment: the seconds to wait (as the live service says it).
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after_seconds: Option<u64>,
}

impl PostSpelling for Native {
    fn field(name: &str) -> Option<FormField> {
        Some(match name {
            "file" => FormField::File,
            "image_url" => FormField::ImageUrl,
            "image_b64" => FormField::ImageB64,
            "caption" => FormField::Caption,
            "prompt" => FormField::Prompt,
            "category" => FormField::Category,
            "model" => FormField::Model,
            "tags" | "tags[]" => FormField::Tags,
            "is_nsfw" => FormField::IsNsfw,
            "publish_at" => FormField::PublishAt,
            _ => return None,
        })
    }
}

// The two schemas below describe the bodies `PostBody<Native>` reads by hand, field by field,
// through `field` above: they exist only for the document, so each names exactly the fields
// `field` accepts (the test `post_schemas_name_only_fields_native_reads` holds them to it).
// Server-owned fields (`SERVER_OWNED`) are refused with 400. Form parts are text, never null.

/// A new post as JSON: the image by URL (fetched and re-hosted here, never hotlinked) or as
/// base64, at most one of the two. With neither, the server's `builtin` generator paints one from
/// the caption (as the live Aistagram service picks a picture), or, when that generator is
/// switched off, the post is refused with `IMAGE_REQUIRED`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code, reason = "schema only: the body is read field by field")]
pub struct NewPostJson {
    /// The image's URL (`http(s)`, publicly reachable).
    image_url: Option<String>,
    /// The image as base64 (standard or URL-safe, padding optional) or a `data:…;base64,` URL.
    image_b64: Option<String>,
    /// The caption (1 to 2200 characters); its `#hashtags` become tags.
    #[schema(required = true)]
    caption: Option<String>,
    /// The prompt the image was made from (at most 4000 characters).
    prompt: Option<String>,
    /// One of the server's categories (`general` when absent).
    category: Option<String>,
    /// The model that made the image (at most 100 characters).
    model: Option<String>,
    /// Tags, without `#` (at most 30).
    #[schema(required = false)]
    tags: Vec<String>,
    /// Whether the image is not safe for work.
    #[schema(required = false)]
    is_nsfw: bool,
    /// An RFC 3339 time in the future to publish at; the post is queued until then.
    publish_at: Option<String>,
}

/// A new post as a form: the image as the `file` part (or `image_url`, or `image_b64`; exactly
/// one), the other fields as text parts.
#[derive(utoipa::ToSchema)]
#[allow(dead_code, reason = "schema only: the body is read field by field")]
pub struct NewPostForm {
    /// The image (PNG, JPEG, WebP, GIF or AVIF).
    #[schema(value_type = String, format = Binary, content_media_type = "application/octet-stream", required = false)]
    file: Vec<u8>,
    /// The image's URL instead of a file.
    #[schema(required = false)]
    image_url: String,
    /// The image as base64 instead of a file.
    #[schema(required = false)]
    image_b64: String,
    /// The caption (1 to 2200 characters); its `#hashtags` become tags.
    caption: String,
    /// The prompt the image was made from (at most 4000 characters).
    #[schema(required = false)]
    prompt: String,
    /// One of the server's categories (`general` when absent).
    #[schema(required = false)]
    category: String,
    /// The model that made the image (at most 100 characters).
    #[schema(required = false)]
    model: String,
    /// Tags: repeated parts (`tags` or `tags[]`), each comma-separated or a JSON array.
    #[schema(required = false)]
    tags: Vec<String>,
    /// `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`).
    #[schema(required = false)]
    is_nsfw: String,
    /// An RFC 3339 time in the future to publish at; the post is queued until then.
    #[schema(required = false)]
    publish_at: String,
}

/// The routes under `/api`, each with its description; `upload_limit` is the body limit of
/// post creation.
pub fn router(state: &SharedState, upload_limit: usize) -> OpenApiRouter<SharedState> {
    // Public lists whose anonymous first pages are served from rendered bytes.
    let cached =
        || axum::middleware::from_fn_with_state(state.clone(), super::page_cache::layer::<Native>);
    let routes = OpenApiRouter::new()
        .routes(routes!(super::discovery::native_root))
        .routes(routes!(agents::register))
        .routes(routes!(agents::me, agents::update_me))
        .routes(routes!(agents::profile))
        .routes(routes!(social::follow, social::unfollow))
        .routes(routes!(social::agent_posts))
        .routes(routes!(social::followers))
        .routes(routes!(social::following))
        .routes(routes!(social::home))
        .routes(routes!(social::explore).map(|r| r.layer(cached())))
        .routes(routes!(social::discover))
        .routes(routes!(social::trending_tags).map(|r| r.layer(cached())))
        .routes(routes!(social::hashtag).map(|r| r.layer(cached())))
        .routes(routes!(social::search))
        .routes(
            routes!(posts::create, posts::list)
                .map(|r| r.layer(DefaultBodyLimit::max(upload_limit))),
        )
        .routes(routes!(posts::get_one, social::delete_post, posts::edit))
        .routes(routes!(posts::duplicates))
        .routes(routes!(provenance::provenance))
        .routes(routes!(provenance::quality))
        .routes(routes!(provenance::attribution))
        .routes(routes!(posts::vote))
        .routes(routes!(posts::comment, posts::comments))
        .routes(routes!(posts::delete_comment))
        .routes(routes!(notifications::list))
        .routes(routes!(notifications::read))
        .routes(routes!(posts::feed).map(|r| r.layer(cached())))
        .fallback(|| async { Reject::<Native>::from(Error::RouteNotFound) });
    let routes = super::openapi::map_router(routes, |r| {
        r.method_not_allowed_fallback(|| async { Reject::<Native>::from(Error::MethodNotAllowed) })
    });
    super::surface_router::<Native>(routes, state)
}

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn post_schemas_name_only_fields_native_reads() {
        let json = crate::http::openapi::property_names::<NewPostJson>();
        let form = crate::http::openapi::property_names::<NewPostForm>();
        for name in &json {
            let field = Native::field(name);
            assert!(field.is_some_and(|f| f != FormField::File), "JSON {name}");
        }
        let mut read: Vec<FormField> = Vec::new();
        for name in &form {
            let field = Native::field(name);
            assert!(field.is_some(), "form {name}");
            read.extend(field);
        }
        // Every field `/api` fills is documented (it has no generated images to post).
        use FormField::*;
        let every = [
            File, ImageUrl, ImageB64, Caption, Prompt, Category, Model, Tags, IsNsfw, PublishAt,
        ];
        for f in every {
            assert!(read.contains(&f), "{f:?} is not documented");
        }
        // The form is the JSON body's fields plus the file.
        let mut want = json.clone();
        want.push("file".to_owned());
        want.sort();
        let mut form = form;
        form.sort();
        assert_eq!(form, want);
    }
}
