//! Mixed load and footprint against the release binary (`aistagram serve`, a child process):
//! 100 agents posting images, voting and commenting while 500 readers browse feeds, post pages,
//! media and search, for a fixed time; requests per second, p50/p99 per endpoint, the count of
//! 5xx answers, and the server's RSS before and after. Also the cold start (process start to the
//! first `200` on `/healthz`) and idle RSS, on a fresh data dir or on one given with
//! `--data-dir` (e.g. the scale bench's 100,000 posts: `target/bench-scale/data`).
//!
//! Run: `cargo bench --bench mixed_load` (add `-- --secs 60 --data-dir DIR`). Everything talks
//! over 127.0.0.1. Targets (issue 13): no 5xx, p99 < 100 ms on every endpoint, < 30 MB idle,
//! < 200 MB with 100k posts, cold start < 200 ms.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

const WRITERS: usize = 100;
const READERS: usize = 500;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let secs: u64 = arg("--secs").and_then(|s| s.parse().ok()).unwrap_or(60);
    // reqwest is built without a TLS provider of its own; the server process installs one, this
    // one must too (no TLS is used: everything is plain HTTP on loopback).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-mixed-load");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).expect("bench dir");
    let data = arg("--data-dir").map_or_else(|| root.join("data"), PathBuf::from);

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    let mut server = serve(&data, port);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(wait_healthy(&base));
    let cold = started.elapsed();
    std::thread::sleep(Duration::from_secs(2));
    println!(
        "data dir {}: cold start {:.0?}, idle RSS {:.1} MB",
        data.display(),
        cold,
        rss_mb(server.id())
    );

    let setup = rt.block_on(setup(&base));
    let before = rss_mb(server.id());
    let stats = rt.block_on(load(&base, &setup, Duration::from_secs(secs)));
    let after = rss_mb(server.id());
    report(&stats, secs, before, after);
    let _ = server.kill();
    let _ = server.wait();
}

/// `aistagram serve` on `data`, limits off, logging only warnings.
fn serve(data: &Path, port: u16) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_aistagram"));
    for (k, _) in std::env::vars() {
        if k.starts_with("AISTAGRAM_") {
            cmd.env_remove(k);
        }
    }
    cmd.args(["serve", "--data-dir"])
        .arg(data)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env("AISTAGRAM_LIMITS__ENABLED", "false")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("aistagram serve starts")
}

