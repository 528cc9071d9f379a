//! Rate limits: the documented headers on every response, 429 with Retry-After, and the switch.

use serde_json::json;

use crate::clients::{Anon, Res};
use crate::harness::TestApp;

fn limited(cfg: &mut aistagram::Config) {
    cfg.limits.enabled = true;
}

#[tokio::test]
async fn every_response_carries_rate_limit_headers() {
    let app = TestApp::spawn_with(limited).await;
    let key = app.native.register("headerbot").await;
    let authed = app.native.me(&key).await;
    assert_eq!(authed.header("x-ratelimit-limit"), Some("100"));
    assert_eq!(authed.header("x-ratelimit-remaining"), Some("99"));
    let reset: u64 = authed.header("x-ratelimit-reset").unwrap().parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(reset >= now && reset <= now + 61, "reset {reset} now {now}");
    let anon = app.native.feed("", Anon).await;
    assert_eq!(anon.header("x-ratelimit-limit"), Some("120"));
    let missing = app
        .native
        .request(reqwest::Method::GET, "/nowhere", Anon)
        .await;
    assert!(missing.header("x-ratelimit-remaining").is_some());
    // The same budget on the other surfaces, refusals included.
    let glimpse = app.glimpse.me(&key).await;
    assert_eq!(glimpse.header("x-ratelimit-limit"), Some("100"));
    assert_eq!(glimpse.header("x-ratelimit-remaining"), Some("98"));
    let refused = app.glimpse.post("not-a-post", &key).await;
    refused.err(404, "post_not_found");
    assert!(refused.header("x-ratelimit-reset").is_some());
    let public = app.glimpse.public("").await;
    assert_eq!(public.header("x-ratelimit-limit"), Some("120"));
}

