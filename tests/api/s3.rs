//! Media on an S3-compatible bucket: a real S3 server (moto's server mode, from PyPI, which
//! `.ci/test` installs into its virtualenv) started on loopback once per test run, one fresh
//! bucket per server. Covers post, serve, `Range`, delete, gc, check finding a tampered object,
//! backup and restore across stores, `media migrate` both ways with the server serving, the bucket
//! going away (503, nothing half-written) and coming back, and media URLs on a CDN.
//!
//! `TEST_MEDIA_STORAGE=s3` runs every other test's servers on a bucket too; `.ci/test` runs the
//! media tests that way as well.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use aistagram::Config;
use aistagram::config::StorageKind;
use serde_json::Value;
use tokio::net::TcpListener;

use crate::clients::Anon;
use crate::fixtures;
use crate::harness::{TestApp, files_under, media_hash, quiet_config};

/// A moto S3 server for the whole test run.
pub struct Moto {
    pub addr: SocketAddr,
    _child: Child,
}

/// Where moto's server is: `MOTO_SERVER`, the CI virtualenv in the target dir, or `PATH`.
fn moto_binary() -> std::path::PathBuf {
    if let Some(p) = std::env::var_os("MOTO_SERVER") {
        return p.into();
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let venv = target.join("moto-venv/bin/moto_server");
    if venv.is_file() {
        return venv;
    }
    "moto_server".into()
}

/// The shared moto server, started on first use; it dies with the test process.
pub fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(|| {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let binary = moto_binary();
        let mut cmd = Command::new(&binary);
        cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // SAFETY: prctl in the child between fork and exec, async-signal-safe.
        unsafe {
            use std::os::unix::process::CommandExt;
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        // Spawned from a thread that lives as long as the process: the parent-death signal
        // follows the thread that forked, and test threads end with their test.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(cmd.spawn());
            loop {
                std::thread::park();
            }
        });
        let child = rx.recv().expect("the spawning thread answers").unwrap_or_else(|e| {
            panic!(
                "cannot start moto's S3 server ({}): {e}; `bash .ci/test` installs it (or set MOTO_SERVER)",
                binary.display()
            )
        });
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let started = Instant::now();
        while raw(addr, "GET", "/", b"").is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "moto did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Moto {
            addr,
            _child: child,
        }
    })
}

/// One unsigned HTTP/1.1 request (moto creates buckets for anyone); the status and body.
fn raw(addr: SocketAddr, method: &str, path: &str, body: &[u8]) -> std::io::Result<(u16, Vec<u8>)> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    s.write_all(body)?;
    let mut answer = Vec::new();
    s.read_to_end(&mut answer)?;
    let text = String::from_utf8_lossy(&answer);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status line"))?;
    let body = match answer.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(i) => answer[i + 4..].to_vec(),
        None => Vec::new(),
    };
    Ok((status, body))
}

/// A new, empty bucket on the shared moto server.
pub fn new_bucket() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let name = format!(
        "t{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let (status, _) = raw(moto().addr, "PUT", &format!("/{name}"), b"").expect("bucket made");
    assert_eq!(status, 200, "creating bucket {name}");
    name
}

/// Points `cfg`'s media at a fresh bucket behind `endpoint` (moto itself unless a test puts a
/// proxy in between).
pub fn use_bucket(cfg: &mut Config, endpoint: SocketAddr, bucket: &str) {
    cfg.media.storage = StorageKind::S3;
    s3_settings(cfg, endpoint, bucket);
}

/// `[media.s3]` for a bucket, leaving `storage` as it is.
pub fn s3_settings(cfg: &mut Config, endpoint: SocketAddr, bucket: &str) {
    let s3 = &mut cfg.media.s3;
    s3.endpoint = format!("http://{endpoint}");
    s3.bucket = bucket.to_owned();
    s3.region = "us-east-1".into();
    s3.prefix = "media".into();
    s3.access_key_id = aistagram::config::Secret::new("testing");
    s3.secret_access_key = aistagram::config::Secret::new("testing");
    // Fail fast: the outage test waits for the retries to give up.
    s3.timeout_secs = 5;
    s3.max_retries = 1;
}

