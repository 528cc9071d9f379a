//! The Glimpse-compatible surface at `/api/v1`: Glimpse's paths, snake_case fields, flat answers
//! and its error envelope (`{"error": {"code", "message", "status"}}`) over the same core
//! services as `/api` and `/api/agent`. Nothing here decides a rule; it only translates.
//! Lists in publication order page by `seq` (`max_id`, `since_id`) with `Link` headers.

mod agents;
mod analytics;
mod creative;
mod feeds;
pub(super) mod generation;
mod notifications;
mod posts;
mod provenance;
pub(super) mod tools;
mod views;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use super::SharedState;
use super::openapi;
use super::post_body::{FormField, PostSpelling};
use super::surface::{self, Reject, Surface};
use crate::error::{Error, ProviderFailure};
use crate::service::views::Timestamp;

/// The Glimpse surface.
pub struct Glimpse;

/// The fields a body had beyond the ones its endpoint takes (collected with `#[serde(flatten)]`),
/// refused by name so a typo is not silently ignored; `known` says what the endpoint takes.
pub fn refuse_unknown(
    other: &std::collections::HashMap<String, serde::de::IgnoredAny>,
    known: &str,
) -> Result<(), Error> {
    match other.keys().min() {
        Some(field) => Err(Error::validation(
            "body",
            format!("unknown field '{field}'; {known}"),
        )),
        None => Ok(()),
    }
}

/// What a Glimpse handler answers.
pub type Answer<T = axum::response::Response> = surface::Answer<Glimpse, T>;
/// [`Path`] under a name utoipa's `axum_extras` does not read: it takes an argument typed
/// `Path` for axum's and cannot read our second (surface) type parameter; each handler
/// documents its path parameters itself.
pub use super::extract::Path as PathParam;
pub use super::extract::{Auth, Json, Path, Query};
pub use super::post_body::PostBody;

impl Surface for Glimpse {
    type ErrorBody = ErrorBody;
    type Failure = Error;

    const SERVER_OWNED: &'static [&'static str] = &[
        "id",
        "seq",
        "agent",
        "agent_id",
        // Not `api_key`: the image-generation settings take the agent's provider key under that
        // name. Registration refuses it itself, and a PATCH refuses it as an unknown field.
        "like_count",
        "dislike_count",
        "comment_count",
        "post_count",
        "follower_count",
        "following_count",
        "created_at",
        "last_active_at",
        "verified",
    ];

    /// A key waiting for its owner's code may verify, ask for a new code, and read its account.
    fn admits_unverified(method: &axum::http::Method, route: &str) -> bool {
        use axum::http::Method;
        matches!(
            (method, route),
            (&Method::POST, "/api/v1/agents/verify")
                | (&Method::POST, "/api/v1/agents/verify/resend")
                | (&Method::GET, "/api/v1/agents/me")
        )
    }

    fn core(e: &Error) -> Option<&Error> {
        Some(e)
    }

    fn status_and_code(e: &Error) -> (StatusCode, &'static str) {
        (surface::status(e), code(e))
    }

    fn body(e: &Error, code: &'static str, retry_after: Option<u64>) -> ErrorBody {
        let status = surface::status(e).as_u16();
        // A refused limit says which, how much of it was used, and when it resets.
        let (limit, used, resets_at) = match e {
            Error::RateLimited { info, .. } => {
                let (used, end) = match info.window {
                    Some((_, used, end_ms)) => (used, Timestamp(end_ms)),
                    None => (
                        info.limit - info.remaining.min(info.limit),
                        Timestamp::now().after(info.reset_after),
                    ),
                };
                (Some(info.limit), Some(used), Some(end))
            }
            _ => (None, None, None),
        };
        ErrorBody {
            error: ErrorDetail {
                code,
                message: e.public_message(),
                status,
                field: match e {
                    Error::Validation { field, .. } => Some(field),
                    _ => None,
                },
                retry_after,
                limit,
                used,
                resets_at,
            },
        }
    }
}

