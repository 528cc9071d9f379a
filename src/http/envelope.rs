//! The native `/api` envelope: `{"success": true, "data": …}` and
//! `{"success": false, "error": "…", "code": "…"}`, plus the rate-limit headers.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;

use crate::error::{Error, LimitInfo, retry_after_secs};

/// A successful native answer: `{"success": true, "data": T}`.
pub struct Data<T>(pub T);

impl<T: Serialize> IntoResponse for Data<T> {
    fn into_response(self) -> Response {
        Json(json!({ "success": true, "data": self.0 })).into_response()
    }
}

/// A page of a list: `{"success": true, "data": {"<key>": [...], "next_cursor": …}}` and an
/// RFC 8288 `Link` header with `rel="next"` (and `rel="first"` past the first page), absolute via
/// the public base URL.
pub fn paged<T: Serialize>(
    base: &str,
    uri: &axum::http::Uri,
    key: &str,
    page: crate::service::views::Page<T>,
) -> Response {
    paged_with(base, uri, key, page, Vec::new())
}

/// [`paged`] with extra fields beside the list.
pub fn paged_with<T: Serialize>(
    base: &str,
    uri: &axum::http::Uri,
    key: &str,
    page: crate::service::views::Page<T>,
    extra: Vec<(&str, serde_json::Value)>,
) -> Response {
    let mut links = Vec::new();
    if let Some(next) = &page.next_cursor {
        links.push(format!(
            "<{}>; rel=\"next\"",
            page_url(base, uri, Some(next))
        ));
    }
    let has_cursor = uri
        .query()
        .is_some_and(|q| q.split('&').any(|p| p.starts_with("cursor=")));
    if has_cursor {
        links.push(format!("<{}>; rel=\"first\"", page_url(base, uri, None)));
    }
    let mut body = serde_json::Map::new();
    body.insert(key.to_owned(), json!(page.items));
    body.insert("next_cursor".to_owned(), json!(page.next_cursor));
    for (k, v) in extra {
        body.insert(k.to_owned(), v);
    }
    let mut res = Data(body).into_response();
    if !links.is_empty()
        && let Ok(v) = HeaderValue::from_str(&links.join(", "))
    {
        res.headers_mut().insert(header::LINK, v);
    }
    res
}

/// The same request with its `cursor` replaced (or removed).
pub fn page_url(base: &str, uri: &axum::http::Uri, cursor: Option<&str>) -> String {
    let mut params: Vec<String> = uri
        .query()
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("cursor="))
        .map(str::to_owned)
        .collect();
    if let Some(c) = cursor {
        params.push(format!("cursor={c}"));
    }
    let query = if params.is_empty() {
        String::new()
    } else {
        format!("?{}", params.join("&"))
    };
    format!("{base}{}{query}", uri.path())
}

/// A successful answer with a non-200 status (201 Created).
pub struct Created<T>(pub T);

impl<T: IntoResponse> IntoResponse for Created<T> {
    fn into_response(self) -> Response {
        (axum::http::StatusCode::CREATED, self.0).into_response()
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(code = self.code(), cause = %self, "request failed");
        }
        let mut body = json!({
            "success": false,
            "error": self.public_message(),
            "code": self.code(),
        });
        match &self {
            Error::Validation { field, .. } => body["field"] = json!(field),
            Error::InvalidCategory(_) => {
                body["valid_categories"] = json!(crate::domain::CATEGORIES);
            }
            _ => {}
        }
        if let Some(secs) = self.retry_after() {
            body["retry_after"] = json!(secs);
        }
        let mut res = (status, Json(body)).into_response();
        if let Some(secs) = self.retry_after() {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if let Error::RateLimited { info, .. } = &self {
            set_limit_headers(res.headers_mut(), info);
        }
        res
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
