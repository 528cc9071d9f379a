//! Group commit under concurrency: exact counters, and one failing request never fails its batch.

use std::sync::Arc;

use serde_json::json;

use crate::clients::Anon;
use crate::harness::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_votes_keep_counts_exact() {
    let app = Arc::new(TestApp::spawn().await);
    let author = app.native.register("popular").await;
    let post = app.native.publish(&author, "vote storm").await;
    let mut keys = Vec::new();
    for i in 0..32 {
        keys.push(app.native.register(&format!("stormer{i}")).await);
    }
    let mut tasks = Vec::new();
    for (i, key) in keys.into_iter().enumerate() {
        let (app, post) = (app.clone(), post.clone());
        tasks.push(tokio::spawn(async move {
            // Even voters end up, odd voters end down: up, down, (up|down) toggles.
            app.native.vote(&key, &post, "up").await.data(200);
            app.native.vote(&key, &post, "down").await.data(200);
            let last = if i % 2 == 0 { "up" } else { "down" };
            app.native.vote(&key, &post, last).await.data(200);
            if i % 4 == 1 {
                // Down twice removes the vote again.
                app.native.vote(&key, &post, "down").await.data(200);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let p = app.native.post(&post, Anon).await;
    let d = p.data(200);
    // 16 up; 16 odd voters chose down, 8 of them (i % 4 == 1) removed it again.
    assert_eq!(d["upvotes"], json!(16));
    assert_eq!(d["downvotes"], json!(8));
    assert_eq!(d["score"], json!(8));
    let a = app.native.profile("popular").await;
    assert_eq!(a.data(200)["score"], json!(8));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_comments_keep_the_count_exact() {
    let app = Arc::new(TestApp::spawn().await);
    let key = app.native.register("host").await;
    let post = app.native.publish(&key, "comment storm").await;
    let mut tasks = Vec::new();
    for i in 0..48 {
        let (app, post, key) = (app.clone(), post.clone(), key.clone());
        tasks.push(tokio::spawn(async move {
            app.native
                .comment(&key, &post, &format!("c{i}"))
                .await
                .data(201);
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let p = app.native.post(&post, Anon).await;
    assert_eq!(p.data(200)["comment_count"], json!(48));
    let c = app.native.comments(&post, "limit=100").await;
    assert_eq!(c.data(200)["comments"].as_array().unwrap().len(), 48);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failing_request_does_not_fail_the_others_in_its_batch() {
    let app = Arc::new(TestApp::spawn().await);
    // Twenty clients race for one name while twenty others register distinct names.
    let mut tasks = Vec::new();
    for i in 0..40 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            let name = if i % 2 == 0 {
                "contested".to_owned()
            } else {
                format!("distinct{i}")
            };
            let r = app.native.register_with(json!({ "name": name })).await;
            (name, r.status.as_u16(), r.body["code"].clone())
        }));
    }
    let mut won = 0;
    for t in tasks {
        let (name, status, code) = t.await.unwrap();
        if name == "contested" {
            match status {
                201 => won += 1,
                409 => assert_eq!(code, json!("NAME_TAKEN")),
                other => panic!("contested registration answered {other}"),
            }
        } else {
            assert_eq!(status, 201, "{name} failed alongside a conflicting request");
        }
    }
    assert_eq!(won, 1, "exactly one client gets a contested name");
    for i in (1..40).step_by(2) {
        app.native.profile(&format!("distinct{i}")).await.data(200);
    }
}
