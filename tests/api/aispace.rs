//! The AIspace-compatible surface at `/api/agent`: the document's quick-start script translated
//! to Rust, every documented error code provoked once, medals and likes as the shared reactions,
//! and scheduled posts across a restart.

use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::clients::Anon;
use crate::fixtures::{self, Serve, image_server};
use crate::harness::{TestApp, quiet_config};

/// Image fetches may reach the loopback image servers these tests start.
fn lan(c: &mut aistagram::Config) {
    c.media.allow_private_fetch = true;
}

/// The document's Python quick-start, step by step: connect, post by URL, read the feed, vote.
#[tokio::test]
async fn the_quick_start_script_runs_unchanged_in_meaning() {
    // The real limits: quotas report them.
    let app = TestApp::spawn_with(|c| {
        lan(c);
        c.limits.enabled = true;
    })
    .await;
    let key = app.native.register("quickstart").await;
    let other = app.native.register("neighbour").await;
    let host = image_server(
        [127, 0, 0, 1],
        vec![(
            "/my-ai-art.png",
            Serve::Bytes("image/png", fixtures::png(320, 240, 3)),
        )],
    )
    .await;
    let theirs = app.native.publish(&other, "someone else's #art").await;

    // 1. Handshake
    let me = app.aispace.connect(&key).await;
    let me = me.ok(200);
    assert_eq!(me["agent"]["handle"], "quickstart");
    assert_eq!(me["api"]["version"], "0.2");
    assert_eq!(
        me["actions"],
        json!(["post", "like", "comment", "vote", "feed"])
    );
    // The server's real post policy: one post per 600 s, none used yet.
    assert_eq!(me["quotas"]["posts"]["used"], 0, "{me}");
    assert_eq!(me["quotas"]["posts"]["limit"], 1);
    assert_eq!(me["quotas"]["posts"]["window"], "600s");
    assert_eq!(me["quotas"]["comments"]["cooldown"], "15s");

    // 2. Post an image (the server fetches and re-hosts it)
    let post = app
        .aispace
        .post(
            &key,
            json!({
                "imageUrl": format!("{host}/my-ai-art.png"),
                "caption": "Neon dreams #cyberpunk #aiart",
                "tags": ["generative"],
            }),
        )
        .await;
    let post = post.ok(201).clone();
    let id = post["postId"].as_str().unwrap();
    assert_eq!(post["postUrl"], json!(app.url(&format!("/p/{id}"))));
    let media = app
        .client
        .get(post["mediaUrl"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(media.status().as_u16(), 200, "re-hosted, not hotlinked");
    let gallery = app
        .client
        .get(post["postUrl"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(gallery.status().as_u16(), 200);
    let used = app.aispace.me(&key).await;
    let used = used.ok(200);
    assert_eq!(used["quotas"]["posts"]["used"], 1, "{used}");
    assert_eq!(used["profileUrl"], json!(app.url("/a/quickstart")));
    assert!(used["serverTime"].as_str().is_some());

    // 3. Browse the feed
    let feed = app.aispace.feed("sort=latest&limit=5", &key).await;
    let feed = feed.ok(200).clone();
    let items = feed["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["author"]["handle"], "quickstart");
    assert_eq!(items[0]["caption"], "Neon dreams #cyberpunk #aiart");
    let mut tags: Vec<&str> = items[0]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    tags.sort();
    assert_eq!(tags, ["aiart", "cyberpunk", "generative"]);
    assert_eq!(items[0]["media"][0]["type"], "IMAGE");
    assert_eq!(items[0]["media"][0]["width"], 320);
    assert_eq!(
        items[0]["aiVerdict"],
        Value::Null,
        "no judge, no invented verdict"
    );

    // 4. Vote on a post (the first is our own: medals go to the other agent's)
    assert_eq!(items[1]["id"], json!(theirs));
    let vote = app.aispace.vote(&key, &theirs, "GOLD").await;
    let vote = vote.ok(200);
    assert_eq!(
        vote["aiMedals"],
        json!({"gold": 1, "silver": 0, "bronze": 0})
    );
    assert_eq!(vote["medalType"], "GOLD");
    // Changeable, still one per agent.
    let again = app.aispace.vote(&key, &theirs, "silver").await;
    assert_eq!(
        again.ok(200)["aiMedals"],
        json!({"gold": 0, "silver": 1, "bronze": 0})
    );
    // Medals are part of the shared model: the native API shows them.
    let native = app.native.post(&theirs, &key).await;
    assert_eq!(
        native.data(200)["medals"],
        json!({"gold": 0, "silver": 1, "bronze": 0})
    );
    assert_eq!(native.data(200)["your_medal"], "SILVER");
    let feed = app.aispace.feed("limit=5", &key).await;
    assert_eq!(feed.ok(200)["items"][1]["agentMedal"], "SILVER");

    // The legacy endpoint answers in its own shape, and still re-hosts the image.
    let legacy_key = app.native.register("oldtimer").await;
    let legacy = app
        .aispace
        .legacy_post(
            &legacy_key,
            json!({
                "imageUrl": format!("{host}/my-ai-art.png"),
                "caption": "My creation #aiart",
            }),
        )
        .await;
    let legacy = legacy.ok(201);
    assert_eq!(legacy["post"]["caption"], "My creation #aiart");
    let image = legacy["post"]["imageUrl"].as_str().unwrap();
    assert!(image.starts_with(&app.url("/media/")), "re-hosted: {image}");
}

#[tokio::test]
async fn a_like_is_an_up_vote_and_comments_share_the_core() {
    let app = TestApp::spawn().await;
    let author = app.native.register("liked").await;
    let fan = app.native.register("fan").await;
    let post = app.native.publish(&author, "like me").await;

    let like = app.aispace.like(&fan, &post).await;
    let like = like.ok(200);
    assert_eq!(
        (like["liked"].clone(), like["likes"].clone()),
        (json!(true), json!(1))
    );
    let native = app.native.post(&post, &fan).await;
    assert_eq!(native.data(200)["your_vote"], "up");
    assert_eq!(native.data(200)["upvotes"], 1);
    let feed = app.aispace.feed("", &fan).await;
    let feed = feed.ok(200);
    assert_eq!(feed["items"][0]["agentLiked"], true);
    assert_eq!(feed["items"][0]["stats"]["likes"], 1);
    // Toggle off.
    let unlike = app.aispace.like(&fan, &post).await;
    assert_eq!(unlike.ok(200)["liked"], false);
    // A native down vote turns into a like when liked.
    app.native.vote(&fan, &post, "down").await.data(200);
    let like = app.aispace.like(&fan, &post).await;
    assert_eq!(like.ok(200)["likes"], 1);
    assert_eq!(app.native.post(&post, Anon).await.data(200)["downvotes"], 0);

    let c = app
        .aispace
        .comment(&fan, &post, "Beautiful composition!")
        .await;
    let c = c.ok(201);
    assert_eq!(c["comment"]["body"], "Beautiful composition!");
    let listed = app.native.comments(&post, "").await;
    assert_eq!(
        listed.data(200)["comments"][0]["content"],
        "Beautiful composition!"
    );
}

#[tokio::test]
async fn every_documented_error_code_is_answered_in_the_documented_envelope() {
    let app = TestApp::spawn_with(|c| {
        lan(c);
        c.media.max_bytes = 200_000;
        c.limits.enabled = true;
        c.limits.post_interval_secs = 0;
    })
    .await;
    let key = app.native.register("errant").await;
    let other = app.native.register("bystander").await;
    let own = app.native.publish(&key, "mine").await;
    let host = image_server(
        [127, 0, 0, 1],
        vec![
            ("/missing.png", Serve::Status(404)),
            (
                "/ok.png",
                Serve::Bytes("image/png", fixtures::png(64, 64, 1)),
            ),
        ],
    )
    .await;
    let post = |body: Value| app.aispace.post(&key, body);

    app.aispace.me(Anon).await.err(401, "AUTH_HEADER_MISSING");
    app.aispace
        .me("aista_not-a-real-key")
        .await
        .err(401, "INVALID_AGENT_KEY");
    app.aispace
        .me("prefix.secret")
        .await
        .err(401, "INVALID_AGENT_KEY");
    let vote = |id: &str, medal: &str| app.aispace.vote(&key, id, medal);
    vote("00000000-0000-0000-0000-000000000000", "GOLD")
        .await
        .err(404, "POST_NOT_FOUND");
    vote(&own, "GOLD").await.err(403, "CANNOT_MEDAL_OWN_POST");
    vote(&own, "PLATINUM").await.err(400, "INVALID_BODY");
    let bad_json = app.aispace.request(Method::POST, "/vote", &key).with(|r| {
        r.header("content-type", "application/json")
            .body("{not json")
    });
    bad_json.await.err(400, "INVALID_BODY");
    post(json!({ "caption": "no image" }))
        .await
        .err(400, "IMAGE_URL_REQUIRED");
    let form = Form::new().text("caption", "no file");
    app.aispace
        .post_form(&key, form)
        .await
        .err(400, "FILE_REQUIRED");
    let form = Form::new()
        .part(
            "file",
            Part::bytes(fixtures::png(32, 32, 2)).file_name("a.png"),
        )
        .text("imageUrl", format!("{host}/ok.png"));
    app.aispace
        .post_form(&key, form)
        .await
        .err(400, "AMBIGUOUS_INPUT");
    post(json!({ "imageUrl": format!("{host}/missing.png") }))
        .await
        .err(422, "IMAGE_FETCH_FAILED");
    post(json!({ "imageUrl": "file:///etc/passwd" }))
        .await
        .err(400, "FORBIDDEN_URL");
    let form = Form::new().part(
        "file",
        Part::bytes(b"just some text, not an image".to_vec()).file_name("a.png"),
    );
    app.aispace
        .post_form(&key, form)
        .await
        .err(415, "UNSUPPORTED_MEDIA_TYPE");
    let form = Form::new().part("file", Part::bytes(vec![0u8; 400_000]).file_name("big.png"));
    app.aispace
        .post_form(&key, form)
        .await
        .err(413, "UPLOAD_TOO_LARGE");
    post(json!({ "imageUrl": format!("{host}/ok.png"), "publishAt": "yesterday" }))
        .await
        .err(400, "INVALID_BODY");
    post(json!({ "imageUrl": format!("{host}/ok.png"), "publishAt": "2001-01-01T00:00:00Z" }))
        .await
        .err(400, "INVALID_BODY");

    // Unknown paths and methods answer in this surface's envelope too.
    app.aispace
        .request(Method::GET, "/vote", &key)
        .await
        .err(405, "METHOD_NOT_ALLOWED");
    app.aispace
        .request(Method::GET, "/nowhere", &key)
        .await
        .err(404, "NOT_FOUND");

    // The comment cooldown: the second comment is refused with a wait.
    let comment = || app.aispace.comment(&other, &own, "hi");
    comment().await.ok(201);
    let limited = comment().await;
    limited.err(429, "RATE_LIMITED");
    assert!(
        limited.body["retryAfterSeconds"]
            .as_u64()
            .is_some_and(|s| s >= 1),
        "{}",
        limited.body
    );

    // A suspended agent's key is refused (AIspace answers 401).
    let dir = app.dir.as_ref().unwrap().path().to_owned();
    let out = crate::cli::run(&[
        "agents",
        "suspend",
        "bystander",
        "--data-dir",
        dir.to_str().unwrap(),
    ])
    .await;
    assert!(out.status.success());
    app.aispace.me(&other).await.err(401, "AGENT_SUSPENDED");
    // The native surface keeps its own envelope for the same refusal.
    app.native.me(&other).await.err(403, "AGENT_SUSPENDED");
}

#[tokio::test]
async fn tags_arrive_as_an_array_a_json_string_or_comma_separated() {
    let app = TestApp::spawn().await;
    let key = app.native.register("tagger").await;
    let post = |form: Form| app.aispace.post_form(&key, form);
    let file = || Part::bytes(fixtures::png(40, 30, 5)).file_name("t.png");
    let a = post(Form::new().part("file", file()).text("tags", "aiart,scifi")).await;
    let b = post(
        Form::new()
            .part("file", file())
            .text("tags", r#"["one","two"]"#),
    )
    .await;
    let c = post(
        Form::new()
            .part("file", file())
            .text("tags", "x")
            .text("tags", "y"),
    )
    .await;
    for (answer, want) in [
        (a, ["aiart", "scifi"]),
        (b, ["one", "two"]),
        (c, ["x", "y"]),
    ] {
        let id = answer.ok(201)["postId"].as_str().unwrap().to_owned();
        let p = app.native.post(&id, Anon).await;
        let mut tags: Vec<String> = serde_json::from_value(p.data(200)["tags"].clone()).unwrap();
        tags.sort();
        assert_eq!(tags, want);
    }
}

#[tokio::test]
async fn a_scheduled_post_appears_only_at_its_time_even_across_a_restart() {
    let app = TestApp::spawn().await;
    let key = app.native.register("planner").await;
    let at = |secs: i64| {
        let t = time::OffsetDateTime::now_utc() + time::Duration::seconds(secs);
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    };
    let schedule = |publish_at: String, caption: &str| {
        let form = Form::new()
            .part(
                "file",
                Part::bytes(fixtures::png(40, 30, 9)).file_name("s.png"),
            )
            .text("caption", caption.to_owned())
            .text("publishAt", publish_at);
        app.aispace.post_form(&key, form)
    };
    // The native surface schedules through the same core.
    let native = app
        .native
        .create_post(
            &key,
            json!({ "image_b64": crate::harness::small_png_b64(), "caption": "native", "publish_at": at(3600) }),
        )
        .await;
    assert_eq!(native.data(201)["scheduled"], true);
    let native_id = native.data(201)["id"].as_str().unwrap().to_owned();
    let past = app
        .native
        .create_post(
            &key,
            json!({ "image_b64": crate::harness::small_png_b64(), "caption": "late", "publish_at": "2001-01-01T00:00:00Z" }),
        )
        .await;
    past.err(400, "VALIDATION_ERROR");
    let gone = app.aispace.cancel_scheduled(&key, &native_id).await;
    gone.ok(200);
    let later = schedule(at(3), "published later").await;
    let later = later.ok(202).clone();
    assert_eq!(later["scheduled"], true);
    let cancelled = schedule(at(3600), "never published").await;
    let cancelled = cancelled.ok(202)["scheduledPostId"]
        .as_str()
        .unwrap()
        .to_owned();
    let queued = app.aispace.scheduled(&key).await;
    assert_eq!(queued.ok(200)["items"].as_array().unwrap().len(), 2);
    let gone = app.aispace.cancel_scheduled(&key, &cancelled).await;
    gone.ok(200);
    app.aispace
        .cancel_scheduled(&key, &cancelled)
        .await
        .err(404, "POST_NOT_FOUND");
    let feed = app.native.feed("sort=new", Anon).await;
    assert_eq!(
        feed.data(200)["posts"],
        json!([]),
        "invisible until its time"
    );

    // The server is down when the post falls due: it is published at the next start.
    let dir = app.stop().await;
    tokio::time::sleep(std::time::Duration::from_millis(3200)).await;
    let path = dir.path().to_owned();
    let app = TestApp::start(quiet_config(path), dir).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let feed = app.native.feed("sort=new", Anon).await;
        let posts = feed.data(200)["posts"].as_array().unwrap().clone();
        if let Some(p) = posts.first() {
            assert_eq!(p["caption"], "published later");
            assert_eq!(posts.len(), 1, "the cancelled one never appears");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the due post was not published"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let queued = app.aispace.scheduled(&key).await;
    assert_eq!(queued.ok(200)["items"], json!([]));
    let me = app.native.me(&key).await;
    assert_eq!(me.data(200)["post_count"], 1);
    let dir = app.dir.as_ref().unwrap().path().to_owned();
    let check = crate::cli::run(&["check", "--json", "--data-dir", dir.to_str().unwrap()]).await;
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
}

/// A webhook receiver on loopback: checks every signature, records every attempt, and answers
/// 500 to the first `fail_first` attempts of each message (or to all, while `down`).
#[derive(Default)]
pub(crate) struct Receiver {
    pub(crate) secret: std::sync::Mutex<Vec<u8>>,
    attempts: std::sync::Mutex<Vec<(String, Value, bool)>>,
    fail_first: std::sync::atomic::AtomicUsize,
    down: std::sync::atomic::AtomicBool,
}

impl Receiver {
    pub(crate) fn delivered(&self) -> Vec<Value> {
        self.attempts
            .lock()
            .unwrap()
            .iter()
            .filter(|a| a.2)
            .map(|a| a.1.clone())
            .collect()
    }

    fn attempts_of(&self, id: &str) -> usize {
        self.attempts
            .lock()
            .unwrap()
            .iter()
            .filter(|a| a.0 == id)
            .count()
    }
}

pub(crate) async fn receiver() -> (std::sync::Arc<Receiver>, String) {
    use axum::http::{HeaderMap, StatusCode};
    use base64::Engine;
    use hmac::{Hmac, Mac};
    use std::sync::atomic::Ordering;
    let state = std::sync::Arc::new(Receiver::default());
    let handler = {
        let state = state.clone();
        move |headers: HeaderMap, body: axum::body::Bytes| {
            let state = state.clone();
            async move {
                let h = |n: &str| {
                    headers
                        .get(n)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned()
                };
                let (id, ts, sig) = (
                    h("webhook-id"),
                    h("webhook-timestamp"),
                    h("webhook-signature"),
                );
                let mut mac =
                    Hmac::<sha2::Sha256>::new_from_slice(&state.secret.lock().unwrap()).unwrap();
                mac.update(format!("{id}.{ts}.").as_bytes());
                mac.update(&body);
                let want = format!(
                    "v1,{}",
                    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
                );
                assert_eq!(sig, want, "bad signature on {id}");
                let age =
                    time::OffsetDateTime::now_utc().unix_timestamp() - ts.parse::<i64>().unwrap();
                assert!(age.abs() < 60, "stale timestamp");
                let seen = state.attempts_of(&id);
                let ok = !state.down.load(Ordering::SeqCst)
                    && seen >= state.fail_first.load(Ordering::SeqCst);
                let payload: Value = serde_json::from_slice(&body).unwrap();
                state.attempts.lock().unwrap().push((id, payload, ok));
                if ok {
                    StatusCode::OK
                } else {
                    StatusCode::INTERNAL_SERVER_ERROR
                }
            }
        }
    };
    #[expect(
        clippy::disallowed_methods,
        reason = "a webhook receiver the test runs, not the API"
    )]
    let app = axum::Router::new().route("/hook", axum::routing::post(handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (state, url)
}

pub(crate) fn hooks(c: &mut aistagram::Config) {
    lan(c);
    c.webhooks.retry_base_ms = 100;
}

#[tokio::test]
async fn webhooks_arrive_signed_retried_and_survive_a_restart() {
    use std::sync::atomic::Ordering;
    let app = TestApp::spawn_with(hooks).await;
    let owner = app.native.register("hooked").await;
    let fan = app.native.register("visitor").await;
    let (rx, url) = receiver().await;
    let made = app.aispace.add_webhook(&owner, json!({ "url": url })).await;
    let made = made.ok(201).clone();
    let secret = made["webhook"]["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"));
    use base64::Engine;
    *rx.secret.lock().unwrap() = base64::engine::general_purpose::STANDARD
        .decode(secret.trim_start_matches("whsec_"))
        .unwrap();
    let listed = app.aispace.webhooks(&owner).await;
    let listed = listed.ok(200).clone();
    assert_eq!(listed["webhooks"][0]["url"], json!(url));
    assert!(
        listed["webhooks"][0].get("secret").is_none(),
        "the secret is shown once"
    );
    // Every event, the conversation ones (`comment.replied`, …) included.
    assert_eq!(listed["webhooks"][0]["events"].as_array().unwrap().len(), 7);

    // Every message fails twice before it is accepted.
    rx.fail_first.store(2, Ordering::SeqCst);
    let post = app.native.publish(&owner, "watch this #hook").await;
    app.aispace.like(&fan, &post).await.ok(200);
    app.aispace.vote(&fan, &post, "BRONZE").await.ok(200);
    app.aispace.comment(&fan, &post, "nice").await.ok(201);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while rx.delivered().len() < 4 {
        assert!(
            std::time::Instant::now() < deadline,
            "deliveries: {:?}",
            rx.attempts.lock().unwrap()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let mut kinds: Vec<String> = rx
        .delivered()
        .iter()
        .map(|p| p["type"].as_str().unwrap().to_owned())
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            "post.commented",
            "post.created",
            "post.liked",
            "post.medaled"
        ]
    );
    for p in rx.delivered() {
        assert_eq!(p["data"]["postId"], json!(post));
        assert_eq!(p["data"]["owner"], "hooked");
    }
    let medaled = rx
        .delivered()
        .into_iter()
        .find(|p| p["type"] == "post.medaled")
        .unwrap();
    assert_eq!(medaled["data"]["medalType"], "BRONZE");
    assert_eq!(medaled["data"]["actor"], "visitor");
    let ids: Vec<String> = rx
        .attempts
        .lock()
        .unwrap()
        .iter()
        .map(|a| a.0.clone())
        .collect();
    for id in ids {
        assert_eq!(rx.attempts_of(&id), 3, "two refusals, then accepted: {id}");
    }

    // An event queued while the receiver is down is still delivered after a server restart.
    rx.fail_first.store(0, Ordering::SeqCst);
    rx.down.store(true, Ordering::SeqCst);
    let before = rx.attempts.lock().unwrap().len();
    app.aispace.comment(&fan, &post, "again").await.ok(201);
    while rx.attempts.lock().unwrap().len() == before {
        assert!(std::time::Instant::now() < deadline, "never attempted");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let dir = app.stop().await;
    rx.down.store(false, Ordering::SeqCst);
    let path = dir.path().to_owned();
    let mut cfg = quiet_config(path);
    hooks(&mut cfg);
    let app = TestApp::start(cfg, dir).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while rx.delivered().len() < 5 {
        assert!(
            std::time::Instant::now() < deadline,
            "the queued event was lost"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(rx.delivered()[4]["data"]["body"], "again");

    // Deleting the webhook stops it; limits and address checks hold.
    let id = made["webhook"]["id"].as_str().unwrap();
    app.aispace.delete_webhook(&owner, id).await.ok(200);
    app.aispace
        .delete_webhook(&owner, id)
        .await
        .err(404, "WEBHOOK_NOT_FOUND");
    for _ in 0..5 {
        app.aispace
            .add_webhook(&owner, json!({ "url": url }))
            .await
            .ok(201);
    }
    app.aispace
        .add_webhook(&owner, json!({ "url": url }))
        .await
        .err(400, "WEBHOOK_LIMIT_REACHED");
}

#[tokio::test]
async fn webhook_targets_are_checked_and_failing_ones_switched_off() {
    let public = TestApp::spawn().await;
    let key = public.native.register("careful").await;
    for url in [
        "http://example.com/hook",
        "https://127.0.0.1/hook",
        "https://10.0.0.8/x",
        "ftp://example.com/",
    ] {
        public
            .aispace
            .add_webhook(&key, json!({ "url": url }))
            .await
            .err(400, "FORBIDDEN_URL");
    }
    public
        .aispace
        .add_webhook(
            &key,
            json!({ "url": "https://example.com/h", "events": ["post.exploded"] }),
        )
        .await
        .err(400, "INVALID_BODY");

    let app = TestApp::spawn_with(|c| {
        hooks(c);
        c.webhooks.retry_base_ms = 20;
        c.webhooks.disable_after_failures = 3;
    })
    .await;
    let key = app.native.register("unlucky").await;
    let (rx, url) = receiver().await;
    let made = app
        .aispace
        .add_webhook(&key, json!({ "url": url, "events": ["post.created"] }))
        .await;
    use base64::Engine;
    *rx.secret.lock().unwrap() = base64::engine::general_purpose::STANDARD
        .decode(
            made.ok(201)["webhook"]["secret"]
                .as_str()
                .unwrap()
                .trim_start_matches("whsec_"),
        )
        .unwrap();
    rx.down.store(true, std::sync::atomic::Ordering::SeqCst);
    app.native.publish(&key, "nobody listens").await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let list = app.aispace.webhooks(&key).await;
        if list.ok(200)["webhooks"][0]["active"] == false {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never switched off");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(rx.attempts.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn metadata_targets_and_names_that_resolve_privately_are_refused_at_registration() {
    // Registration connects nowhere: a regression here answers 201, it sends no packet (no
    // event follows that would be delivered). Image and avatar fetches share the classifier,
    // which `media::ssrf`'s unit tests check without any network.
    let lan = TestApp::spawn_with(lan).await;
    let key = lan.native.register("metadata").await;
    for url in [
        "http://169.254.169.254/latest/meta-data/",
        "http://169.254.170.2/v2/credentials",
        "http://[::ffff:169.254.169.254]/",
        "http://[fd00:ec2::254]/",
        "http://100.100.100.200/latest/meta-data/",
        "http://168.63.129.16/machine",
    ] {
        let r = lan.aispace.add_webhook(&key, json!({ "url": url })).await;
        r.err(400, "FORBIDDEN_URL");
    }
    // allow_private_fetch still opens loopback, for LAN targets.
    lan.aispace
        .add_webhook(&key, json!({ "url": "http://127.0.0.1:9/hook" }))
        .await
        .ok(201);
    // Without it, a name that resolves to loopback is refused now, not at the first delivery
    // (`localhost` resolves from /etc/hosts: no lookup leaves the machine).
    let strict = TestApp::spawn().await;
    let key = strict.native.register("named").await;
    let r = strict
        .aispace
        .add_webhook(&key, json!({ "url": "https://localhost:9/hook" }))
        .await;
    let body = r.err(400, "FORBIDDEN_URL");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("localhost resolves to")),
        "{body}"
    );
}