/// The `[media.s3]` of [`s3_settings`], as a config file says it.
fn bucket_toml(endpoint: SocketAddr, bucket: &str) -> String {
    format!(
        "[media.s3]\nendpoint = \"http://{endpoint}\"\nbucket = \"{bucket}\"\nregion = \"us-east-1\"\nprefix = \"media\"\naccess_key_id = \"testing\"\nsecret_access_key = \"testing\"\n"
    )
}

/// A signed client of a test bucket on moto (moto refuses anonymous object requests).
fn client(bucket: &str) -> object_store::aws::AmazonS3 {
    object_store::aws::AmazonS3Builder::new()
        .with_endpoint(format!("http://{}", moto().addr))
        .with_allow_http(true)
        .with_bucket_name(bucket)
        .with_region("us-east-1")
        .with_access_key_id("testing")
        .with_secret_access_key("testing")
        .build()
        .expect("a bucket client")
}

/// The keys in a bucket (under every prefix).
pub async fn keys(bucket: &str) -> Vec<String> {
    use futures_util::TryStreamExt;
    use object_store::ObjectStore;
    let listed: Vec<_> = client(bucket)
        .list(None)
        .try_collect()
        .await
        .expect("listed");
    let mut keys: Vec<String> = listed.into_iter().map(|m| m.location.to_string()).collect();
    keys.sort();
    keys
}

/// Writes `bytes` under `key`, past the server (an operator's mistake, a bit flip).
async fn put_object(bucket: &str, key: &str, bytes: &'static [u8]) {
    use object_store::ObjectStoreExt;
    client(bucket)
        .put(&key.into(), bytes.into())
        .await
        .expect("put");
}

async fn delete_object(bucket: &str, key: &str) {
    use object_store::ObjectStoreExt;
    client(bucket).delete(&key.into()).await.expect("deleted");
}

/// An object's bytes, content type and cache control, as a CDN in front of the bucket gets them.
async fn object(bucket: &str, key: &str) -> (bytes::Bytes, String, String) {
    use object_store::{Attribute, ObjectStoreExt};
    let got = client(bucket).get(&key.into()).await.expect("an object");
    let attr = |a: &Attribute| {
        got.attributes
            .get(a)
            .map(|v| v.to_string())
            .unwrap_or_default()
    };
    let (ty, cache) = (
        attr(&Attribute::ContentType),
        attr(&Attribute::CacheControl),
    );
    (got.bytes().await.expect("its bytes"), ty, cache)
}

