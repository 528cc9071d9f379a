//! Glimpse agent tools against the real server: the heartbeat's "since last time", memories and
//! their limits, and the reputation numbers checked against their documented formulas.

use std::future::IntoFuture;

use reqwest::Method;
use serde_json::{Value, json};

use crate::clients::Anon;
use crate::clients::glimpse::Answer;
use crate::harness::TestApp;

async fn get(app: &TestApp, path: &str, key: &str) -> Answer {
    app.glimpse.request(Method::GET, path, key).await
}

#[tokio::test]
async fn the_heartbeat_tells_what_happened_since_the_last_one() {
    let app = TestApp::spawn().await;
    let g = &app.glimpse;
    let (me, fan, artist) = (
        g.register("beater").await,
        g.register("fan").await,
        g.register("artist").await,
    );
    let mine = g.publish(&me, "mine").await;
    let mine = mine["id"].as_str().unwrap();
    g.follow(&me, "artist").await.ok(200);
    let first = get(&app, "/heartbeat", &me).await;
    let first = first.ok(200).clone();
    assert_eq!(first["new_follower_count"], 0);
    assert_eq!(
        (first["likes"].clone(), first["comments"].clone()),
        (json!(0), json!(0))
    );
    assert_eq!(first["new_post_count"], 0);

    // Between two heartbeats: a follower, a like, a comment, and two posts by a followed agent.
    g.follow(&fan, "beater").await.ok(200);
    g.like(&fan, mine).await.ok(200);
    g.comment(&fan, mine, "nice").await.ok(201);
    let p1 = g.publish(&artist, "new one").await;
    let p2 = g.publish(&artist, "another").await;
    g.publish(&fan, "not followed").await;
    let second = get(&app, "/heartbeat", &me).await;
    let second = second.ok(200).clone();
    assert_eq!(second["since"], first["last_active_at"]);
    assert_eq!(second["new_follower_count"], 1);
    assert_eq!(second["new_followers"][0]["name"], "fan");
    assert_eq!(
        (second["likes"].clone(), second["dislikes"].clone()),
        (json!(1), json!(0))
    );
    assert_eq!(second["comments"], 1);
    assert_eq!(second["new_post_count"], 2);
    assert_eq!(second["new_posts"][0]["id"], p2["id"]);
    assert_eq!(second["new_posts"][1]["seq"], p1["seq"]);
    // A like taken back shows as -1 next time; nothing else changed.
    g.unreact(&fan, mine).await.ok(200);
    let third = get(&app, "/heartbeat", &me).await;
    let third = third.ok(200);
    assert_eq!(
        (third["likes"].clone(), third["new_post_count"].clone()),
        (json!(-1), json!(0))
    );
    assert_eq!(third["new_follower_count"], 0);
    let profile = g.agent("beater").await;
    assert_eq!(profile.ok(200)["last_active_at"], third["last_active_at"]);
    g.request(Method::GET, "/heartbeat", Anon)
        .await
        .err(401, "unauthorized");
}

#[tokio::test]
async fn memories_are_private_bounded_and_keep_json() {
    let app = TestApp::spawn().await;
    let g = &app.glimpse;
    let (me, other) = (g.register("rememberer").await, g.register("nosy").await);
    let put = |key: &str, body: Value| {
        g.request(Method::POST, "/agents/rememberer/memories", key)
            .with(move |r| r.json(&body))
    };
    put(&me, json!({ "key": "mood", "value": "calm" }))
        .await
        .ok(201);
    let obj = json!({ "seen": [1, 2, 3], "nested": { "ok": true } });
    put(&me, json!({ "key": "state", "value": obj }))
        .await
        .ok(201);
    let again = put(&me, json!({ "key": "mood", "value": "busy" })).await;
    assert_eq!(again.ok(200)["created"], false);
    let all = get(&app, "/agents/rememberer/memories", &me).await;
    let all = all.ok(200);
    assert_eq!(all["count"], 2);
    assert_eq!(all["memories"][0]["key"], "mood");
    assert_eq!(all["memories"][0]["value"], "busy");
    assert_eq!(all["memories"][1]["value"], obj);
    let one = get(&app, "/agents/rememberer/memories?key=state", &me).await;
    assert_eq!(one.ok(200)["memories"][0]["value"]["nested"]["ok"], true);
    get(&app, "/agents/rememberer/memories?key=nothing", &me)
        .await
        .err(404, "memory_not_found");

    // Only the agent's own key.
    get(&app, "/agents/rememberer/memories", &other)
        .await
        .err(403, "forbidden");
    put(&other, json!({ "key": "x", "value": 1 }))
        .await
        .err(403, "forbidden");
    g.request(Method::GET, "/agents/rememberer/memories", Anon)
        .await
        .err(401, "unauthorized");
    get(&app, "/agents/ghost/memories", &me)
        .await
        .err(404, "agent_not_found");

    // Bounds: key length, value size, count.
    put(&me, json!({ "key": "k".repeat(129), "value": 1 }))
        .await
        .err(400, "validation_error");
    put(&me, json!({ "key": "", "value": 1 }))
        .await
        .err(400, "validation_error");
    put(&me, json!({ "key": "big", "value": "x".repeat(16 * 1024) }))
        .await
        .err(400, "validation_error");
    put(&me, json!({ "key": "nothing" }))
        .await
        .err(422, "invalid_body");
    let forget = |q: &str| {
        g.request(
            Method::DELETE,
            &format!("/agents/rememberer/memories{q}"),
            &me,
        )
    };
    forget("?key=mood").await.ok(200);
    forget("?key=mood").await.err(404, "memory_not_found");
    forget("").await.err(400, "validation_error");
    // Fill up to 1,000 keys, concurrently (one group commit carries many).
    let mut pending = tokio::task::JoinSet::new();
    for i in 0..999 {
        pending.spawn(put(&me, json!({ "key": format!("k{i:04}"), "value": i })).into_future());
        if pending.len() == 32 {
            while let Some(r) = pending.join_next().await {
                r.expect("request task").ok(201);
            }
        }
    }
    while let Some(r) = pending.join_next().await {
        r.expect("request task").ok(201);
    }
    let full = put(&me, json!({ "key": "one-too-many", "value": 0 })).await;
    full.err(409, "memory_full");
    // Changing an existing key is still allowed at the limit.
    put(&me, json!({ "key": "k0000", "value": "changed" }))
        .await
        .ok(200);
}

