//! Images: intake from a URL (SSRF-safe), base64 or an upload; validation by content; the variant
//! pipeline; and content-addressed files. Nothing here touches the database except to look up
//! whether an image is already stored.

mod avif;
pub mod c2pa;
pub mod cache;
pub mod fetch;
pub mod files;
pub mod process;
pub mod quality;
pub mod sanitize;
pub mod sniff;
pub mod ssrf;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::config;
use crate::error::{Error, Result};
use crate::store::records::MediaInfo;
use crate::store::{MediaHash, Store, repo};
use fetch::Fetcher;
use files::MediaFiles;
use process::Encoding;
use sniff::Format;
use ssrf::AddressPolicy;

/// Where a new post's image comes from.
#[derive(Debug)]
pub enum ImageInput {
    Url(String),
    Bytes(Vec<u8>),
}

/// An image ready to be referenced by a post: its files are durable on disk, and pinned there
/// until the `Ingested` is dropped (after the post's commit), so a concurrent deletion of the last
/// post using the same image cannot remove them in between.
#[derive(Debug)]
pub struct Ingested {
    pub info: MediaInfo,
    pub bytes_on_disk: u64,
    pub source_url: Option<String>,
    /// How long decoding and making the variants took; `None` when the image was stored already.
    pub processing: Option<Duration>,
    /// The quality score, when the image was processed now (a stored one has its own already).
    pub quality: Option<quality::Quality>,
    /// The upload carried an embedded C2PA manifest (found before metadata was stripped).
    pub c2pa: Option<c2pa::C2pa>,
    /// Whether the upload was looked at for one (JPEG and PNG are).
    pub c2pa_checked: bool,
    _pin: Pin,
}

type Pins = Arc<Mutex<HashMap<MediaHash, usize>>>;

/// What [`Media::collect_garbage`] found (and removed, unless it was a dry run).
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Garbage {
    pub images: u64,
    pub bytes: u64,
}

/// Keeps one image's files from being released (or collected) while held.
#[derive(Debug)]
pub struct Pin {
    pins: Pins,
    hash: MediaHash,
}

impl Pin {
    pub fn hash(&self) -> MediaHash {
        self.hash
    }

    fn new(pins: &Pins, hash: MediaHash) -> Pin {
        if let Ok(mut p) = pins.lock() {
            *p.entry(hash).or_default() += 1;
        }
        Pin {
            pins: pins.clone(),
            hash,
        }
    }
}

impl Drop for Pin {
    fn drop(&mut self) {
        if let Ok(mut p) = self.pins.lock()
            && let Some(n) = p.get_mut(&self.hash)
        {
            *n -= 1;
            if *n == 0 {
                p.remove(&self.hash);
            }
        }
    }
}

/// Longest a request waits for a free image worker before it is told to come back (503).
const QUEUE_WAIT: Duration = Duration::from_secs(30);
/// Longest one image may take to process.
const PROCESS_TIMEOUT: Duration = Duration::from_secs(60);

pub struct Media {
    pub files: MediaFiles,
    /// Hot variants in memory; a release evicts an image from it.
    pub hot: cache::HotVariants,
    pins: Pins,
    fetcher: Fetcher,
    workers: Arc<Semaphore>,
    cfg: config::Media,
}

impl Media {
    pub fn new(data_dir: &Path, cfg: &config::Media, user_agent: &str) -> Result<Media> {
        let policy = AddressPolicy::new(cfg.allow_private_fetch, cfg.deny_networks.clone());
        let fetcher = Fetcher::new(
            policy,
            cfg.max_bytes,
            cfg.max_redirects,
            Duration::from_secs(cfg.connect_timeout_secs),
            Duration::from_secs(cfg.fetch_timeout_secs),
            user_agent,
        )?;
        let workers = match cfg.workers {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
            n => n,
        };
        let files = MediaFiles::new(data_dir);
        files.clean_temporary();
        Ok(Media {
            files,
            hot: cache::HotVariants::new(cfg.cache_bytes),
            pins: Pins::default(),
            fetcher,
            workers: Arc::new(Semaphore::new(workers)),
            cfg: cfg.clone(),
        })
    }

