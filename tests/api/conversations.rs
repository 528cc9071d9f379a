//! Conversations: replies in threads on every surface, mentions, notifications (each kind,
//! exactly once, readable at once, marked read, pruned), post and profile edits.

use reqwest::Method;
use serde_json::{Value, json};

use crate::clients::Anon;
use crate::harness::TestApp;

/// POSTs a native comment (a reply with `parent`) and answers the comment.
async fn say(app: &TestApp, key: &str, post: &str, text: &str, parent: Option<&str>) -> Value {
    let body = json!({ "content": text, "parent_id": parent });
    app.native
        .comment_with(key, post, body)
        .await
        .data(201)
        .clone()
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("list")
        .iter()
        .map(|c| c["id"].as_str().expect("id").to_owned())
        .collect()
}

fn field<'a>(list: &'a Value, name: &str) -> Vec<&'a Value> {
    list.as_array()
        .expect("list")
        .iter()
        .map(|c| &c[name])
        .collect()
}

async fn notifications(app: &TestApp, key: &str, query: &str) -> Value {
    let path = if query.is_empty() {
        "/notifications".to_owned()
    } else {
        format!("/notifications?{query}")
    };
    app.native
        .request(Method::GET, &path, key)
        .await
        .data(200)
        .clone()
}

/// The `(type, actor)` of each notification, newest first.
fn kinds(page: &Value) -> Vec<(String, String)> {
    page["notifications"]
        .as_array()
        .expect("notifications")
        .iter()
        .map(|n| {
            (
                n["type"].as_str().expect("type").to_owned(),
                n["actor"]["name"].as_str().expect("actor").to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn threads_three_deep_read_in_order_on_the_native_surface() {
    let app = TestApp::spawn().await;
    let (ann, ben, cat) = (
        app.native.register("ann").await,
        app.native.register("ben").await,
        app.native.register("cat").await,
    );
    let post = app.native.publish(&ann, "a thread starts").await;
    let c1 = say(&app, &ben, &post, "first", None).await;
    let c1 = c1["id"].as_str().unwrap().to_owned();
    let c2 = say(&app, &cat, &post, "reply", Some(&c1)).await;
    assert_eq!(c2["parent_id"], json!(c1));
    assert_eq!(c2["depth"], 1);
    let c2 = c2["id"].as_str().unwrap().to_owned();
    let c3 = say(&app, &ann, &post, "reply to reply", Some(&c2)).await;
    assert_eq!(c3["depth"], 2);
    let c3 = c3["id"].as_str().unwrap().to_owned();
    let c4 = say(&app, &cat, &post, "another root", None).await;
    let c4 = c4["id"].as_str().unwrap().to_owned();

    // Oldest roots first, each followed by its replies.
    let old = app.native.comments(&post, "sort=old").await;
    let old = &old.data(200)["comments"];
    assert_eq!(
        ids(old),
        [c1.as_str(), c2.as_str(), c3.as_str(), c4.as_str()]
    );
    assert_eq!(
        field(old, "depth"),
        [&json!(0), &json!(1), &json!(2), &json!(0)]
    );
    assert_eq!(
        field(old, "reply_count"),
        [&json!(1), &json!(1), &json!(0), &json!(0)]
    );
    assert_eq!(
        field(old, "parent_id"),
        [&Value::Null, &json!(c1), &json!(c2), &Value::Null]
    );
    // Newest roots first; replies still follow their parent, oldest first.
    let new = app.native.comments(&post, "sort=new").await;
    assert_eq!(
        ids(&new.data(200)["comments"]),
        [c4.as_str(), c1.as_str(), c2.as_str(), c3.as_str()]
    );
    // Pages of two, through the middle of a thread, lose and repeat nothing.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = match &cursor {
            Some(c) => format!("sort=new&limit=2&cursor={c}"),
            None => "sort=new&limit=2".to_owned(),
        };
        let page = app.native.comments(&post, &q).await;
        let page = page.data(200);
        seen.extend(ids(&page["comments"]));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, [c4.as_str(), c1.as_str(), c2.as_str(), c3.as_str()]);
    // One thread: the comment and what hangs under it.
    let thread = app.native.comments(&post, &format!("thread={c1}")).await;
    assert_eq!(
        ids(&thread.data(200)["comments"]),
        [c1.as_str(), c2.as_str(), c3.as_str()]
    );
    let sub = app.native.comments(&post, &format!("thread={c2}")).await;
    assert_eq!(ids(&sub.data(200)["comments"]), [c2.as_str(), c3.as_str()]);
    let other = app.native.publish(&ann, "elsewhere").await;
    let wrong = app.native.comments(&other, &format!("thread={c1}")).await;
    wrong.err(404, "COMMENT_NOT_FOUND");
    let p = app.native.post(&post, Anon).await;
    assert_eq!(p.data(200)["comment_count"], 4);
}

#[tokio::test]
async fn threads_work_on_glimpse_and_aispace_too() {
    let app = TestApp::spawn().await;
    let ann = app.native.register("ann").await;
    let ben = app.native.register("ben").await;
    let post = app.native.publish(&ann, "two surfaces").await;

    // Glimpse: `parent_id`, oldest first, `?thread=`.
    let g1 = app.glimpse.comment(&ben, &post, "glimpse root").await;
    let g1 = g1.ok(201)["id"].as_str().unwrap().to_owned();
    let g2 = app
        .glimpse
        .request(Method::POST, &format!("/posts/{post}/comment"), &ann)
        .with(|r| r.json(&json!({ "content": "glimpse reply", "parent_id": g1 })))
        .await;
    let g2 = g2.ok(201).clone();
    assert_eq!(
        (g2["parent_id"].clone(), g2["depth"].clone()),
        (json!(g1), json!(1))
    );
    let g2 = g2["id"].as_str().unwrap().to_owned();
    // AIspace: `parentId`, three deep, camelCase fields.
    let a3 = app
        .aispace
        .comment_with(
            &ben,
            &post,
            json!({ "body": "aispace reply", "parentId": g2 }),
        )
        .await;
    let a3 = a3.ok(201)["comment"].clone();
    assert_eq!(a3["parentId"], json!(g2));
    assert_eq!(a3["depth"], 2);
    let a3 = a3["id"].as_str().unwrap().to_owned();

    let listed = app.glimpse.comments(&post, "").await;
    let listed = listed.ok(200)["comments"].clone();
    assert_eq!(ids(&listed), [g1.as_str(), g2.as_str(), a3.as_str()]);
    assert_eq!(
        field(&listed, "reply_count"),
        [&json!(1), &json!(1), &json!(0)]
    );
    let thread = app.glimpse.comments(&post, &format!("thread={g2}")).await;
    assert_eq!(ids(&thread.ok(200)["comments"]), [g2.as_str(), a3.as_str()]);

    let aispace = app
        .aispace
        .request(Method::GET, &format!("/posts/{post}/comments"), Anon)
        .await;
    let items = aispace.ok(200)["items"].clone();
    assert_eq!(ids(&items), [g1.as_str(), g2.as_str(), a3.as_str()]);
    assert_eq!(
        field(&items, "replyCount"),
        [&json!(1), &json!(1), &json!(0)]
    );
    assert_eq!(items[2]["author"]["handle"], "ben");
    let one = app
        .aispace
        .request(
            Method::GET,
            &format!("/posts/{post}/comments?thread={a3}"),
            Anon,
        )
        .await;
    assert_eq!(ids(&one.ok(200)["items"]), [a3.as_str()]);
}

#[tokio::test]
async fn replies_are_refused_across_posts_below_the_cap_and_to_unknown_parents() {
    let app = TestApp::spawn().await;
    let ann = app.native.register("ann").await;
    let post = app.native.publish(&ann, "deep").await;
    let other = app.native.publish(&ann, "other").await;
    let root = say(&app, &ann, &post, "root", None).await;
    let mut parent = root["id"].as_str().unwrap().to_owned();
    // Depths 1 to 5 are allowed…
    for depth in 1..=5 {
        let c = say(&app, &ann, &post, &format!("depth {depth}"), Some(&parent)).await;
        assert_eq!(c["depth"], depth);
        parent = c["id"].as_str().unwrap().to_owned();
    }
    // …a sixth level is not, and nothing was stored for it.
    let deep = json!({ "content": "too deep", "parent_id": parent });
    let r = app.native.comment_with(&ann, &post, deep).await;
    r.err(400, "THREAD_TOO_DEEP");
    let across = json!({ "content": "wrong post", "parent_id": root["id"] });
    let r = app.native.comment_with(&ann, &other, across).await;
    r.err(400, "PARENT_NOT_ON_POST");
    let unknown = json!({ "content": "?", "parent_id": "0190f1c2-0000-7000-8000-000000000000" });
    let r = app.native.comment_with(&ann, &post, unknown).await;
    r.err(404, "COMMENT_NOT_FOUND");
    let garbage = json!({ "content": "?", "parent_id": "not-an-id" });
    let r = app.native.comment_with(&ann, &post, garbage).await;
    r.err(400, "VALIDATION_ERROR");
    let p = app.native.post(&post, Anon).await;
    assert_eq!(p.data(200)["comment_count"], 6);
    let o = app.native.post(&other, Anon).await;
    assert_eq!(o.data(200)["comment_count"], 0);
    // The same refusals in Glimpse's envelope.
    let g = app
        .glimpse
        .request(Method::POST, &format!("/posts/{post}/comment"), &ann)
        .with(|r| r.json(&json!({ "content": "x", "parent_id": parent })))
        .await;
    g.err(400, "thread_too_deep");
}

#[tokio::test]
async fn a_deleted_comment_keeps_its_thread_and_goes_when_its_replies_go() {
    let app = TestApp::spawn().await;
    let (ann, ben, cat) = (
        app.native.register("ann").await,
        app.native.register("ben").await,
        app.native.register("cat").await,
    );
    let post = app.native.publish(&ann, "deletions").await;
    let parent = say(&app, &ben, &post, "to be deleted", None).await;
    let parent = parent["id"].as_str().unwrap().to_owned();
    let reply = say(&app, &cat, &post, "still here", Some(&parent)).await;
    let reply = reply["id"].as_str().unwrap().to_owned();
    let path = |c: &str| format!("/posts/{post}/comments/{c}");

    // Only its author or the post's author may delete a comment.
    let r = app
        .native
        .request(Method::DELETE, &path(&parent), &cat)
        .await;
    r.err(403, "FORBIDDEN");
    let r = app
        .native
        .request(Method::DELETE, &path(&parent), &ben)
        .await;
    assert_eq!(r.data(200)["deleted"], true);
    let list = app.native.comments(&post, "sort=old").await;
    let list = list.data(200)["comments"].clone();
    assert_eq!(ids(&list), [parent.as_str(), reply.as_str()]);
    assert_eq!(list[0]["deleted"], true);
    assert_eq!(list[0]["content"], "[deleted]");
    assert_eq!(list[0]["agent"], Value::Null);
    assert_eq!(list[0]["reply_count"], 1);
    assert_eq!(list[1]["parent_id"], json!(parent));
    assert_eq!(list[1]["deleted"], false);
    let p = app.native.post(&post, Anon).await;
    assert_eq!(p.data(200)["comment_count"], 1);
    let me = app.native.me(&ben).await;
    assert_eq!(me.data(200)["comment_count"], 0);
    // A deleted comment takes no replies and cannot be deleted twice.
    let again = app
        .native
        .request(Method::DELETE, &path(&parent), &ben)
        .await;
    again.err(404, "COMMENT_NOT_FOUND");
    let body = json!({ "content": "late", "parent_id": parent });
    let r = app.native.comment_with(&cat, &post, body).await;
    r.err(404, "COMMENT_NOT_FOUND");
    // The post's author removes the last reply: the empty thread disappears.
    let r = app
        .native
        .request(Method::DELETE, &path(&reply), &ann)
        .await;
    r.data(200);
    let list = app.native.comments(&post, "").await;
    assert_eq!(list.data(200)["comments"], json!([]));
    let p = app.native.post(&post, Anon).await;
    assert_eq!(p.data(200)["comment_count"], 0);
    // The integrity check agrees with the counters.
    let dir = app.stop().await;
    let check = crate::admin::admin(dir.path(), &["check", "--json"]).await;
    let report = crate::admin::json_of(&check);
    assert_eq!(report["ok"], true, "{report}");
}

#[tokio::test]
async fn mentions_of_existing_agents_are_kept_and_unknown_names_stay_text() {
    let app = TestApp::spawn().await;
    let ann = app.native.register("ann").await;
    app.native.register("bob").await;
    let post = app
        .native
        .create_post(
            &ann,
            json!({
                "image_b64": crate::harness::small_png_b64(),
                "caption": "hello @Bob, @nobody and me@example.com #hi",
            }),
        )
        .await;
    let post = post.data(201).clone();
    assert_eq!(post["mentions"], json!(["bob"]));
    assert_eq!(
        post["caption"],
        "hello @Bob, @nobody and me@example.com #hi"
    );
    let id = post["id"].as_str().unwrap();
    let c = say(&app, &ann, id, "thanks @bob and @ghost", None).await;
    assert_eq!(c["mentions"], json!(["bob"]));
    assert_eq!(c["content"], "thanks @bob and @ghost");
    let g = app.glimpse.post(id, Anon).await;
    assert_eq!(g.ok(200)["mentions"], json!(["bob"]));
}

#[tokio::test]
async fn every_notification_kind_arrives_once_and_is_read_and_counted() {
    let app = TestApp::spawn().await;
    let (ann, ben, cat, dan) = (
        app.native.register("ann").await,
        app.native.register("ben").await,
        app.native.register("cat").await,
        app.native.register("dan").await,
    );
    let post = app.native.publish(&ann, "notify me").await;
    // Each event, as its own call.
    app.native.follow(&ben, "ann").await.data(200);
    app.native.follow(&ben, "ann").await.data(200); // already following: no second one
    app.native.vote(&ben, &post, "up").await.data(200);
    app.native.vote(&cat, &post, "down").await.data(200);
    app.aispace.vote(&dan, &post, "GOLD").await.ok(200);
    app.aispace.vote(&dan, &post, "GOLD").await.ok(200); // the same medal again: nothing new
    let c = say(&app, &ben, &post, "nice one", None).await;
    let c = c["id"].as_str().unwrap().to_owned();
    // A reply to ben that also mentions dan, on ann's post: one each, of its own kind.
    let r = say(&app, &cat, &post, "agreed @dan @ann", Some(&c)).await;
    let r = r["id"].as_str().unwrap().to_owned();
    // A caption mention, and an agent acting on its own post (no notification).
    app.native.publish(&cat, "look @dan").await;
    say(&app, &ann, &post, "my own post", None).await;

    // Visible as soon as the event's call returned: they committed with it.
    let a = notifications(&app, &ann, "").await;
    assert_eq!(
        kinds(&a),
        [
            ("mention".into(), "cat".into()),
            ("comment".into(), "ben".into()),
            ("medal".into(), "dan".into()),
            ("dislike".into(), "cat".into()),
            ("like".into(), "ben".into()),
            ("follow".into(), "ben".into()),
        ]
    );
    assert_eq!(a["unread_count"], 6);
    let medal = &a["notifications"][2];
    assert_eq!(medal["medal"], "GOLD");
    assert_eq!(medal["post_id"], json!(post));
    assert_eq!(a["notifications"][0]["comment_id"], json!(r));
    assert_eq!(a["notifications"][5]["post_id"], Value::Null);
    let b = notifications(&app, &ben, "").await;
    assert_eq!(kinds(&b), [("reply".to_owned(), "cat".to_owned())]);
    assert_eq!(b["notifications"][0]["comment_id"], json!(r));
    let d = notifications(&app, &dan, "").await;
    assert_eq!(
        kinds(&d),
        [
            ("mention".into(), "cat".into()),
            ("mention".into(), "cat".into())
        ]
    );
    assert!(d["notifications"][0]["comment_id"].is_null(), "a caption");
    assert_eq!(d["notifications"][1]["comment_id"], json!(r));

    // Pages, and marking read up to an id.
    let first = notifications(&app, &ann, "limit=4").await;
    assert_eq!(first["notifications"].as_array().unwrap().len(), 4);
    let next = first["next_cursor"].as_str().expect("more").to_owned();
    let rest = notifications(&app, &ann, &format!("limit=4&cursor={next}")).await;
    assert_eq!(kinds(&rest).len(), 2);
    assert!(rest["next_cursor"].is_null());
    let third = a["notifications"][2]["id"].as_u64().unwrap();
    let read = app
        .native
        .request(Method::POST, "/notifications/read", &ann)
        .with(|r| r.json(&json!({ "up_to": third })))
        .await;
    assert_eq!(read.data(200)["unread_count"], 2);
    let unread = notifications(&app, &ann, "unread=true").await;
    assert_eq!(kinds(&unread).len(), 2);
    assert_eq!(unread["notifications"][0]["read"], false);
    let all = notifications(&app, &ann, "").await;
    assert_eq!(all["notifications"][2]["read"], true);
    // An empty body marks everything.
    let read = app
        .native
        .request(Method::POST, "/notifications/read", &ann)
        .await;
    assert_eq!(read.data(200)["unread_count"], 0);
    // The same list on the other surfaces, and the counts in the heartbeat and the handshake.
    let g = app
        .glimpse
        .request(Method::GET, "/notifications", &ben)
        .await;
    assert_eq!(g.ok(200)["unread_count"], 1);
    let hb = app.glimpse.request(Method::GET, "/heartbeat", &dan).await;
    assert_eq!(hb.ok(200)["unread_notifications"], 2);
    let connect = app.aispace.connect(&ben).await;
    assert_eq!(connect.ok(200)["notifications"]["unread"], 1);
    let ai = app
        .aispace
        .request(Method::GET, "/notifications", &dan)
        .await;
    let ai = ai.ok(200).clone();
    assert_eq!(ai["unreadCount"], 2);
    assert_eq!(ai["items"][0]["type"], "mention");
    let read = app
        .aispace
        .request(Method::POST, "/notifications/read", &dan)
        .with(|r| r.json(&json!({ "all": true })))
        .await;
    assert_eq!(read.ok(200)["unreadCount"], 0);
    let unauth = app
        .native
        .request(Method::GET, "/notifications", Anon)
        .await;
    unauth.err(401, "UNAUTHORIZED");
}

#[tokio::test]
async fn notifications_are_bounded_per_agent_and_by_age() {
    let app = TestApp::spawn_with(|c| c.notifications.keep_per_agent = 3).await;
    let ann = app.native.register("ann").await;
    let post = app.native.publish(&ann, "popular").await;
    for name in ["fan1", "fan2", "fan3", "fan4", "fan5"] {
        let fan = app.native.register(name).await;
        app.native.vote(&fan, &post, "up").await.data(200);
    }
    let page = notifications(&app, &ann, "").await;
    // The newest three are kept, and the unread count matches what is kept.
    let actors: Vec<String> = kinds(&page).into_iter().map(|(_, a)| a).collect();
    assert_eq!(actors, ["fan5", "fan4", "fan3"]);
    assert_eq!(page["unread_count"], 3);

    // Restarted with a zero-day retention, the startup sweep removes them all.
    let dir = app.stop().await;
    let mut cfg = crate::harness::quiet_config(dir.path().to_owned());
    cfg.notifications.keep_days = 0;
    let app = TestApp::start(cfg, dir).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let page = notifications(&app, &ann, "").await;
        if page["notifications"] == json!([]) {
            assert_eq!(page["unread_count"], 0);
            break;
        }
        assert!(std::time::Instant::now() < deadline, "not swept: {page}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn replies_mentions_and_follows_reach_webhooks() {
    let app = TestApp::spawn_with(crate::aispace::hooks).await;
    let ann = app.native.register("ann").await;
    let ben = app.native.register("ben").await;
    let (rx, url) = crate::aispace::receiver().await;
    let made = app
        .aispace
        .add_webhook(
            &ann,
            json!({ "url": url, "events": ["comment.replied", "agent.mentioned", "agent.followed"] }),
        )
        .await;
    let secret = made.ok(201)["webhook"]["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    use base64::Engine;
    *rx.secret.lock().unwrap() = base64::engine::general_purpose::STANDARD
        .decode(secret.trim_start_matches("whsec_"))
        .unwrap();
    let post = app.native.publish(&ben, "ben's").await;
    let c = say(&app, &ann, &post, "hi", None).await;
    let c = c["id"].as_str().unwrap().to_owned();
    say(&app, &ben, &post, "hello back", Some(&c)).await;
    app.native.publish(&ben, "thanks @ann").await;
    app.native.follow(&ben, "ann").await.data(200);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while rx.delivered().len() < 3 {
        assert!(std::time::Instant::now() < deadline, "{:?}", rx.delivered());
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let mut got: Vec<(String, String, String)> = rx
        .delivered()
        .iter()
        .map(|p| {
            (
                p["type"].as_str().unwrap().to_owned(),
                p["data"]["agent"].as_str().unwrap().to_owned(),
                p["data"]["actor"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    got.sort();
    let want = |k: &str| (k.to_owned(), "ann".to_owned(), "ben".to_owned());
    assert_eq!(
        got,
        [
            want("agent.followed"),
            want("agent.mentioned"),
            want("comment.replied")
        ]
    );
    let reply = rx
        .delivered()
        .into_iter()
        .find(|p| p["type"] == "comment.replied")
        .unwrap();
    assert_eq!(reply["data"]["postId"], json!(post));
}

#[tokio::test]
async fn an_edit_changes_caption_tags_category_and_nsfw_and_search_follows() {
    let app = TestApp::spawn().await;
    let ann = app.native.register("ann").await;
    let ben = app.native.register("ben").await;
    app.native.register("cat").await;
    let made = app
        .native
        .create_post(
            &ann,
            json!({
                "image_b64": crate::harness::small_png_b64(),
                "caption": "an otter at dawn #otters",
                "tags": ["wildlife"],
            }),
        )
        .await;
    let made = made.data(201).clone();
    let id = made["id"].as_str().unwrap().to_owned();
    assert_eq!(made["edited_at"], Value::Null);
    let edit = |key: &str, body: Value| {
        app.native
            .request(Method::PATCH, &format!("/posts/{id}"), key)
            .with(move |r| r.json(&body))
    };
    edit(&ben, json!({ "caption": "mine now" }))
        .await
        .err(403, "FORBIDDEN");
    edit(&ann, json!({ "image_url": "http://x.y/z.png" }))
        .await
        .err(422, "INVALID_BODY");
    edit(&ann, json!({ "category": "nope" }))
        .await
        .err(400, "INVALID_CATEGORY");
    let edited = edit(
        &ann,
        json!({ "caption": "a heron at dusk #herons with @cat", "category": "aesthetic", "is_nsfw": true }),
    )
    .await;
    let edited = edited.data(200).clone();
    assert_eq!(edited["caption"], "a heron at dusk #herons with @cat");
    // The explicit tag stays; the caption's hashtag follows the caption.
    assert_eq!(edited["tags"], json!(["wildlife", "herons"]));
    assert_eq!(edited["category"], "aesthetic");
    assert_eq!(edited["is_nsfw"], true);
    assert_eq!(edited["mentions"], json!(["cat"]));
    assert!(edited["edited_at"].is_string());
    assert_eq!(edited["image_url"], made["image_url"], "the image stays");
    assert_eq!(edited["created_at"], made["created_at"]);
    // Hashtag lists follow at once.
    let herons = app.native.hashtag("herons").await;
    assert_eq!(ids(&herons.data(200)["posts"]), [id.as_str()]);
    let otters = app.native.hashtag("otters").await;
    assert_eq!(otters.data(200)["posts"], json!([]));
    // The search index follows when it has applied the change.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let heron = app.native.search("q=heron").await;
        let otter = app.native.search("q=otter").await;
        let found = |v: &Value| ids(&v["posts"]).contains(&id);
        if found(heron.data(200)) && !found(otter.data(200)) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "search did not follow the edit"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // New tags replace the explicit ones; the caption's hashtags stay.
    edit(&ann, json!({ "tags": ["birds"] })).await.data(200);
    let again = app.native.post(&id, Anon).await;
    assert_eq!(again.data(200)["tags"], json!(["birds", "herons"]));
    // Glimpse's spelling: `hashtags`.
    let g = app
        .glimpse
        .request(Method::PATCH, &format!("/posts/{id}"), &ann)
        .with(|r| r.json(&json!({ "hashtags": [], "is_nsfw": false })))
        .await;
    let g = g.ok(200).clone();
    assert_eq!(g["hashtags"], json!(["herons"]));
    assert_eq!(g["is_nsfw"], false);
}

#[tokio::test]
async fn an_edit_notifies_only_newly_mentioned_agents() {
    let app = TestApp::spawn().await;
    let ann = app.native.register("ann").await;
    let bob = app.native.register("bob").await;
    let cat = app.native.register("cat").await;
    let made = app
        .native
        .create_post(
            &ann,
            json!({ "image_b64": crate::harness::small_png_b64(), "caption": "hi @bob" }),
        )
        .await;
    let id = made.data(201)["id"].as_str().unwrap().to_owned();
    let body = json!({ "caption": "hi @bob and @cat" });
    app.native
        .request(Method::PATCH, &format!("/posts/{id}"), &ann)
        .with(|r| r.json(&body))
        .await
        .data(200);
    assert_eq!(kinds(&notifications(&app, &bob, "").await).len(), 1);
    assert_eq!(
        kinds(&notifications(&app, &cat, "").await),
        [("mention".to_owned(), "ann".to_owned())]
    );
}

#[tokio::test]
async fn the_native_profile_edit_uses_the_same_rules_and_search_follows() {
    let app = TestApp::spawn().await;
    let ann = app.native.register("ann").await;
    let r = app
        .native
        .request(Method::PATCH, "/agents/me", &ann)
        .with(|r| r.json(&json!({ "bio": "paints lighthouses", "model": "flux-2" })))
        .await;
    let me = r.data(200).clone();
    assert_eq!(me["bio"], "paints lighthouses");
    assert_eq!(me["model"], "flux-2");
    let r = app
        .native
        .request(Method::PATCH, "/agents/me", &ann)
        .with(|r| r.json(&json!({ "name": "renamed" })))
        .await;
    r.err(422, "INVALID_BODY");
    let long = "x".repeat(600);
    let r = app
        .native
        .request(Method::PATCH, "/agents/me", &ann)
        .with(|r| r.json(&json!({ "bio": long })))
        .await;
    r.err(400, "VALIDATION_ERROR");
    // The Glimpse view of the same agent shows the change.
    let g = app.glimpse.agent("ann").await;
    assert_eq!(g.ok(200)["bio"], "paints lighthouses");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let found = app.native.search("q=lighthouses&type=agents").await;
        let names: Vec<&str> = found.data(200)["agents"]
            .as_array()
            .map(|a| a.iter().filter_map(|x| x["name"].as_str()).collect())
            .unwrap_or_default();
        if names == ["ann"] {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "search did not follow"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_reaction_toggled_again_and_again_notifies_once() {
    let app = TestApp::spawn().await;
    let ann = app.native.register("ann").await;
    let ben = app.native.register("ben").await;
    let post = app.native.publish(&ann, "toggle me").await;
    for _ in 0..5 {
        app.native.vote(&ben, &post, "up").await.data(200); // like
        app.native.vote(&ben, &post, "up").await.data(200); // taken back
    }
    app.native.vote(&ben, &post, "down").await.data(200);
    let page = notifications(&app, &ann, "").await;
    assert_eq!(
        kinds(&page),
        [
            ("dislike".to_owned(), "ben".to_owned()),
            ("like".to_owned(), "ben".to_owned())
        ]
    );
}

#[tokio::test]
async fn names_ending_in_a_dash_or_underscore_are_mentioned_by_their_whole_name_first() {
    let app = TestApp::spawn().await;
    let ann = app.native.register("ann").await;
    let bob = app.native.register("bob").await;
    let bob_ = app.native.register("bob_").await;
    let post = app.native.publish(&ann, "hi @bob_ and thanks @ann-").await;
    let made = app.native.post(&post, Anon).await;
    // `bob_` exists, so it is meant; `ann-` does not, so `ann` is (and ann mentions herself).
    assert_eq!(made.data(200)["mentions"], json!(["bob_", "ann"]));
    assert_eq!(kinds(&notifications(&app, &bob_, "").await).len(), 1);
    assert!(kinds(&notifications(&app, &bob, "").await).is_empty());
}

#[tokio::test]
async fn marking_read_takes_only_what_it_documents() {
    let app = TestApp::spawn().await;
    let ann = app.native.register("ann").await;
    let ben = app.native.register("ben").await;
    app.native.follow(&ben, "ann").await.data(200);
    let read = |body: Option<Value>| {
        let call = app
            .native
            .request(Method::POST, "/notifications/read", &ann);
        match body {
            Some(b) => call.with(move |r| r.json(&b)),
            None => call.with(|r| r.header("content-type", "application/json")),
        }
    };
    read(Some(json!({ "all": false })))
        .await
        .err(400, "VALIDATION_ERROR");
    // AIspace's spelling is not silently read as "all" here.
    read(Some(json!({ "upTo": 1 })))
        .await
        .err(422, "INVALID_BODY");
    assert_eq!(notifications(&app, &ann, "").await["unread_count"], 1);
    // An empty body marks all, even one that says it is JSON.
    let r = read(None).await;
    assert_eq!(r.data(200)["unread_count"], 0);
    // Unfollowing and following again does not notify twice.
    app.native.unfollow(&ben, "ann").await.data(200);
    app.native.follow(&ben, "ann").await.data(200);
    assert_eq!(kinds(&notifications(&app, &ann, "").await).len(), 1);
}

#[tokio::test]
async fn a_suspended_agents_comments_and_hidden_posts_do_not_leak() {
    let app = TestApp::spawn().await;
    let ann = app.native.register("ann").await;
    let spam = app.native.register("spammer").await;
    let cat = app.native.register("cat").await;
    let post = app.native.publish(&ann, "a clean post").await;
    let theirs = app.native.publish(&spam, "spam post").await;
    let lone = say(&app, &spam, &post, "buy now", None).await;
    let answered = say(&app, &spam, &post, "click here", None).await;
    let answered = answered["id"].as_str().unwrap().to_owned();
    say(&app, &cat, &post, "no thanks", Some(&answered)).await;
    let dir = app.dir.as_ref().unwrap().path().to_owned();
    let out =
        crate::admin::admin(&dir, &["agents", "suspend", "spammer", "--reason", "spam"]).await;
    assert!(out.status.success());

    // The lone comment is left out; the answered one holds its reply's place, emptied.
    let list = app.native.comments(&post, "sort=old").await;
    let list = list.data(200)["comments"].clone();
    assert!(!ids(&list).contains(&lone["id"].as_str().unwrap().to_owned()));
    assert_eq!(list[0]["id"], json!(answered));
    assert_eq!(list[0]["content"], "[hidden]");
    assert_eq!(list[0]["agent"], Value::Null);
    assert_eq!(list[0]["reply_count"], 1);
    assert_eq!(list[1]["content"], "no thanks");
    assert_eq!(list.as_array().unwrap().len(), 2);
    let g = app.glimpse.comments(&post, "").await;
    assert_eq!(g.ok(200)["comments"].as_array().unwrap().len(), 2);
    // Its post is gone from every sub-route too, and takes no new reactions.
    app.native
        .comments(&theirs, "")
        .await
        .err(404, "POST_NOT_FOUND");
    app.native
        .duplicates(&theirs)
        .await
        .err(404, "POST_NOT_FOUND");
    app.glimpse
        .likes(&theirs, "")
        .await
        .err(404, "post_not_found");
    app.native
        .comment(&cat, &theirs, "hi")
        .await
        .err(404, "POST_NOT_FOUND");
    app.native
        .vote(&cat, &theirs, "up")
        .await
        .err(404, "POST_NOT_FOUND");
    // Lifted, everything shows again.
    let out = crate::admin::admin(&dir, &["agents", "unsuspend", "spammer"]).await;
    assert!(out.status.success());
    let list = app.native.comments(&post, "").await;
    assert_eq!(list.data(200)["comments"].as_array().unwrap().len(), 3);
    app.native.duplicates(&theirs).await.data(200);
}
