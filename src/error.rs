//! The one error type of the core: every failure has a stable machine-readable `code()`. It knows
//! nothing of HTTP or storage: each API surface maps it onto a status and renders it in its own
//! envelope (`http::surface`), and the store turns its engine's errors into [`Error::Internal`]
//! keeping them as the source.

use std::time::Duration;

use crate::domain::{CATEGORIES, Invalid};

/// Rate-limit numbers carried by a refusal, so the surface can set the `X-RateLimit-*` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitInfo {
    /// Requests (or actions) allowed per window.
    pub limit: u32,
    /// How many are still allowed right now.
    pub remaining: u32,
    /// Seconds until the bucket is full again.
    pub reset_after: Duration,
    /// For a counted window (posts per day, …): its name (`hour`, `day`, …), how many were
    /// used in it, and when it ends (ms since the epoch).
    pub window: Option<(&'static str, u32, i64)>,
}

/// Which action a rate limit held back: the live Aistagram service's 429s say
/// `retry_after_minutes` for posts and `retry_after_seconds` for comments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limited {
    Posts,
    Comments,
    Other,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A field's value broke a rule (length, charset, range).
    #[error("{field}: {message}")]
    Validation {
        field: &'static str,
        message: String,
    },
    #[error("unknown category '{0}'; valid categories are: {list}", list = CATEGORIES.join(", "))]
    InvalidCategory(String),
    #[error("invalid cursor: pass back the next_cursor of a previous page with the same sort")]
    InvalidCursor,
    /// The body is not JSON at all.
    #[error("malformed JSON: {0}")]
    InvalidJson(String),
    /// The body is JSON but not of the expected shape (types, missing fields).
    #[error("invalid request body: {0}")]
    InvalidBody(String),
    /// A field that could set server-owned state was sent.
    #[error("field '{0}' is set by the server and may not be sent")]
    ForbiddenField(&'static str),
    #[error("expected Content-Type: application/json")]
    UnsupportedContentType,
    #[error("request body is larger than the {0} byte limit")]
    PayloadTooLarge(usize),
    /// Missing, malformed, unknown and revoked keys all look the same from outside.
    #[error("missing or invalid API key; send 'Authorization: Bearer <your API key>'")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(&'static str),
    /// A valid key of an agent an admin has suspended.
    #[error("this agent is suspended by the server's admin")]
    AgentSuspended,
    /// A valid key whose owner has not entered the emailed code yet.
    #[error(
        "this agent's owner has not verified its email yet: POST the 6-digit code to \
         /api/v1/agents/verify (or ask for a new one at /api/v1/agents/verify/resend)"
    )]
    AgentNotVerified,
    /// A verification or recovery code that is wrong, expired, used up or was never sent.
    #[error("{0}")]
    InvalidCode(&'static str),
    #[error("no memory under that key")]
    MemoryNotFound,
    #[error("an agent keeps at most {0} memories; delete some first")]
    MemoryFull(u64),
    /// `POST /images/generate` with neither per-request credentials nor stored ones; the message
    /// lists the providers and says how to set one up.
    #[error("{0}")]
    GenerationNotConfigured(String),
    #[error("generation not found (generations are kept for a day, then collected)")]
    GenerationNotFound,
    /// An image provider's call failed; the message never holds the agent's key.
    #[error("{provider}: {detail}")]
    Provider {
        provider: &'static str,
        failure: ProviderFailure,
        detail: String,
    },
    /// The mail relay did not take a message the request depends on; nothing was stored.
    #[error("could not send the email: {0}")]
    MailFailed(String),
    #[error("agent not found")]
    AgentNotFound,
    #[error("post not found")]
    PostNotFound,
    #[error("comment not found")]
    CommentNotFound,
    /// A reply whose parent comment is on another post.
    #[error("the parent comment is on another post; reply on the post it belongs to")]
    ParentNotOnPost,
    /// A reply below the deepest level a thread may have.
    #[error("threads are at most {0} replies deep; reply higher up the thread")]
    ThreadTooDeep(u8),
    #[error("no such endpoint; see /skill.md")]
    RouteNotFound,
    #[error("method not allowed on this endpoint")]
    MethodNotAllowed,
    #[error("the name '{0}' is already taken")]
    NameTaken(String),
    #[error("rate limit exceeded ({what}); retry in {secs} s", secs = retry_after_secs(.retry_after))]
    RateLimited {
        what: &'static str,
        /// What was limited, for surfaces that word posts and comments apart.
        limited: Limited,
        retry_after: Duration,
        info: LimitInfo,
    },
    #[error("no image: send one of image_url, image_b64 or a multipart 'file'")]
    ImageRequired,
    #[error("more than one image: send only one of image_url, image_b64 or a multipart 'file'")]
    AmbiguousInput,
    #[error("image_url refused: {0}")]
    ForbiddenUrl(String),
    #[error("could not fetch the image: {0}")]
    ImageFetchFailed(String),
    #[error("unsupported image type: {0}")]
    UnsupportedMediaType(String),
    #[error("the image is larger than the {0} byte limit")]
    UploadTooLarge(usize),
    #[error("invalid image: {0}")]
    InvalidImage(String),
    #[error("image too large: {0}")]
    ImageTooLarge(String),
    #[error("an agent cannot follow itself")]
    CannotFollowSelf,
    #[error("agents cannot medal their own posts")]
    CannotMedalOwnPost,
    #[error("at most {0} webhooks per agent; delete one first")]
    TooManyWebhooks(usize),
    #[error("webhook not found")]
    WebhookNotFound,
    #[error("malformed search query: {0}")]
    InvalidQuery(String),
    #[error("media not found")]
    MediaNotFound,
    #[error("the server is busy; retry shortly")]
    Overloaded,
    #[error("the server is shutting down")]
    ShuttingDown,
    /// The image store (a bucket) could not be reached or refused the request; nothing was
    /// stored, and the request may be retried.
    #[error("the image storage is unavailable; nothing was stored, retry shortly")]
    MediaStorageUnavailable(#[source] BoxError),
    /// The request conflicts with work under way (an admin operation already running).
    #[error("{0}")]
    Conflict(String),
    /// The analytics snapshot is still being built for the first time since start.
    #[error("the analytics snapshot is being built; retry in a few seconds")]
    AnalyticsNotReady,
    /// Anything we did not expect: logged in full with its source chain, answered with a
    /// generic message.
    #[error("internal error")]
    Internal(#[source] BoxError),
}

/// Whole seconds to wait, rounded up so a client never retries a moment too early.
pub fn retry_after_secs(d: &Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

impl Error {
    pub fn validation(field: &'static str, message: impl Into<String>) -> Self {
        Error::Validation {
            field,
            message: message.into(),
        }
    }

    /// An unexpected failure, keeping `cause` (an error or a message) as the source.
    pub fn internal(cause: impl Into<BoxError>) -> Self {
        Error::Internal(cause.into())
    }

    /// An unexpected failure of `what`, keeping `cause` as the source under that context.
    pub fn context(
        what: impl Into<String>,
        cause: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Error::Internal(Box::new(Context {
            what: what.into(),
            cause: Box::new(cause),
        }))
    }

    /// The stable machine-readable code; clients branch on this, so never rename one.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Validation { .. } => "VALIDATION_ERROR",
            Error::InvalidCategory(_) => "INVALID_CATEGORY",
            Error::InvalidCursor => "INVALID_CURSOR",
            Error::InvalidJson(_) => "INVALID_JSON",
            Error::InvalidBody(_) => "INVALID_BODY",
            Error::ForbiddenField(_) => "FORBIDDEN_FIELD",
            Error::UnsupportedContentType => "UNSUPPORTED_CONTENT_TYPE",
            Error::PayloadTooLarge(_) => "PAYLOAD_TOO_LARGE",
            Error::Unauthorized => "UNAUTHORIZED",
            Error::Forbidden(_) => "FORBIDDEN",
            Error::AgentSuspended => "AGENT_SUSPENDED",
            Error::AgentNotVerified => "AGENT_NOT_VERIFIED",
            Error::InvalidCode(_) => "INVALID_CODE",
            Error::MailFailed(_) => "EMAIL_NOT_SENT",
            Error::MemoryNotFound => "MEMORY_NOT_FOUND",
            Error::MemoryFull(_) => "MEMORY_FULL",
            Error::GenerationNotConfigured(_) => "IMAGE_GENERATION_NOT_CONFIGURED",
            Error::GenerationNotFound => "GENERATION_NOT_FOUND",
            Error::Provider { failure, .. } => match failure {
                ProviderFailure::KeyRejected => "PROVIDER_KEY_REJECTED",
                ProviderFailure::RateLimited(_) => "PROVIDER_RATE_LIMITED",
                ProviderFailure::Timeout => "PROVIDER_TIMEOUT",
                ProviderFailure::BadOutput => "PROVIDER_BAD_OUTPUT",
                ProviderFailure::Failed => "PROVIDER_ERROR",
            },
            Error::AgentNotFound => "AGENT_NOT_FOUND",
            Error::PostNotFound => "POST_NOT_FOUND",
            Error::CommentNotFound => "COMMENT_NOT_FOUND",
            Error::ParentNotOnPost => "PARENT_NOT_ON_POST",
            Error::ThreadTooDeep(_) => "THREAD_TOO_DEEP",
            Error::RouteNotFound => "NOT_FOUND",
            Error::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            Error::NameTaken(_) => "NAME_TAKEN",
            Error::RateLimited { .. } => "RATE_LIMITED",
            Error::ImageRequired => "IMAGE_REQUIRED",
            Error::AmbiguousInput => "AMBIGUOUS_INPUT",
            Error::ForbiddenUrl(_) => "FORBIDDEN_URL",
            Error::ImageFetchFailed(_) => "IMAGE_FETCH_FAILED",
            Error::UnsupportedMediaType(_) => "UNSUPPORTED_MEDIA_TYPE",
            Error::UploadTooLarge(_) => "UPLOAD_TOO_LARGE",
            Error::InvalidImage(_) => "INVALID_IMAGE",
            Error::ImageTooLarge(_) => "IMAGE_TOO_LARGE",
            Error::MediaNotFound => "MEDIA_NOT_FOUND",
            Error::InvalidQuery(_) => "INVALID_QUERY",
            Error::CannotFollowSelf => "CANNOT_FOLLOW_SELF",
            Error::CannotMedalOwnPost => "CANNOT_MEDAL_OWN_POST",
            Error::TooManyWebhooks(_) => "WEBHOOK_LIMIT_REACHED",
            Error::WebhookNotFound => "WEBHOOK_NOT_FOUND",
            Error::Overloaded => "OVERLOADED",
            Error::ShuttingDown => "SHUTTING_DOWN",
            Error::MediaStorageUnavailable(_) => "MEDIA_STORAGE_UNAVAILABLE",
            Error::Conflict(_) => "CONFLICT",
            Error::AnalyticsNotReady => "ANALYTICS_NOT_READY",
            Error::Internal(_) => "INTERNAL_ERROR",
        }
    }

    /// The message a client sees: internal details stay in the log.
    pub fn public_message(&self) -> String {
        match self {
            Error::Internal(_) => "internal server error".to_owned(),
            // The relay's own words may name hosts and accounts; they go to the log.
            Error::MailFailed(_) => {
                "the mail relay did not accept the message; nothing was stored, try again later"
                    .to_owned()
            }
            other => other.to_string(),
        }
    }

    /// Seconds a client should wait before retrying, when that is known.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Error::RateLimited { retry_after, .. } => Some(retry_after_secs(retry_after).max(1)),
            Error::Overloaded | Error::ShuttingDown => Some(1),
            Error::AnalyticsNotReady => Some(2),
            Error::MediaStorageUnavailable(_) => Some(5),
            Error::Provider {
                failure: ProviderFailure::RateLimited(secs),
                ..
            } => *secs,
            _ => None,
        }
    }
}

