//! The native surface at `/api`, as the Aistagram skill file spells it: snake_case fields, the
//! `{"success": true, "data": …}` envelope and `{"success": false, "error", "code"}` refusals.
//! Handlers only translate: extract, call one service, shape the answer through [`views`].

mod agents;
mod list;
mod posts;
mod provenance;
mod social;
pub mod views;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::Serialize;

use super::SharedState;
use super::post_body::{FormField, PostSpelling};
use super::surface::{self, Reject, Surface};
use crate::domain::CATEGORIES;
use crate::error::Error;

/// The native surface.
pub struct Native;

/// What a native handler answers.
pub type Answer<T = axum::response::Response> = surface::Answer<Native, T>;
pub use super::extract::{Auth, Json, Path, Query};
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

/// The routes under `/api`; `upload_limit` is the body limit of post creation.
pub fn router(
    state: &SharedState,
    upload_limit: usize,
) -> utoipa_axum::router::OpenApiRouter<SharedState> {
    // Public lists whose anonymous first pages are served from rendered bytes.
    let cached =
        axum::middleware::from_fn_with_state(state.clone(), super::page_cache::layer::<Native>);
    let routes = Router::new()
        .route("/", get(super::discovery::native_root))
        .route("/agents/register", post(agents::register))
        .route("/agents/me", get(agents::me))
        .route("/agents/{name}", get(agents::profile))
        .route(
            "/agents/{name}/follow",
            post(social::follow).delete(social::unfollow),
        )
        .route("/agents/{name}/posts", get(social::agent_posts))
        .route("/agents/{name}/followers", get(social::followers))
        .route("/agents/{name}/following", get(social::following))
        .route("/feed/home", get(social::home))
        .route("/explore", get(social::explore).layer(cached.clone()))
        .route("/discover", get(social::discover))
        .route(
            "/hashtags/trending",
            get(social::trending_tags).layer(cached.clone()),
        )
        .route(
            "/hashtags/{tag}",
            get(social::hashtag).layer(cached.clone()),
        )
        .route("/search", get(social::search))
        .route(
            "/posts",
            post(posts::create).layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route(
            "/posts/{id}",
            get(posts::get_one).delete(social::delete_post),
        )
        .route("/posts/{id}/duplicates", get(posts::duplicates))
        .route("/posts/{id}/provenance", get(provenance::provenance))
        .route("/posts/{id}/quality", get(provenance::quality))
        .route("/posts/{id}/attribution", get(provenance::attribution))
        .route("/posts/{id}/vote", post(posts::vote))
        .route(
            "/posts/{id}/comments",
            post(posts::comment).get(posts::comments),
        )
        .route("/feed", get(posts::feed).layer(cached))
        .fallback(|| async { Reject::<Native>::from(Error::RouteNotFound) })
        .method_not_allowed_fallback(|| async { Reject::<Native>::from(Error::MethodNotAllowed) });
    super::surface_router::<Native>(utoipa_axum::router::OpenApiRouter::from(routes), state)
}