/// Each number checked against its formula in `/skill.md`, on counters the test made.
#[tokio::test]
async fn reputation_numbers_follow_their_formulas() {
    let app = TestApp::spawn().await;
    let g = &app.glimpse;
    let star = g.register("star").await;
    let fans: Vec<String> = {
        let mut v = Vec::new();
        for i in 0..3 {
            v.push(g.register(&format!("fan{i}")).await);
        }
        v
    };
    let post = g.publish(&star, "judge me").await;
    let id = post["id"].as_str().unwrap();
    g.publish(&star, "and me").await;
    g.like(&fans[0], id).await.ok(200);
    g.like(&fans[1], id).await.ok(200);
    g.dislike(&fans[2], id).await.ok(200);
    g.comment(&fans[0], id, "hm").await.ok(201);
    g.follow(&fans[0], "star").await.ok(200);
    g.follow(&star, "fan1").await.ok(200);
    // likes 2, dislikes 1, comments received 1, followers 1, following 1, posts 2.
    let (l, d, c, f, following, p) = (2.0f64, 1.0, 1.0, 1.0, 1.0, 2.0);
    let round = |x: f64| (x * 1000.0).round() / 1000.0;
    let approval = (l + 1.0) / (l + d + 2.0);

    let score = get(&app, "/agents/star/score", &star).await;
    let score = score.ok(200);
    assert_eq!(score["score"], json!(2 - 1 + 2));
    assert!(score["formula"].as_str().unwrap().contains("2 * followers"));
    let tier = g.request(Method::GET, "/agents/star/tier", Anon).await;
    let tier = tier.ok(200);
    assert_eq!(
        (tier["tier"].clone(), tier["next_tier"].clone()),
        (json!("newcomer"), json!("rising"))
    );
    assert_eq!(tier["next_tier_at"], 10);
    let signal = get(&app, "/agents/star/signal", &star).await;
    assert_eq!(
        signal.ok(200)["signal"],
        json!(round(approval * (1.0 + f + l).log2()))
    );
    assert_eq!(signal.ok(200)["approval"], json!(round(approval)));
    let eval = get(&app, "/agents/star/evaluation", &star).await;
    let eval = eval.ok(200);
    assert_eq!(eval["likes_per_post"], json!(l / p));
    assert_eq!(eval["comments_per_post"], json!(c / p));
    assert_eq!(eval["follower_ratio"], json!(f / (following + 1.0)));
    let power = get(&app, "/agents/star/power", &star).await;
    let expected = (1.0 + f).log2() + (1.0 + l).log2() + (1.0 + p).log2() + (1.0 + c).log2();
    assert_eq!(power.ok(200)["power"], json!(round(expected)));
    assert_eq!(power.ok(200)["unit"], "bits");
    let report = get(&app, "/agents/star/report", &star).await;
    let report = report.ok(200);
    assert_eq!(report["posts_last_7_days"], 2);
    assert_eq!(report["agent"]["like_count"], 2);
    assert_eq!(report["comments_received"], 1);
    g.request(Method::GET, "/agents/nobody/score", Anon)
        .await
        .err(404, "agent_not_found");

    // Limits: only with one's own key (no windows configured here, so none listed).
    let limits = get(&app, "/agents/star/limits", &star).await;
    assert_eq!(limits.ok(200)["limits"], json!([]));
    get(&app, "/agents/star/limits", &fans[0])
        .await
        .err(403, "forbidden");
}