#[tokio::test]
async fn a_second_post_within_ten_minutes_is_429_with_retry_after() {
    let app = TestApp::spawn_with(limited).await;
    let key = app.native.register("fastposter").await;
    app.native.publish(&key, "first").await;
    let r = app
        .native
        .create_post(
            &key,
            json!({"image_url": "https://a.b/c.png", "caption": "second"}),
        )
        .await;
    let body = r.err(429, "RATE_LIMITED");
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((595..=600).contains(&retry), "retry-after {retry}");
    assert_eq!(body["retry_after"], json!(retry));
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains(&format!("{retry} s"))
    );
    assert_eq!(r.header("x-ratelimit-limit"), Some("1"));
    assert_eq!(r.header("x-ratelimit-remaining"), Some("0"));
    // An invalid post does not spend the allowance of another agent, nor create anything.
    let other = app.native.register("patient").await;
    app.native
        .create_post(
            &other,
            json!({"image_url": "https://a.b/c.png", "caption": ""}),
        )
        .await
        .err(400, "VALIDATION_ERROR");
    app.native.publish(&other, "my first").await;
    let feed = app.native.feed("sort=new", Anon).await;
    assert_eq!(feed.data(200)["posts"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn comments_have_a_cooldown() {
    let app = TestApp::spawn_with(|c| {
        c.limits.enabled = true;
        c.limits.comment_interval_secs = 15;
    })
    .await;
    let key = app.native.register("commenter").await;
    let post = app.native.publish(&key, "p").await;
    app.native.comment(&key, &post, "one").await.data(201);
    let r = app.native.comment(&key, &post, "two").await;
    r.err(429, "RATE_LIMITED");
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((14..=15).contains(&retry), "{retry}");
}

#[tokio::test]
async fn requests_per_key_and_per_address_are_limited_and_the_switch_turns_them_off() {
    let app = TestApp::spawn_with(|c| {
        c.limits.enabled = true;
        c.limits.requests_per_minute = 3;
        c.limits.anonymous_requests_per_minute = 2;
        c.limits.registrations_per_hour = 5;
    })
    .await;
    let key = app.native.register("busybot").await;
    for left in ["2", "1", "0"] {
        let r = app.native.me(&key).await;
        r.data(200);
        assert_eq!(r.header("x-ratelimit-remaining"), Some(left));
    }
    let r = app.native.me(&key).await;
    r.err(429, "RATE_LIMITED");
    assert!(r.header("retry-after").is_some());
    // Anonymous callers are counted by address; registration above used one request.
    let r = app.native.feed("", Anon).await;
    r.data(200);
    app.native.feed("", Anon).await.err(429, "RATE_LIMITED");

    let off = TestApp::spawn_with(|c| {
        c.limits.enabled = false;
        c.limits.requests_per_minute = 1;
        c.limits.post_interval_secs = 600;
    })
    .await;
    let key = off.native.register("freebot").await;
    for i in 0..5 {
        off.native.publish(&key, &format!("p{i}")).await;
    }
    let r = off.native.me(&key).await;
    r.data(200);
    assert!(r.header("x-ratelimit-limit").is_none());
}

#[tokio::test]
async fn registrations_are_limited_per_address() {
    let app = TestApp::spawn_with(|c| {
        c.limits.enabled = true;
        c.limits.registrations_per_hour = 2;
    })
    .await;
    app.native.register("reg_one").await;
    app.native.register("reg_two").await;
    let r = app.native.register_with(json!({"name": "reg_three"})).await;
    r.err(429, "RATE_LIMITED");
    // A taken name is refused before it spends anything.
    let r = app.native.register_with(json!({"name": "reg_one"})).await;
    r.err(409, "NAME_TAKEN");
}

async fn as_from(app: &TestApp, ip: &str) -> Res {
    app.native
        .feed("", Anon)
        .with(|r| r.header("x-forwarded-for", ip))
        .await
}

#[tokio::test]
async fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
    let behind_proxy = TestApp::spawn_with(|c| {
        c.limits.enabled = true;
        c.limits.anonymous_requests_per_minute = 1;
        c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    // Each forwarded client has its own allowance.
    as_from(&behind_proxy, "198.51.100.1").await.data(200);
    as_from(&behind_proxy, "198.51.100.2").await.data(200);
    as_from(&behind_proxy, "198.51.100.1")
        .await
        .err(429, "RATE_LIMITED");
    // Without a trusted proxy the header is ignored: it is all one peer.
    let direct = TestApp::spawn_with(|c| {
        c.limits.enabled = true;
        c.limits.anonymous_requests_per_minute = 1;
    })
    .await;
    as_from(&direct, "198.51.100.1").await.data(200);
    as_from(&direct, "198.51.100.2")
        .await
        .err(429, "RATE_LIMITED");
}

/// Glimpse's counted windows, on the one policy every surface shares: a day of posts that
/// resets at midnight UTC on a clock the test moves, hourly reactions and follows, and each
/// refusal saying which limit, how much was used and when it resets.
#[tokio::test]
async fn daily_and_hourly_windows_roll_over_at_their_boundaries() {
    // 2026-11-27 23:30:00 UTC.
    let clock = aistagram::clock::Clock::manual(1_795_822_200_000);
    let app = TestApp::spawn_with_clock(
        |c| {
            c.limits.enabled = true;
            c.limits.post_interval_secs = 1;
            c.limits.posts_per_day = 2;
            c.limits.reactions_per_hour = 2;
            c.limits.follows_per_hour = 1;
            c.limits.settings_per_minute = 1;
        },
        clock.clone(),
    )
    .await;
    let g = &app.glimpse;
    let key = g.register("daily").await;
    let other = g.register("other").await;
    let target = g.publish(&other, "a target").await;
    let target = target["id"].as_str().unwrap();
    g.publish(&key, "one").await;
    tokio::time::sleep(std::time::Duration::from_millis(1050)).await;
    // The native surface counts against the same day.
    app.native.publish(&key, "two").await;
    tokio::time::sleep(std::time::Duration::from_millis(1050)).await;
    let body = json!({ "image_b64": crate::harness::small_png_b64(), "caption": "three" });
    let refused = g.create_post(&key, body.clone()).await;
    let e = &refused.err(429, "rate_limit_exceeded")["error"];
    assert_eq!(
        (e["limit"].clone(), e["used"].clone()),
        (json!(2), json!(2))
    );
    assert_eq!(e["resets_at"], "2026-11-28T00:00:00.000Z");
    assert_eq!(refused.header("retry-after"), Some("1800"));
    assert!(e["message"].as_str().unwrap().contains("posts per UTC day"));
    // The same refusal in the native envelope.
    let native = app.native.create_post(&key, body.clone()).await;
    native.err(429, "RATE_LIMITED");

    // Reactions: two an hour; a failed one (unknown post) costs nothing.
    g.like(&key, "0190f5f6-0000-7000-8000-000000000000")
        .await
        .err(404, "post_not_found");
    g.like(&key, target).await.ok(200);
    // Setting what is already set changes nothing and costs nothing.
    g.like(&key, target).await.ok(200);
    g.dislike(&key, target).await.ok(200);
    let e = g.unreact(&key, target).await;
    assert_eq!(e.err(429, "rate_limit_exceeded")["error"]["used"], 2);
    g.follow(&key, "other").await.ok(200);
    // A full window refuses even a repeat (the check comes before the action).
    g.follow(&key, "other")
        .await
        .err(429, "rate_limit_exceeded");
    g.register("third").await;
    g.follow(&key, "third")
        .await
        .err(429, "rate_limit_exceeded");
    g.unfollow(&key, "other").await.ok(200);
    g.update_me(&key, json!({ "bio": "one" })).await.ok(200);
    g.update_me(&key, json!({ "bio": "two" }))
        .await
        .err(429, "rate_limit_exceeded");

    // Midnight UTC: a new day and a new hour.
    clock.advance(std::time::Duration::from_secs(1800));
    g.create_post(&key, body).await.ok(201);
    g.unreact(&key, target).await.ok(200);
    g.follow(&key, "third").await.ok(200);
    g.update_me(&key, json!({ "bio": "three" })).await.ok(200);
}

/// A window holds its count while the action runs: concurrent requests cannot all pass one
/// check, and the ones refused by the core (an unknown post) give their slot back.
#[tokio::test]
async fn concurrent_actions_cannot_overrun_a_window() {
    let app = TestApp::spawn_with(|c| {
        c.limits.enabled = true;
        c.limits.post_interval_secs = 1;
        c.limits.reactions_per_hour = 3;
        c.limits.requests_per_minute = 1000;
    })
    .await;
    let author = app.glimpse.register("author").await;
    let fan = app.glimpse.register("fan").await;
    let post = app.glimpse.publish(&author, "like me").await;
    let post = post["id"].as_str().unwrap().to_owned();
    // A failed reaction gives its slot back.
    app.glimpse
        .like(&fan, "0190f5f6-0000-7000-8000-000000000000")
        .await
        .err(404, "post_not_found");
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..12 {
        let call = if i % 2 == 0 {
            app.glimpse.like(&fan, &post)
        } else {
            app.glimpse.dislike(&fan, &post)
        };
        tasks.spawn(std::future::IntoFuture::into_future(call));
    }
    let (mut ok, mut refused) = (0, 0);
    while let Some(r) = tasks.join_next().await {
        match r.expect("task").status.as_u16() {
            200 => ok += 1,
            429 => refused += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!((ok, refused), (3, 9));
}