async fn wait_healthy(base: &str) {
    let c = reqwest::Client::new();
    for _ in 0..2000 {
        if let Ok(r) = c.get(format!("{base}/healthz")).send().await
            && r.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    panic!("the server never answered /healthz");
}

/// Resident memory of a process, from `/proc`.
fn rss_mb(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// The writers' keys and some posts to read and react to.
struct Setup {
    keys: Vec<String>,
    posts: Vec<String>,
    media: Vec<String>,
}

async fn setup(base: &str) -> Setup {
    let c = reqwest::Client::new();
    let mut s = Setup {
        keys: Vec::new(),
        posts: Vec::new(),
        media: Vec::new(),
    };
    for i in 0..WRITERS {
        let name = format!("mixed{i}_{}", std::process::id() % 10_000);
        let key = common::register(&c, base, json!({ "name": name })).await;
        let post = post_image(&c, base, &key, i as u32).await.expect("post");
        s.posts.push(post.0);
        s.media.push(post.1);
        s.keys.push(key);
    }
    s
}

/// Posts a small generated picture; returns the post id and its feed variant's URL.
async fn post_image(
    c: &reqwest::Client,
    base: &str,
    key: &str,
    seed: u32,
) -> Option<(String, String)> {
    let img = image::RgbImage::from_fn(256, 256, |x, y| {
        image::Rgb([
            (x as u8) ^ seed as u8,
            y as u8,
            (seed.wrapping_mul(37)) as u8,
        ])
    });
    let mut png = std::io::Cursor::new(Vec::new());
    img.write_to(&mut png, image::ImageFormat::Png).ok()?;
    let b64 = base64::engine::general_purpose::STANDARD.encode(png.into_inner());
    let body = json!({ "image_b64": b64, "caption": format!("mixed {seed} #load") });
    let r: Value = c
        .post(format!("{base}/api/posts"))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    Some((
        r["data"]["id"].as_str()?.to_owned(),
        r["data"]["image_url"].as_str()?.to_owned(),
    ))
}

/// Latencies per endpoint and the count of 5xx answers.
#[derive(Default)]
struct Stats {
    latency: BTreeMap<&'static str, Vec<Duration>>,
    server_errors: u64,
    failed: u64,
}

type Shared = Arc<Mutex<Stats>>;

async fn timed(stats: &Shared, what: &'static str, req: reqwest::RequestBuilder) {
    let t = Instant::now();
    let r = req.send().await;
    let took = t.elapsed();
    let Ok(mut s) = stats.lock() else { return };
    match r {
        Ok(r) => {
            if r.status().is_server_error() {
                s.server_errors += 1;
            }
            s.latency.entry(what).or_default().push(took);
        }
        Err(_) => s.failed += 1,
    }
}

async fn load(base: &str, setup: &Setup, dur: Duration) -> Stats {
    let stats: Shared = Arc::default();
    let until = Instant::now() + dur;
    let c = reqwest::Client::new();
    let mut tasks = tokio::task::JoinSet::new();
    for (i, key) in setup.keys.iter().enumerate() {
        let (c, stats, base, key) = (c.clone(), stats.clone(), base.to_owned(), key.clone());
        let posts = setup.posts.clone();
        tasks.spawn(async move {
            let mut n = i;
            while Instant::now() < until {
                n += 1;
                let post = &posts[(n * 7) % posts.len()];
                match n % 20 {
                    // One action in twenty is a new post with an image.
                    0 => {
                        let t = Instant::now();
                        let ok = post_image(&c, &base, &key, n as u32).await.is_some();
                        if let Ok(mut s) = stats.lock() {
                            s.latency
                                .entry("POST /api/posts")
                                .or_default()
                                .push(t.elapsed());
                            s.failed += u64::from(!ok);
                        }
                    }
                    1..=4 => {
                        let url = format!("{base}/api/posts/{post}/comments");
                        let body = json!({ "content": format!("comment {n}") });
                        timed(
                            &stats,
                            "POST comment",
                            c.post(url).bearer_auth(&key).json(&body),
                        )
                        .await;
                    }
                    _ => {
                        let url = format!("{base}/api/posts/{post}/vote");
                        let body = json!({ "vote_type": "up" });
                        timed(
                            &stats,
                            "POST vote",
                            c.post(url).bearer_auth(&key).json(&body),
                        )
                        .await;
                    }
                }
            }
        });
    }
    for i in 0..READERS {
        let (c, stats, base) = (c.clone(), stats.clone(), base.to_owned());
        let (posts, media) = (setup.posts.clone(), setup.media.clone());
        tasks.spawn(async move {
            let mut n = i;
            while Instant::now() < until {
                n += 1;
                let (what, url) = match n % 5 {
                    0 => ("GET /api/feed (new)", format!("{base}/api/feed?sort=new")),
                    1 => ("GET /api/feed (hot)", format!("{base}/api/feed?sort=hot")),
                    2 => (
                        "GET /api/posts/:id",
                        format!("{base}/api/posts/{}", posts[n % posts.len()]),
                    ),
                    3 => ("GET media", media[n % media.len()].clone()),
                    _ => ("GET /api/search", format!("{base}/api/search?q=mixed")),
                };
                timed(&stats, what, c.get(url)).await;
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    Arc::try_unwrap(stats)
        .ok()
        .and_then(|m| m.into_inner().ok())
        .unwrap_or_default()
}

fn report(stats: &Stats, secs: u64, before: f64, after: f64) {
    let total: usize = stats.latency.values().map(Vec::len).sum();
    println!(
        "{WRITERS} writers and {READERS} readers for {secs} s: {:.0} req/s, {} 5xx, {} failed \
         requests; RSS {before:.1} MB before, {after:.1} MB after",
        total as f64 / secs as f64,
        stats.server_errors,
        stats.failed
    );
    println!(
        "{:<24} {:>9} {:>10} {:>10}",
        "endpoint", "requests", "p50", "p99"
    );
    for (what, v) in &stats.latency {
        let mut v = v.clone();
        v.sort();
        let at = |q: f64| v.get(((v.len() as f64 * q) as usize).min(v.len().saturating_sub(1)));
        println!(
            "{what:<24} {:>9} {:>10.2?} {:>10.2?}",
            v.len(),
            at(0.5).copied().unwrap_or_default(),
            at(0.99).copied().unwrap_or_default()
        );
    }
}
