//! `TestApp`: the real server on 127.0.0.1:0 with a temporary data dir, and a client for each
//! API surface (see [`crate::clients`]).

use std::path::PathBuf;

use aistagram::{App, Config};
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::clients::{Aispace, Glimpse, Native};

pub struct TestApp {
    pub base: String,
    /// `http://…/metrics` when the config enabled the metrics listener.
    pub metrics: Option<String>,
    /// The HTTPS address when the config turned `[tls]` on.
    pub tls_addr: Option<std::net::SocketAddr>,
    /// The native surface, `/api`.
    pub native: Native,
    /// The AIspace surface, `/api/agent`.
    pub aispace: Aispace,
    /// The Glimpse surface, `/api/v1`.
    pub glimpse: Glimpse,
    /// For what is no API: pages, media, assets.
    pub client: reqwest::Client,
    pub dir: Option<TempDir>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

/// An HTTP client for tests. reqwest is built without a default TLS provider (the server
/// installs ring when it starts); a test that talks before any server started in this process
/// installs it here.
pub fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// One small picture shared by tests that need a post but not a particular image.
pub fn small_png_b64() -> &'static str {
    static PNG: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PNG.get_or_init(|| crate::fixtures::b64(&crate::fixtures::png(64, 48, 1)))
}

/// Limits off: most tests are about behaviour, not throttling.
pub fn quiet_config(dir: PathBuf) -> Config {
    let mut cfg = Config {
        data_dir: dir,
        listen: "127.0.0.1:0".parse().expect("addr"),
        ..Config::default()
    };
    cfg.limits.enabled = false;
    // The analytics worker checks for changes every second, so tests see a fresh snapshot soon.
    cfg.analytics.refresh_secs = 1;
    // Tests reach nothing but loopback: every image provider points at a closed local port
    // (the discard port) unless a test starts a fake one.
    let p = &mut cfg.generation.providers;
    for e in p.endpoints_mut() {
        e.base_url = "http://127.0.0.1:9".to_owned();
    }
    // `TEST_MEDIA_STORAGE=s3`: every server keeps its images in a bucket of its own (on the
    // tests' moto server), to run the media tests against both stores.
    if std::env::var("TEST_MEDIA_STORAGE").is_ok_and(|s| s == "s3") {
        crate::s3::use_bucket(&mut cfg, crate::s3::moto().addr, &crate::s3::new_bucket());
    }
    cfg
}

/// Keeps a server's images on disk whatever `TEST_MEDIA_STORAGE` says: for tests that plant or
/// damage image files on disk (`tests/api/s3.rs` does the same on a bucket).
pub fn on_disk(cfg: &mut Config) {
    cfg.media.storage = aistagram::config::StorageKind::Fs;
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(tune: impl FnOnce(&mut Config)) -> TestApp {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut cfg = quiet_config(dir.path().to_owned());
        tune(&mut cfg);
        Self::start(cfg, dir).await
    }

    /// A server whose calendar limits read `clock` (a manual clock the test moves).
    pub async fn spawn_with_clock(
        tune: impl FnOnce(&mut Config),
        clock: aistagram::clock::Clock,
    ) -> TestApp {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut cfg = quiet_config(dir.path().to_owned());
        tune(&mut cfg);
        Self::start_with_clock(cfg, dir, clock).await
    }

    /// Starts a server on an existing data dir (a restart).
    pub async fn start(cfg: Config, dir: TempDir) -> TestApp {
        Self::start_with_clock(cfg, dir, aistagram::clock::Clock::system()).await
    }

    async fn start_with_clock(
        cfg: Config,
        dir: TempDir,
        clock: aistagram::clock::Clock,
    ) -> TestApp {
        let app = App::build_with_clock(cfg, clock)
            .await
            .expect("server starts");
        let base = format!("http://{}", app.addr());
        let metrics = app.metrics_addr().map(|a| format!("http://{a}/metrics"));
        let tls_addr = app.tls_addr();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(app.run_until(async {
            let _ = stopped.await;
        }));
        let client = http();
        TestApp {
            native: Native::new(&base, client.clone()),
            aispace: Aispace::new(&base, client.clone()),
            glimpse: Glimpse::new(&base, client.clone()),
            base,
            metrics,
            tls_addr,
            client,
            dir: Some(dir),
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Graceful shutdown; hands back the data dir so a test can start again on it.
    pub async fn stop(mut self) -> TempDir {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            t.await.expect("server task").expect("server ran");
        }
        self.dir.take().expect("dir")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

/// The hash in a media URL (`…/<hash>/<variant>`, on this server or a CDN).
pub fn media_hash(url: &str) -> String {
    let mut parts = url.rsplit('/');
    parts.next();
    parts.next().expect("a media URL").to_owned()
}

/// Every file (not folder) below `dir`, for checking what a request left on disk.
pub fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}
