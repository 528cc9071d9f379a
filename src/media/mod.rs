//! Images: intake from a URL (SSRF-safe), base64 or an upload; validation by content; the variant
//! pipeline; and content-addressed files. Nothing here touches the database except to look up
//! whether an image is already stored.

mod avif;
pub mod c2pa;
pub mod cache;
pub mod fetch;
pub mod files;
mod migrate;
pub mod process;
pub mod quality;
pub mod sanitize;
pub mod sniff;
pub mod ssrf;
pub mod store;

pub use migrate::{Migrated, MigrationStep};

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{Notify, Semaphore};

use crate::config;
use crate::error::{Error, Result};
use crate::store::records::MediaInfo;
use crate::store::{MediaHash, Store, repo};
use fetch::Fetcher;
use files::MediaFiles;
use process::Encoding;
use sniff::Format;
use ssrf::AddressPolicy;
use store::{ImageFiles, Storage};

/// Where a new post's image comes from.
#[derive(Debug)]
pub enum ImageInput {
    Url(String),
    Bytes(Vec<u8>),
}

/// An image ready to be referenced by a post: its files are durable in the store, and pinned there
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

/// Which images are pinned (and how often), and which are having their files removed.
#[derive(Default)]
struct PinState {
    counts: HashMap<MediaHash, usize>,
    removing: HashSet<MediaHash>,
}

/// The pins of one server. A removal marks its image under the lock and works outside it (a
/// bucket's deletes take round trips); a pin of an image being removed waits for the removal
/// to finish, then finds the files gone and writes them again.
#[derive(Default)]
struct PinTable {
    state: Mutex<PinState>,
    removed: Notify,
}

type Pins = Arc<PinTable>;

impl std::fmt::Debug for PinTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PinTable")
    }
}

impl PinTable {
    fn lock(&self) -> Result<std::sync::MutexGuard<'_, PinState>> {
        self.state
            .lock()
            .map_err(|_| Error::internal("media pins lock"))
    }
}

/// Marks an image as being removed until dropped (also when the removal is cancelled).
struct Removing {
    pins: Pins,
    hash: MediaHash,
}

impl Drop for Removing {
    fn drop(&mut self) {
        if let Ok(mut st) = self.pins.state.lock() {
            st.removing.remove(&self.hash);
        }
        self.pins.removed.notify_waiters();
    }
}

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

    /// Pins `hash`, first waiting out a removal of its files that is under way.
    async fn new(pins: &Pins, hash: MediaHash) -> Result<Pin> {
        loop {
            let removed = pins.removed.notified();
            tokio::pin!(removed);
            removed.as_mut().enable();
            {
                let mut st = pins.lock()?;
                if !st.removing.contains(&hash) {
                    *st.counts.entry(hash).or_default() += 1;
                    return Ok(Pin {
                        pins: pins.clone(),
                        hash,
                    });
                }
            }
            removed.await;
        }
    }
}

impl Drop for Pin {
    fn drop(&mut self) {
        if let Ok(mut st) = self.pins.state.lock()
            && let Some(n) = st.counts.get_mut(&self.hash)
        {
            *n -= 1;
            if *n == 0 {
                st.counts.remove(&self.hash);
            }
        }
    }
}

/// The store in use and a migration's target.
#[derive(Clone)]
struct Stores {
    current: Arc<Storage>,
    mirror: Option<Arc<Storage>>,
}

/// Longest a request waits for a free image worker before it is told to come back (503).
const QUEUE_WAIT: Duration = Duration::from_secs(30);
/// Longest one image may take to process.
const PROCESS_TIMEOUT: Duration = Duration::from_secs(60);

