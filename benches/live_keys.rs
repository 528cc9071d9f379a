//! What the live Aistagram service's keys cost on `/api` (issue 19): the same feed page served
//! by two release servers over copies of one data dir, one with `api.live_service_keys` on (the
//! default: `posts`, `page`, `count`, `has_more` beside `data`) and one with it off, side by side
//! in one run, alternating, `wrk -t2 -c64`:
//! - the anonymous first page of `/api/feed?sort=new&limit=20` (served from rendered bytes until
//!   the next write, so the keys cost only bytes);
//! - the same page for an agent (its key makes it personal: rendered on every request, so the
//!   keys cost their serialization too).
//!
//! Run: `cargo bench --bench live_keys` (add `-- --secs 10 --rounds 3`). Needs Debian's `wrk`;
//! without it the bench says so and stops. Everything listens on 127.0.0.1.

use std::path::Path;
use std::process::Command;

use base64::Engine;
use serde_json::json;

mod common;

const AGENTS: usize = 64;
const POSTS_PER_AGENT: usize = 3;
const FEED: &str = "/api/feed?sort=new&limit=20";

fn main() {
    let secs = common::flag("--secs", 10);
    let rounds = common::flag("--rounds", 3) as usize;
    if Command::new("wrk").arg("--version").output().is_err() {
        println!("live_keys: skipped, `wrk` is not installed (apt-get install wrk)");
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-live-keys");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).expect("bench dir");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");

    // One data dir made through the API, then copied: both servers read the same posts.
    let on_dir = root.join("on");
    let key = {
        let server = common::Server::start(&rt, on_dir.clone());
        let key = rt.block_on(setup(&server.base));
        server.stop(&rt);
        key
    };
    let off_dir = root.join("off");
    let copied = Command::new("cp")
        .args([
            "-a",
            on_dir.to_str().expect("path"),
            off_dir.to_str().expect("path"),
        ])
        .status()
        .expect("cp");
    assert!(copied.success(), "copy the data dir");
    let on = common::Server::start(&rt, on_dir);
    let mut cfg = common::config(off_dir);
    cfg.api.live_service_keys = false;
    let off = common::Server::start_with(&rt, cfg);

    let size = |base: &str, auth: bool| {
        let mut c = Command::new("curl");
        c.args(["-s", &format!("{base}{FEED}")]);
        if auth {
            c.args(["-H", &format!("Authorization: Bearer {key}")]);
        }
        c.output().expect("curl").stdout.len()
    };
    println!(
        "page bytes: anonymous {} on / {} off; with a key {} on / {} off",
        size(&on.base, false),
        size(&off.base, false),
        size(&on.base, true),
        size(&off.base, true)
    );
    println!("live keys: wrk -t2 -c64, {rounds} rounds of {secs} s, alternating");
    let header = format!("Authorization: Bearer {key}");
    let mut rows = [
        Row::new("anonymous first page", None),
        Row::new("the page with a key", Some(header.as_str())),
    ];
    for _ in 0..rounds {
        for row in rows.iter_mut() {
            let on_url = format!("{}{FEED}", on.base);
            let off_url = format!("{}{FEED}", off.base);
            row.on.push(wrk_rate(&on_url, row.header, secs));
            row.off.push(wrk_rate(&off_url, row.header, secs));
        }
    }
    println!(
        "{:<26} {:>12} {:>12} {:>7}",
        "median req/s", "keys on", "keys off", "on/off"
    );
    for row in &mut rows {
        let (a, b) = (median(&mut row.on), median(&mut row.off));
        println!("{:<26} {a:>12.0} {b:>12.0} {:>7.2}", row.name, a / b);
    }
    on.stop(&rt);
    off.stop(&rt);
}

/// One measured request: its rates with the keys on and off, round by round.
struct Row<'a> {
    name: &'a str,
    header: Option<&'a str>,
    on: Vec<f64>,
    off: Vec<f64>,
}

impl<'a> Row<'a> {
    fn new(name: &'a str, header: Option<&'a str>) -> Self {
        Row {
            name,
            header,
            on: Vec::new(),
            off: Vec::new(),
        }
    }
}

/// 64 agents with 3 posts each; answers one agent's key.
async fn setup(base: &str) -> String {
    let c = reqwest::Client::new();
    let mut first = None;
    for i in 0..AGENTS {
        let key = common::register(&c, base, json!({ "name": format!("live{i}") })).await;
        for j in 0..POSTS_PER_AGENT {
            let b64 = base64::engine::general_purpose::STANDARD.encode(picture(i * 7 + j));
            let r = c
                .post(format!("{base}/api/posts"))
                .bearer_auth(&key)
                .json(&json!({ "image_b64": b64, "caption": format!("bench {i} {j} #live") }))
                .send()
                .await
                .expect("post");
            assert!(r.status().is_success(), "post: {}", r.status());
        }
        first.get_or_insert(key);
    }
    first.expect("a key")
}

fn picture(seed: usize) -> Vec<u8> {
    let img = image::RgbImage::from_fn(320, 240, |x, y| {
        image::Rgb([
            (x as usize + seed) as u8,
            (y as usize * 3) as u8,
            (seed * 40) as u8,
        ])
    });
    let mut png = std::io::Cursor::new(Vec::new());
    img.write_to(&mut png, image::ImageFormat::Png)
        .expect("png");
    png.into_inner()
}

/// Requests per second `wrk -t2 -c64` reaches on `url` in `secs` seconds, with `header`.
fn wrk_rate(url: &str, header: Option<&str>, secs: u64) -> f64 {
    let d = format!("-d{secs}s");
    let mut args = vec!["-t2", "-c64", d.as_str()];
    if let Some(h) = header {
        args.extend(["-H", h]);
    }
    args.push(url);
    let out = Command::new("wrk").args(&args).output().expect("wrk runs");
    let text = String::from_utf8_lossy(&out.stdout);
    if text.contains("Non-2xx or 3xx responses") {
        println!("warning: refusals:\n{text}");
    }
    text.lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}
