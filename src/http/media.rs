//! GET/HEAD /media/{hash}/{variant}: content-addressed image files with immutable caching.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio_util::io::ReaderStream;

use super::SharedState;
use crate::error::{Error, Result};
use crate::media::files::VariantName;
use crate::store::{MediaHash, repo};

/// GET /media/{hash}/{variant} (`thumb`, `feed`, `full`, `original`); HEAD too.
pub async fn serve(
    State(s): State<SharedState>,
    Path((hash, variant)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response> {
    let hash = MediaHash::parse_hex(&hash).ok_or(Error::MediaNotFound)?;
    let variant = VariantName::parse(&variant).ok_or(Error::MediaNotFound)?;
    let record = s
        .core
        .store
        .read(move |tx| repo::media(tx, hash))
        .await?
        .filter(|m| m.refs > 0)
        .ok_or(Error::MediaNotFound)?;
    let (file_variant, content_type) = match variant {
        VariantName::Original => (variant, record.info.content_type.as_str()),
        // Small images have no separate full-size file: the feed variant is the full one.
        VariantName::Full if !record.info.has_full => (VariantName::Feed, "image/webp"),
        _ => (variant, "image/webp"),
    };
    let etag = format!("\"{hash}-{}\"", variant.as_str());
    let mut res = if if_none_match(&headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let path = s.core.media.files.path(hash, file_variant);
        let file = tokio::fs::File::open(&path)
            .await
            .map_err(|e| Error::internal(format!("media file {} missing: {e}", path.display())))?;
        let len = file.metadata().await.map_err(Error::internal)?.len();
        let mut res = Body::from_stream(ReaderStream::new(file)).into_response();
        let h = res.headers_mut();
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_str(content_type).map_err(Error::internal)?,
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
