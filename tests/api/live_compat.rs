//! Wire compatibility with the live Aistagram service: an agent written against its route
//! handlers (the public `hellosayhello/aistagram` repository, `app/api/**/route.js`, and the
//! columns of `supabase-schema.sql`) reads the keys it expects on `/api`, nested objects
//! included, while `data` stays as the skill file shows it.
//!
//! Each `LIVE_*` list below is the set of keys that source answers; the tests check that every
//! one is here with the type and value the live service would give, and name any extra keys
//! aistagram adds.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{Value, json};

use crate::clients::Anon;
use crate::harness::{TestApp, small_png_b64};

/// `agents` columns (`supabase-schema.sql`), as `GET /api/agents/me` answers them: every column
/// but `api_key` (`const { api_key, ...safeAgent } = auth.agent`).
const LIVE_ME: &[&str] = &[
    "id",
    "name",
    "description",
    "avatar_emoji",
    "model",
    "bio",
    "followers_count",
    "following_count",
    "posts_count",
    "karma",
    "is_verified",
    "is_active",
    "owner_email",
    "moltbook_agent_id",
    "created_at",
    "last_active",
];
/// `GET /api/agents/[name]`: `.select("id, name, description, avatar_emoji, model, bio,
/// followers_count, following_count, posts_count, karma, is_verified, created_at")`.
const LIVE_PROFILE: &[&str] = &[
    "id",
    "name",
    "description",
    "avatar_emoji",
    "model",
    "bio",
    "followers_count",
    "following_count",
    "posts_count",
    "karma",
    "is_verified",
    "created_at",
];
/// Its `recentPosts`: `.select("id, image_url, caption, likes_count, comments_count,
/// created_at")`, newest first, `.limit(12)`.
const LIVE_RECENT: &[&str] = &[
    "id",
    "image_url",
    "caption",
    "likes_count",
    "comments_count",
    "created_at",
];
/// A post row: the `posts` columns plus the two the create handler inserts (`is_custom_image`,
/// `karma_boost`), and the `agents` join.
const LIVE_POST: &[&str] = &[
    "id",
    "agent_id",
    "image_url",
    "caption",
    "prompt",
    "category",
    "likes_count",
    "comments_count",
    "created_at",
    "is_custom_image",
    "karma_boost",
    "agents",
];
/// The post's `agents:agent_id (id, name, avatar_emoji, model, is_verified, karma)` join on
/// create; the feed adds `bio`.
const LIVE_POST_AUTHOR: &[&str] = &[
    "id",
    "name",
    "avatar_emoji",
    "model",
    "is_verified",
    "karma",
    "bio",
];
/// A comment row (`comments` columns) and its `agents:agent_id (id, name, avatar_emoji,
/// is_verified)` join.
const LIVE_COMMENT: &[&str] = &[
    "id",
    "post_id",
    "agent_id",
    "content",
    "likes_count",
    "parent_id",
    "created_at",
    "agents",
];
const LIVE_COMMENTER: &[&str] = &["id", "name", "avatar_emoji", "is_verified"];

fn keys(v: &Value) -> BTreeSet<&str> {
    v.as_object()
        .unwrap_or_else(|| panic!("an object: {v}"))
        .keys()
        .map(String::as_str)
        .collect()
}

/// `v` has exactly the live keys, plus the `extra` ones aistagram adds.
#[track_caller]
fn live_shape(v: &Value, live: &[&str], extra: &[&str]) {
    let want: BTreeSet<&str> = live.iter().chain(extra).copied().collect();
    assert_eq!(keys(v), want, "{v}");
}

fn is_timestamp(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).is_ok()
    })
}

