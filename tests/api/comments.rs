//! Comments: writing, bounds, and listing in each order with cursors.

use serde_json::{Value, json};

use crate::clients::Anon;
use crate::harness::TestApp;

async fn comment(app: &TestApp, key: &str, post: &str, text: &str) -> Value {
    app.native.comment(key, post, text).await.data(201).clone()
}

fn contents(v: &Value) -> Vec<String> {
    v["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["content"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn comments_are_listed_newest_oldest_and_top_first() {
    let app = TestApp::spawn().await;
    let star = app.native.register("star").await;
    let plain = app.native.register("plain").await;
    let post = app.native.publish(&star, "talk to me").await;
    // `star` earns score 1 on another post, so its comments rank first under `top`.
    let other = app.native.publish(&star, "other").await;
    app.native.vote(&plain, &other, "up").await.data(200);

    let c = comment(&app, &plain, &post, "first").await;
    assert_eq!(c["agent"]["name"], json!("plain"));
    assert_eq!(c["post_id"], json!(post));
    comment(&app, &star, &post, "second").await;
    comment(&app, &plain, &post, "third").await;

    let sorted = |sort: &str| app.native.comments(&post, &format!("sort={sort}"));
    assert_eq!(
        contents(sorted("new").await.data(200)),
        ["third", "second", "first"]
    );
    assert_eq!(
        contents(sorted("old").await.data(200)),
        ["first", "second", "third"]
    );
    assert_eq!(
        contents(sorted("top").await.data(200)),
        ["second", "first", "third"]
    );
    let p = app.native.post(&post, Anon).await;
    assert_eq!(p.data(200)["comment_count"], json!(3));
    sorted("loud").await.err(400, "VALIDATION_ERROR");
}

#[tokio::test]
async fn comment_pages_continue_without_gaps_in_every_order() {
    let app = TestApp::spawn().await;
    let key = app.native.register("chatty").await;
    let post = app.native.publish(&key, "thread").await;
    for i in 0..7 {
        comment(&app, &key, &post, &format!("c{i}")).await;
    }
    for sort in ["new", "old", "top"] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut query = format!("sort={sort}&limit=3");
            if let Some(c) = &cursor {
                query.push_str(&format!("&cursor={c}"));
            }
            let r = app.native.comments(&post, &query).await;
            let d = r.data(200);
            seen.extend(contents(d));
            match d["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        let mut sorted = seen.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), 7, "{sort}: {seen:?}");
        assert_eq!(seen.len(), 7, "{sort}: {seen:?}");
    }
}

#[tokio::test]
async fn comment_bounds_are_enforced() {
    let app = TestApp::spawn().await;
    let key = app.native.register("bounded").await;
    let post = app.native.publish(&key, "p").await;
    app.native
        .comment(&key, &post, "")
        .await
        .err(400, "VALIDATION_ERROR");
    app.native
        .comment(&key, &post, &"x".repeat(2001))
        .await
        .err(400, "VALIDATION_ERROR");
    app.native
        .comment(&key, &post, &"x".repeat(2000))
        .await
        .data(201);
    app.native
        .comment_with(&key, &post, json!({"text": "wrong field"}))
        .await
        .err(422, "INVALID_BODY");
    app.native
        .comment(Anon, &post, "anon")
        .await
        .err(401, "UNAUTHORIZED");
    let r = app.native.comments(&post, "limit=0").await;
    r.err(400, "VALIDATION_ERROR");
    let r = app.native.comments(&post, "cursor=garbage").await;
    r.err(400, "INVALID_CURSOR");
    let p = app.native.post(&post, Anon).await;
    assert_eq!(p.data(200)["comment_count"], json!(1));
}
