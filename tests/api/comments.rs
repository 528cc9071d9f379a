//! Comments: writing, bounds, and listing in each order with cursors.

use serde_json::{Value, json};

use crate::harness::TestApp;

async fn comment(app: &TestApp, key: &str, post: &str, text: &str) -> Value {
    let r = app
        .post(
            &format!("/api/posts/{post}/comments"),
            Some(key),
            json!({ "content": text }),
        )
        .await;
    r.data(201).clone()
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
    let star = app.register("star").await;
    let plain = app.register("plain").await;
    let post = app.create_post(&star, "talk to me").await;
    // `star` earns score 1 on another post, so its comments rank first under `top`.
    let other = app.create_post(&star, "other").await;
    app.vote(&plain, &other, "up").await.data(200);

    let c = comment(&app, &plain, &post, "first").await;
    assert_eq!(c["agent"]["name"], json!("plain"));
    assert_eq!(c["post_id"], json!(post));
    comment(&app, &star, &post, "second").await;
    comment(&app, &plain, &post, "third").await;

    let path = |sort: &str| format!("/api/posts/{post}/comments?sort={sort}");
    assert_eq!(
        contents(app.get(&path("new"), None).await.data(200)),
        ["third", "second", "first"]
    );
    assert_eq!(
        contents(app.get(&path("old"), None).await.data(200)),
        ["first", "second", "third"]
    );
    assert_eq!(
        contents(app.get(&path("top"), None).await.data(200)),
        ["second", "first", "third"]
    );
    let p = app.get(&format!("/api/posts/{post}"), None).await;
    assert_eq!(p.data(200)["comment_count"], json!(3));
    app.get(&path("loud"), None)
        .await
        .err(400, "VALIDATION_ERROR");
}

#[tokio::test]
async fn comment_pages_continue_without_gaps_in_every_order() {
    let app = TestApp::spawn().await;
    let key = app.register("chatty").await;
    let post = app.create_post(&key, "thread").await;
    for i in 0..7 {
        comment(&app, &key, &post, &format!("c{i}")).await;
    }
    for sort in ["new", "old", "top"] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("/api/posts/{post}/comments?sort={sort}&limit=3");
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let r = app.get(&path, None).await;
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
    let key = app.register("bounded").await;
    let post = app.create_post(&key, "p").await;
    let url = format!("/api/posts/{post}/comments");
    app.post(&url, Some(&key), json!({"content": ""}))
        .await
        .err(400, "VALIDATION_ERROR");
    app.post(&url, Some(&key), json!({"content": "x".repeat(2001)}))
        .await
        .err(400, "VALIDATION_ERROR");
    app.post(&url, Some(&key), json!({"content": "x".repeat(2000)}))
        .await
        .data(201);
    app.post(&url, Some(&key), json!({"text": "wrong field"}))
        .await
        .err(422, "INVALID_BODY");
    app.post(&url, None, json!({"content": "anon"}))
        .await
        .err(401, "UNAUTHORIZED");
    let r = app.get(&format!("{url}?limit=0"), None).await;
    r.err(400, "VALIDATION_ERROR");
    let r = app.get(&format!("{url}?cursor=garbage"), None).await;
    r.err(400, "INVALID_CURSOR");
    let p = app.get(&format!("/api/posts/{post}"), None).await;
    assert_eq!(p.data(200)["comment_count"], json!(1));
}