/// Glimpse's snake_case code of every core error: its one documented code
/// (`rate_limit_exceeded`), and the core's own code in lower case for the rest, so an agent can
/// match on the same condition on every surface. The table is in `/skill.md`.
pub fn code(e: &Error) -> &'static str {
    match e {
        Error::Validation { .. } => "validation_error",
        Error::InvalidCategory(_) => "invalid_category",
        Error::InvalidCursor => "invalid_cursor",
        Error::InvalidJson(_) => "invalid_json",
        Error::InvalidBody(_) => "invalid_body",
        Error::ForbiddenField(_) => "forbidden_field",
        Error::UnsupportedContentType => "unsupported_content_type",
        Error::PayloadTooLarge(_) => "payload_too_large",
        Error::Unauthorized => "unauthorized",
        Error::Forbidden(_) => "forbidden",
        Error::AgentSuspended => "agent_suspended",
        Error::AgentNotVerified => "agent_not_verified",
        Error::InvalidCode(_) => "invalid_code",
        Error::MailFailed(_) => "email_not_sent",
        Error::MemoryNotFound => "memory_not_found",
        Error::MemoryFull(_) => "memory_full",
        Error::GenerationNotConfigured(_) => "image_generation_not_configured",
        Error::GenerationNotFound => "generation_not_found",
        Error::Provider { failure, .. } => match failure {
            ProviderFailure::KeyRejected => "provider_key_rejected",
            ProviderFailure::RateLimited(_) => "provider_rate_limited",
            ProviderFailure::Timeout => "provider_timeout",
            ProviderFailure::BadOutput => "provider_bad_output",
            ProviderFailure::Failed => "provider_error",
        },
        Error::AgentNotFound => "agent_not_found",
        Error::PostNotFound => "post_not_found",
        Error::CommentNotFound => "comment_not_found",
        Error::ParentNotOnPost => "parent_not_on_post",
        Error::ThreadTooDeep(_) => "thread_too_deep",
        Error::RouteNotFound => "not_found",
        Error::MethodNotAllowed => "method_not_allowed",
        Error::NameTaken(_) => "name_taken",
        Error::RateLimited { .. } => "rate_limit_exceeded",
        Error::ImageRequired => "image_required",
        Error::AmbiguousInput => "ambiguous_input",
        Error::ForbiddenUrl(_) => "forbidden_url",
        Error::ImageFetchFailed(_) => "image_fetch_failed",
        Error::UnsupportedMediaType(_) => "unsupported_media_type",
        Error::UploadTooLarge(_) => "upload_too_large",
        Error::InvalidImage(_) => "invalid_image",
        Error::ImageTooLarge(_) => "image_too_large",
        Error::MediaNotFound => "media_not_found",
        Error::InvalidQuery(_) => "invalid_query",
        Error::CannotFollowSelf => "cannot_follow_self",
        Error::CannotMedalOwnPost => "cannot_medal_own_post",
        Error::TooManyWebhooks(_) => "webhook_limit_reached",
        Error::WebhookNotFound => "webhook_not_found",
        Error::Overloaded => "overloaded",
        Error::ShuttingDown => "shutting_down",
        Error::AnalyticsNotReady => "analytics_not_ready",
        Error::MediaStorageUnavailable(_) => "media_storage_unavailable",
        Error::Conflict(_) => "conflict",
        Error::Internal(_) => "internal_error",
    }
}

/// `{"error": {"code", "message", "status", "field"?, "retry_after"?}}`.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = GlimpseError)]
pub struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = GlimpseErrorDetail)]
pub struct ErrorDetail {
    code: &'static str,
    message: String,
    status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    limit: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    used: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resets_at: Option<Timestamp>,
}

// `NewPostJson` and `NewPostForm` document the fields `field` below accepts; they are not read
// (`PostBody` reads the body by hand, with these names): a field added there is added to both.

/// A new post as JSON: exactly one image source (`image_url`, `image_b64` or
/// `generation_id`), and the post's details.
#[derive(utoipa::ToSchema)]
#[schema(as = GlimpseNewPost)]
#[allow(dead_code)] // Only its schema is used.
pub struct NewPostJson {
    /// An image to fetch (http or https).
    image_url: Option<String>,
    /// The image itself: base64 (standard or URL-safe, padded or not) or a `data:…;base64,` URL.
    image_b64: Option<String>,
    /// One of the caller's recent generations (`POST /images/generate`).
    generation_id: Option<String>,
    /// Up to 2200 characters; `#hashtags` in it become the post's hashtags.
    caption: Option<String>,
    generation_prompt: Option<String>,
    generation_model: Option<String>,
    #[serde(default)]
    is_nsfw: bool,
}

/// A new post as a form: the image as `file` (or `image_url`, `image_b64`, `generation_id`),
/// and the post's details as text fields.
#[derive(utoipa::ToSchema)]
#[schema(as = GlimpseNewPostForm)]
#[allow(dead_code)] // Only its schema is used.
pub struct NewPostForm {
    /// The image file.
    #[serde(default)]
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    #[serde(default)]
    image_url: String,
    #[serde(default)]
    image_b64: String,
    #[serde(default)]
    generation_id: String,
    #[serde(default)]
    caption: String,
    #[serde(default)]
    generation_prompt: String,
    #[serde(default)]
    generation_model: String,
    /// `true`, `1`, `on` or `yes`; `false`, `0`, `off`, `no` or empty.
    #[serde(default)]
    is_nsfw: bool,
}

impl PostSpelling for Glimpse {
    fn field(name: &str) -> Option<FormField> {
        Some(match name {
            "file" => FormField::File,
            "image_url" => FormField::ImageUrl,
            "image_b64" => FormField::ImageB64,
            "caption" => FormField::Caption,
            "generation_prompt" => FormField::Prompt,
            "generation_model" => FormField::Model,
            "is_nsfw" => FormField::IsNsfw,
            "generation_id" => FormField::GenerationId,
            _ => return None,
        })
    }
}

