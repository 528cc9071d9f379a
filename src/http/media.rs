//! GET/HEAD /media/{hash}/{variant}: content-addressed image files with immutable caching.

use axum::body::Body;
use axum::extract::State;

use super::extract::Path;
use std::io::{Cursor, SeekFrom};

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;

use super::SharedState;
use super::native::{Answer, Native};
use super::openapi::{MEDIA, NativeError};
use crate::domain::MediaHash;
use crate::error::{Error, Result};
use crate::media::files::VariantName;
use crate::service::media::{Original, Served};

/// An image: a WebP variant, or the original as uploaded; HEAD too.
///
/// Content-addressed by the blake3 of the original, so immutable. The WebP
/// variants go out in one buffer with their headers; the original is streamed, its first chunk
/// with the headers, and answers `Range` requests.
#[utoipa::path(get, path = "/media/{hash}/{variant}", tag = MEDIA, params(
    ("hash" = String, Path, description = "The blake3 of the original, 64 hex digits."),
    ("variant" = String, Path, description = "`thumb`, `feed` or `full` (WebP), or `original`."),
), responses(
    (status = 200, description = "The image.", content_type = "image/*", body = Vec<u8>),
    (status = 206, description = "The part of the original a `Range` asked for.", content_type = "image/*", body = Vec<u8>),
    (status = 304, description = "Not modified since the `ETag` the request names."),
    (status = 404, description = "No such image or variant.", body = NativeError),
    (status = 416, description = "The `Range` is outside the original."),
    (status = 503, description = "`MEDIA_STORAGE_UNAVAILABLE`: the bucket holding the images cannot be reached; retry after `Retry-After`.", body = NativeError),
))]
pub async fn serve(
    State(s): State<SharedState>,
    Path((hash, variant), _): Path<(String, String), Native>,
    headers: HeaderMap,
) -> Answer {
    let hash = MediaHash::parse_hex(&hash).ok_or(Error::MediaNotFound)?;
    let variant = VariantName::parse(&variant).ok_or(Error::MediaNotFound)?;
    let served = s.services.media.variant(hash, variant).await?;
    let etag = format!("\"{hash}-{}\"", variant.as_str());
    let mut res = if if_none_match(&headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        match served {
            Served::Variant(bytes) => {
                let mut res = Body::from(bytes).into_response();
                res.headers_mut()
                    .insert(header::CONTENT_TYPE, HeaderValue::from_static("image/webp"));
                res
            }
            Served::Original {
                original: file,
                content_type,
            } => {
                let mut res = original(file, &headers, &etag).await?;
                res.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_str(&content_type).map_err(Error::internal)?,
                );
                res
            }
        }
    };
    let h = res.headers_mut();
    h.insert(
        header::ETAG,
        HeaderValue::from_str(&etag).map_err(Error::internal)?,
    );
    for (name, value) in MEDIA_HEADERS {
        h.insert(name, HeaderValue::from_static(value));
    }
    Ok(res)
}

/// On every media answer: cache forever (the URL names the bytes), never sniff, never run.
const MEDIA_HEADERS: [(header::HeaderName, &str); 3] = [
    (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; sandbox",
    ),
];

/// The bytes read with the headers, so both leave in one write.
const FIRST_CHUNK: u64 = 64 * 1024;

