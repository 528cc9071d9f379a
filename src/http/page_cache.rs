//! Anonymous first pages of public lists (the feed in its sorts, explore, hashtags) kept as
//! rendered bytes, so pollers and crawlers cost a hash lookup instead of a database walk and a
//! JSON rendering. An entry holds the write generation it was rendered at (the count of durable
//! commits): any commit makes it stale, so a write is visible in the very next read. Lists whose
//! order moves with the clock alone (`rising`, time windows, explore's week) are also bounded by
//! a short age. Answers that depend on the caller's key (`your_vote`) never come from here: a
//! request with an `Authorization` header, or one past the first page, passes straight through.
//! Each entry carries a strong `ETag`, so a poller that sends it back gets `304 Not Modified`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use quick_cache::sync::Cache;

use super::SharedState;
use super::media::if_none_match;
use super::surface::{Reject, Surface};
use crate::error::Error;

/// How long a page may be served while no write happens (for orders that move with time).
const MAX_AGE: Duration = Duration::from_secs(10);
/// Pages larger than this are not kept (a first page of 100 posts is about 100 KB).
const MAX_PAGE: usize = 2 * 1024 * 1024;

/// Rendered first pages by path and query.
pub struct PageCache {
    pages: Cache<String, Arc<Rendered>>,
}

struct Rendered {
    generation: u64,
    at: Instant,
    etag: HeaderValue,
    headers: HeaderMap,
    body: Bytes,
}

impl PageCache {
    /// Keeps at most `pages` pages.
    pub fn new(pages: usize) -> Self {
        PageCache {
            pages: Cache::new(pages),
        }
    }
}

impl Rendered {
    fn answer(&self, request: &HeaderMap) -> Response {
        let etag = self.etag.to_str().unwrap_or_default();
        let mut res = if if_none_match(request, etag) {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            let mut res = Body::from(self.body.clone()).into_response();
            res.headers_mut().extend(self.headers.clone());
            res
        };
        res.headers_mut().insert(header::ETAG, self.etag.clone());
        res
    }
}

/// Whether a request may be answered from (and fill) the cache.
fn cacheable(req: &Request) -> bool {
    // Only first pages: a cursor, `max_id` or `since_id` names a later (or newer) one.
    let later = |p: &str| {
        ["cursor=", "max_id=", "since_id="]
            .iter()
            .any(|k| p.starts_with(k))
    };
    req.method() == Method::GET
        && !req.headers().contains_key(header::AUTHORIZATION)
        && !req.uri().query().is_some_and(|q| q.split('&').any(later))
}

/// The layer on the cached routes (inside the identity and rate-limit layer, which still counts
/// every request).
pub async fn layer<S: Surface>(State(s): State<SharedState>, req: Request, next: Next) -> Response {
    if !cacheable(&req) {
        return next.run(req).await;
    }
    // The whole path: inside a nested router `uri()` has lost the surface's prefix, and
    // `/api/explore` and `/api/v1/explore` are different pages.
    let key = super::links::original_uri(req.extensions(), req.uri()).to_string();
    // Read before rendering: a commit while the page renders leaves it already stale.
    let generation = s.services.generation();
    if let Some(r) = s.pages.pages.get(&key)
        && r.generation == generation
        && r.at.elapsed() < MAX_AGE
    {
        return r.answer(req.headers());
    }
    let asked = req.headers().clone();
    let res = next.run(req).await;
    if res.status() != StatusCode::OK {
        return res;
    }
    let (parts, body) = res.into_parts();
    let body = match axum::body::to_bytes(body, MAX_PAGE).await {
        Ok(b) => b,
        Err(e) => {
            return Reject::<S>::from(Error::context("rendering a page", e)).into_response();
        }
    };
    let hash = blake3::hash(&body);
    let etag = format!("\"p-{}\"", &hash.to_hex()[..32]);
    let Ok(etag) = HeaderValue::try_from(etag) else {
        return Response::from_parts(parts, Body::from(body));
    };
    let rendered = Arc::new(Rendered {
        generation,
        at: Instant::now(),
        etag,
        headers: parts.headers,
        body,
    });
    s.pages.pages.insert(key, rendered.clone());
    rendered.answer(&asked)
}
