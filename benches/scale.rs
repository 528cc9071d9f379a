//! Scale check: 100,000 posts by 1,000 agents, then p50/p99 latency of the home feed, explore,
//! hashtag and search endpoints, measured by a client on loopback against the real server.
//!
//! Run: `cargo bench --bench scale` (add `-- --requests 1000` for more samples, `--fresh` to
//! regenerate the data set kept in `target/bench-scale`). Data is written through the service
//! layer (the same code the API calls), reads go through HTTP.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aistagram::media::ImageInput;
use aistagram::service::agents::NewAgent;
use aistagram::service::posts::{NewPost, PostDetails, PostImage};

mod common;

use common::{Rng, WORDS};

const AGENTS: usize = 1000;
const POSTS: usize = 100_000;
/// Agents that follow everyone else: the home feed's worst case (999 followed agents).
const HEAVY_READERS: usize = 10;
const FOLLOWS_EACH: usize = 100;
const VOTES: usize = 100_000;

fn png(seed: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(32, 32, |x, y| {
        image::Rgb([(x * 8) as u8, (y * 8) as u8, (seed * 40) as u8])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("png");
    out.into_inner()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let requests: usize = args
        .iter()
        .position(|a| a == "--requests")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-scale");
    if args.iter().any(|a| a == "--fresh") {
        let _ = std::fs::remove_dir_all(&root);
    }
    let keys_file = root.join("keys.txt");
    let generate = !keys_file.is_file();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let server = common::Server::start(&rt, root.join("data"));
    let (base, core) = (server.base.clone(), server.services.clone());

    let keys: Vec<String> = if generate {
        let started = Instant::now();
        let keys = rt.block_on(generate_data(core.clone()));
        std::fs::write(&keys_file, keys.join("\n")).expect("keys");
        println!(
            "generated {AGENTS} agents, {POSTS} posts, follows and {VOTES} votes in {:.0?}",
            started.elapsed()
        );
        keys
    } else {
        std::fs::read_to_string(&keys_file)
            .expect("keys")
            .lines()
            .map(String::from)
            .collect()
    };
    // Let the search indexer catch up before measuring.
    rt.block_on(async {
        let c = reqwest::Client::new();
        for _ in 0..600 {
            let r: serde_json::Value = c
                .get(format!("{base}/api/search?q=neon&limit=1"))
                .send()
                .await
                .expect("search")
                .json()
                .await
                .expect("json");
            if r["data"]["posts"].as_array().is_some_and(|a| !a.is_empty())
                && core.search.documents() as usize >= AGENTS + POSTS
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    });

    let client = reqwest::Client::new();
    let mut rng = Rng(0xDEC0DE);
    println!(
        "\nlatency over {requests} sequential requests each (client on loopback, data as above)"
    );
    println!("{:<44} {:>9} {:>9} {:>9}", "endpoint", "p50", "p99", "max");
    let heavy: Vec<String> = keys[..HEAVY_READERS].to_vec();
    let mut run = |name: &str, make: &mut dyn FnMut(&mut Rng) -> (String, Option<String>)| {
        let mut samples = Vec::with_capacity(requests);
        rt.block_on(async {
            for _ in 0..requests {
                let (path, key) = make(&mut rng);
                let mut req = client.get(format!("{base}{path}"));
                if let Some(k) = key {
                    req = req.bearer_auth(k);
                }
                let t = Instant::now();
                let res = req.send().await.expect("request");
                let status = res.status();
                let _ = res.bytes().await.expect("body");
                samples.push(t.elapsed());
                assert!(status.is_success(), "{path}: {status}");
            }
        });
        samples.sort();
        let p = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
        println!(
            "{name:<44} {:>9.2?} {:>9.2?} {:>9.2?}",
            p(0.50),
            p(0.99),
            samples[samples.len() - 1]
        );
    };
    run("GET /api/feed/home (following 999 agents)", &mut |r| {
        (
            "/api/feed/home?limit=20".into(),
            Some(heavy[r.below(heavy.len())].clone()),
        )
    });
    run("GET /api/feed/home (following ~100 agents)", &mut |r| {
        (
            "/api/feed/home?limit=20".into(),
            Some(keys[HEAVY_READERS + r.below(AGENTS - HEAVY_READERS)].clone()),
        )
    });
    run("GET /api/explore", &mut |_| {
        ("/api/explore?limit=20".into(), None)
    });
    run("GET /api/hashtags/:tag", &mut |r| {
        (
            format!("/api/hashtags/{}?limit=20", WORDS[r.skewed(WORDS.len())]),
            None,
        )
    });
    run("GET /api/search?q=word", &mut |r| {
        (
            format!("/api/search?q={}&limit=20", WORDS[r.below(WORDS.len())]),
            None,
        )
    });
    run("GET /api/search?q=\"two words\"", &mut |r| {
        (
            format!(
                "/api/search?q=%22{}%20{}%22&limit=20",
                WORDS[r.below(WORDS.len())],
                WORDS[r.below(WORDS.len())]
            ),
            None,
        )
    });
    run("GET /api/search?type=agents", &mut |r| {
        (
            format!(
                "/api/search?q={}&type=agents&limit=20",
                WORDS[r.below(WORDS.len())]
            ),
            None,
        )
    });

    server.stop(&rt);
}

async fn generate_data(core: std::sync::Arc<aistagram::service::Services>) -> Vec<String> {
    let (keys, agents) = common::register_agents(&core, AGENTS, |i| NewAgent {
        name: format!("agent{i:04}"),
        bio: Some(format!(
            "I paint {} and {}",
            WORDS[i % WORDS.len()],
            WORDS[(i * 7) % WORDS.len()]
        )),
        model: Some("bench-model".into()),
        ..Default::default()
    })
    .await;
    let agents = Arc::new(agents);
    let images: Arc<Vec<Vec<u8>>> = Arc::new((0..50).map(png).collect());
    // Posts, 64 at a time.
    let mut tasks = Vec::new();
    for w in 0..64 {
        let (core, agents, images) = (core.clone(), agents.clone(), images.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng(0x5EED + w as u64);
            for n in (w..POSTS).step_by(64) {
                let a = &agents[n % AGENTS];
                let caption = format!(
                    "{} {} over the {} #{} #{}",
                    WORDS[rng.below(WORDS.len())],
                    WORDS[rng.below(WORDS.len())],
                    WORDS[rng.below(WORDS.len())],
                    WORDS[rng.skewed(WORDS.len())],
                    WORDS[rng.skewed(WORDS.len())]
                );
                let details = PostDetails {
                    caption: Some(caption),
                    prompt: Some(format!(
                        "a {} in the style of {}",
                        WORDS[rng.below(WORDS.len())],
                        WORDS[rng.below(WORDS.len())]
                    )),
                    category: None,
                    model: Some("bench-model".into()),
                    tags: Vec::new(),
                    is_nsfw: false,
                    publish_at: None,
                };
                let post = NewPost {
                    image: PostImage::New(ImageInput::Bytes(images[n % images.len()].clone())),
                    details,
                };
                core.posts.create(a, post).await.expect("post");
            }
        }));
    }
    for t in tasks {
        t.await.expect("posts");
    }
    // Follows: heavy readers follow everyone, the rest about 100 agents each.
    let mut tasks = Vec::new();
    for w in 0..64 {
        let (core, agents) = (core.clone(), agents.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng(0xF011 + w as u64);
            for i in (w..AGENTS).step_by(64) {
                let targets: Vec<usize> = if i < HEAVY_READERS {
                    (0..AGENTS).filter(|&t| t != i).collect()
                } else {
                    (0..FOLLOWS_EACH)
                        .map(|_| rng.below(AGENTS))
                        .filter(|&t| t != i)
                        .collect()
                };
                for t in targets {
                    core.social
                        .set_follow(&agents[i], &format!("agent{t:04}"), true)
                        .await
                        .expect("follow");
                }
            }
        }));
    }
    for t in tasks {
        t.await.expect("follows");
    }
    // Votes on skewed posts, so explore has something to rank.
    let posts: Vec<String> = {
        let page = core
            .feeds
            .feed(
                aistagram::service::posts::FeedQuery {
                    sort: aistagram::service::posts::FeedSort::New,
                    window: aistagram::service::posts::TopWindow::All,
                    limit: 100,
                    cursor: None,
                    offset: 0,
                    category: None,
                },
                None,
            )
            .await
            .expect("feed");
        page.items.into_iter().map(|p| p.id).collect()
    };
    let posts = Arc::new(posts);
    let mut tasks = Vec::new();
    for w in 0..64 {
        let (core, agents, posts) = (core.clone(), agents.clone(), posts.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng(0x707E + w as u64);
            for _ in (w..VOTES).step_by(64) {
                let a = &agents[rng.below(AGENTS)];
                let p = &posts[rng.skewed(posts.len())];
                core.reactions
                    .vote(a, p, aistagram::domain::VoteType::Up)
                    .await
                    .expect("vote");
            }
        }));
    }
    for t in tasks {
        t.await.expect("votes");
    }
    keys
}
