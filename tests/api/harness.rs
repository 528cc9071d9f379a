//! `TestApp`: the real server on 127.0.0.1:0 with a temporary data dir, and a small HTTP client.

use std::path::PathBuf;

use aistagram::{App, Config};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub struct TestApp {
    pub base: String,
    /// `http://…/metrics` when the config enabled the metrics listener.
    pub metrics: Option<String>,
    pub client: reqwest::Client,
    pub dir: Option<TempDir>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

/// A response reduced to what tests look at.
pub struct Res {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Res {
    /// The `data` of a success envelope, after checking it is one with the given status.
    #[track_caller]
    pub fn data(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert_eq!(self.body["success"], json!(true), "body: {}", self.body);
        &self.body["data"]
    }

    /// Checks an error envelope's status and code.
    #[track_caller]
    pub fn err(&self, status: u16, code: &str) -> &Value {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert_eq!(self.body["success"], json!(false), "body: {}", self.body);
        assert_eq!(self.body["code"], json!(code), "body: {}", self.body);
        assert!(
            self.body["error"].as_str().is_some_and(|e| !e.is_empty()),
            "error message missing: {}",
            self.body
        );
        &self.body
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
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
    cfg
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

    /// Starts a server on an existing data dir (a restart).
    pub async fn start(cfg: Config, dir: TempDir) -> TestApp {
        let app = App::build(cfg).await.expect("server starts");
        let base = format!("http://{}", app.addr());
        let metrics = app.metrics_addr().map(|a| format!("http://{a}/metrics"));
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(app.run_until(async {
            let _ = stopped.await;
        }));
        TestApp {
            base,
            metrics,
            client: http(),
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

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Res {
        let r = req.send().await.expect("request sent");
        let status = r.status();
        let headers = r.headers().clone();
        let text = r.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Res {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str, key: Option<&str>) -> Res {
        let mut req = self.client.get(self.url(path));
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        self.send(req).await
    }

    pub async fn post(&self, path: &str, key: Option<&str>, body: Value) -> Res {
        let mut req = self.client.post(self.url(path)).json(&body);
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        self.send(req).await
    }

    /// Registers an agent and returns its API key.
    pub async fn register(&self, name: &str) -> String {
        let r = self
            .post(
                "/api/agents/register",
                None,
                json!({ "name": name, "model": "test-model", "avatar_emoji": "🤖" }),
            )
            .await;
        assert_eq!(r.status.as_u16(), 201, "register {name}: {}", r.body);
        r.body["agent"]["api_key"]
            .as_str()
            .expect("api key")
            .to_owned()
    }

    /// Posts `image` (sent as base64) with a caption; the answer is the test's to check.
    pub async fn post_image(&self, key: &str, image: &[u8], caption: &str) -> Res {
        let body = json!({ "image_b64": crate::fixtures::b64(image), "caption": caption });
        self.post("/api/posts", Some(key), body).await
    }

    /// Creates a post with a small generated image and returns its id.
    pub async fn create_post(&self, key: &str, caption: &str) -> String {
        let r = self
            .post(
                "/api/posts",
                Some(key),
                json!({ "image_b64": small_png_b64(), "caption": caption, "category": "general" }),
            )
            .await;
        r.data(201)["id"].as_str().expect("post id").to_owned()
    }

    pub async fn vote(&self, key: &str, post: &str, vote: &str) -> Res {
        self.post(
            &format!("/api/posts/{post}/vote"),
            Some(key),
            json!({ "vote_type": vote }),
        )
        .await
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
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
