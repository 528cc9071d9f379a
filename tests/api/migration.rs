//! Upgrading data dirs written by earlier releases: `tests/fixtures/data-v2` and `data-v3` were
//! made by the schema-2 and schema-3 binaries through their real APIs
//! (`tests/fixtures/make_data_v*.py`). Opening one migrates it to the current schema, and
//! everything in it is still there and consistent.

use std::path::Path;

use serde_json::{Value, json};

use crate::admin::{admin, json_of};
use crate::clients::Anon;
use crate::harness::{TestApp, quiet_config};

/// A copy of a fixture in a temp dir (the test must not change the checked-in files).
fn copy_fixture_named(name: &str) -> tempfile::TempDir {
    let from = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let to = tempfile::tempdir().expect("tempdir");
    copy_dir(&from, to.path());
    to
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("fixture dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

#[tokio::test]
async fn a_schema_2_data_dir_upgrades_with_everything_intact() {
    let dir = copy_fixture_named("data-v2");
    let fixture: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("keys.json")).expect("keys.json"))
            .expect("keys.json is JSON");
    let key = |name: &str| fixture["keys"][name].as_str().expect("key").to_owned();
    let posts: Vec<String> = fixture["posts"]
        .as_array()
        .expect("posts")
        .iter()
        .map(|p| p.as_str().expect("id").to_owned())
        .collect();

    let app = TestApp::start(quiet_config(dir.path().to_owned()), dir).await;
    let (ada, bob, cyd) = (key("ada"), key("bob"), key("cyd"));

    // Agents, their keys and counters.
    let me = app.native.me(&ada).await;
    let me = me.data(200);
    assert_eq!(me["name"], "ada");
    assert_eq!(me["model"], "flux-1");
    assert_eq!(me["post_count"], 2);
    assert_eq!(me["follower_count"], 2, "{me}");
    assert_eq!(me["following_count"], 1);
    assert_eq!(
        me["score"], 1,
        "one up and one down on ada's first post, cyd's medal is no vote"
    );
    app.native.me(&bob).await.data(200);
    // The suspension survived: cyd's key is refused and its profile hidden.
    app.native.me(&cyd).await.err(403, "AGENT_SUSPENDED");
    app.native.profile("cyd").await.err(404, "AGENT_NOT_FOUND");

    // Posts with their votes, comments, medals and images.
    let first = app.native.post(&posts[0], &bob).await;
    let first = first.data(200);
    assert_eq!(
        (first["upvotes"].clone(), first["downvotes"].clone()),
        (1.into(), 1.into())
    );
    assert_eq!(first["your_vote"], "up");
    assert_eq!(first["comment_count"], 1);
    assert_eq!(first["tags"], serde_json::json!(["dawn", "fixture"]));
    let comments = app.native.comments(&posts[0], "").await;
    assert_eq!(comments.data(200)["comments"][0]["content"], "lovely dawn");
    let medaled = app.native.post(&posts[3], Anon).await;
    assert_eq!(medaled.data(200)["medals"]["gold"], 1);
    for url in [
        "image_url",
        "thumbnail_url",
        "full_image_url",
        "original_url",
    ] {
        let res = app
            .client
            .get(first[url].as_str().expect("url"))
            .send()
            .await
            .expect("media");
        assert_eq!(res.status(), 200, "{url}");
    }
    // cyd's post is hidden with its author, the other three are in the feed.
    let feed = app.native.feed("sort=new", Anon).await;
    assert_eq!(
        feed.data(200)["posts"].as_array().expect("posts").len(),
        2 + 1
    );
    let search = app.native.search("q=dawn").await;
    assert!(
        !search.data(200)["posts"]
            .as_array()
            .expect("hits")
            .is_empty()
    );

    // AIspace: the webhook and the scheduled post.
    let hooks = app.aispace.webhooks(&ada).await;
    assert_eq!(
        hooks.ok(200)["webhooks"].as_array().expect("hooks").len(),
        1
    );
    let scheduled = app.aispace.scheduled(&bob).await;
    assert_eq!(
        scheduled.ok(200)["items"].as_array().expect("list").len(),
        1
    );

    // New writes work on the migrated tables.
    app.native.vote(&bob, &posts[3], "up").await.data(200);
    let dir = app.stop().await;
    // Every derived table and counter (the migrated likes and dislikes received too) agrees
    // with the primary rows.
    let check = json_of(&admin(dir.path(), &["check", "--json"]).await);
    assert_eq!(check["ok"], true, "{check}");
    let version = json_of(&admin(dir.path(), &["stats", "--json"]).await);
    assert_eq!(version["schema_version"], 4, "{version}");
    // Images kept before quality scores were are scored by repair, once.
    let repair = json_of(&admin(dir.path(), &["check", "--repair", "--json"]).await);
    let repaired = repair["repaired"].to_string();
    assert!(repaired.contains("scored the quality of"), "{repair}");
    let again = json_of(&admin(dir.path(), &["check", "--repair", "--json"]).await);
    assert!(!again["repaired"].to_string().contains("scored"), "{again}");
}

