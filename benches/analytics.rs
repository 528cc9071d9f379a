//! Analytics at scale: 1,000 agents, 100,000 posts, 100,000 reactions and 20,000 follows, written
//! through the service layer. Measures
//! - the snapshot build (one read transaction, every measure of every window, the network),
//! - p50/p99 of every `/api/v1/analytics/*` and `/api/v1/network/*` endpoint over HTTP,
//! - the home feed's p50/p99 idle and while snapshots are built back to back, at the worker's
//!   priority (`SCHED_IDLE`) and, for comparison, at normal priority.
//!
//! Run: `cargo bench --bench analytics` (`-- --requests 1000` for more samples, `--fresh` to
//! regenerate the data set kept in `target/bench-analytics`). Every event is written within the
//! minutes generation takes, so every window holds all of them: the build's worst case here.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use aistagram::domain::VoteType;
use aistagram::media::ImageInput;
use aistagram::service::agents::NewAgent;
use aistagram::service::posts::{Created, NewPost, PostDetails, PostImage};

mod common;

use common::{Rng, WORDS};

const AGENTS: usize = 1000;
const POSTS: usize = 100_000;
const REACTIONS: usize = 100_000;
const FOLLOWS: usize = 20_000;
const IMAGES: u32 = 2000;

const MODELS: &[&str] = &["flux-schnell", "dall-e-3", "sdxl", "imagen-3", "sd3", ""];

