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