/// The original: whole (`200`), or the one byte range asked for (`206`), or `416` when the
/// range lies outside it. Several ranges, or a `Range` whose `If-Range` names another version,
/// get the whole file.
async fn original(original: Original, headers: &HeaderMap, etag: &str) -> Result<Response> {
    let len = original.len();
    let wanted = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .filter(|_| if_range_holds(headers, etag));
    let (status, start, count) = match byte_range(wanted, len) {
        Ok(None) => (StatusCode::OK, 0, len),
        Ok(Some((first, last))) => (StatusCode::PARTIAL_CONTENT, first, last - first + 1),
        Err(Unsatisfiable) => {
            let mut res = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
            let h = res.headers_mut();
            h.insert(
                header::CONTENT_RANGE,
                header_value(format!("bytes */{len}"))?,
            );
            h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
            return Ok(res);
        }
    };
    let body = match original {
        Original::File { mut file, .. } => {
            if start > 0 {
                file.seek(SeekFrom::Start(start))
                    .await
                    .map_err(Error::internal)?;
            }
            let mut rest = file.take(count);
            let mut first = vec![0u8; count.min(FIRST_CHUNK) as usize];
            rest.read_exact(&mut first).await.map_err(Error::internal)?;
            Body::from_stream(ReaderStream::with_capacity(
                Cursor::new(first).chain(rest),
                FIRST_CHUNK as usize,
            ))
        }
        // A bucket refuses an empty range, so nothing is asked of it for an empty answer.
        Original::Object { .. } if count == 0 => Body::empty(),
        Original::Object { bucket, key, .. } => {
            Body::from_stream(bucket.stream(key, start..start + count))
        }
    };
    let mut res = (status, body).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(count));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if status == StatusCode::PARTIAL_CONTENT {
        let last = start + count - 1;
        h.insert(
            header::CONTENT_RANGE,
            header_value(format!("bytes {start}-{last}/{len}"))?,
        );
    }
    Ok(res)
}

fn header_value(v: String) -> Result<HeaderValue> {
    HeaderValue::try_from(v).map_err(Error::internal)
}

/// A `Range` that cannot be served: it starts past the end of the file.
#[derive(Debug, PartialEq, Eq)]
struct Unsatisfiable;

/// The one byte range (first and last byte, inclusive) a `Range` header asks of a `len`-byte
/// file; `None` means the whole file (no header, another unit, several ranges, or a malformed
/// one, which RFC 9110 lets a server ignore).
fn byte_range(
    raw: Option<&str>,
    len: u64,
) -> std::result::Result<Option<(u64, u64)>, Unsatisfiable> {
    let Some(spec) = raw.and_then(|r| r.trim().strip_prefix("bytes=")) else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return Ok(None);
    };
    let (a, b) = (a.trim(), b.trim());
    let range = match (a.parse::<u64>().ok(), b.parse::<u64>().ok()) {
        // The last `n` bytes.
        (None, Some(n)) if a.is_empty() => match n {
            0 => return Err(Unsatisfiable),
            n => (
                len.saturating_sub(n),
                len.checked_sub(1).ok_or(Unsatisfiable)?,
            ),
        },
        (Some(first), None) if b.is_empty() => (first, len.saturating_sub(1)),
        (Some(first), Some(last)) if first <= last => (first, last.min(len.saturating_sub(1))),
        _ => return Ok(None),
    };
    if range.0 >= len {
        return Err(Unsatisfiable);
    }
    Ok(Some(range))
}

/// `If-Range` absent, or naming this version: the `Range` may be honoured.
fn if_range_holds(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get(header::IF_RANGE)
        .is_none_or(|v| v.to_str().is_ok_and(|v| v.trim() == etag))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_ranges_follow_rfc_9110() {
        let r = |h: &str| byte_range(Some(h), 100);
        assert_eq!(r("bytes=0-9"), Ok(Some((0, 9))));
        assert_eq!(r("bytes=90-"), Ok(Some((90, 99))));
        assert_eq!(r("bytes=-10"), Ok(Some((90, 99))));
        assert_eq!(
            r("bytes=-500"),
            Ok(Some((0, 99))),
            "more than the file is all of it"
        );
        assert_eq!(r("bytes=50-5000"), Ok(Some((50, 99))), "the end is clamped");
        assert_eq!(r("bytes=100-"), Err(Unsatisfiable));
        assert_eq!(r("bytes=-0"), Err(Unsatisfiable));
        assert_eq!(
            r("bytes=0-1,5-6"),
            Ok(None),
            "several ranges: the whole file"
        );
        assert_eq!(r("bytes=9-3"), Ok(None), "malformed: ignored");
        assert_eq!(r("items=0-1"), Ok(None));
        assert_eq!(r("bytes=x-y"), Ok(None));
        assert_eq!(byte_range(None, 100), Ok(None));
        assert_eq!(byte_range(Some("bytes=0-"), 0), Err(Unsatisfiable));
    }
}