    pub fn max_bytes(&self) -> usize {
        self.cfg.max_bytes
    }

    /// The largest request body that can carry an image: base64 grows it by 4/3, plus the form.
    pub fn body_limit(&self) -> usize {
        self.cfg.max_bytes / 3 * 4 + 1024 * 1024
    }

    /// Fetches or takes the bytes, validates them, and stores the image and its variants unless
    /// the same bytes are stored already.
    pub async fn ingest(&self, input: ImageInput, store: &Store) -> Result<Ingested> {
        let (bytes, source_url) = match input {
            ImageInput::Url(url) => {
                let f = self.fetcher.fetch(&url).await?;
                (f.bytes, Some(f.final_url))
            }
            ImageInput::Bytes(b) => (b, None),
        };
        if bytes.len() > self.cfg.max_bytes {
            return Err(Error::UploadTooLarge(self.cfg.max_bytes));
        }
        let format = self.validate(&bytes)?;
        let (c2pa, c2pa_checked) = match format {
            Format::Jpeg => (c2pa::detect_jpeg(&bytes), true),
            Format::Png => (c2pa::detect_png(&bytes), true),
            _ => (None, false),
        };
        let bytes = Arc::new(bytes);
        // The stored original is the metadata-free copy, and it is what the hash names, so two
        // uploads that differ only in their EXIF are one image.
        let (original, hash) = {
            let bytes = bytes.clone();
            tokio::task::spawn_blocking(move || {
                let clean = sanitize::strip_metadata(&bytes, format)?;
                let hash = MediaHash::of(&clean);
                Ok::<_, Error>((clean, hash))
            })
            .await
            .map_err(Error::internal)??
        };
        let pin = Pin::new(&self.pins, hash);
        if let Some(existing) = store.read(move |tx| repo::media(tx, hash)).await?
            && self.files.complete(hash, existing.info.has_full)
        {
            return Ok(Ingested {
                info: existing.info,
                bytes_on_disk: existing.bytes,
                source_url,
                processing: None,
                quality: None,
                c2pa,
                c2pa_checked,
                _pin: pin,
            });
        }
        let _permit = tokio::time::timeout(QUEUE_WAIT, self.workers.clone().acquire_owned())
            .await
            .map_err(|_| Error::Overloaded)?
            .map_err(|_| Error::ShuttingDown)?;
        let limits = process::decode_limits(self.cfg.max_side, self.cfg.max_pixels);
        let enc = Encoding {
            quality: self.cfg.webp_quality,
            method: self.cfg.webp_method,
        };
        let files = self.files.clone();
        let work = tokio::task::spawn_blocking(move || {
            let started = std::time::Instant::now();
            let p = process::process(&bytes, format, limits, enc)?;
            let took = started.elapsed();
            let written = files.store(hash, &original, &p)?;
            Ok::<_, Error>((p, written, took))
        });
        let (p, written, took) = tokio::time::timeout(PROCESS_TIMEOUT, work)
            .await
            .map_err(|_| Error::InvalidImage("the image took too long to process".into()))?
            .map_err(Error::internal)??;
        Ok(Ingested {
            info: MediaInfo {
                hash: hash.0,
                content_type: format.content_type().to_owned(),
                width: p.width,
                height: p.height,
                blurhash: p.blurhash,
                phash: p.phash,
                has_full: p.full.is_some(),
            },
            bytes_on_disk: written,
            source_url,
            processing: Some(took),
            quality: Some(p.quality),
            c2pa,
            c2pa_checked,
            _pin: pin,
        })
    }

    /// An image already stored here (a generation's), pinned like a fresh upload; nothing is
    /// fetched or decoded. `MEDIA_NOT_FOUND` when its row or files are gone.
    pub async fn stored(&self, hash: MediaHash, store: &Store) -> Result<Ingested> {
        let pin = Pin::new(&self.pins, hash);
        let found = store.read(move |tx| repo::media(tx, hash)).await?;
        match found {
            Some(m) if self.files.complete(hash, m.info.has_full) => Ok(Ingested {
                info: m.info,
                bytes_on_disk: m.bytes,
                source_url: None,
                processing: None,
                quality: None,
                c2pa: None,
                c2pa_checked: false,
                _pin: pin,
            }),
            _ => Err(Error::MediaNotFound),
        }
    }

