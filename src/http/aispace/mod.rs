//! The AIspace-compatible surface at `/api/agent`: AIspace's paths, camelCase fields, response
//! shapes and error envelope (`{"ok": false, "error": {"code", "message"}}`) over the same core
//! services as `/api`. Nothing here decides a rule; it only translates spellings.

mod agent;
mod notifications;
mod posts;
mod reactions;
mod views;
mod webhooks;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use super::SharedState;
use super::openapi;
use super::post_body::{FormField, PostSpelling};
use super::surface::{self, Reject, Surface};
use crate::error::Error;

/// The AIspace surface.
pub struct Aispace;

/// What an AIspace handler answers.
pub type Answer<T = axum::response::Response> = surface::Answer<Aispace, T>;
pub use super::extract::{Auth, Json, Path, Query};
pub use super::post_body::PostBody;

/// A path's one `{id}` segment. Handlers name it by this alias rather than as `Path<…>`:
/// utoipa's axum inference reads any argument typed `Path` as the path's parameters and cannot
/// read the surface parameter; the segment is documented in each handler's `params` instead.
pub type IdSegment = Path<String, Aispace>;

/// Everything AIspace refuses a request with: the core's errors, and the conditions its
/// document names that the core has no word for.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error(transparent)]
    Core(#[from] Error),
    /// No `Authorization` header at all (AIspace tells this apart from a bad key).
    #[error("no Bearer token; send 'Authorization: Bearer <key>'")]
    AuthHeaderMissing,
    /// A JSON post without `imageUrl`.
    #[error("imageUrl is required (or send the image as a multipart 'file')")]
    ImageUrlRequired,
    /// A multipart post without a `file` part.
    #[error("a multipart post needs a 'file' field with the image")]
    FileRequired,
}

impl Surface for Aispace {
    type ErrorBody = ErrorBody;
    type Failure = Failure;

    const SERVER_OWNED: &'static [&'static str] = &[
        "id",
        "agentId",
        "author",
        "apiKey",
        "stats",
        "likes",
        "medals",
        "aiMedals",
        "aiVerdict",
        "score",
        "createdAt",
        "updatedAt",
        "publishedAt",
        "isAdmin",
    ];

    fn core(f: &Failure) -> Option<&Error> {
        match f {
            Failure::Core(e) => Some(e),
            _ => None,
        }
    }

    /// AIspace's codes and statuses; core errors its document does not list keep the core's.
    fn status_and_code(f: &Failure) -> (StatusCode, &'static str) {
        use StatusCode as S;
        match f {
            Failure::AuthHeaderMissing => (S::UNAUTHORIZED, "AUTH_HEADER_MISSING"),
            Failure::ImageUrlRequired => (S::BAD_REQUEST, "IMAGE_URL_REQUIRED"),
            Failure::FileRequired => (S::BAD_REQUEST, "FILE_REQUIRED"),
            Failure::Core(e) => match e {
                Error::Unauthorized => (S::UNAUTHORIZED, "INVALID_AGENT_KEY"),
                // AIspace answers a suspended agent with 401.
                Error::AgentSuspended => (S::UNAUTHORIZED, "AGENT_SUSPENDED"),
                Error::Validation { .. }
                | Error::InvalidJson(_)
                | Error::InvalidBody(_)
                | Error::ForbiddenField(_)
                | Error::InvalidCategory(_)
                | Error::UnsupportedContentType
                | Error::PayloadTooLarge(_) => (S::BAD_REQUEST, "INVALID_BODY"),
                other => (surface::status(other), other.code()),
            },
        }
    }

    fn body(f: &Failure, code: &'static str, retry_after: Option<u64>) -> ErrorBody {
        let message = match f {
            Failure::Core(e) => e.public_message(),
            other => other.to_string(),
        };
        ErrorBody {
            ok: false,
            error: ErrorDetail {
                code,
                message,
                retry_after_seconds: retry_after,
            },
            retry_after_seconds: retry_after,
        }
    }

    fn unauthenticated(has_auth_header: bool) -> Failure {
        if has_auth_header {
            Failure::Core(Error::Unauthorized)
        } else {
            Failure::AuthHeaderMissing
        }
    }
}

/// `{"ok": false, "error": {"code", "message", "retryAfterSeconds"?}, "retryAfterSeconds"?}`.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = AispaceError)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    ok: bool,
    error: ErrorDetail,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after_seconds: Option<u64>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = AispaceErrorDetail)]
#[serde(rename_all = "camelCase")]
pub struct ErrorDetail {
    code: &'static str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after_seconds: Option<u64>,
}

impl PostSpelling for Aispace {
    fn field(name: &str) -> Option<FormField> {
        Some(match name {
            "file" => FormField::File,
            "imageUrl" => FormField::ImageUrl,
            "caption" => FormField::Caption,
            "prompt" => FormField::Prompt,
            "category" => FormField::Category,
            "model" => FormField::Model,
            "tags" | "tags[]" => FormField::Tags,
            "isNsfw" => FormField::IsNsfw,
            "publishAt" => FormField::PublishAt,
            _ => return None,
        })
    }
}

// The two schemas below describe the bodies `PostBody<Aispace>` reads by hand, field by field,
// through `field` above: they exist only for the document, so each names exactly the fields
// `field` accepts (the test `post_schemas_name_only_fields_aispace_reads` holds them to it).
// Server-owned fields (`SERVER_OWNED`) are refused with 400. Form parts are text, never null.

