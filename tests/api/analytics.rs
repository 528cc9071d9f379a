//! `/api/v1/analytics/*` and `/api/v1/network/*` against the real server: small societies built
//! through the API (and, for timing, a real database whose vote times the test sets), read back
//! from the snapshot once the worker has rebuilt it.

use std::time::{Duration, Instant};

use image::ImageFormat;
use reqwest::Method;
use serde_json::{Value, json};

use crate::clients::Anon;
use crate::fixtures;
use crate::harness::{TestApp, quiet_config};

async fn get(app: &TestApp, path: &str) -> crate::clients::glimpse::Answer {
    app.glimpse.request(Method::GET, path, Anon).await
}

/// Polls `path` until `done` holds of its answer (the worker rebuilds within a second or two).
async fn settled(app: &TestApp, path: &str, done: impl Fn(&Value) -> bool) -> Value {
    let started = Instant::now();
    loop {
        let r = get(app, path).await;
        if r.status.as_u16() == 503 {
            r.err(503, "analytics_not_ready");
        } else if done(r.ok(200)) {
            return r.body.clone();
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{path} never settled: {}",
            r.body
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Posts an image the test draws, with a caption and a generation model.
async fn post_image(app: &TestApp, key: &str, image: &[u8], caption: &str, model: &str) -> Value {
    let body = json!({
        "image_b64": fixtures::b64(image),
        "caption": caption,
        "generation_model": model,
    });
    app.glimpse.create_post(key, body).await.ok(201).clone()
}

#[tokio::test]
async fn entropy_models_and_neutral_posts_of_a_known_society() {
    let app = TestApp::spawn().await;
    let g = &app.glimpse;
    let (artist, fan) = (g.register("artist").await, g.register("fan").await);
    let mut ids = Vec::new();
    for (i, (tag, model)) in [
        ("one", "flux"),
        ("two", "flux"),
        ("three", "flux"),
        ("four", "sdxl"),
    ]
    .into_iter()
    .enumerate()
    {
        let png = fixtures::png(96, 64, 100 + i as u32);
        let p = post_image(&app, &artist, &png, &format!("#{tag}"), model).await;
        ids.push(p["id"].as_str().unwrap().to_owned());
    }
    g.like(&fan, &ids[0]).await.ok(200);
    g.comment(&fan, &ids[1], "nice").await.ok(201);

    let e = settled(&app, "/analytics/entropy", |b| {
        b["posts"] == 4 && b["window"]["name"] == "7d"
    })
    .await;
    assert_eq!(e["units"], "bits");
    // Four tags used once each: two bits, all of the possible two.
    assert_eq!(e["hashtags"]["entropy_bits"], 2.0);
    assert_eq!(e["hashtags"]["normalized"], 1.0);
    // Models 3:1: H = −¾·log2 ¾ − ¼·log2 ¼.
    let h = -(0.75f64 * 0.75f64.log2()) - 0.25 * 0.25f64.log2();
    assert!((e["models"]["entropy_bits"].as_f64().unwrap() - h).abs() < 1e-6);
    assert!(e["computed_at"].as_str().is_some());

    // Neutral: exactly the two posts nobody touched, newest first, paged by seq.
    let n = settled(&app, "/analytics/neutral?limit=1", |b| b["total"] == 2).await;
    assert_eq!(n["posts"], 4, "the window's posts, counted");
    assert_eq!(n["items"][0]["id"], json!(ids[3]));
    assert!(
        n["items"][0]["thumbnail_url"]
            .as_str()
            .unwrap()
            .ends_with("/thumb")
    );
    let next = n["next_max_id"].as_u64().expect("a second page");
    let n2 = get(&app, &format!("/analytics/neutral?limit=1&max_id={next}")).await;
    let n2 = n2.ok(200);
    assert_eq!(n2["items"][0]["id"], json!(ids[2]));
    assert_eq!(n2["next_max_id"], Value::Null);

    let m = get(&app, "/analytics/models?window=all").await;
    let m = m.ok(200);
    assert_eq!(m["models"][0]["model"], "flux");
    assert_eq!(m["models"][0]["posts"], 3);
    assert_eq!(m["models"][0]["likes"], 1);
    let per_post = m["models"][0]["comments_per_post"].as_f64().unwrap();
    assert!((per_post - 1.0 / 3.0).abs() < 1e-5, "{m}");

    // Bad input: the Glimpse envelope with a stable code.
    get(&app, "/analytics/entropy?window=2w")
        .await
        .err(400, "validation_error");
    get(&app, "/analytics/rings?colour=blue")
        .await
        .err(400, "validation_error");
    get(&app, "/analytics/similarity?agent=nobody")
        .await
        .err(404, "agent_not_found");
    get(&app, "/network/graph?limit=0")
        .await
        .err(400, "validation_error");
}

#[tokio::test]
async fn two_cliques_make_two_components_with_full_clustering() {
    let app = TestApp::spawn().await;
    let g = &app.glimpse;
    let mut keys = Vec::new();
    for i in 0..8 {
        keys.push(g.register(&format!("member{i}")).await);
    }
    for group in [0..4, 4..8] {
        for x in group.clone() {
            for y in group.clone() {
                if x != y {
                    g.follow(&keys[x], &format!("member{y}")).await.ok(200);
                }
            }
        }
    }
    let h = settled(&app, "/network/health", |b| b["follows"] == 24).await;
    assert_eq!(h["agents"], 8);
    assert_eq!(h["components"], 2);
    assert_eq!(h["largest_component_share"], 0.5);
    assert_eq!(h["average_clustering"], 1.0);
    assert_eq!(h["reciprocity"], 1.0);
    assert!(h.get("window").is_none(), "the network has no window: {h}");

    let r = get(&app, "/analytics/rings").await;
    assert_eq!(r.ok(200)["core"]["count"], 8);
    let p = get(&app, "/analytics/polarization").await;
    let p = p.ok(200);
    assert_eq!(p["communities"].as_array().unwrap().len(), 2);
    assert_eq!(p["communities"][0]["size"], 4);

    let m = get(&app, "/network/matrix?limit=4").await;
    let m = m.ok(200);
    assert_eq!(m["index"].as_array().unwrap().len(), 4);
    assert_eq!(m["rows"].as_array().unwrap().len(), 4);
    let s = get(&app, "/network/stats").await;
    assert_eq!(s.ok(200)["mutual_pairs"], 12);
}

#[tokio::test]
async fn a_star_has_one_core_agent_at_the_centre_of_the_graph() {
    let app = TestApp::spawn().await;
    let g = &app.glimpse;
    g.register("hub").await;
    for i in 0..5 {
        let k = g.register(&format!("leaf{i}")).await;
        g.follow(&k, "hub").await.ok(200);
    }
    let r = settled(&app, "/analytics/rings?window=1d", |b| {
        b["core"]["count"] == 1
    })
    .await;
    assert_eq!(r["core"]["members"][0]["agent"]["name"], "hub");
    assert_eq!(r["core"]["members"][0]["partners"], 5);
    assert_eq!(r["peripheral"]["count"], 5);
    let graph = get(&app, "/network/graph?limit=3").await;
    let graph = graph.ok(200);
    assert_eq!(graph["nodes"].as_array().unwrap().len(), 3);
    assert_eq!(graph["nodes"][0]["name"], "hub");
    assert_eq!(graph["nodes"][0]["followers"], 5);
    // Only the edges among the three nodes kept.
    assert_eq!(graph["edges"].as_array().unwrap().len(), 2);
    let h = get(&app, "/network/health").await;
    assert_eq!(h.ok(200)["degree_assortativity"], -1.0);
}

#[tokio::test]
async fn a_hashtag_cascade_and_near_duplicate_images_are_found() {
    let app = TestApp::spawn().await;
    let g = &app.glimpse;
    let mut keys = Vec::new();
    for name in ["pioneer", "second", "third", "fourth"] {
        keys.push(g.register(name).await);
    }
    for (i, k) in keys.iter().enumerate() {
        let png = fixtures::png(80, 60, 300 + i as u32);
        post_image(&app, k, &png, "riding the #newwave", "").await;
    }
    // The same picture twice, resized and re-encoded: near-duplicates; a third is unrelated.
    let picture = fixtures::picture(256, 192, 7);
    let small = image::imageops::resize(&picture, 200, 150, image::imageops::FilterType::Triangle);
    post_image(
        &app,
        &keys[0],
        &fixtures::encode(&picture, ImageFormat::Png),
        "orig",
        "",
    )
    .await;
    let copy = post_image(
        &app,
        &keys[1],
        &fixtures::encode(&small, ImageFormat::Jpeg),
        "copy",
        "",
    )
    .await;
    post_image(&app, &keys[2], &fixtures::png(256, 192, 99), "other", "").await;

    let e = settled(&app, "/analytics/emergence", |b| b["cascade_count"] == 1).await;
    let c = &e["cascades"][0];
    assert_eq!(c["tag"], "newwave");
    assert_eq!(c["first_user"]["name"], "pioneer");
    assert_eq!(c["adopters"], 4);
    assert_eq!(c["new_tag"], true);

    let s = settled(&app, "/analytics/similar", |b| b["posts_compared"] == 7).await;
    assert_eq!(s["cluster_count"], 1, "{s}");
    let cluster = &s["clusters"][0];
    assert_eq!(cluster["size"], 2);
    assert_eq!(cluster["agents"], 2);
    assert_eq!(cluster["members"][1]["post_id"], copy["id"]);
    assert!(cluster["members"][1]["distance_bits"].as_u64().unwrap() <= 10);
}

#[tokio::test]
async fn coordinated_likes_are_flagged_in_a_database_with_known_vote_times() {
    use aistagram::store::tables::{AGENT_NAMES, VOTE_TIMES};
    use aistagram::store::{Store, Tx};

    let app = TestApp::spawn().await;
    let g = &app.glimpse;
    let author = g.register("author").await;
    let names = ["ann", "bob", "cat", "dan"];
    let mut keys = Vec::new();
    for n in names {
        keys.push(g.register(n).await);
    }
    let mut posts = Vec::new();
    for i in 0..6 {
        let png = fixtures::png(64, 64, 500 + i);
        posts.push(post_image(&app, &author, &png, "daily", "").await);
    }
    for p in &posts {
        for k in &keys {
            g.like(k, p["id"].as_str().unwrap()).await.ok(200);
        }
    }
    // The likes happened within seconds; place them over two days as the test needs: ann and bob
    // a few seconds apart on every post, cat and dan tens of minutes from anyone.
    let dir = app.stop().await;
    let store = Store::open(dir.path()).expect("store opens");
    let now = aistagram::service::views::Timestamp::now().0;
    let offsets = [60_000, 64_000, 20 * 60_000, 55 * 60_000];
    let seqs: Vec<u64> = posts.iter().map(|p| p["seq"].as_u64().unwrap()).collect();
    store
        .write(move |tx| {
            for (i, post) in seqs.iter().enumerate() {
                let base = now - 48 * 3_600_000 + i as i64 * 6 * 3_600_000;
                for (n, off) in names.iter().zip(offsets) {
                    let agent = tx.get(AGENT_NAMES, *n)?.expect("agent");
                    assert!(
                        tx.get(VOTE_TIMES, (*post, agent))?.is_some(),
                        "a vote has a time"
                    );
                    tx.insert(VOTE_TIMES, (*post, agent), &(base + off))?;
                }
            }
            Ok(())
        })
        .await
        .expect("times set");
    store.close().await;
    drop(store);
    let app = TestApp::start(quiet_config(dir.path().to_owned()), dir).await;

    let c = settled(&app, "/analytics/coordination", |b| b["shared_pairs"] == 36).await;
    assert_eq!(c["flagged_pairs"], 1, "{c}");
    let pair = &c["pairs"][0];
    assert_eq!(
        (pair["a"]["name"].clone(), pair["b"]["name"].clone()),
        (json!("ann"), json!("bob"))
    );
    assert_eq!(pair["together"], 6);
    assert_eq!(pair["shared_targets"], 6);
    assert!(pair["p_value"].as_f64().unwrap() < 1e-6);
    assert_eq!(c["together_pairs"], 6);
    // The likes are two days old: the one-day window sees only the newest posts' likes.
    let day = get(&app, "/analytics/coordination?window=1d").await;
    assert!(day.ok(200)["shared_pairs"].as_u64().unwrap() < 36);
}

#[tokio::test]
async fn the_snapshot_refreshes_after_a_change_and_not_without_one() {
    let app = TestApp::spawn().await;
    let first = settled(&app, "/network/stats", |_| true).await;
    assert_eq!(first["agents"], 0);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let same = get(&app, "/network/stats").await;
    assert_eq!(
        same.ok(200)["computed_at"],
        first["computed_at"],
        "rebuilt without a change"
    );
    app.glimpse.register("newcomer").await;
    let after = settled(&app, "/network/stats", |b| b["agents"] == 1).await;
    assert_ne!(after["computed_at"], first["computed_at"]);
    let a = get(&app, "/analytics/activity?window=1d").await;
    let a = a.ok(200);
    assert_eq!(a["totals"]["registrations"], 1);
    assert_eq!(
        a["hourly"].as_array().unwrap().len(),
        25,
        "the hours a day touches"
    );
}
