//! Extractors shared by every surface, generic over it so that each malformed input is refused
//! with a stable code in that surface's envelope: JSON bodies, query strings, path segments and
//! the caller's identity. No framework rejection ever reaches a client.

use std::marker::PhantomData;
use std::net::IpAddr;

use std::borrow::Cow;
use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use serde::de::{DeserializeOwned, IgnoredAny};
use serde_json::error::Category;

use super::surface::{Reject, Surface};
use crate::error::Error;
use crate::service::Agent;

/// The largest JSON body any endpoint accepts (uploads set their own limit on their route).
pub const JSON_BODY_LIMIT: usize = 1024 * 1024;

/// A JSON object body whose every failure is refused on surface `S`: 415 without a JSON content
/// type, 413 over the limit, 400 for malformed JSON or a server-owned field, 422 for a wrong
/// shape (naming the path).
pub struct Json<T, S>(pub T, pub PhantomData<S>);

impl<St: Send + Sync, T: DeserializeOwned, S: Surface> FromRequest<St> for Json<T, S> {
    type Rejection = Reject<S>;

    async fn from_request(req: Request, state: &St) -> Result<Self, Reject<S>> {
        refuse_declared_over(req.headers(), JSON_BODY_LIMIT)?;
        Ok(Json(read_json::<T, S>(req, state).await?, PhantomData))
    }
}

/// Like [`Json`], but an empty body (no content type, nothing sent) is `T::default()`: for
/// actions whose every field is optional (`POST …/notifications/read`).
pub struct OptionalJson<T, S>(pub T, pub PhantomData<S>);

impl<St: Send + Sync, T: DeserializeOwned + Default, S: Surface> FromRequest<St>
    for OptionalJson<T, S>
{
    type Rejection = Reject<S>;

    async fn from_request(req: Request, state: &St) -> Result<Self, Reject<S>> {
        refuse_declared_over(req.headers(), JSON_BODY_LIMIT)?;
        // Read first (within the JSON limit), so an empty body is empty whatever its type says.
        let (parts, body) = req.into_parts();
        let head = parts.clone();
        let bytes = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(|r| {
                if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    Error::PayloadTooLarge(JSON_BODY_LIMIT)
                } else {
                    Error::InvalidBody(r.body_text())
                }
            })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(T::default(), PhantomData));
        }
        let req = Request::from_parts(head, axum::body::Body::from(bytes));
        Ok(OptionalJson(
            read_json::<T, S>(req, state).await?,
            PhantomData,
        ))
    }
}

/// Refuses a body whose declared `Content-Length` is over `limit` from its header, before a byte
/// of it is read: otherwise the connection stays open until more than the limit has arrived.
pub fn refuse_declared_over(headers: &HeaderMap, limit: usize) -> Result<(), Error> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    match declared {
        Some(n) if n > limit as u64 => Err(Error::PayloadTooLarge(limit)),
        _ => Ok(()),
    }
}

/// Reads a JSON object body as surface `S` accepts it (see [`Json`]). The body is parsed
/// straight into `T`; a first pass reads only its top-level keys, for the server-owned check,
/// so no JSON tree is built.
pub async fn read_json<T: DeserializeOwned, S: Surface>(
    req: Request,
    state: &(impl Send + Sync),
) -> Result<T, Error> {
    if !is_json(req.headers()) {
        return Err(Error::UnsupportedContentType);
    }
    let bytes = Bytes::from_request(req, state).await.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Error::PayloadTooLarge(JSON_BODY_LIMIT)
        } else {
            Error::InvalidBody(r.body_text())
        }
    })?;
    let keys: HashMap<Cow<'_, str>, IgnoredAny> =
        serde_json::from_slice(&bytes).map_err(|e| match e.classify() {
            Category::Data => Error::InvalidBody("expected a JSON object".into()),
            _ => Error::InvalidJson(e.to_string()),
        })?;
    if let Some(field) = S::SERVER_OWNED.iter().find(|f| keys.contains_key(**f)) {
        return Err(Error::ForbiddenField(field));
    }
    let mut de = serde_json::Deserializer::from_slice(&bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." {
            Error::InvalidBody(inner.to_string())
        } else {
            Error::InvalidBody(format!("{path}: {inner}"))
        }
    })
}

/// `application/json`, or any `application/…+json`, with or without parameters.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(ct) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = ct.split(';').next().unwrap_or_default().trim();
    let essence = essence.to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// A query string; a bad one is a 400 naming the parameter.
pub struct Query<T, S>(pub T, pub PhantomData<S>);

impl<St: Send + Sync, T: DeserializeOwned, S: Surface> FromRequestParts<St> for Query<T, S> {
    type Rejection = Reject<S>;

    async fn from_request_parts(parts: &mut Parts, state: &St) -> Result<Self, Reject<S>> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(q)| Query(q, PhantomData))
            .map_err(|e: QueryRejection| {
                let text = e.body_text();
                let detail = text
                    .strip_prefix("Failed to deserialize query string: ")
                    .unwrap_or(&text);
                Error::validation("query", detail.to_owned()).into()
            })
    }
}

/// Path parameters; a segment that does not decode (invalid UTF-8 after percent-decoding) is a
/// 400 naming the path.
pub struct Path<T, S>(pub T, pub PhantomData<S>);

impl<St: Send + Sync, T: DeserializeOwned + Send, S: Surface> FromRequestParts<St> for Path<T, S> {
    type Rejection = Reject<S>;

    async fn from_request_parts(parts: &mut Parts, state: &St) -> Result<Self, Reject<S>> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(p)| Path(p, PhantomData))
            .map_err(|e| Error::validation("path", e.body_text()).into())
    }
}

/// The authenticated agent; the surface's 401 when the request carried no valid key.
pub struct Auth<S>(pub Agent, pub PhantomData<S>);

impl<St: Send + Sync, S: Surface> FromRequestParts<St> for Auth<S> {
    type Rejection = Reject<S>;

    async fn from_request_parts(parts: &mut Parts, _: &St) -> Result<Self, Reject<S>> {
        match parts.extensions.get::<Agent>() {
            Some(a) => Ok(Auth(a.clone(), PhantomData)),
            None => Err(Reject::new(S::unauthenticated(
                parts.headers.contains_key(header::AUTHORIZATION),
            ))),
        }
    }
}

/// The authenticated agent when there is one; public reads use it to show the caller's own
/// reactions.
pub struct Viewer(pub Option<Agent>);

impl Viewer {
    /// The caller's key, which the services take to mark its own reactions.
    pub fn key(&self) -> Option<crate::service::AgentKey> {
        self.0.as_ref().map(|a| a.key)
    }

    pub fn is_known(&self) -> bool {
        self.0.is_some()
    }
}

impl<St: Send + Sync> FromRequestParts<St> for Viewer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &St) -> Result<Self, Self::Rejection> {
        Ok(Viewer(parts.extensions.get::<Agent>().cloned()))
    }
}

/// The client address a request is counted against (set by the identity middleware).
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

impl<St: Send + Sync> FromRequestParts<St> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &St) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<ClientIp>()
            .copied()
            .unwrap_or(ClientIp(IpAddr::from([127, 0, 0, 1]))))
    }
}
