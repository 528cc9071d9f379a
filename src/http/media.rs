//! GET/HEAD /media/{hash}/{variant}: content-addressed image files with immutable caching.

use axum::body::Body;
use axum::extract::State;

use super::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use tokio_util::io::ReaderStream;

use super::SharedState;
use super::native::{Answer, Native};
use crate::domain::MediaHash;
use crate::error::Error;
use crate::media::files::VariantName;

/// GET /media/{hash}/{variant} (`thumb`, `feed`, `full`, `original`); HEAD too.
pub async fn serve(
    State(s): State<SharedState>,
    Path((hash, variant), _): Path<(String, String), Native>,
    headers: HeaderMap,
) -> Answer {
    let hash = MediaHash::parse_hex(&hash).ok_or(Error::MediaNotFound)?;
    let variant = VariantName::parse(&variant).ok_or(Error::MediaNotFound)?;
    let file = s.services.media.file(hash, variant).await?;
    let etag = format!("\"{hash}-{}\"", variant.as_str());
    let mut res = if if_none_match(&headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let path = &file.path;
        let opened = tokio::fs::File::open(path)
            .await
            .map_err(|e| Error::context(format!("media file {} missing", path.display()), e))?;
        let len = opened.metadata().await.map_err(Error::internal)?.len();
        let mut res = Body::from_stream(ReaderStream::new(opened)).into_response();
        let h = res.headers_mut();
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_str(&file.content_type).map_err(Error::internal)?,
        );
        res
    };
    let h = res.headers_mut();
    h.insert(
        header::ETAG,
        HeaderValue::from_str(&etag).map_err(Error::internal)?,
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    Ok(res)
}

/// Whether an `If-None-Match` header names this ETag (or `*`).
pub(super) fn if_none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == etag || t == "*")
}
