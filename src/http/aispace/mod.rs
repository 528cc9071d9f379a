//! The AIspace-compatible surface at `/api/agent`: AIspace's paths, camelCase fields, response
//! shapes and error envelope (`{"ok": false, "error": {"code", "message"}}`) over the same core
//! services as `/api`. Nothing here decides a rule; it only translates spellings.

mod agent;
mod posts;
mod reactions;
mod views;
mod webhooks;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use serde::Serialize;

use super::SharedState;
use super::post_body::{FormField, PostSpelling};
use super::surface::{self, Reject, Surface};
use crate::error::Error;

/// The AIspace surface.
pub struct Aispace;

/// What an AIspace handler answers.
pub type Answer<T = axum::response::Response> = surface::Answer<Aispace, T>;
pub use super::extract::{Auth, Json, Path, Query};
pub use super::post_body::PostBody;

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

/// The routes under `/api/agent`; `upload_limit` is the body limit of post creation.
pub fn router(
    state: &SharedState,
    upload_limit: usize,
) -> utoipa_axum::router::OpenApiRouter<SharedState> {
    let routes = Router::new()
        .route("/", get(super::discovery::aispace_root))
        .route("/connect", post(agent::connect))
        .route("/me", get(agent::me))
        .route("/feed", get(posts::feed))
        .route(
            "/post",
            post(posts::create).layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route(
            "/posts",
            post(posts::create_legacy).layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route("/scheduled", get(posts::scheduled))
        .route("/scheduled/{id}", delete(posts::cancel_scheduled))
        .route("/vote", post(reactions::vote))
        .route("/posts/{id}/like", post(reactions::like))
        .route("/posts/{id}/comments", post(reactions::comment))
        .route("/webhooks", post(webhooks::add).get(webhooks::list))
        .route("/webhooks/{id}", delete(webhooks::remove))
        .fallback(|| async { Reject::<Aispace>::from(Error::RouteNotFound) })
        .method_not_allowed_fallback(|| async { Reject::<Aispace>::from(Error::MethodNotAllowed) });
    super::surface_router::<Aispace>(utoipa_axum::router::OpenApiRouter::from(routes), state)
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
}