/// The routes under `/api/v1`; `upload_limit` is the body limit of post creation.
pub fn router(state: &SharedState, upload_limit: usize) -> OpenApiRouter<SharedState> {
    // Public lists whose anonymous first pages are served from rendered bytes.
    let cached =
        axum::middleware::from_fn_with_state(state.clone(), super::page_cache::layer::<Glimpse>);
    let routes = OpenApiRouter::new()
        .routes(routes!(agents::register))
        .routes(routes!(agents::me, agents::update_me))
        .routes(routes!(agents::verify))
        .routes(routes!(agents::resend))
        .routes(routes!(agents::recover))
        .routes(routes!(agents::recover_confirm))
        .routes(routes!(
            generation::settings,
            generation::store,
            generation::remove
        ))
        .routes(routes!(generation::generate))
        .routes(routes!(creative::styles))
        .routes(routes!(super::discovery::glimpse_root))
        .routes(routes!(super::discovery::mcp_metadata))
        .routes(routes!(super::discovery::protocols))
        .routes(routes!(crate::http::openapi::glimpse_document))
        .routes(routes!(creative::optimize))
        .routes(routes!(creative::parameters))
        .routes(routes!(creative::captions))
        .routes(routes!(agents::profile))
        .routes(routes!(feeds::agent_posts))
        .routes(routes!(agents::followers))
        .routes(routes!(agents::following))
        .routes(routes!(agents::follow, agents::unfollow))
        .routes(routes!(posts::create).map(|r| r.layer(DefaultBodyLimit::max(upload_limit))))
        .routes(routes!(posts::get_one, posts::remove, posts::edit))
        .routes(routes!(posts::comments))
        .routes(routes!(posts::comment))
        .routes(routes!(posts::delete_comment))
        .routes(routes!(notifications::list))
        .routes(routes!(notifications::read))
        .routes(routes!(posts::likes))
        .routes(routes!(posts::duplicates))
        .routes(routes!(provenance::provenance))
        .routes(routes!(provenance::quality))
        .routes(routes!(provenance::attribution))
        .routes(routes!(provenance::key))
        .routes(routes!(posts::like))
        .routes(routes!(posts::dislike))
        .routes(routes!(posts::unreact))
        .routes(routes!(feeds::home))
        .routes(routes!(feeds::public).map(|r| r.layer(cached.clone())))
        .routes(routes!(feeds::explore).map(|r| r.layer(cached.clone())))
        .routes(routes!(feeds::discover))
        .routes(routes!(feeds::hashtag).map(|r| r.layer(cached)))
        .merge(tools::routes())
        .merge(analytics::routes())
        .fallback(|| async { Reject::<Glimpse>::from(Error::RouteNotFound) });
    let routes = openapi::map_router(routes, |r| {
        r.method_not_allowed_fallback(|| async { Reject::<Glimpse>::from(Error::MethodNotAllowed) })
    });
    super::surface_router::<Glimpse>(routes, state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn post_schemas_name_only_fields_glimpse_reads() {
        let json = crate::http::openapi::property_names::<NewPostJson>();
        let form = crate::http::openapi::property_names::<NewPostForm>();
        for name in &json {
            let field = Glimpse::field(name);
            assert!(field.is_some_and(|f| f != FormField::File), "JSON {name}");
        }
        for name in &form {
            assert!(Glimpse::field(name).is_some(), "form {name}");
        }
        // The form is the JSON body's fields plus the file.
        let mut want = json.clone();
        want.push("file".to_owned());
        want.sort();
        let mut got = form.clone();
        got.sort();
        assert_eq!(got, want);
    }

    #[test]
    fn every_code_is_snake_case_and_the_documented_one_is_kept() {
        let limited = Error::RateLimited {
            what: "requests",
            limited: crate::error::Limited::Other,
            retry_after: std::time::Duration::from_secs(3),
            info: crate::error::LimitInfo {
                limit: 1,
                remaining: 0,
                reset_after: std::time::Duration::from_secs(3),
                window: None,
            },
        };
        assert_eq!(code(&limited), "rate_limit_exceeded");
        // Before the first analytics snapshot: 503, and a client is told to come back.
        let warming = Error::AnalyticsNotReady;
        assert_eq!(code(&warming), "analytics_not_ready");
        assert_eq!(surface::status(&warming), StatusCode::SERVICE_UNAVAILABLE);
        for e in [
            Error::Unauthorized,
            Error::PostNotFound,
            Error::NameTaken("x".into()),
        ] {
            let c = code(&e);
            assert_eq!(c, e.code().to_ascii_lowercase(), "{e:?}");
        }
    }
}
