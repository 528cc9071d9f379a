//! What every API surface shares when it refuses a request: the status of each core error, the
//! `Retry-After` and `X-RateLimit-*` headers, 5xx logging with the whole cause chain, and the
//! [`Surface`] trait through which each surface writes the body in its own envelope.
//!
//! A surface is a zero-sized type (`native::Native`, `aispace::Aispace`). Extractors, the
//! identity middleware and handlers are generic over it, so a refusal is answered in the
//! surface's envelope from the first middleware on, without any code looking at the path.

use std::marker::PhantomData;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::{Chain, Error, LimitInfo, ProviderFailure, retry_after_secs};

/// One API surface: its failures, their codes, and its error body.
pub trait Surface: Send + Sync + Sized + 'static {
    /// Every way this surface refuses a request: the core's errors plus conditions only this
    /// surface knows (AIspace tells a missing header apart from a bad key, for one).
    type Failure: From<Error> + Send + 'static;

    /// Body fields the server owns on this surface, in its own spelling. Sending one is refused
    /// rather than silently ignored, so a client never believes it set an id, a score or a time.
    const SERVER_OWNED: &'static [&'static str];

    /// The core error behind a failure, when there is one (for `Retry-After`, the rate-limit
    /// headers and the log).
    fn core(f: &Self::Failure) -> Option<&Error>;

    /// The status and stable code this surface answers a failure with.
    fn status_and_code(f: &Self::Failure) -> (StatusCode, &'static str);

    /// The JSON body of a refusal, in this surface's envelope; its schema is the surface's
    /// error schema in the OpenAPI document.
    type ErrorBody: Serialize + utoipa::ToSchema;

    /// The refusal's body.
    fn body(f: &Self::Failure, code: &'static str, retry_after: Option<u64>) -> Self::ErrorBody;

    /// Whether a key still waiting for its owner's emailed code may call this route (`route` is
    /// the matched route template, prefix included). Every other route refuses such a key with
    /// 403 `AGENT_NOT_VERIFIED`, before its handler runs; a surface admits nothing by default.
    fn admits_unverified(method: &axum::http::Method, route: &str) -> bool {
        let _ = (method, route);
        false
    }

    /// The failure for a request that needs an agent but carries none.
    fn unauthenticated(has_auth_header: bool) -> Self::Failure {
        let _ = has_auth_header;
        Error::Unauthorized.into()
    }
}

/// A refusal on surface `S`; handlers return `Result<_, Reject<S>>` and `?` core errors into it.
pub struct Reject<S: Surface>(pub S::Failure, PhantomData<S>);

impl<S: Surface> Reject<S> {
    pub fn new(f: S::Failure) -> Self {
        Reject(f, PhantomData)
    }
}

impl<S: Surface> From<Error> for Reject<S> {
    fn from(e: Error) -> Self {
        Reject::new(e.into())
    }
}

/// What a handler on surface `S` answers.
pub type Answer<S, T = Response> = Result<T, Reject<S>>;

impl<S: Surface> IntoResponse for Reject<S> {
    fn into_response(self) -> Response {
        let (status, code) = S::status_and_code(&self.0);
        let core = S::core(&self.0);
        if status.is_server_error()
            && let Some(e) = core
        {
            tracing::error!(code, cause = %Chain(e), "request failed");
        }
        let retry = core.and_then(Error::retry_after);
        let mut res = (status, Json(S::body(&self.0, code, retry))).into_response();
        if let Some(secs) = retry {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if let Some(Error::RateLimited { info, .. }) = core {
            set_limit_headers(res.headers_mut(), info);
        }
        res
    }
}

/// The HTTP status of a core error; surfaces that answer some errors differently say so in
/// their [`Surface::status_and_code`].
pub fn status(e: &Error) -> StatusCode {
    use StatusCode as S;
    match e {
        Error::Validation { .. }
        | Error::InvalidCategory(_)
        | Error::InvalidCursor
        | Error::InvalidJson(_)
        | Error::ForbiddenField(_)
        | Error::ImageRequired
        | Error::AmbiguousInput
        | Error::InvalidQuery(_)
        | Error::CannotFollowSelf
        | Error::ParentNotOnPost
        | Error::ThreadTooDeep(_)
        | Error::TooManyWebhooks(_)
        | Error::ForbiddenUrl(_)
        | Error::InvalidCode(_)
        | Error::GenerationNotConfigured(_) => S::BAD_REQUEST,
        Error::ImageFetchFailed(_)
        | Error::InvalidImage(_)
        | Error::ImageTooLarge(_)
        | Error::InvalidBody(_) => S::UNPROCESSABLE_ENTITY,
        Error::UnsupportedMediaType(_) | Error::UnsupportedContentType => S::UNSUPPORTED_MEDIA_TYPE,
        Error::UploadTooLarge(_) | Error::PayloadTooLarge(_) => S::PAYLOAD_TOO_LARGE,
        Error::Unauthorized => S::UNAUTHORIZED,
        Error::Forbidden(_)
        | Error::AgentSuspended
        | Error::AgentNotVerified
        | Error::CannotMedalOwnPost => S::FORBIDDEN,
        Error::AgentNotFound
        | Error::PostNotFound
        | Error::CommentNotFound
        | Error::RouteNotFound
        | Error::WebhookNotFound
        | Error::MediaNotFound
        | Error::MemoryNotFound
        | Error::GenerationNotFound => S::NOT_FOUND,
        Error::MethodNotAllowed => S::METHOD_NOT_ALLOWED,
        Error::NameTaken(_) | Error::MemoryFull(_) | Error::Conflict(_) => S::CONFLICT,
        Error::RateLimited { .. } => S::TOO_MANY_REQUESTS,
        Error::Overloaded
        | Error::ShuttingDown
        | Error::AnalyticsNotReady
        | Error::MediaStorageUnavailable(_) => S::SERVICE_UNAVAILABLE,
        Error::MailFailed(_) => S::BAD_GATEWAY,
        Error::Provider { failure, .. } => match failure {
            ProviderFailure::KeyRejected => S::BAD_REQUEST,
            ProviderFailure::RateLimited(_) => S::TOO_MANY_REQUESTS,
            ProviderFailure::Timeout => S::GATEWAY_TIMEOUT,
            ProviderFailure::BadOutput | ProviderFailure::Failed => S::BAD_GATEWAY,
        },
        Error::Internal(_) => S::INTERNAL_SERVER_ERROR,
    }
}

pub const LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
pub const REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
pub const RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset");

/// `X-RateLimit-Limit`, `-Remaining`, and `-Reset` (Unix seconds when the allowance is full again).
pub fn set_limit_headers(h: &mut HeaderMap, info: &LimitInfo) {
    let reset = SystemTime::now()
        .checked_add(info.reset_after)
        .unwrap_or_else(SystemTime::now)
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    h.insert(LIMIT, HeaderValue::from(info.limit));
    h.insert(REMAINING, HeaderValue::from(info.remaining));
    h.insert(RESET, HeaderValue::from(retry_after_secs(&reset)));
}
