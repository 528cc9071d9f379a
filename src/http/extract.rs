//! Extractors that turn every malformed input into an [`Error`] with a stable code: JSON bodies,
//! query strings, and the caller's identity.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::Error;
use crate::service::Agent;

/// Body fields the server owns. Sending one is refused rather than silently ignored, so a client
/// never believes it set an id, a score or a timestamp.
pub const SERVER_OWNED: [&str; 13] = [
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

/// The largest JSON body any native endpoint accepts.
pub const JSON_BODY_LIMIT: usize = 1024 * 1024;

/// A JSON body whose every failure is an [`Error`]: 415 without a JSON content type, 413 over the
/// limit, 400 for malformed JSON or a server-owned field, 422 for a wrong shape (naming the path).
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Error> {
        let axum::Json(value) = axum::Json::<serde_json::Value>::from_request(req, state)
            .await
            .map_err(json_rejection)?;
        if let Some(obj) = value.as_object()
            && let Some(field) = SERVER_OWNED.iter().find(|f| obj.contains_key(**f))
        {
            return Err(Error::ForbiddenField(field));
        }
        if !value.is_object() {
            return Err(Error::InvalidBody("expected a JSON object".into()));
        }
        serde_path_to_error::deserialize(value)
            .map(ApiJson)
            .map_err(|e| {
                let path = e.path().to_string();
                let inner = e.into_inner();
                if path == "." {
                    Error::InvalidBody(inner.to_string())
                } else {
                    Error::InvalidBody(format!("{path}: {inner}"))
                }
            })
    }
}

fn json_rejection(r: JsonRejection) -> Error {
    match r {
        JsonRejection::MissingJsonContentType(_) => Error::UnsupportedContentType,
        JsonRejection::JsonSyntaxError(e) => Error::InvalidJson(e.body_text()),
        JsonRejection::JsonDataError(e) => Error::InvalidBody(e.body_text()),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            Error::PayloadTooLarge(JSON_BODY_LIMIT)
        }
        other => Error::InvalidBody(other.body_text()),
    }
}

/// A query string; a bad one is a 400 naming the parameter.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Error> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(q)| ApiQuery(q))
            .map_err(|e: QueryRejection| {
                let text = e.body_text();
                let detail = text
                    .strip_prefix("Failed to deserialize query string: ")
                    .unwrap_or(&text);
                Error::validation("query", detail.to_owned())
            })
    }
}

/// The authenticated agent; a 401 when the request carried no valid key.
pub struct Authed(pub Agent);

impl<S: Send + Sync> FromRequestParts<S> for Authed {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Error> {
        parts
            .extensions
            .get::<Agent>()
            .cloned()
            .map(Authed)
            .ok_or(Error::Unauthorized)
    }
}

/// The authenticated agent when there is one; public reads use it to show the caller's own votes.
pub struct MaybeAuthed(pub Option<Agent>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeAuthed {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Error> {
        Ok(MaybeAuthed(parts.extensions.get::<Agent>().cloned()))
    }
}