    /// Removes an image's files after its last post is gone, unless an upload of the same image
    /// is in flight or has re-referenced it meanwhile (then they stay, as they must).
    pub async fn release(&self, hash: MediaHash, store: &Store) {
        // Whatever happens to the files, the image is not served from memory any more.
        self.hot.release(hash);
        let (pins, files, store) = (self.pins.clone(), self.files.clone(), store.clone());
        let _ = tokio::task::spawn_blocking(move || {
            // Checked under the pins lock, which every upload takes before it looks the image up.
            let Ok(pins) = pins.lock() else { return };
            let referenced = store.read_blocking(|tx| repo::media(tx, hash));
            if pins.contains_key(&hash) || !matches!(referenced, Ok(None)) {
                return;
            }
            if let Err(e) = std::fs::remove_dir_all(files.dir(hash)) {
                tracing::warn!(%hash, cause = %e, "could not remove released media; gc will");
            }
        })
        .await;
    }

    /// Runs `f` (which opens a database snapshot and lists the images it references) under the
    /// pins lock and pins those images before the lock is let go. A deletion's release takes the
    /// same lock, so no file the snapshot references can vanish while the pins are held.
    pub fn pin_snapshot<T>(
        &self,
        f: impl FnOnce() -> Result<(T, Vec<MediaHash>)>,
    ) -> Result<(T, Vec<Pin>)> {
        let mut pins = self
            .pins
            .lock()
            .map_err(|_| Error::internal("media pins lock"))?;
        let (value, hashes) = f()?;
        let held = hashes
            .into_iter()
            .map(|hash| {
                *pins.entry(hash).or_default() += 1;
                Pin {
                    pins: self.pins.clone(),
                    hash,
                }
            })
            .collect();
        Ok((value, held))
    }

    /// Removes stored images that no database row references and no upload holds; with
    /// `dry_run`, only counts them. Each image is checked and removed under the pins lock, so an
    /// upload of the same bytes either sees it gone or keeps it.
    pub fn collect_garbage(
        &self,
        store: &Store,
        dry_run: bool,
        mut progress: impl FnMut(u64, u64),
    ) -> Result<Garbage> {
        let stored = self.files.stored()?;
        let total = stored.len() as u64;
        let mut out = Garbage::default();
        for (i, hash) in stored.into_iter().enumerate() {
            progress(i as u64 + 1, total);
            let pins = self
                .pins
                .lock()
                .map_err(|_| Error::internal("media pins lock"))?;
            let referenced = store
                .read_blocking(|tx| repo::media(tx, hash))?
                .is_some_and(|m| m.refs > 0);
            if referenced || pins.contains_key(&hash) {
                continue;
            }
            let dir = self.files.dir(hash);
            out.images += 1;
            out.bytes += files::dir_size(&dir);
            if !dry_run {
                std::fs::remove_dir_all(&dir)
                    .map_err(|e| Error::internal(format!("removing {}: {e}", dir.display())))?;
            }
        }
        Ok(out)
    }

    /// Everything knowable before decoding: type, dimensions, frames. A decompression bomb is
    /// refused here, from its header, before any pixel memory is allocated.
    fn validate(&self, bytes: &[u8]) -> Result<Format> {
        let format = sniff::sniff(bytes)?;
        let (w, h) = sniff::dimensions(bytes, format)?;
        let c = &self.cfg;
        if w == 0 || h == 0 {
            return Err(Error::InvalidImage("the image has no pixels".into()));
        }
        if w > c.max_side || h > c.max_side || u64::from(w) * u64::from(h) > c.max_pixels {
            return Err(Error::ImageTooLarge(format!(
                "{w}×{h} is over the limit of {} px a side and {} megapixels",
                c.max_side,
                c.max_pixels / 1_000_000
            )));
        }
        let frames = sniff::frame_count(bytes, format)?;
        if frames > c.max_frames {
            return Err(Error::ImageTooLarge(format!(
                "{frames} frames is over the limit of {}",
                c.max_frames
            )));
        }
        Ok(format)
    }
}