pub struct Media {
    /// Where the images are, and where a migration copies them; read together, so a removal
    /// sees both or neither side of a switch.
    stores: RwLock<Stores>,
    /// Image writes mirrored to a migration's target (a migration reports how many).
    mirrored: std::sync::atomic::AtomicU64,
    /// Held (shared) by every write of image files; a migration takes it alone to start
    /// mirroring and to switch stores, so no write straddles either moment.
    writes: tokio::sync::RwLock<()>,
    /// Serialises migrations.
    migrating: tokio::sync::Mutex<()>,
    data_dir: PathBuf,
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
        // Half-written folders from a crash, whichever store is in use now.
        MediaFiles::new(data_dir).clean_temporary();
        let kind = store::choose(data_dir, cfg.storage)?;
        let storage = Storage::open(kind, data_dir, &cfg.s3)?;
        tracing::info!(storage = %kind, at = %storage.describe(), "media storage");
        Ok(Media {
            stores: RwLock::new(Stores {
                current: Arc::new(storage),
                mirror: None,
            }),
            mirrored: std::sync::atomic::AtomicU64::new(0),
            writes: tokio::sync::RwLock::new(()),
            migrating: tokio::sync::Mutex::new(()),
            data_dir: data_dir.to_owned(),
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
        let pin = Pin::new(&self.pins, hash).await?;
        if let Some(existing) = store.read(move |tx| repo::media(tx, hash)).await?
            && self
                .storage()
                .complete(hash, existing.info.has_full)
                .await?
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
        let work = tokio::task::spawn_blocking(move || {
            let started = std::time::Instant::now();
            let p = process::process(&bytes, format, limits, enc)?;
            Ok::<_, Error>((p, started.elapsed()))
        });
        let (mut p, took) = tokio::time::timeout(PROCESS_TIMEOUT, work)
            .await
            .map_err(|_| Error::InvalidImage("the image took too long to process".into()))?
            .map_err(Error::internal)??;
        // Storing is I/O (a bucket's round trips): it does not hold an image worker.
        drop(_permit);
        let files = ImageFiles {
            original: Bytes::from(original),
            content_type: format.content_type().to_owned(),
            thumb: Bytes::from(std::mem::take(&mut p.thumb.webp)),
            feed: Bytes::from(std::mem::take(&mut p.feed.webp)),
            full: p
                .full
                .as_mut()
                .map(|f| Bytes::from(std::mem::take(&mut f.webp))),
        };
        let written = self.write(hash, &files).await?;
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
        let pin = Pin::new(&self.pins, hash).await?;
        let found = store.read(move |tx| repo::media(tx, hash)).await?;
        let complete = match &found {
            Some(m) => self.storage().complete(hash, m.info.has_full).await?,
            None => false,
        };
        match found {
            Some(m) if complete => Ok(Ingested {
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

    fn stores(&self) -> Stores {
        match self.stores.read() {
            Ok(s) => s.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn set_stores(&self, f: impl FnOnce(&mut Stores)) {
        match self.stores.write() {
            Ok(mut s) => f(&mut s),
            Err(poisoned) => f(&mut poisoned.into_inner()),
        }
    }

    /// The store the images are in now.
    pub fn storage(&self) -> Arc<Storage> {
        self.stores().current
    }

    /// Where media is served from directly (a CDN or public bucket), when not from here.
    pub fn public_base_url(&self) -> Option<Arc<str>> {
        let stores = match self.stores.read() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        stores.current.public_base_url().cloned()
    }

    /// Stores an image's files in the store, and in the migration's target when one runs; the
    /// post that references them commits only after this returns.
    async fn write(&self, hash: MediaHash, files: &ImageFiles) -> Result<u64> {
        let _shared = self.writes.read().await;
        let Stores { current, mirror } = self.stores();
        let written = current.put(hash, files).await?;
        if let Some(mirror) = mirror {
            mirror.put(hash, files).await?;
            self.mirrored
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(written)
    }

    /// Marks `hash` as being removed, unless it is pinned, already being removed, or its
    /// database row (if any) says `keep`; decided under the pins lock, which every upload takes
    /// before it looks the image up. Blocking (a database read under the lock).
    fn claim_removal(
        &self,
        store: &Store,
        hash: MediaHash,
        keep: impl FnOnce(&crate::store::records::MediaRecord) -> bool,
    ) -> Result<Option<Removing>> {
        let mut st = self.pins.lock()?;
        let referenced = store
            .read_blocking(|tx| repo::media(tx, hash))?
            .is_some_and(|m| keep(&m));
        if referenced || st.counts.contains_key(&hash) || st.removing.contains(&hash) {
            return Ok(None);
        }
        st.removing.insert(hash);
        Ok(Some(Removing {
            pins: self.pins.clone(),
            hash,
        }))
    }

    /// Removes an image's files from the store (and a migration's target).
    async fn remove(&self, hash: MediaHash) -> Result<()> {
        let Stores { current, mirror } = self.stores();
        current.delete(hash).await?;
        if let Some(mirror) = mirror {
            mirror.delete(hash).await?;
        }
        Ok(())
    }

    /// Removes an image's files after its last post is gone, unless an upload of the same image
    /// is in flight or has re-referenced it meanwhile (then they stay, as they must).
    pub async fn release(self: &Arc<Self>, hash: MediaHash, store: &Store) {
        // Whatever happens to the files, the image is not served from memory any more.
        self.hot.release(hash);
        let (media, store) = (self.clone(), store.clone());
        // Its own task: a client that hangs up must not cut a removal short.
        let _ = tokio::spawn(async move {
            let claim = {
                let media = media.clone();
                // A release removes only what has no row left at all.
                tokio::task::spawn_blocking(move || media.claim_removal(&store, hash, |_| true))
                    .await
            };
            let Ok(Ok(Some(_removing))) = claim else {
                return;
            };
            if let Err(e) = media.remove(hash).await {
                tracing::warn!(%hash, error = %crate::error::Chain(&e), "could not remove released media; gc will");
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
        let mut st = self.pins.lock()?;
        let (value, hashes) = f()?;
        let held = hashes
            .into_iter()
            .map(|hash| {
                *st.counts.entry(hash).or_default() += 1;
                Pin {
                    pins: self.pins.clone(),
                    hash,
                }
            })
            .collect();
        Ok((value, held))
    }

    /// Removes stored images that no database row references and no upload holds; with
    /// `dry_run`, only counts them. Each image is claimed under the pins lock, so an upload of
    /// the same bytes either sees it gone or keeps it. Blocking: run it off the async workers.
    pub fn collect_garbage(
        &self,
        store: &Store,
        dry_run: bool,
        mut progress: impl FnMut(u64, u64),
    ) -> Result<Garbage> {
        let rt = tokio::runtime::Handle::current();
        let storage = self.storage();
        let stored = rt.block_on(storage.list())?;
        let total = stored.len() as u64;
        let mut out = Garbage::default();
        for (i, hash) in stored.into_iter().enumerate() {
            progress(i as u64 + 1, total);
            let Some(_removing) = self.claim_removal(store, hash, |m| m.refs > 0)? else {
                continue;
            };
            out.images += 1;
            out.bytes += rt.block_on(storage.size(hash))?;
            if !dry_run {
                rt.block_on(self.remove(hash))?;
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
