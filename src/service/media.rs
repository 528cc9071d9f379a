//! Serving stored images: which bytes answer a media URL, and with which type. Small variants
//! come from memory when they are hot; the original is a file the surface streams.

use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;

use crate::domain::MediaHash;
use crate::error::{Error, Result};
use crate::media::Media;
use crate::media::cache::Cached;
use crate::media::files::VariantName;
use crate::store::{Store, repo};

/// What answers one media URL.
#[derive(Debug, Clone)]
pub enum Served {
    /// A WebP variant, whole, in one buffer.
    Variant(Bytes),
    /// The original as uploaded: a file to stream (it may be large), with its sniffed type.
    Original { path: PathBuf, content_type: String },
}

/// Stored images as the media URLs serve them.
pub struct Images {
    store: Store,
    media: Arc<Media>,
}

impl Images {
    pub fn new(store: Store, media: Arc<Media>) -> Self {
        Images { store, media }
    }

    /// The largest image accepted, in bytes.
    pub fn max_bytes(&self) -> usize {
        self.media.max_bytes()
    }

    /// The largest request body that can carry an image (base64 and form overhead included).
    pub fn body_limit(&self) -> usize {
        self.media.body_limit()
    }

    /// GET /media/{hash}/{variant}: a variant of an image some post (or scheduled post) still
    /// uses; `MEDIA_NOT_FOUND` otherwise, also for an image whose last user is gone.
    pub async fn variant(&self, hash: MediaHash, variant: VariantName) -> Result<Served> {
        let hot = &self.media.hot;
        if let Some(Cached(bytes)) = hot.get(hash, variant) {
            return Ok(Served::Variant(bytes));
        }
        let since = hot.epoch();
        let record = self
            .store
            .read(move |tx| repo::media(tx, hash))
            .await?
            .filter(|m| m.refs > 0)
            .ok_or(Error::MediaNotFound)?;
        let file = match variant {
            VariantName::Original => {
                return Ok(Served::Original {
                    path: self.media.files.path(hash, variant),
                    content_type: record.info.content_type,
                });
            }
            // Small images have no separate full-size file: the feed variant is the full one.
            VariantName::Full if !record.info.has_full => VariantName::Feed,
            _ => variant,
        };
        let path = self.media.files.path(hash, file);
        let bytes = tokio::fs::read(&path)
            .await
            .map_err(|e| Error::context(format!("media file {} missing", path.display()), e))?;
        let cached = Cached(Bytes::from(bytes));
        hot.fill(since, hash, variant, &cached);
        Ok(Served::Variant(cached.0))
    }
}
