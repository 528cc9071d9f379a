//! Serving stored images: which bytes answer a media URL, and with which type. Small variants
//! come from memory when they are hot; the original is streamed from the store.

use std::sync::Arc;

use bytes::Bytes;

use crate::domain::MediaHash;
use crate::error::{Error, Result};
use crate::media::Media;
use crate::media::cache::Cached;
use crate::media::files::VariantName;
pub use crate::media::store::Original;
use crate::store::{Store, repo};

/// What answers one media URL.
pub enum Served {
    /// A WebP variant, whole, in one buffer.
    Variant(Bytes),
    /// The original as uploaded: opened to stream (it may be large), with its sniffed type.
    Original {
        original: Original,
        content_type: String,
    },
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
        let storage = self.media.storage();
        let file = match variant {
            VariantName::Original => {
                let original = storage.open_original(hash).await?.ok_or_else(|| {
                    Error::internal(format!("image {hash}: original missing from the store"))
                })?;
                return Ok(Served::Original {
                    original,
                    content_type: record.info.content_type,
                });
            }
            // Small images have no separate full-size file: the feed variant is the full one.
            VariantName::Full if !record.info.has_full => VariantName::Feed,
            _ => variant,
        };
        let bytes = storage.get(hash, file).await?.ok_or_else(|| {
            Error::internal(format!(
                "image {hash}: {} missing from the store",
                file.as_str()
            ))
        })?;
        let cached = Cached(bytes);
        hot.fill(since, hash, variant, &cached);
        Ok(Served::Variant(cached.0))
    }
}