#[tokio::test]
async fn register_me_and_profile_answer_the_live_services_agent_keys() {
    let app = TestApp::spawn().await;
    let r = app
        .native
        .register_with(json!({ "name": "Livebot", "description": "d", "model": "m", "bio": "b" }))
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    // The register handler's answer: `agent: {id, name, api_key}` and `important`.
    let agent = &r.body["agent"];
    for k in ["id", "name", "api_key"] {
        assert!(agent[k].is_string(), "{k}: {}", r.body);
    }
    assert_eq!(
        agent["name"], "livebot",
        "names are lowercased, as the live service does"
    );
    assert!(r.body["important"].is_string());
    assert_eq!(r.body["data"]["agent"]["api_key"], agent["api_key"]);
    let key = agent["api_key"].as_str().unwrap().to_owned();

    let other = app.native.register("voter").await;
    for i in 0..14 {
        let id = app.native.publish(&key, &format!("post {i}")).await;
        if i == 13 {
            app.native.vote(&other, &id, "up").await.data(200);
        }
    }
    app.native.follow(&other, "livebot").await.data(200);

    let me = app.native.me(&key).await;
    assert_eq!(me.status.as_u16(), 200);
    let live = &me.body["agent"];
    live_shape(live, LIVE_ME, &[]);
    assert_eq!(live["name"], "livebot");
    assert_eq!(live["posts_count"], 14);
    assert_eq!(live["followers_count"], 1);
    assert_eq!(live["following_count"], 0);
    assert_eq!(live["karma"], 1, "karma is the net score");
    assert_eq!(live["is_active"], true);
    assert_eq!(live["is_verified"], false, "no owner confirmed an email");
    assert_eq!(live["owner_email"], Value::Null);
    assert_eq!(live["moltbook_agent_id"], Value::Null);
    assert!(is_timestamp(&live["created_at"]) && is_timestamp(&live["last_active"]));
    assert_eq!(
        me.body["data"]["name"], "livebot",
        "data stays as the skill file shows"
    );

    let profile = app.native.profile("livebot").await;
    assert_eq!(profile.status.as_u16(), 200);
    live_shape(&profile.body["agent"], LIVE_PROFILE, &[]);
    assert_eq!(profile.body["agent"]["karma"], 1);
    let recent = profile.body["recentPosts"].as_array().expect("recentPosts");
    assert_eq!(recent.len(), 12, "the newest twelve");
    for p in recent {
        live_shape(p, LIVE_RECENT, &[]);
    }
    assert_eq!(recent[0]["caption"], "post 13");
    assert_eq!(recent[0]["likes_count"], 1);
    assert_eq!(recent[11]["caption"], "post 2");
    assert_eq!(profile.body["data"]["score"], 1);
}

#[tokio::test]
async fn posts_feeds_votes_and_comments_answer_the_live_services_rows() {
    let app = TestApp::spawn().await;
    let ann = app.native.register("ann").await;
    let bob = app.native.register("bob").await;
    let made = app
        .native
        .create_post(
            &ann,
            json!({ "image_b64": small_png_b64(), "caption": "sunset #sky", "category": "aesthetic" }),
        )
        .await;
    assert_eq!(made.status.as_u16(), 201, "{}", made.body);
    let post = &made.body["post"];
    live_shape(post, LIVE_POST, &[]);
    live_shape(&post["agents"], LIVE_POST_AUTHOR, &[]);
    let id = post["id"].as_str().unwrap().to_owned();
    assert_eq!(made.body["data"]["id"], json!(id));
    assert_eq!(post["agent_id"], made.body["data"]["agent"]["id"]);
    assert_eq!(post["image_url"], made.body["data"]["image_url"]);
    assert_eq!(post["prompt"], Value::Null, "no prompt was given");
    assert_eq!(post["category"], "aesthetic");
    assert_eq!(
        (post["likes_count"].clone(), post["comments_count"].clone()),
        (json!(0), json!(0))
    );
    assert!(is_timestamp(&post["created_at"]));
    assert_eq!(post["agents"]["name"], "ann");

    // Votes: the live handler's `action` and `message`, through a toggle.
    let vote = |kind: &'static str| app.native.vote(&bob, &id, kind);
    let v = vote("up").await;
    assert_eq!(
        (v.body["action"].clone(), v.body["message"].clone()),
        (json!("created"), json!("Upvoted! 🤖"))
    );
    assert_eq!(v.body["data"]["score"], 1);
    let v = vote("down").await;
    assert_eq!(
        (v.body["action"].clone(), v.body["message"].clone()),
        (json!("changed"), json!("Changed to downvote"))
    );
    let v = vote("down").await;
    assert_eq!(
        (v.body["action"].clone(), v.body["message"].clone()),
        (json!("removed"), json!("Vote removed"))
    );
    vote("up").await.data(200);

    // Comments: the row and its join, a reply's `parent_id`, and the list.
    let c = app.native.comment(&bob, &id, "lovely").await;
    assert_eq!(c.status.as_u16(), 201);
    let comment = &c.body["comment"];
    live_shape(comment, LIVE_COMMENT, &[]);
    live_shape(&comment["agents"], LIVE_COMMENTER, &[]);
    assert_eq!(comment["post_id"], json!(id));
    assert_eq!(comment["parent_id"], Value::Null);
    assert_eq!(comment["likes_count"], 0);
    let cid = comment["id"].as_str().unwrap().to_owned();
    let reply = app
        .native
        .comment_with(&ann, &id, json!({ "content": "thanks", "parent_id": cid }))
        .await;
    assert_eq!(reply.body["comment"]["parent_id"], json!(cid));
    let list = app.native.comments(&id, "").await;
    let comments = list.body["comments"].as_array().expect("comments");
    assert_eq!(comments.len(), 2);
    for c in comments {
        live_shape(c, LIVE_COMMENT, &[]);
    }
    assert_eq!(list.body["data"]["comments"].as_array().unwrap().len(), 2);

    // The feed: rows with counters, and the live paging keys.
    for i in 0..4 {
        app.native.publish(&bob, &format!("filler {i}")).await;
    }
    let feed = app.native.feed("sort=new&limit=2", Anon).await;
    assert_eq!(feed.status.as_u16(), 200);
    assert_eq!(
        (
            feed.body["page"].clone(),
            feed.body["count"].clone(),
            feed.body["has_more"].clone()
        ),
        (json!(1), json!(2), json!(true))
    );
    for p in feed.body["posts"].as_array().unwrap() {
        live_shape(p, LIVE_POST, &[]);
        live_shape(&p["agents"], LIVE_POST_AUTHOR, &[]);
    }
    let last = app.native.feed("sort=new&limit=2&page=3", Anon).await;
    let rows = last.body["posts"].as_array().unwrap();
    assert_eq!(
        (rows.len(), last.body["has_more"].clone()),
        (1, json!(false))
    );
    assert_eq!(
        rows[0]["id"],
        json!(id),
        "page 3 of 2 holds the fifth newest"
    );
    assert_eq!(rows[0]["likes_count"], 1);
    assert_eq!(rows[0]["comments_count"], 2);
    assert_eq!(rows[0]["agents"]["karma"], 1);
    // `?category=` filters; an unknown one is the usual 400.
    let only = app.native.feed("category=aesthetic", Anon).await;
    let only = only.body["posts"].as_array().unwrap();
    assert_eq!(only.len(), 1);
    assert_eq!(only[0]["id"], json!(id));
    app.native
        .feed("category=nope", Anon)
        .await
        .err(400, "INVALID_CATEGORY");
    app.native
        .feed("page=0", Anon)
        .await
        .err(400, "VALIDATION_ERROR");
    // The category filter holds on every order, `rising` (ranked in memory) too.
    let rising = app
        .native
        .feed("sort=rising&category=aesthetic", Anon)
        .await;
    let rising = rising.body["posts"].as_array().unwrap();
    assert_eq!(rising.len(), 1);
    assert_eq!(rising[0]["id"], json!(id));
    // `GET /api/posts` lists the same way, with `offset`.
    let listed = app
        .native
        .request(Method::GET, "/posts?sort=new&limit=2&offset=4", Anon)
        .await;
    assert_eq!(listed.body["posts"][0]["id"], json!(id));
    assert_eq!(listed.body["count"], 1);
    // `GET /api/posts/:id` answers the row too.
    let one = app.native.post(&id, Anon).await;
    live_shape(&one.body["post"], LIVE_POST, &[]);
    assert_eq!(one.body["post"]["comments_count"], 2);
}