/// A TCP forwarder to moto that a test can take down (refusing and cutting every connection)
/// and bring back: the bucket going away without moto losing what it holds. It can also hold
/// every answer back a while: a slow bucket, so a migration lasts long enough to write during.
struct Outage {
    addr: SocketAddr,
    up: Arc<std::sync::atomic::AtomicBool>,
    conns: Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Outage {
    async fn start(to: SocketAddr) -> Outage {
        Outage::slow(to, Duration::ZERO).await
    }

    async fn slow(to: SocketAddr, delay: Duration) -> Outage {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let up = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let conns = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (up2, conns2) = (up.clone(), conns.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !up2.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let task = tokio::spawn(async move {
                    let Ok(outbound) = tokio::net::TcpStream::connect(to).await else {
                        return;
                    };
                    let (from_client, to_client) = inbound.split();
                    let (from_moto, to_moto) = outbound.into_split();
                    tokio::join!(
                        pipe(from_client, to_moto, Duration::ZERO),
                        pipe(from_moto, to_client, delay)
                    );
                });
                conns2.lock().unwrap().push(task.abort_handle());
            }
        });
        Outage { addr, up, conns }
    }

    fn down(&self) {
        self.up.store(false, Ordering::SeqCst);
        for c in self.conns.lock().unwrap().drain(..) {
            c.abort();
        }
    }

    fn up(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

/// Copies `from` to `to`, holding each chunk back by `delay`.
async fn pipe(
    mut from: impl tokio::io::AsyncRead + Unpin,
    mut to: impl tokio::io::AsyncWrite + Unpin,
    delay: Duration,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

/// A server on a fresh bucket.
async fn on_bucket() -> (TestApp, String) {
    let bucket = new_bucket();
    let addr = moto().addr;
    let app = TestApp::spawn_with(|cfg| use_bucket(cfg, addr, &bucket)).await;
    (app, bucket)
}

/// The ids of the posts in the newest-first feed.
async fn post_ids(app: &TestApp) -> Vec<String> {
    let feed = app.native.feed("sort=new", Anon).await;
    feed.data(200)["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn fetch(app: &TestApp, url: &str, range: Option<&str>) -> reqwest::Response {
    let mut req = app.client.get(url);
    if let Some(r) = range {
        req = req.header("range", r);
    }
    req.send().await.expect("sent")
}

#[tokio::test]
async fn images_live_in_the_bucket_and_are_served_with_ranges_and_etags() {
    let (app, bucket) = on_bucket().await;
    let key = app.native.register("bucketeer").await;
    let jpeg = fixtures::jpeg(1600, 1200, 3);
    let r = app.native.post_image(&key, &jpeg, "in a bucket").await;
    let post = r.data(201).clone();
    let hash = media_hash(post["image_url"].as_str().unwrap());

    // Nothing on disk; every file in the bucket, under the prefix, named by hash and variant.
    let dir = app.dir.as_ref().unwrap().path().to_owned();
    assert!(
        files_under(&dir.join("media")).is_empty(),
        "{:?}",
        files_under(&dir.join("media"))
    );
    let mut stored = keys(&bucket).await;
    stored.sort();
    let want: Vec<String> = ["feed", "full", "original", "thumb"]
        .iter()
        .map(|v| format!("media/{hash}/{v}"))
        .collect();
    assert_eq!(stored, want);

    // Served through the server: type, ETag, caching, and 304.
    for (variant, kind) in [
        ("thumb", "image/webp"),
        ("feed", "image/webp"),
        ("full", "image/webp"),
        ("original", "image/jpeg"),
    ] {
        let url = app.url(&format!("/media/{hash}/{variant}"));
        let res = fetch(&app, &url, None).await;
        assert_eq!(res.status().as_u16(), 200, "{variant}");
        assert_eq!(res.headers()["content-type"], kind);
        assert_eq!(
            res.headers()["cache-control"],
            "public, max-age=31536000, immutable"
        );
        let etag = res.headers()["etag"].to_str().unwrap().to_owned();
        assert!(!res.bytes().await.unwrap().is_empty());
        let again = app
            .client
            .get(&url)
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status().as_u16(), 304, "{variant}");
    }

    // The original is the stored bytes, and its ranges are cut from the bucket's object.
    let url = app.url(&format!("/media/{hash}/original"));
    let whole = fetch(&app, &url, None).await.bytes().await.unwrap();
    assert_eq!(blake3::hash(&whole).to_hex().as_str(), hash);
    let len = whole.len();
    let part = fetch(&app, &url, Some("bytes=100-199")).await;
    assert_eq!(part.status().as_u16(), 206);
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 100-199/{len}").as_str()
    );
    assert_eq!(part.bytes().await.unwrap(), whole.slice(100..200));
    let tail = fetch(&app, &url, Some("bytes=-10")).await;
    assert_eq!(tail.status().as_u16(), 206);
    assert_eq!(tail.bytes().await.unwrap(), whole.slice(len - 10..));
    let past = fetch(&app, &url, Some(&format!("bytes={len}-"))).await;
    assert_eq!(past.status().as_u16(), 416);
    assert_eq!(
        past.headers()["content-range"],
        format!("bytes */{len}").as_str()
    );

    // Deleting the post removes every object, and the URLs 404 at once.
    let id = post["id"].as_str().unwrap();
    app.native.delete_post(&key, id).await.data(200);
    let gone = fetch(&app, &app.url(&format!("/media/{hash}/feed")), None).await;
    assert_eq!(gone.status().as_u16(), 404);
    assert!(keys(&bucket).await.is_empty(), "{:?}", keys(&bucket).await);
}

#[tokio::test]
async fn gc_and_check_work_on_the_bucket() {
    let (app, bucket) = on_bucket().await;
    let key = app.native.register("checker").await;
    let r = app
        .native
        .post_image(&key, &fixtures::png(300, 200, 9), "kept")
        .await;
    let hash = media_hash(r.data(201)["image_url"].as_str().unwrap());
    let data_dir = app.dir.as_ref().unwrap().path().to_owned();

    // An object nobody references (an upload cut short) is garbage: gc removes it, only it.
    let stray = "a".repeat(64);
    for v in ["thumb", "feed", "full", "original"] {
        put_object(&bucket, &format!("media/{stray}/{v}"), b"junk").await;
    }
    let gc = crate::admin::admin(&data_dir, &["gc", "--json"]).await;
    assert!(gc.status.success(), "{gc:?}");
    let out: Value = serde_json::from_slice(&gc.stdout).unwrap();
    assert_eq!(out["images"], 1, "{out}");
    let left = keys(&bucket).await;
    assert!(left.iter().all(|k| k.contains(&hash)), "{left:?}");
    assert_eq!(left.len(), 4);

    let check = crate::admin::admin(&data_dir, &["check", "--json"]).await;
    assert!(check.status.success(), "{check:?}");

    // Tampering with the original in the bucket is found.
    put_object(&bucket, &format!("media/{hash}/original"), b"not the image").await;
    let check = crate::admin::admin(&data_dir, &["check", "--json"]).await;
    assert!(!check.status.success(), "{check:?}");
    let out: Value = serde_json::from_slice(&check.stdout).unwrap();
    let problems = out["problems"].to_string();
    assert!(
        problems.contains(&format!("image {hash}: original does not match its hash")),
        "{problems}"
    );
    // And a missing object too.
    delete_object(&bucket, &format!("media/{hash}/thumb")).await;
    let check = crate::admin::admin(&data_dir, &["check", "--json"]).await;
    let out: Value = serde_json::from_slice(&check.stdout).unwrap();
    assert!(
        out["problems"]
            .to_string()
            .contains(&format!("image {hash}: files missing")),
        "{out}"
    );
}

#[tokio::test]
async fn a_bucket_that_goes_away_fails_posts_cleanly_and_serving_recovers() {
    let outage = Outage::start(moto().addr).await;
    let bucket = new_bucket();
    let app = TestApp::spawn_with(|cfg| {
        use_bucket(cfg, outage.addr, &bucket);
        cfg.media.cache_bytes = 0;
    })
    .await;
    let key = app.native.register("weathered").await;
    let r = app
        .native
        .post_image(&key, &fixtures::png(200, 200, 1), "before")
        .await;
    let feed = r.data(201)["image_url"].as_str().unwrap().to_owned();

    outage.down();
    let before = post_ids(&app).await;
    let r = app
        .native
        .post_image(&key, &fixtures::png(200, 200, 2), "during")
        .await;
    r.err(503, "MEDIA_STORAGE_UNAVAILABLE");
    assert!(r.header("retry-after").is_some());
    // Nothing half-written: no post, and the feed is as it was.
    assert_eq!(post_ids(&app).await, before);
    let res = fetch(&app, &feed, None).await;
    assert_eq!(res.status().as_u16(), 503);

    outage.up();
    let res = fetch(&app, &feed, None).await;
    assert_eq!(res.status().as_u16(), 200, "serving recovers");
    let r = app
        .native
        .post_image(&key, &fixtures::png(200, 200, 2), "after")
        .await;
    r.data(201);
    assert_eq!(post_ids(&app).await.len(), before.len() + 1);
}

#[tokio::test]
async fn media_urls_point_at_the_cdn_when_one_is_configured() {
    let bucket = new_bucket();
    let addr = moto().addr;
    let cdn = "https://cdn.example.test/pictures";
    let app = TestApp::spawn_with(|cfg| {
        use_bucket(cfg, addr, &bucket);
        cfg.media.s3.public_base_url = format!("{cdn}/");
    })
    .await;
    let key = app.native.register("cdnuser").await;
    let png = fixtures::png(120, 90, 4);
    let r = app.native.post_image(&key, &png, "on a cdn").await;
    let post = r.data(201).clone();
    let hash = media_hash(post["image_url"].as_str().unwrap());
    for (field, variant, ty) in [
        ("image_url", "feed", "image/webp"),
        ("thumbnail_url", "thumb", "image/webp"),
        ("full_image_url", "full", "image/webp"),
        ("original_url", "original", "image/png"),
    ] {
        // `<public_base_url>/<hash>/<variant>` is `<prefix>/<hash>/<variant>` in the bucket:
        // a CDN mapping the one to the other serves it with no rewriting.
        let url = post[field].as_str().unwrap();
        assert_eq!(url, format!("{cdn}/{hash}/{variant}"), "{field}");
        let (bytes, content_type, cache) =
            object(&bucket, &format!("media/{hash}/{variant}")).await;
        assert_eq!(content_type, ty, "{field}");
        assert_eq!(cache, "public, max-age=31536000, immutable", "{field}");
        // The same bytes the server itself serves at its own media URL.
        let own = fetch(&app, &app.url(&format!("/media/{hash}/{variant}")), None).await;
        assert_eq!(own.status().as_u16(), 200);
        assert_eq!(own.bytes().await.unwrap(), bytes, "{field}");
    }
}

#[tokio::test]
async fn backups_restore_into_either_store() {
    // From a bucket …
    let (app, _bucket) = on_bucket().await;
    let key = app.native.register("archivist").await;
    let small = fixtures::png(100, 80, 5);
    let big = fixtures::jpeg(2600, 1800, 6);
    let mut originals = Vec::new();
    for (bytes, caption) in [(&small, "small"), (&big, "big")] {
        let r = app.native.post_image(&key, bytes, caption).await;
        let url = r.data(201)["original_url"].as_str().unwrap().to_owned();
        originals.push((
            media_hash(&url),
            fetch(&app, &url, None).await.bytes().await.unwrap(),
        ));
    }
    let data_dir = app.dir.as_ref().unwrap().path().to_owned();
    let archive = tempfile::tempdir().unwrap();
    let file = archive.path().join("b.tar.gz");
    let out = crate::admin::admin(&data_dir, &["backup", file.to_str().unwrap()]).await;
    assert!(out.status.success(), "{out:?}");
    drop(app);

    // … into the data dir.
    let on_disk = archive.path().join("fs");
    let out = crate::admin::admin(
        &on_disk,
        &["restore", file.to_str().unwrap(), "--media-storage", "fs"],
    )
    .await;
    assert!(out.status.success(), "{out:?}");
    let restored =
        TestApp::start(quiet_config(on_disk.clone()), tempfile::tempdir().unwrap()).await;
    serves_originals(&restored, &originals).await;
    assert!(!files_under(&on_disk.join("media")).is_empty());
    let backup2 = archive.path().join("b2.tar.gz");
    let out = crate::admin::admin(&on_disk, &["backup", backup2.to_str().unwrap()]).await;
    assert!(out.status.success(), "{out:?}");
    drop(restored);

    // … and from the data dir into another bucket.
    let bucket2 = new_bucket();
    let in_bucket = archive.path().join("s3");
    let addr = moto().addr;
    let config = archive.path().join("s3.toml");
    std::fs::write(&config, bucket_toml(addr, &bucket2)).unwrap();
    let out = crate::admin::admin(
        &in_bucket,
        &[
            "restore",
            backup2.to_str().unwrap(),
            "--media-storage",
            "s3",
            "--config",
            config.to_str().unwrap(),
        ],
    )
    .await;
    assert!(out.status.success(), "{out:?}");
    assert!(
        !in_bucket.join("media").exists(),
        "the images went to the bucket"
    );
    assert_eq!(keys(&bucket2).await.len(), 8, "{:?}", keys(&bucket2).await);
    let mut cfg = quiet_config(in_bucket.clone());
    s3_settings(&mut cfg, addr, &bucket2);
    let restored = TestApp::start(cfg, tempfile::tempdir().unwrap()).await;
    serves_originals(&restored, &originals).await;
}

/// Every `(hash, original bytes)` is served as it was, and its `full` variant answers.
async fn serves_originals(app: &TestApp, originals: &[(String, bytes::Bytes)]) {
    for (hash, bytes) in originals {
        let got = fetch(app, &app.url(&format!("/media/{hash}/original")), None).await;
        assert_eq!(got.status().as_u16(), 200, "{hash}");
        assert_eq!(&got.bytes().await.unwrap(), bytes, "{hash}");
        let full = fetch(app, &app.url(&format!("/media/{hash}/full")), None).await;
        assert_eq!(full.status().as_u16(), 200, "{hash}");
    }
}

#[tokio::test]
async fn media_migrates_to_the_bucket_and_back_while_the_server_serves() {
    let bucket = new_bucket();
    // A slow bucket (every answer held back 40 ms): the migration lasts long enough for the
    // writes below to land while it runs.
    let slow = Outage::slow(moto().addr, Duration::from_millis(40)).await;
    let app = TestApp::spawn_with(|cfg| {
        s3_settings(cfg, slow.addr, &bucket);
        cfg.media.cache_bytes = 0;
    })
    .await;
    let data_dir = app.dir.as_ref().unwrap().path().to_owned();
    let key = app.native.register("mover").await;
    let mut posts = Vec::new();
    for i in 0..16u32 {
        let png = fixtures::png(150 + i, 100, i);
        let r = app
            .native
            .post_image(&key, &png, &format!("post {i}"))
            .await;
        posts.push(r.data(201)["original_url"].as_str().unwrap().to_owned());
    }
    let mut originals = Vec::new();
    for url in &posts {
        originals.push(fetch(&app, url, None).await.bytes().await.unwrap());
    }
    assert!(keys(&bucket).await.is_empty());

    // Post, delete and read while the images move, until the migration is done.
    let moving = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let busy = {
        let (native, client, key, urls) = (
            app.native.clone(),
            app.client.clone(),
            key.clone(),
            posts.clone(),
        );
        let moving = moving.clone();
        tokio::spawn(async move {
            let (mut kept, mut deleted) = (Vec::new(), Vec::new());
            let mut i = 0u32;
            while moving.load(Ordering::SeqCst) || i < 4 {
                let png = fixtures::png(90, 90 + i, 1000 + i);
                let r = native.post_image(&key, &png, &format!("during {i}")).await;
                let post = r.data(201).clone();
                let url = post["original_url"].as_str().unwrap().to_owned();
                if i % 2 == 1 {
                    native
                        .delete_post(&key, post["id"].as_str().unwrap())
                        .await
                        .data(200);
                    deleted.push(url);
                } else {
                    kept.push(url);
                }
                let u = &urls[i as usize % urls.len()];
                let res = client.get(u).send().await.unwrap();
                assert_eq!(res.status().as_u16(), 200, "{u} while migrating");
                i += 1;
            }
            (kept, deleted)
        })
    };
    let out = crate::admin::admin(&data_dir, &["media", "migrate", "--to", "s3", "--json"]).await;
    moving.store(false, Ordering::SeqCst);
    let (kept, deleted) = busy.await.unwrap();
    let report = crate::admin::json_of(&out);
    assert_eq!(report["from"], "fs");
    assert_eq!(report["to"], "s3");
    assert!(report["copied"].as_u64().unwrap() >= 16, "{report}");
    assert!(
        report["mirrored"].as_u64().unwrap() > 0,
        "uploads during the migration went to both stores: {report}"
    );
    assert!(
        files_under(&data_dir.join("media")).is_empty(),
        "moved, not copied"
    );
    assert_eq!(
        std::fs::read_to_string(data_dir.join("media-storage"))
            .unwrap()
            .trim(),
        "s3"
    );
    for (url, bytes) in posts.iter().zip(&originals) {
        assert_eq!(&fetch(&app, url, None).await.bytes().await.unwrap(), bytes);
    }
    for url in &kept {
        assert_eq!(fetch(&app, url, None).await.status().as_u16(), 200, "{url}");
    }
    for url in &deleted {
        assert_eq!(fetch(&app, url, None).await.status().as_u16(), 404, "{url}");
    }
    // Whatever a deletion racing a copy left behind is garbage gc finds; then all agrees.
    crate::admin::json_of(&crate::admin::admin(&data_dir, &["gc", "--json"]).await);
    let in_bucket = keys(&bucket).await;
    assert_eq!(
        in_bucket.len(),
        (posts.len() + kept.len()) * 4,
        "{in_bucket:?}"
    );
    crate::admin::json_of(&crate::admin::admin(&data_dir, &["check", "--json"]).await);

    // Already there: refused with a conflict, nothing done.
    let again = crate::admin::admin(&data_dir, &["media", "migrate", "--to", "s3"]).await;
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already"),
        "{again:?}"
    );

    // And back, keeping the bucket's copies.
    let out = crate::admin::admin(
        &data_dir,
        &["media", "migrate", "--to", "fs", "--keep-source", "--json"],
    )
    .await;
    let report = crate::admin::json_of(&out);
    assert_eq!(report["copied"], posts.len() + kept.len(), "{report}");
    assert_eq!(report["removed_from_source"], 0, "{report}");
    for (url, bytes) in posts.iter().zip(&originals) {
        assert_eq!(&fetch(&app, url, None).await.bytes().await.unwrap(), bytes);
    }

    // A run cut short, resumed: the bucket still holds most images intact (one damaged), and
    // two posted since are only on disk. Only those three are copied; the rest are verified.
    put_object(&bucket, &in_bucket[0], b"damaged").await;
    let mut later = Vec::new();
    for i in 0..2u32 {
        let r = app
            .native
            .post_image(&key, &fixtures::png(70, 70 + i, 2000 + i), "later")
            .await;
        later.push(r.data(201)["original_url"].as_str().unwrap().to_owned());
    }
    let out = crate::admin::admin(&data_dir, &["media", "migrate", "--to", "s3", "--json"]).await;
    let report = crate::admin::json_of(&out);
    assert_eq!(report["copied"], 3, "{report}");
    assert_eq!(
        report["already_there"],
        posts.len() + kept.len() - 1,
        "{report}"
    );
    for url in posts.iter().chain(&kept).chain(&later) {
        assert_eq!(fetch(&app, url, None).await.status().as_u16(), 200, "{url}");
    }
    crate::admin::json_of(&crate::admin::admin(&data_dir, &["check", "--json"]).await);

    // The recorded store is what a restart follows, whatever the config says.
    let dir = app.stop().await;
    let mut cfg = quiet_config(dir.path().to_owned());
    s3_settings(&mut cfg, moto().addr, &bucket);
    cfg.media.storage = StorageKind::Fs;
    let restarted = TestApp::start(cfg, dir).await;
    let path = &posts[0][posts[0].find("/media/").unwrap()..];
    let res = fetch(&restarted, &restarted.url(path), None).await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(&res.bytes().await.unwrap(), &originals[0]);
    assert!(files_under(&restarted.dir.as_ref().unwrap().path().join("media")).is_empty());
}
