//! Where image files live: the data dir ([`MediaFiles`]) or an S3-compatible bucket
//! ([`Bucket`]). Both keep the same promises, which the rest of the server relies on: an image's
//! files are addressed by the blake3 of its original; all of them are stored, completely, before
//! `put` returns (so before the post row that references them commits); a missing object reads
//! as `None`, never as an error; and a store that cannot be reached is
//! [`Error::MediaStorageUnavailable`], a 503 the client may retry, never a half-written post.

use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt, stream::BoxStream};
use object_store::path::Path as Key;
use object_store::{
    Attribute, Attributes, ClientOptions, GetOptions, GetRange, ObjectStore, ObjectStoreExt,
    PutOptions, PutPayload, RetryConfig,
};

use super::files::{MediaFiles, VariantName};
use crate::config::{S3, StorageKind};
use crate::domain::MediaHash;
use crate::error::{Error, Result};

/// Every file of one image, as stored.
#[derive(Debug, Clone)]
pub struct ImageFiles {
    /// The metadata-free original, whose blake3 is the image's name.
    pub original: Bytes,
    /// The sniffed type of the original (`image/png` …).
    pub content_type: String,
    pub thumb: Bytes,
    pub feed: Bytes,
    /// Only images larger than the feed size have a separate full-size variant.
    pub full: Option<Bytes>,
}

impl ImageFiles {
    /// `(variant, bytes)` for every file, the original last: a reader that finds the original
    /// finds the rest.
    pub fn parts(&self) -> Vec<(VariantName, &Bytes)> {
        let mut parts = vec![
            (VariantName::Thumb, &self.thumb),
            (VariantName::Feed, &self.feed),
        ];
        if let Some(full) = &self.full {
            parts.push((VariantName::Full, full));
        }
        parts.push((VariantName::Original, &self.original));
        parts
    }

