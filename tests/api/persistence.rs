//! Restart persistence: stop the server, start it again on the same data dir, and find everything.

use serde_json::json;

use crate::clients::Anon;
use crate::harness::{TestApp, quiet_config};

#[tokio::test]
async fn everything_survives_a_restart() {
    let app = TestApp::spawn().await;
    let key = app.native.register("durable").await;
    let fan = app.native.register("durable_fan").await;
    let post = app.native.publish(&key, "remember me").await;
    app.native.vote(&fan, &post, "up").await.data(200);
    app.native.comment(&fan, &post, "kept").await.data(201);
    let before = app.native.post(&post, Anon).await.body.to_string();
    let profile_before = app.native.profile("durable").await.body.to_string();
    let old_base = app.base.clone();

    let dir = app.stop().await;
    let app = TestApp::start(quiet_config(dir.path().to_owned()), dir).await;

    // The new server listens on another port; its absolute URLs say so.
    let after = app.native.post(&post, Anon).await.body;
    assert_eq!(after.to_string(), before.replace(&old_base, &app.base));
    let served = app
        .client
        .get(after["data"]["image_url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(served.status().as_u16(), 200, "media survives the restart");
    let profile_after = app.native.profile("durable").await.body.to_string();
    assert_eq!(profile_after, profile_before.replace(&old_base, &app.base));
    // The key still authenticates, votes still toggle from their stored state.
    let me = app.native.me(&key).await;
    assert_eq!(me.data(200)["name"], json!("durable"));
    let r = app.native.vote(&fan, &post, "up").await;
    assert_eq!(
        r.data(200)["score"],
        json!(0),
        "the stored vote was toggled off"
    );
    let c = app.native.comments(&post, "").await;
    assert_eq!(c.data(200)["comments"][0]["content"], json!("kept"));
    // Sequences continue: a new post goes on top of the new feed, names stay taken.
    let newer = app.native.publish(&key, "after restart").await;
    let feed = app.native.feed("sort=new", Anon).await;
    assert_eq!(feed.data(200)["posts"][0]["id"], json!(newer));
    assert_eq!(feed.data(200)["posts"][1]["id"], json!(post));
    app.native
        .register_with(json!({"name": "durable"}))
        .await
        .err(409, "NAME_TAKEN");
}

#[tokio::test]
async fn a_second_server_on_the_same_data_dir_is_refused_clearly() {
    let app = TestApp::spawn().await;
    let dir = app.dir.as_ref().unwrap().path().to_owned();
    let err = match aistagram::App::build(quiet_config(dir.clone())).await {
        Ok(_) => panic!("a second server opened a data dir in use"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("in use"), "{err}");
    assert!(err.contains(&dir.display().to_string()), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graceful_shutdown_lets_in_flight_requests_finish() {
    use crate::fixtures::{self, Serve, image_server};
    let app = TestApp::spawn_with(|c| c.media.allow_private_fetch = true).await;
    let key = app.native.register("last_word").await;
    let started = std::sync::Arc::new(tokio::sync::Notify::new());
    let slow = Serve::Slow(
        std::time::Duration::from_millis(700),
        fixtures::png(64, 64, 9),
        started.clone(),
    );
    let host = image_server([127, 0, 0, 1], vec![("/slow.png", slow)]).await;
    let native = app.native.clone();
    let in_flight = tokio::spawn(async move {
        native
            .create_post(
                &key,
                json!({"image_url": format!("{host}/slow.png"), "caption": "made it"}),
            )
            .try_send()
            .await
            .map(|r| r.status.as_u16())
    });
    // Stop while the server is inside the request, fetching the image.
    tokio::time::timeout(std::time::Duration::from_secs(30), started.notified())
        .await
        .expect("the server began fetching");
    let dir = app.stop().await;
    assert_eq!(
        in_flight.await.unwrap().unwrap(),
        201,
        "the in-flight post was cut off"
    );
    let app = TestApp::start(quiet_config(dir.path().to_owned()), dir).await;
    let feed = app.native.feed("sort=new", Anon).await;
    assert_eq!(feed.data(200)["posts"][0]["caption"], json!("made it"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_stalled_mid_request_cannot_hold_shutdown_past_its_grace() {
    use tokio::io::AsyncWriteExt;
    let app = TestApp::spawn_with(|c| c.shutdown_grace_secs = 1).await;
    let key = app.native.register("stalled").await;
    // A post whose body never arrives: its handler waits for bytes that never come.
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut stalled = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/posts HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"caption\":"
    );
    stalled.write_all(head.as_bytes()).await.unwrap();
    // Let the server read the head and enter the handler.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    // Without the grace deadline this waits as long as the client does: for ever. The bound is
    // generous; it only tells a hang from a stop.
    let dir = tokio::time::timeout(std::time::Duration::from_secs(20), app.stop())
        .await
        .expect("shutdown finished despite the stalled client");
    drop(stalled);
    // The database was closed cleanly: the data dir opens again.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let app = TestApp::start(quiet_config(dir.path().to_owned()), dir).await;
    app.native.profile("stalled").await.data(200);
}
