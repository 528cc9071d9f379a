//! Serving stored images: which file answers a media URL, and with which type.

use std::path::PathBuf;

use std::sync::Arc;

use crate::domain::MediaHash;
use crate::error::{Error, Result};
use crate::media::Media;
use crate::media::files::VariantName;
use crate::store::{Store, repo};

/// The file that answers one media URL.
#[derive(Debug, Clone)]
pub struct MediaFile {
    pub path: PathBuf,
    pub content_type: String,
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

    /// GET /media/{hash}/{variant}: the file of a variant of an image some post (or scheduled
    /// post) still uses; `MEDIA_NOT_FOUND` otherwise, also for an image whose last user is gone.
    pub async fn file(&self, hash: MediaHash, variant: VariantName) -> Result<MediaFile> {
        let record = self
            .store
            .read(move |tx| repo::media(tx, hash))
            .await?
            .filter(|m| m.refs > 0)
            .ok_or(Error::MediaNotFound)?;
        let (file_variant, content_type) = match variant {
            VariantName::Original => (variant, record.info.content_type),
            // Small images have no separate full-size file: the feed variant is the full one.
            VariantName::Full if !record.info.has_full => (VariantName::Feed, "image/webp".into()),
            _ => (variant, "image/webp".into()),
        };
        Ok(MediaFile {
            path: self.media.files.path(hash, file_variant),
            content_type,
        })
    }
}