#[tokio::test]
async fn a_schema_3_data_dir_upgrades_to_threads_mentions_and_notifications() {
    let dir = copy_fixture_named("data-v3");
    let fixture: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("keys.json")).expect("keys.json"))
            .expect("keys.json is JSON");
    let key = |name: &str| fixture["keys"][name].as_str().expect("key").to_owned();
    let posts: Vec<String> = fixture["posts"]
        .as_array()
        .expect("posts")
        .iter()
        .map(|p| p.as_str().expect("id").to_owned())
        .collect();
    let app = TestApp::start(quiet_config(dir.path().to_owned()), dir).await;

    // Agents and their counters, as the schema-3 server reported them.
    for (name, want) in fixture["expect"]["agents"].as_object().expect("agents") {
        let me = app.native.me(key(name)).await;
        let me = me.data(200);
        for field in [
            "id",
            "model",
            "post_count",
            "comment_count",
            "follower_count",
            "following_count",
            "score",
        ] {
            assert_eq!(me[field], want[field], "{name}.{field}: {me}");
        }
    }
    // Posts keep everything, and their captions' mentions are resolved by the new rule.
    let mentions = [
        json!(["bob"]),
        json!(["ada"]),
        json!(["ada", "bob"]),
        json!(["cyd"]),
    ];
    for (id, want) in posts.iter().zip(mentions) {
        let expected = &fixture["expect"]["posts"][id];
        let p = app.native.post(id, Anon).await;
        let p = p.data(200);
        for field in [
            "caption", "prompt", "category", "model", "tags", "is_nsfw", "upvotes",
        ] {
            assert_eq!(p[field], expected[field], "{id}.{field}");
        }
        assert_eq!(p["comment_count"], expected["comment_count"]);
        assert_eq!(p["mentions"], want, "{id}");
        assert_eq!(p["edited_at"], Value::Null);
    }
    // Comments: every one at the top of its thread, in order, with its mentions.
    let first = &posts[0];
    let listed = app.native.comments(first, "sort=old").await;
    let listed = listed.data(200)["comments"].clone();
    let want: Vec<Value> = fixture["comments"][first]
        .as_array()
        .expect("comment ids")
        .clone();
    let got: Vec<Value> = listed
        .as_array()
        .expect("comments")
        .iter()
        .map(|c| c["id"].clone())
        .collect();
    assert_eq!(got, want);
    for c in listed.as_array().expect("comments") {
        assert_eq!(c["depth"], 0);
        assert_eq!(c["parent_id"], Value::Null);
        assert_eq!(c["reply_count"], 0);
        let expected = &fixture["expect"]["comments"][c["id"].as_str().expect("id")];
        assert_eq!(c["content"], expected["content"]);
        assert_eq!(c["agent"]["name"], expected["author"]);
    }
    assert_eq!(listed[1]["mentions"], json!(["bob", "ada"]));
    assert_eq!(listed[4]["mentions"], json!([]), "@nobody is no agent");
    // The past makes no notifications.
    let none = app
        .native
        .request(reqwest::Method::GET, "/notifications", key("ada"))
        .await;
    assert_eq!(none.data(200)["unread_count"], 0);
    // Old comments take replies (the new comment index was built), and those notify.
    let old = want[0].as_str().expect("id");
    let reply = app
        .native
        .comment_with(
            key("ada"),
            first,
            json!({ "content": "late reply", "parent_id": old }),
        )
        .await;
    assert_eq!(reply.data(201)["depth"], 1);
    let bob = app
        .native
        .request(reqwest::Method::GET, "/notifications", key("bob"))
        .await;
    assert_eq!(bob.data(200)["notifications"][0]["type"], "reply");
    // The scheduled post (its record grew too) and the webhook are still there.
    let scheduled = app.aispace.scheduled(key("dee")).await;
    assert_eq!(
        scheduled.ok(200)["items"].as_array().expect("list").len(),
        1
    );
    let hooks = app.aispace.webhooks(key("ada")).await;
    assert_eq!(
        hooks.ok(200)["webhooks"].as_array().expect("hooks").len(),
        1
    );

    let dir = app.stop().await;
    let check = json_of(&admin(dir.path(), &["check", "--json"]).await);
    assert_eq!(check["ok"], true, "{check}");
    let version = json_of(&admin(dir.path(), &["stats", "--json"]).await);
    assert_eq!(version["schema_version"], 4, "{version}");
}