    /// Bytes of every file together.
    pub fn len(&self) -> u64 {
        self.parts().iter().map(|(_, b)| b.len() as u64).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The store of one server's images.
#[derive(Debug, Clone)]
pub enum Storage {
    Fs(MediaFiles),
    S3(Bucket),
}

/// An original opened for reading: its length is known before any byte is sent, so a `Range`
/// can be checked against it.
pub enum Original {
    File { file: tokio::fs::File, len: u64 },
    Object { bucket: Bucket, key: Key, len: u64 },
}

impl Original {
    pub fn len(&self) -> u64 {
        match self {
            Original::File { len, .. } | Original::Object { len, .. } => *len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Storage {
    /// The store `kind` names: the data dir's `media` folder, or the configured bucket.
    pub fn open(kind: StorageKind, data_dir: &std::path::Path, s3: &S3) -> Result<Storage> {
        Ok(match kind {
            StorageKind::Fs => Storage::Fs(MediaFiles::new(data_dir)),
            StorageKind::S3 => Storage::S3(Bucket::new(s3)?),
        })
    }

    pub fn kind(&self) -> StorageKind {
        match self {
            Storage::Fs(_) => StorageKind::Fs,
            Storage::S3(_) => StorageKind::S3,
        }
    }

    /// Where the images are, for people (`<data_dir>/media`, `s3://bucket/prefix`).
    pub fn describe(&self) -> String {
        match self {
            Storage::Fs(f) => f.root().display().to_string(),
            Storage::S3(b) => b.describe(),
        }
    }

    /// Stores every file of an image durably; returns the bytes written. Storing an image that
    /// is stored already keeps (fs) or rewrites (S3, the same bytes) it.
    pub async fn put(&self, hash: MediaHash, files: &ImageFiles) -> Result<u64> {
        match self {
            Storage::Fs(f) => {
                let (f, files) = (f.clone(), files.clone());
                tokio::task::spawn_blocking(move || f.store(hash, &files))
                    .await
                    .map_err(Error::internal)?
            }
            Storage::S3(b) => b.put(hash, files).await,
        }
    }

    /// Whether every file of an image is there.
    pub async fn complete(&self, hash: MediaHash, has_full: bool) -> Result<bool> {
        match self {
            Storage::Fs(f) => Ok(f.complete(hash, has_full)),
            Storage::S3(b) => b.complete(hash, has_full).await,
        }
    }

    /// One file, whole; `None` when it is not stored.
    pub async fn get(&self, hash: MediaHash, variant: VariantName) -> Result<Option<Bytes>> {
        match self {
            Storage::Fs(f) => match tokio::fs::read(f.path(hash, variant)).await {
                Ok(bytes) => Ok(Some(Bytes::from(bytes))),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(Error::context(format!("reading image {hash}"), e)),
            },
            Storage::S3(b) => b.get(hash, variant).await,
        }
    }

    /// The original, opened to stream; `None` when it is not stored.
    pub async fn open_original(&self, hash: MediaHash) -> Result<Option<Original>> {
        match self {
            Storage::Fs(f) => {
                let path = f.path(hash, VariantName::Original);
                let file = match tokio::fs::File::open(&path).await {
                    Ok(file) => file,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                    Err(e) => return Err(Error::context(format!("opening image {hash}"), e)),
                };
                let len = file.metadata().await.map_err(Error::internal)?.len();
                Ok(Some(Original::File { file, len }))
            }
            Storage::S3(b) => {
                let key = b.key(hash, VariantName::Original);
                match b.store.head(&key).await {
                    Ok(meta) => Ok(Some(Original::Object {
                        bucket: b.clone(),
                        key,
                        len: meta.size,
                    })),
                    Err(object_store::Error::NotFound { .. }) => Ok(None),
                    Err(e) => Err(unavailable(e)),
                }
            }
        }
    }

    /// Removes every file of an image (those already gone are no error).
    pub async fn delete(&self, hash: MediaHash) -> Result<()> {
        match self {
            Storage::Fs(f) => {
                let f = f.clone();
                tokio::task::spawn_blocking(move || f.remove(hash))
                    .await
                    .map_err(Error::internal)?
            }
            Storage::S3(b) => b.delete(hash).await,
        }
    }

    /// The hash of every image stored (uploads in progress excluded), sorted.
    pub async fn list(&self) -> Result<Vec<MediaHash>> {
        match self {
            Storage::Fs(f) => {
                let f = f.clone();
                tokio::task::spawn_blocking(move || f.stored())
                    .await
                    .map_err(Error::internal)?
            }
            Storage::S3(b) => b.list().await,
        }
    }

    /// Bytes an image's files take.
    pub async fn size(&self, hash: MediaHash) -> Result<u64> {
        match self {
            Storage::Fs(f) => Ok(super::files::dir_size(&f.dir(hash))),
            Storage::S3(b) => b.size(hash).await,
        }
    }

    /// Every file of a stored image, whatever its database row says (the original's type is
    /// sniffed, `full` read when there is one); `None` when the original, thumb or feed is
    /// missing.
    pub async fn read_any(&self, hash: MediaHash) -> Result<Option<ImageFiles>> {
        let get = |v| self.get(hash, v);
        let (Some(original), Some(thumb), Some(feed)) = (
            get(VariantName::Original).await?,
            get(VariantName::Thumb).await?,
            get(VariantName::Feed).await?,
        ) else {
            return Ok(None);
        };
        let content_type = super::sniff::sniff(&original)
            .map(|f| f.content_type())
            .unwrap_or("application/octet-stream")
            .to_owned();
        Ok(Some(ImageFiles {
            full: get(VariantName::Full).await?,
            original,
            content_type,
            thumb,
            feed,
        }))
    }

    /// Whether every file of `files` is stored here with exactly those bytes (checked by blake3
    /// after reading each back).
    pub async fn holds(&self, hash: MediaHash, files: &ImageFiles) -> Result<bool> {
        for (variant, expected) in files.parts() {
            match self.get(hash, variant).await? {
                Some(found) if blake3::hash(&found) == blake3::hash(expected) => {}
                _ => return Ok(false),
            }
        }
        Ok(true)
    }

    /// Checks that the store answers (for a bucket: that it exists and the credentials are
    /// accepted), so a misconfiguration shows in the log at start, not at the first upload.
    pub async fn probe(&self) -> Result<()> {
        match self {
            Storage::Fs(_) => Ok(()),
            Storage::S3(b) => {
                let prefix = (!b.prefix.as_ref().is_empty()).then_some(&b.prefix);
                b.store
                    .list_with_delimiter(prefix)
                    .await
                    .map(|_| ())
                    .map_err(unavailable)
            }
        }
    }

    /// The URL prefix media is served from directly, when it is not this server.
    pub fn public_base_url(&self) -> Option<&Arc<str>> {
        match self {
            Storage::S3(b) => b.public_base_url.as_ref(),
            Storage::Fs(_) => None,
        }
    }
}

/// An S3-compatible bucket (through `object_store`, which signs, retries and streams), with
/// keys `<prefix>/<hash>/<variant>`, mirroring the media URLs, so a CDN or public bucket in
/// front of it serves `<public_base_url>/<hash>/<variant>` with no rewriting.
#[derive(Debug, Clone)]
pub struct Bucket {
    store: Arc<dyn ObjectStore>,
    prefix: Key,
    name: String,
    /// Shared, as every media URL of a page starts with it.
    public_base_url: Option<Arc<str>>,
}

/// A failure to reach the bucket, which the client may retry; refused credentials are a
/// misconfiguration no retry cures, so they are an internal error (logged, 500).
fn unavailable(e: object_store::Error) -> Error {
    match e {
        object_store::Error::PermissionDenied { .. }
        | object_store::Error::Unauthenticated { .. } => {
            Error::context("the bucket refused the configured credentials", e)
        }
        e => Error::MediaStorageUnavailable(Box::new(e)),
    }
}

/// Cache headers a CDN or browser reading the bucket directly sees: the bytes under a key never
/// change.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

impl Bucket {
    pub fn new(cfg: &S3) -> Result<Bucket> {
        if !cfg.configured() {
            return Err(Error::internal(
                "this data dir's images are in a bucket, but the config names none: pass the config with its [media.s3] (--config)",
            ));
        }
        // reqwest is built without a default TLS provider; the binary uses ring everywhere.
        let _ = rustls::crypto::ring::default_provider().install_default();
        // Environment first (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`,
        // `AWS_REGION`, `AWS_ENDPOINT` …), the config's values over it.
        let mut b = object_store::aws::AmazonS3Builder::from_env()
            .with_bucket_name(cfg.bucket.trim())
            .with_virtual_hosted_style_request(cfg.virtual_hosted_style)
            .with_retry(RetryConfig {
                max_retries: cfg.max_retries,
                retry_timeout: Duration::from_secs(cfg.timeout_secs * 2),
                ..RetryConfig::default()
            })
            .with_client_options(
                ClientOptions::new()
                    .with_connect_timeout(Duration::from_secs(5))
                    .with_timeout(Duration::from_secs(cfg.timeout_secs))
                    .with_allow_http(cfg.endpoint.starts_with("http://")),
            );
        if !cfg.region.is_empty() {
            b = b.with_region(&cfg.region);
        }
        if !cfg.endpoint.is_empty() {
            b = b.with_endpoint(&cfg.endpoint);
        }
        for (value, set) in [
            (&cfg.access_key_id, 0),
            (&cfg.secret_access_key, 1),
            (&cfg.session_token, 2),
        ] {
            if !value.is_empty() {
                let v = value.expose();
                b = match set {
                    0 => b.with_access_key_id(v),
                    1 => b.with_secret_access_key(v),
                    _ => b.with_token(v),
                };
            }
        }
        let store = b.build().map_err(|e| {
            // The builder's message names the missing or bad setting, never a credential.
            Error::internal(format!("media.s3: {e}"))
        })?;
        Ok(Bucket {
            store: Arc::new(store),
            prefix: Key::from(cfg.prefix.as_str()),
            name: cfg.bucket.trim().to_owned(),
            public_base_url: Some(cfg.public_base_url.trim().trim_end_matches('/'))
                .filter(|u| !u.is_empty())
                .map(Arc::from),
        })
    }

    fn describe(&self) -> String {
        match self.prefix.as_ref() {
            "" => format!("s3://{}", self.name),
            p => format!("s3://{}/{p}", self.name),
        }
    }

    fn dir(&self, hash: MediaHash) -> Key {
        self.prefix.clone().join(hash.to_string())
    }

    fn key(&self, hash: MediaHash, variant: VariantName) -> Key {
        self.dir(hash).join(variant.as_str())
    }

    /// Writes the variants, then the original. An image without a separate full-size variant
    /// gets its feed bytes under `full` too, so `<hash>/full` answers on a CDN as it does here.
    async fn put(&self, hash: MediaHash, files: &ImageFiles) -> Result<u64> {
        let mut parts = files.parts();
        if files.full.is_none() {
            parts.insert(2, (VariantName::Full, &files.feed));
        }
        let mut total = 0;
        for (variant, bytes) in parts {
            let content_type = match variant {
                VariantName::Original => files.content_type.clone(),
                _ => "image/webp".to_owned(),
            };
            let attributes = Attributes::from_iter([
                (Attribute::ContentType, content_type),
                (Attribute::CacheControl, IMMUTABLE.to_owned()),
            ]);
            let opts = PutOptions {
                attributes,
                ..PutOptions::default()
            };
            self.store
                .put_opts(
                    &self.key(hash, variant),
                    PutPayload::from_bytes(bytes.clone()),
                    opts,
                )
                .await
                .map_err(unavailable)?;
            total += bytes.len() as u64;
        }
        Ok(total)
    }

    async fn complete(&self, hash: MediaHash, _has_full: bool) -> Result<bool> {
        // `full` is always written here (see `put`), and the original last.
        let variants = [
            VariantName::Original,
            VariantName::Thumb,
            VariantName::Feed,
            VariantName::Full,
        ];
        let heads = futures_util::future::join_all(
            variants.map(|v| async move { self.store.head(&self.key(hash, v)).await }),
        )
        .await;
        for head in heads {
            match head {
                Ok(_) => {}
                Err(object_store::Error::NotFound { .. }) => return Ok(false),
                Err(e) => return Err(unavailable(e)),
            }
        }
        Ok(true)
    }

    async fn get(&self, hash: MediaHash, variant: VariantName) -> Result<Option<Bytes>> {
        let key = self.key(hash, variant);
        let got = match self.store.get(&key).await {
            Ok(got) => got,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(unavailable(e)),
        };
        got.bytes().await.map(Some).map_err(unavailable)
    }

    /// The bytes `range` of an object, as a stream.
    pub fn stream(
        &self,
        key: Key,
        range: Range<u64>,
    ) -> BoxStream<'static, std::io::Result<Bytes>> {
        let store = self.store.clone();
        futures_util::stream::once(async move {
            let opts = GetOptions {
                range: Some(GetRange::Bounded(range)),
                ..GetOptions::default()
            };
            store.get_opts(&key, opts).await
        })
        .map_ok(|got| got.into_stream())
        .try_flatten()
        .map_err(std::io::Error::other)
        .boxed()
    }

    async fn delete(&self, hash: MediaHash) -> Result<()> {
        let variants = [
            VariantName::Thumb,
            VariantName::Feed,
            VariantName::Full,
            VariantName::Original,
        ];
        for v in variants {
            match self.store.delete(&self.key(hash, v)).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(unavailable(e)),
            }
        }
        Ok(())
    }

    async fn list(&self) -> Result<Vec<MediaHash>> {
        let prefix = (!self.prefix.as_ref().is_empty()).then_some(&self.prefix);
        // Only `<prefix>/<hash>/<variant>`: another server's images under a longer prefix in
        // the same bucket are not ours to collect or move.
        let depth = self.prefix.parts().count() + 2;
        let mut listed = self.store.list(prefix);
        let mut out = Vec::new();
        while let Some(meta) = listed.next().await {
            let meta = meta.map_err(unavailable)?;
            let parts: Vec<_> = meta.location.parts().collect();
            if parts.len() != depth || VariantName::parse(parts[depth - 1].as_ref()).is_none() {
                continue;
            }
            if let Some(hash) = MediaHash::parse_hex(parts[depth - 2].as_ref()) {
                out.push(hash);
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    async fn size(&self, hash: MediaHash) -> Result<u64> {
        let mut listed = self.store.list(Some(&self.dir(hash)));
        let mut total = 0;
        while let Some(meta) = listed.next().await {
            total += meta.map_err(unavailable)?.size;
        }
        Ok(total)
    }
}

/// The file in the data dir that says which store holds its images. It is what the server
/// follows: `[media] storage` chooses only for a data dir that has none yet, so a config edit
/// cannot point a running site at an empty bucket, and a finished migration needs no edit to
/// take effect.
const RECORD: &str = "media-storage";

/// The store the data dir's images are in, as recorded.
pub fn recorded(data_dir: &std::path::Path) -> Result<Option<StorageKind>> {
    match std::fs::read_to_string(data_dir.join(RECORD)) {
        Ok(text) => text
            .trim()
            .parse()
            .map(Some)
            .map_err(|e| Error::internal(format!("{RECORD} in the data dir: {e}"))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::context(format!("reading {RECORD}"), e)),
    }
}

/// Records, durably, that the data dir's images are in `kind`.
pub fn record(data_dir: &std::path::Path, kind: StorageKind) -> Result<()> {
    use std::io::Write;
    let io = |e| Error::context(format!("writing {RECORD}"), e);
    let tmp = data_dir.join(format!("{RECORD}.tmp"));
    let mut f = std::fs::File::create(&tmp).map_err(io)?;
    f.write_all(format!("{kind}\n").as_bytes()).map_err(io)?;
    f.sync_all().map_err(io)?;
    std::fs::rename(&tmp, data_dir.join(RECORD)).map_err(io)?;
    std::fs::File::open(data_dir)
        .and_then(|d| d.sync_all())
        .map_err(io)
}

/// Which store to open: the recorded one; or, for a data dir without a record, the configured
/// one, unless images are already on disk here (a data dir from before stores were
/// configurable), which stay where they are until migrated.
pub fn choose(data_dir: &std::path::Path, configured: StorageKind) -> Result<StorageKind> {
    let kind = match recorded(data_dir)? {
        Some(kind) => {
            if kind != configured {
                tracing::warn!(
                    recorded = %kind, configured = %configured,
                    "media is in {kind}; [media] storage = \"{configured}\" takes effect after `aistagram media migrate --to {configured}`"
                );
            }
            return Ok(kind);
        }
        None if configured == StorageKind::S3
            && !MediaFiles::new(data_dir).stored()?.is_empty() =>
        {
            tracing::warn!(
                "this data dir holds images on disk; they stay there until `aistagram media migrate --to s3` moves them"
            );
            StorageKind::Fs
        }
        None => configured,
    };
    std::fs::create_dir_all(data_dir).map_err(|e| Error::context("creating the data dir", e))?;
    record(data_dir, kind)?;
    Ok(kind)
}