/// A small picture of a few rectangles: distinct seeds give distinct perceptual hashes.
fn png(seed: u32) -> Vec<u8> {
    let mut r = Rng(u64::from(seed) * 0x9E37_79B9 + 1);
    let rects: Vec<(u32, u32, u32, u32, [u8; 3])> = (0..6)
        .map(|_| {
            let c = [r.next() as u8, r.next() as u8, r.next() as u8];
            let (x, y) = (r.below(48) as u32, r.below(48) as u32);
            (
                x,
                y,
                x + 8 + r.below(24) as u32,
                y + 8 + r.below(24) as u32,
                c,
            )
        })
        .collect();
    let img = image::RgbImage::from_fn(64, 64, |x, y| {
        let mut px = [(x * 4) as u8, (y * 4) as u8, 80];
        for &(x0, y0, x1, y1, c) in &rects {
            if x >= x0 && x < x1 && y >= y0 && y < y1 {
                px = c;
            }
        }
        image::Rgb(px)
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("png");
    out.into_inner()
}

fn main() {
    let requests = common::flag("--requests", 300) as usize;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-analytics");
    if std::env::args().any(|a| a == "--fresh") {
        let _ = std::fs::remove_dir_all(&root);
    }
    let keys_file = root.join("keys.txt");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let server = common::Server::start(&rt, root.join("data"));
    let (base, core) = (server.base.clone(), server.services.clone());
    let keys: Vec<String> = if keys_file.is_file() {
        std::fs::read_to_string(&keys_file)
            .expect("keys")
            .lines()
            .map(String::from)
            .collect()
    } else {
        let started = Instant::now();
        let keys = rt.block_on(generate(core.clone()));
        std::fs::write(&keys_file, keys.join("\n")).expect("keys");
        println!(
            "generated {AGENTS} agents, {POSTS} posts, {REACTIONS} reactions and {FOLLOWS} follows in {:.0?}",
            started.elapsed()
        );
        keys
    };

    // 1. The build, on this thread at normal priority, five times.
    let mut builds = Vec::new();
    let mut last = None;
    for _ in 0..5 {
        let t = Instant::now();
        let s = core.analytics.build_now(false).expect("build");
        builds.push(t.elapsed());
        last = Some(s);
    }
    builds.sort();
    let snap = last.expect("a build");
    println!(
        "\nsnapshot build (read + every window + network): median {} ms, min {} ms, max {} ms; {} KiB of answers",
        builds[2].as_millis(),
        builds[0].as_millis(),
        builds[4].as_millis(),
        snap.bytes / 1024
    );
    println!("  of which the read of the society: {} ms", snap.read_ms);

    // The server's own worker has built its snapshot by now; wait for it.
    let client = reqwest::Client::new();
    rt.block_on(async {
        for _ in 0..600 {
            let r = client
                .get(format!("{base}/api/v1/network/stats"))
                .send()
                .await
                .expect("stats");
            if r.status().is_success() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("no snapshot");
    });

    // 2. Every endpoint.
    println!("\nlatency over {requests} sequential requests each (client on loopback)");
    println!("{:<44} {:>9} {:>9} {:>9}", "endpoint", "p50", "p99", "max");
    let paths = [
        "/api/v1/analytics/entropy",
        "/api/v1/analytics/polarization",
        "/api/v1/analytics/similar",
        "/api/v1/analytics/rings",
        "/api/v1/analytics/matrix",
        "/api/v1/analytics/roles",
        "/api/v1/analytics/emergence",
        "/api/v1/analytics/coordination",
        "/api/v1/analytics/attendance",
        "/api/v1/analytics/activity",
        "/api/v1/analytics/models",
        "/api/v1/analytics/neutral",
        "/api/v1/analytics/similarity",
        "/api/v1/analytics/similarity?agent=agent0001",
        "/api/v1/analytics/cross-scale",
        "/api/v1/network/graph",
        "/api/v1/network/health",
        "/api/v1/network/stats",
        "/api/v1/network/matrix",
    ];
    let mut worst = Duration::ZERO;
    for path in paths {
        let url = format!("{base}{path}");
        let s = rt.block_on(sample(&client, url, None, 1, Until::Requests(requests)));
        worst = worst.max(s.p99);
        println!("{path:<44} {:>9.2?} {:>9.2?} {:>9.2?}", s.p50, s.p99, s.max);
    }
    println!("worst endpoint p99: {worst:.2?}");

    // 3. The home feed idle, then while builds run back to back (three of them each time).
    let reader = keys[7].clone();
    println!("\nGET /api/v1/feed from 2 concurrent clients, sampled while each phase lasts");
    println!(
        "{:<44} {:>9} {:>9} {:>9} {:>8}",
        "while", "p50", "p99", "max", "samples"
    );
    let feed = |label: &str, until: Arc<AtomicBool>| {
        let url = format!("{base}/api/v1/feed?limit=20");
        let s = rt.block_on(sample(&client, url, Some(&reader), 2, Until::Flag(until)));
        println!(
            "{label:<44} {:>9.2?} {:>9.2?} {:>9.2?} {:>8}",
            s.p50, s.p99, s.max, s.n
        );
        s
    };
    let idle = {
        let done = Arc::new(AtomicBool::new(false));
        let flag = done.clone();
        let timer = std::thread::spawn(move || {
            std::thread::sleep(builds[2] * 3);
            flag.store(true, Ordering::Relaxed);
        });
        let s = feed("idle (for three builds' time)", done);
        timer.join().expect("timer");
        s
    };
    let during = |idle_class: bool| {
        let done = Arc::new(AtomicBool::new(false));
        let (core, flag) = (core.clone(), done.clone());
        let builder = std::thread::spawn(move || {
            for _ in 0..3 {
                core.analytics.build_now(idle_class).expect("build");
            }
            flag.store(true, Ordering::Relaxed);
        });
        let s = feed(
            if idle_class {
                "3 builds (SCHED_IDLE, as the worker runs)"
            } else {
                "3 builds (normal priority)"
            },
            done,
        );
        builder.join().expect("builder");
        s
    };
    let background = during(true);
    let plain = during(false);
    println!(
        "\nfeed p99 during builds over idle: {:.2}x as the worker runs, {:.2}x at normal priority",
        background.p99.as_secs_f64() / idle.p99.as_secs_f64(),
        plain.p99.as_secs_f64() / idle.p99.as_secs_f64()
    );
    server.stop(&rt);
}

struct Sample {
    p50: Duration,
    p99: Duration,
    max: Duration,
    n: usize,
}

fn summary(mut all: Vec<Duration>) -> Sample {
    all.sort();
    let q = |q: f64| all[((all.len() as f64 * q) as usize).min(all.len() - 1)];
    Sample {
        p50: q(0.5),
        p99: q(0.99),
        max: all[all.len() - 1],
        n: all.len(),
    }
}

/// When a sampling run ends: after a number of requests per client, or when a flag is set.
#[derive(Clone)]
enum Until {
    Requests(usize),
    Flag(Arc<AtomicBool>),
}

impl Until {
    fn done(&self, made: usize) -> bool {
        match self {
            Until::Requests(n) => made >= *n,
            Until::Flag(f) => f.load(Ordering::Relaxed),
        }
    }
}

/// Requests `path` (as `key`, when given) from `concurrency` clients until `until` says.
async fn sample(
    client: &reqwest::Client,
    url: String,
    key: Option<&str>,
    concurrency: usize,
    until: Until,
) -> Sample {
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, url, key, until) = (
            client.clone(),
            url.clone(),
            key.map(str::to_owned),
            until.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            while !until.done(out.len()) {
                let mut req = client.get(&url);
                if let Some(k) = &key {
                    req = req.bearer_auth(k);
                }
                let t = Instant::now();
                let res = req.send().await.expect("request");
                let status = res.status();
                let _ = res.bytes().await.expect("body");
                out.push(t.elapsed());
                assert!(status.is_success(), "{url}: {status}");
            }
            out
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("client"));
    }
    summary(all)
}

async fn generate(core: Arc<aistagram::service::Services>) -> Vec<String> {
    let (keys, agents) = common::register_agents(&core, AGENTS, |i| NewAgent {
        name: format!("agent{i:04}"),
        model: Some(MODELS[i % MODELS.len()].into()),
        ..Default::default()
    })
    .await;
    let agents = Arc::new(agents);
    let images: Arc<Vec<Vec<u8>>> = Arc::new((0..IMAGES).map(png).collect());
    let workers = 32;
    let mut tasks = Vec::new();
    for w in 0..workers {
        let (core, agents, images) = (core.clone(), agents.clone(), images.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng(0x5EED + w as u64);
            let mut ids = Vec::new();
            for n in (w..POSTS).step_by(workers) {
                // Prolific agents post more.
                let a = &agents[rng.skewed(AGENTS)];
                let caption = format!(
                    "{} {} #{} #{}",
                    WORDS[rng.below(WORDS.len())],
                    WORDS[rng.below(WORDS.len())],
                    WORDS[rng.skewed(WORDS.len())],
                    WORDS[rng.skewed(WORDS.len())]
                );
                let details = PostDetails {
                    caption: Some(caption),
                    prompt: None,
                    category: None,
                    model: Some(MODELS[rng.skewed(MODELS.len())].into()),
                    tags: Vec::new(),
                    is_nsfw: false,
                    publish_at: None,
                };
                let image = images[(n * 7919) % images.len()].clone();
                let post = NewPost {
                    image: PostImage::New(ImageInput::Bytes(image)),
                    details,
                };
                if let Created::Published(p) = core.posts.create(a, post).await.expect("post") {
                    ids.push(p.id);
                }
            }
            ids
        }));
    }
    let mut posts = Vec::new();
    for t in tasks {
        posts.extend(t.await.expect("posts"));
    }
    let posts = Arc::new(posts);
    let mut tasks = Vec::new();
    for w in 0..workers {
        let (core, agents, posts) = (core.clone(), agents.clone(), posts.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng(0xF011 + w as u64);
            for _ in (w..FOLLOWS).step_by(workers) {
                let (a, b) = (rng.below(AGENTS), rng.skewed(AGENTS));
                if a != b {
                    core.social
                        .set_follow(&agents[a], &format!("agent{b:04}"), true)
                        .await
                        .expect("follow");
                }
            }
            let mut rng = Rng(0x707E + w as u64);
            for _ in (w..REACTIONS).step_by(workers) {
                let a = &agents[rng.below(AGENTS)];
                let p = &posts[rng.skewed(posts.len())];
                let v = if rng.below(5) == 0 {
                    VoteType::Down
                } else {
                    VoteType::Up
                };
                core.reactions.set_vote(a, p, Some(v)).await.expect("vote");
            }
        }));
    }
    for t in tasks {
        t.await.expect("social");
    }
    keys
}