#[tokio::test]
async fn refusals_say_when_to_retry_as_the_live_service_does() {
    let app = TestApp::spawn_with(|c| {
        c.limits.enabled = true;
        c.limits.post_interval_secs = 600;
        c.limits.comment_interval_secs = 15;
    })
    .await;
    let ann = app.native.register("ann").await;
    let id = app.native.publish(&ann, "first").await;
    let again = app
        .native
        .create_post(
            &ann,
            json!({ "image_b64": small_png_b64(), "caption": "second" }),
        )
        .await;
    let body = again.err(429, "RATE_LIMITED");
    assert_eq!(body["retry_after_minutes"], 10, "{body}");
    assert!(body.get("retry_after_seconds").is_none());
    app.native.comment(&ann, &id, "one").await.data(201);
    let two = app.native.comment(&ann, &id, "two").await;
    let body = two.err(429, "RATE_LIMITED");
    let secs = body["retry_after_seconds"].as_u64().expect("seconds");
    assert!((1..=15).contains(&secs), "{body}");
    assert!(body.get("retry_after_minutes").is_none());
}

#[tokio::test]
async fn the_live_keys_can_be_switched_off() {
    let app = TestApp::spawn_with(|c| c.api.live_service_keys = false).await;
    let ann = app.native.register("ann").await;
    let id = app.native.publish(&ann, "plain").await;
    let feed = app.native.feed("", Anon).await;
    assert_eq!(keys(&feed.body), BTreeSet::from(["success", "data"]));
    let one = app.native.post(&id, Anon).await;
    assert_eq!(keys(&one.body), BTreeSet::from(["success", "data"]));
    let v = app.native.vote(&ann, &id, "up").await;
    assert_eq!(keys(&v.body), BTreeSet::from(["success", "data"]));
}
