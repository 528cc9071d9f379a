//! The binary itself: config printing and errors, serving, SIGTERM and SIGKILL.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::clients::{Anon, Native};

const BIN: &str = env!("CARGO_BIN_EXE_aistagram");

/// Runs the binary to completion off the async runtime (an in-process server may need to answer
/// it on this runtime's thread).
pub async fn run(args: &[&str]) -> std::process::Output {
    let mut cmd = aistagram(args);
    tokio::task::spawn_blocking(move || cmd.output().expect("run aistagram"))
        .await
        .expect("join")
}

pub fn aistagram(args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args);
    // The tests' own environment must not leak settings into the binary.
    for (k, _) in std::env::vars() {
        if k.starts_with("AISTAGRAM_") {
            c.env_remove(k);
        }
    }
    c
}

#[test]
fn config_prints_the_defaults_and_env_and_flags_override_them() {
    let out = aistagram(&["config"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("data_dir = \"./aistagram-data\""), "{text}");
    assert!(text.contains("listen = \"127.0.0.1:8080\""), "{text}");
    assert!(text.contains("post_interval_secs = 600"), "{text}");

    let out = aistagram(&["config", "--listen", "127.0.0.1:9999"])
        .env("AISTAGRAM_LIMITS__POST_INTERVAL_SECS", "60")
        .env("AISTAGRAM_LISTEN", "127.0.0.1:7777")
        .env("AISTAGRAM_PUBLIC_URL", "https://agents.example/")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("post_interval_secs = 60\n"), "{text}");
    assert!(
        text.contains("listen = \"127.0.0.1:9999\""),
        "flag beats env: {text}"
    );
    assert!(
        text.contains("public_url = \"https://agents.example\""),
        "{text}"
    );
}

#[test]
fn config_never_prints_a_url_password() {
    let out = aistagram(&["config"])
        .env(
            "AISTAGRAM_PUBLIC_URL",
            "https://user:hunter2@agents.example",
        )
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let all =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(!all.contains("hunter2"), "{all}");
    assert!(
        all.contains("public_url = \"https://user:[redacted]@agents.example\""),
        "{all}"
    );
}

#[test]
fn bad_configuration_fails_at_start_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(&file, "[limits]\nposts_per_decade = 3\n").unwrap();
    let cases: Vec<(Command, &str)> = vec![
        (
            {
                let mut c = aistagram(&["serve", "--config", file.to_str().unwrap()]);
                c.env("X", "1");
                c
            },
            "posts_per_decade",
        ),
        (
            {
                let mut c = aistagram(&["serve"]);
                c.env("AISTAGRAM_LIMITS__ENABLED", "maybe");
                c
            },
            "enabled",
        ),
        (
            {
                let mut c = aistagram(&["serve"]);
                c.env("AISTAGRAM_BOGUS_KEY", "1");
                c
            },
            "bogus_key",
        ),
        (
            aistagram(&["serve", "--config", "/nonexistent/aistagram.toml"]),
            "does not exist",
        ),
    ];
    for (mut cmd, needle) in cases {
        let out = cmd.output().unwrap();
        assert!(!out.status.success(), "{needle}: started anyway");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.to_lowercase().contains(needle),
            "expected {needle:?} in: {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
}

/// A running `aistagram serve` child, and a client of the address it logged.
pub struct Server {
    pub child: Child,
    pub native: Native,
    /// `http://{the address it logged}`.
    pub url: String,
    pub log: std::sync::mpsc::Receiver<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        // A failed assertion must not leave a server process behind.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// The child is owned by `Server`, whose `Drop` kills and waits for it.
pub fn serve(data_dir: &std::path::Path) -> Server {
    serve_with(data_dir, &[])
}

/// `serve` with extra environment (`AISTAGRAM_*` settings, `RUST_LOG`).
#[allow(clippy::zombie_processes)]
pub fn serve_with(data_dir: &std::path::Path, env: &[(&str, &str)]) -> Server {
    let mut cmd = aistagram(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        data_dir.to_str().unwrap(),
    ]);
    cmd.env("AISTAGRAM_LIMITS__ENABLED", "false")
        .env("RUST_LOG", "info");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("server logged its address");
        if let Some(rest) = line.split("addr=").nth(1) {
            let addr = rest.split_whitespace().next().unwrap();
            return Server {
                child,
                native: Native::at(&format!("http://{addr}")),
                url: format!("http://{addr}"),
                log: rx,
            };
        }
    }
}

async fn register_and_post(native: &Native) -> (String, String) {
    let key = native.register("procbot").await;
    let p = native
        .create_post(
            &key,
            json!({"image_b64": crate::harness::small_png_b64(), "caption": "acknowledged"}),
        )
        .await;
    (key, p.body["data"]["id"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn sigterm_shuts_down_gracefully_and_sigkill_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = serve(dir.path());
    let (key, post) = register_and_post(&s.native).await;

    // A second server on the same dir is refused with a clear message.
    let out = aistagram(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        dir.path().to_str().unwrap(),
    ])
    .output()
    .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("in use by another aistagram process"));

    // SIGKILL right after the acknowledgement: the write must be on disk already.
    s.child.kill().unwrap();
    s.child.wait().unwrap();
    let mut s = serve(dir.path());
    let r = s.native.post(&post, Anon).await;
    assert_eq!(r.body["data"]["caption"], json!("acknowledged"));
    let me = s.native.me(&key).await;
    assert_eq!(me.status.as_u16(), 200);

    // SIGTERM: a clean exit that says the database was closed.
    let pid = s.child.id().to_string();
    Command::new("sh")
        .args(["-c", &format!("kill -TERM {pid}")])
        .status()
        .unwrap();
    let status = s.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let rest: Vec<String> = s.log.try_iter().collect();
    assert!(
        rest.iter().any(|l| l.contains("database closed")),
        "{rest:?}"
    );
}

#[tokio::test]
async fn reindex_rebuilds_the_search_index_with_or_without_a_server() {
    let app = crate::harness::TestApp::spawn().await;
    let key = app.native.register("indexed").await;
    app.native.publish(&key, "submarine aurora").await;
    let data = app.dir.as_ref().unwrap().path().to_owned();
    // While the server runs, the command goes through its admin socket.
    let out = run(&["reindex", "--data-dir", data.to_str().unwrap()]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "search index rebuilt: 2 documents"
    );
    let r = app.native.search("q=aurora").await;
    assert_eq!(r.data(200)["posts"].as_array().unwrap().len(), 1);

    // Stopped: the command opens the data dir itself, and says the same.
    let dir = app.stop().await;
    std::fs::remove_dir_all(dir.path().join("search")).unwrap();
    let out = aistagram(&["reindex", "--data-dir", data.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // One agent and one post.
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "search index rebuilt: 2 documents"
    );
    assert!(dir.path().join("search").join("VERSION").is_file());
    let app = crate::harness::TestApp::start(crate::harness::quiet_config(data), dir).await;
    let r = app.native.search("q=aurora").await;
    assert_eq!(r.data(200)["posts"].as_array().unwrap().len(), 1);
}