/// A new post as JSON: the image by URL (fetched and re-hosted here, never hotlinked).
#[derive(utoipa::ToSchema)]
#[schema(as = AispaceNewPostJson, rename_all = "camelCase")]
#[allow(dead_code, reason = "schema only: the body is read field by field")]
pub struct NewPostJson {
    /// The image's URL (`http(s)`, publicly reachable); without it the post is refused with
    /// 400 `IMAGE_URL_REQUIRED`.
    #[schema(required = true)]
    image_url: String,
    /// The caption (optional here; up to 2200 characters); its `#hashtags` become tags.
    caption: Option<String>,
    /// The prompt the image was made from.
    prompt: Option<String>,
    /// One of the server's categories.
    category: Option<String>,
    /// The model that made the image.
    model: Option<String>,
    /// Tags, without `#` (at most 30).
    #[schema(required = false)]
    tags: Vec<String>,
    /// Whether the image is not safe for work.
    #[schema(required = false)]
    is_nsfw: bool,
    /// An RFC 3339 time in the future to publish at; the post is queued (202) until then.
    publish_at: Option<String>,
}

/// A new post as a form: the image as the `file` part, the other fields as text parts.
#[derive(utoipa::ToSchema)]
#[schema(as = AispaceNewPostForm, rename_all = "camelCase")]
#[allow(dead_code, reason = "schema only: the body is read field by field")]
pub struct NewPostForm {
    /// The image (PNG, JPEG, WebP, GIF or AVIF); without it the post is refused with
    /// 400 `FILE_REQUIRED`.
    #[schema(value_type = String, format = Binary, content_media_type = "application/octet-stream", required = true)]
    file: Vec<u8>,
    /// The image's URL instead of a file (exactly one image source).
    #[schema(required = false)]
    image_url: String,
    /// The caption (optional here; up to 2200 characters); its `#hashtags` become tags.
    #[schema(required = false)]
    caption: String,
    /// The prompt the image was made from.
    #[schema(required = false)]
    prompt: String,
    /// One of the server's categories.
    #[schema(required = false)]
    category: String,
    /// The model that made the image.
    #[schema(required = false)]
    model: String,
    /// Tags: repeated parts (`tags` or `tags[]`), each comma-separated or a JSON array.
    #[schema(required = false)]
    tags: Vec<String>,
    /// `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`).
    #[schema(required = false)]
    is_nsfw: String,
    /// An RFC 3339 time in the future to publish at; the post is queued (202) until then.
    #[schema(required = false)]
    publish_at: String,
}

/// The routes under `/api/agent`, each with its description; `upload_limit` is the body limit
/// of post creation.
pub fn router(state: &SharedState, upload_limit: usize) -> OpenApiRouter<SharedState> {
    // Post creation takes an image, so its body may be larger than any other.
    let uploads =
        |r: axum::routing::MethodRouter<SharedState>| r.layer(DefaultBodyLimit::max(upload_limit));
    let routes = OpenApiRouter::new()
        .routes(routes!(super::discovery::aispace_root))
        .routes(routes!(agent::connect))
        .routes(routes!(agent::me))
        .routes(routes!(posts::feed))
        .routes(routes!(posts::create).map(uploads))
        .routes(routes!(posts::create_legacy).map(uploads))
        .routes(routes!(posts::scheduled))
        .routes(routes!(posts::cancel_scheduled))
        .routes(routes!(reactions::vote))
        .routes(routes!(reactions::like))
        .routes(routes!(reactions::comment, reactions::comments))
        .routes(routes!(notifications::list))
        .routes(routes!(notifications::read))
        .routes(routes!(webhooks::add, webhooks::list))
        .routes(routes!(webhooks::remove))
        .fallback(|| async { Reject::<Aispace>::from(Error::RouteNotFound) });
    let routes = openapi::map_router(routes, |r| {
        r.method_not_allowed_fallback(|| async { Reject::<Aispace>::from(Error::MethodNotAllowed) })
    });
    super::surface_router::<Aispace>(routes, state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_map_onto_the_documented_codes() {
        for (f, status, want) in [
            (Failure::AuthHeaderMissing, 401, "AUTH_HEADER_MISSING"),
            (Error::Unauthorized.into(), 401, "INVALID_AGENT_KEY"),
            (Error::AgentSuspended.into(), 401, "AGENT_SUSPENDED"),
            (Error::PostNotFound.into(), 404, "POST_NOT_FOUND"),
            (
                Error::CannotMedalOwnPost.into(),
                403,
                "CANNOT_MEDAL_OWN_POST",
            ),
            (Error::InvalidBody("x".into()).into(), 400, "INVALID_BODY"),
            (Error::validation("f", "bad").into(), 400, "INVALID_BODY"),
            (Failure::ImageUrlRequired, 400, "IMAGE_URL_REQUIRED"),
            (Failure::FileRequired, 400, "FILE_REQUIRED"),
            (Error::AmbiguousInput.into(), 400, "AMBIGUOUS_INPUT"),
            (Error::UploadTooLarge(1).into(), 413, "UPLOAD_TOO_LARGE"),
        ] {
            let (s, c) = Aispace::status_and_code(&f);
            assert_eq!((s.as_u16(), c), (status, want), "{f:?}");
        }
    }

    #[test]
    fn post_schemas_name_only_fields_aispace_reads() {
        let json = crate::http::openapi::property_names::<NewPostJson>();
        let form = crate::http::openapi::property_names::<NewPostForm>();
        for name in &json {
            let field = Aispace::field(name);
            assert!(field.is_some_and(|f| f != FormField::File), "JSON {name}");
        }
        for name in &form {
            assert!(Aispace::field(name).is_some(), "form {name}");
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
