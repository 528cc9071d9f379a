//! Gallery first screen: how long after navigation the feed's first screen of thumbnails is
//! on screen, in headless Chromium, with 1,000 posts in the database. Anchor: the issue's one
//! second budget.
//!
//! Run: `cargo bench --bench gallery_first_screen` (add `-- --rounds 15`). Needs Debian's
//! `chromium` and `chromium-driver` (`.ci/test` installs them). The server is the real one
//! (release build) on loopback; posts are made through the API.

#[path = "../tests/api/browser.rs"]
#[allow(dead_code)]
mod browser;

use std::time::Instant;

use aistagram::App;
use serde_json::json;

mod common;

const POSTS: usize = 1000;
const AGENTS: usize = 20;

/// Posts made last (so shown first) get 1024×1024 pictures with texture, the size and weight of
/// a typical generated image; the rest are small, to keep seeding quick.
const DETAILED: usize = 48;

fn jpeg(seed: u32, side: u32) -> Vec<u8> {
    let s = seed as f32;
    let img = image::RgbImage::from_fn(side, side, |x, y| {
        let (fx, fy) = (x as f32, y as f32);
        image::Rgb([
            (128.0 + 127.0 * (fx / 37.0 + s).sin()) as u8,
            (128.0 + 127.0 * (fy / 53.0 + fx / 71.0 + s * 0.3).sin()) as u8,
            (((x ^ y) & 63) * 3 + (seed % 60)) as u8,
        ])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg)
        .expect("jpeg");
    out.into_inner()
}

/// Milliseconds from navigation start until every thumbnail in the first viewport has arrived
/// and the largest one has been painted: the later of the last visible image's `responseEnd` and
/// the largest-contentful-paint time.
const MEASURE: &str = r#"
const done = arguments[0];
const visible = [...document.querySelectorAll('.tile img')]
  .filter(i => i.getBoundingClientRect().top < innerHeight);
const ready = () => visible.length > 0 && visible.every(i => i.complete && i.naturalWidth > 0);
const finish = () => {
  const ends = visible.map(i => performance.getEntriesByName(i.currentSrc)[0]?.responseEnd ?? 0);
  new PerformanceObserver((list, obs) => {
    const lcp = list.getEntries().at(-1);
    obs.disconnect();
    const api = performance.getEntriesByType('resource').find(e => e.name.includes('/api/feed'));
    const bytes = visible
      .map(i => performance.getEntriesByName(i.currentSrc)[0]?.encodedBodySize ?? 0)
      .reduce((a, b) => a + b, 0);
    done({
      images: visible.length, last_image: Math.max(...ends), lcp: lcp.startTime,
      api: api?.responseEnd ?? 0, bytes,
      dcl: performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd,
    });
  }).observe({ type: 'largest-contentful-paint', buffered: true });
};
const poll = () => (ready() ? finish() : setTimeout(poll, 10));
poll();
"#;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let rounds = common::flag("--rounds", 9) as usize;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let dir = tempfile::tempdir().expect("temp dir");
        let app = App::build(common::config(dir.path().to_path_buf()))
            .await
            .expect("server");
        let base = format!("http://{}", app.addr());
        let server = tokio::spawn(app.run_until(std::future::pending::<()>()));

        let started = Instant::now();
        let http = reqwest::Client::new();
        let mut keys = Vec::new();
        for i in 0..AGENTS {
            let body = json!({ "name": format!("agent{i:02}"), "avatar_emoji": "🤖" });
            keys.push(common::register(&http, &base, body).await);
        }
        for i in 0..POSTS {
            let body = json!({
                "image_b64": base64_encode(&jpeg(i as u32, if i >= POSTS - DETAILED { 1024 } else { 320 })),
                "caption": format!("Study {i} #bench"),
                "prompt": "a bench of colours",
            });
            let r = http
                .post(format!("{base}/api/posts"))
                .bearer_auth(&keys[i % AGENTS])
                .json(&body)
                .send()
                .await
                .expect("post");
            assert!(r.status().is_success(), "post {i}: {}", r.status());
        }
        eprintln!("seeded {POSTS} posts in {:.1?}", started.elapsed());

        let mut cold = Vec::new();
        let mut warm = Vec::new();
        let (mut dcl, mut api, mut kib) = (Vec::new(), Vec::new(), 0.0);
        let mut images = 0;
        for round in 0..rounds {
            // A fresh profile: nothing cached, as for a first-time visitor.
            let b = browser::Browser::start(1280, 900).await;
            for (i, list) in [&mut cold, &mut warm].into_iter().enumerate() {
                if i == 0 {
                    b.goto(&format!("{base}/")).await;
                } else {
                    b.client.refresh().await.expect("reload");
                }
                let m = b
                    .client
                    .execute_async(MEASURE, vec![])
                    .await
                    .expect("measure");
                images = m["images"].as_u64().unwrap_or(0);
                let ms = m["last_image"]
                    .as_f64()
                    .unwrap_or(0.0)
                    .max(m["lcp"].as_f64().unwrap_or(0.0));
                list.push(ms);
                if i == 0 {
                    dcl.push(m["dcl"].as_f64().unwrap_or(0.0));
                    api.push(m["api"].as_f64().unwrap_or(0.0));
                    kib = m["bytes"].as_f64().unwrap_or(0.0) / 1024.0;
                }
            }
            eprintln!(
                "round {}: cold {:.0} ms, warm {:.0} ms",
                round + 1,
                cold[round],
                warm[round]
            );
            b.close().await;
        }
        let (c, w) = (median(cold), median(warm));
        println!("first screen ({images} thumbnails, {POSTS} posts, 1280×900):");
        println!("  first visit : median {c:.0} ms = {:.3} of the 1 s budget", c / 1000.0);
        println!(
            "    (DOMContentLoaded {:.0} ms, /api/feed answered {:.0} ms, {kib:.0} KiB of images)",
            median(dcl),
            median(api)
        );
        println!("  repeat visit: median {w:.0} ms = {:.3} of the 1 s budget", w / 1000.0);
        server.abort();
    });
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
