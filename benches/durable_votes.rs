//! Load benchmark: durable votes per second from 64 concurrent HTTP clients against the real
//! server, measured side by side with the write+fsync cycles per second of the same disk.
//!
//! Run: `cargo bench --bench durable_votes` (add `-- --secs 5 --rounds 5` to change the shape).
//! Each round measures the disk, then the server, for the same duration; the medians of all
//! rounds and their ratio are printed. Target (issue 2): at least 10 votes per fsync.

use std::fs::OpenOptions;
use std::io::{Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

mod common;

const CLIENTS: usize = 64;

fn main() {
    let secs = common::flag("--secs", 5);
    let rounds = common::flag("--rounds", 5) as usize;
    let window = Duration::from_secs(secs);

    // The data dir sits beside target/, on the disk the server would use.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-durable-votes");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).expect("bench dir");

    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("server runtime");
    let server = common::Server::start(&server_rt, root.join("data"));
    let (base, state) = (server.base.clone(), server.services.clone());

    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("client runtime");
    let (keys, posts) = client_rt.block_on(setup(&base));

    println!(
        "durable votes: {CLIENTS} clients, {rounds} rounds of {secs} s (disk probe, then server)"
    );
    println!("round  fsync/s  votes/s  votes per fsync  votes per commit");
    let (mut fsyncs, mut votes, mut ratios, mut batches) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for round in 1..=rounds {
        let f = fsync_rate(&root.join("probe.bin"), window);
        let stats = state.writer_stats();
        let (c0, o0) = (stats.commits.load(Relaxed), stats.ops.load(Relaxed));
        let v = client_rt.block_on(vote_rate(&base, &keys, &posts, window));
        let (c1, o1) = (stats.commits.load(Relaxed), stats.ops.load(Relaxed));
        let batch = (o1 - o0) as f64 / (c1 - c0).max(1) as f64;
        println!(
            "{round:>5}  {f:>7.0}  {v:>7.0}  {:>15.2}  {batch:>16.1}",
            v / f
        );
        fsyncs.push(f);
        votes.push(v);
        ratios.push(v / f);
        batches.push(batch);
    }
    println!(
        "median {:>7.0}  {:>7.0}  {:>15.2}  {:>16.1}",
        median(&mut fsyncs),
        median(&mut votes),
        median(&mut ratios),
        median(&mut batches)
    );

    server.stop(&server_rt);
    let _ = std::fs::remove_dir_all(&root);
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Rewrites one 4 KiB block and fsyncs it, as often as the disk allows within `window`.
fn fsync_rate(path: &Path, window: Duration) -> f64 {
    let mut f = OpenOptions::new()
        .create(true)
        .truncate(true)
        .read(true)
        .write(true)
        .open(path)
        .expect("probe file");
    let block = [0x5au8; 4096];
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < window {
        f.seek(SeekFrom::Start(0)).expect("seek");
        f.write_all(&block).expect("write");
        f.sync_all().expect("fsync");
        n += 1;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// One agent per client and a few posts to vote on.
async fn setup(base: &str) -> (Vec<String>, Vec<String>) {
    let c = reqwest::Client::new();
    let mut keys = Vec::new();
    for i in 0..CLIENTS {
        keys.push(common::register(&c, base, json!({ "name": format!("bench{i}") })).await);
    }
    let mut posts = Vec::new();
    for (i, key) in keys.iter().take(8).enumerate() {
        let img = image::RgbImage::from_fn(64, 64, |x, y| {
            image::Rgb([x as u8 * 4, y as u8 * 4, i as u8 * 30])
        });
        let mut png = std::io::Cursor::new(Vec::new());
        img.write_to(&mut png, image::ImageFormat::Png)
            .expect("png");
        let b64 = base64::engine::general_purpose::STANDARD.encode(png.into_inner());
        let r: Value = c
            .post(format!("{base}/api/posts"))
            .bearer_auth(key)
            .json(&json!({ "image_b64": b64, "caption": "bench" }))
            .send()
            .await
            .expect("post")
            .json()
            .await
            .expect("json");
        posts.push(r["data"]["id"].as_str().expect("id").to_owned());
    }
    (keys, posts)
}

/// Every client votes (toggling up) in a loop; only 2xx answers count, each one durable.
async fn vote_rate(base: &str, keys: &[String], posts: &[String], window: Duration) -> f64 {
    let ok = Arc::new(AtomicU64::new(0));
    let client = reqwest::Client::new();
    let start = Instant::now();
    let mut tasks = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let (client, ok, key) = (client.clone(), ok.clone(), key.clone());
        let url = format!("{base}/api/posts/{}/vote", posts[i % posts.len()]);
        tasks.push(tokio::spawn(async move {
            while start.elapsed() < window {
                let r = client
                    .post(&url)
                    .bearer_auth(&key)
                    .json(&json!({ "vote_type": "up" }))
                    .send()
                    .await;
                if r.is_ok_and(|r| r.status().is_success()) {
                    ok.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    ok.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}