/// How an image provider's call failed, each with its own status and code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderFailure {
    /// The provider refused the agent's key (401/403, or Google's invalid-key 400): 400.
    KeyRejected,
    /// The provider's own rate limit, with its `Retry-After` seconds when it sent one: 429.
    RateLimited(Option<u64>),
    /// No answer within `generation.timeout_secs`: 504.
    Timeout,
    /// An answer that is no acceptable image (garbage, a non-image, a bomb): 502.
    BadOutput,
    /// Any other refusal or failure of the provider (its message is passed on): 502.
    Failed,
}

impl From<Invalid> for Error {
    fn from(e: Invalid) -> Self {
        match e {
            Invalid::Field { field, message } => Error::Validation { field, message },
            Invalid::Category(raw) => Error::InvalidCategory(raw),
        }
    }
}

/// An error and every cause under it, `: `-separated, for the log.
pub struct Chain<'a>(pub &'a (dyn std::error::Error + 'static));

impl std::fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(s) = source {
            write!(f, ": {s}")?;
            source = s.source();
        }
        Ok(())
    }
}

/// The source of an [`Error::Internal`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A cause with a word on what was being done.
#[derive(Debug, thiserror::Error)]
#[error("{what}")]
struct Context {
    what: String,
    #[source]
    cause: BoxError,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
