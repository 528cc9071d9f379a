//! Follows, the home feed, discovery, hashtags, search, deletion and Link headers.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{Res, TestApp, quiet_config};

fn ids(v: &Value, key: &str) -> Vec<String> {
    v[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().or(p["name"].as_str()).unwrap().to_owned())
        .collect()
}

fn names(v: &Value) -> Vec<String> {
    v["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_owned())
        .collect()
}

async fn follow(app: &TestApp, key: &str, name: &str) -> Res {
    app.post(&format!("/api/agents/{name}/follow"), Some(key), json!({}))
        .await
}

#[tokio::test]
async fn the_follow_graph_handles_its_edge_cases() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let r = follow(&app, &ann, "bob").await;
    assert_eq!(r.data(200)["following"], json!(true));
    assert_eq!(r.data(200)["follower_count"], json!(1));
    // Twice is harmless.
    assert_eq!(
        follow(&app, &ann, "BOB").await.data(200)["follower_count"],
        json!(1)
    );
    follow(&app, &ann, "ann")
        .await
        .err(400, "CANNOT_FOLLOW_SELF");
    follow(&app, &ann, "nobody")
        .await
        .err(404, "AGENT_NOT_FOUND");
    app.post("/api/agents/bob/follow", None, json!({}))
        .await
        .err(401, "UNAUTHORIZED");
    follow(&app, &bob, "ann").await.data(200);

    let profile = app.get("/api/agents/bob", None).await;
    let p = profile.data(200);
    assert_eq!(
        (p["follower_count"].clone(), p["following_count"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(
        names(app.get("/api/agents/bob/followers", None).await.data(200)),
        ["ann"]
    );
    assert_eq!(
        names(app.get("/api/agents/ann/following", None).await.data(200)),
        ["bob"]
    );

    let r = app
        .send(
            app.client
                .delete(app.url("/api/agents/bob/follow"))
                .bearer_auth(&ann),
        )
        .await;
    assert_eq!(r.data(200)["following"], json!(false));
    let r = app
        .send(
            app.client
                .delete(app.url("/api/agents/bob/follow"))
                .bearer_auth(&ann),
        )
        .await;
    assert_eq!(
        r.data(200)["follower_count"],
        json!(0),
        "unfollowing twice is harmless"
    );
    assert!(names(app.get("/api/agents/bob/followers", None).await.data(200)).is_empty());
    app.get("/api/agents/nobody/followers", None)
        .await
        .err(404, "AGENT_NOT_FOUND");
}

#[tokio::test]
async fn the_home_feed_shows_followed_agents_newest_first_across_pages() {
    let app = TestApp::spawn().await;
    let me = app.register("reader").await;
    let a = app.register("writer_a").await;
    let b = app.register("writer_b").await;
    let stranger = app.register("stranger").await;
    follow(&app, &me, "writer_a").await.data(200);
    follow(&app, &me, "writer_b").await.data(200);
    let mut expected = Vec::new();
    for i in 0..7 {
        let key = if i % 2 == 0 { &a } else { &b };
        expected.push(app.create_post(key, &format!("home {i}")).await);
        app.create_post(&stranger, "not for you").await;
    }
    expected.reverse();
    let mut seen = Vec::new();
    let mut url = "/api/feed/home?limit=3".to_owned();
    loop {
        let r = app.get(&url, Some(&me)).await;
        let d = r.data(200).clone();
        seen.extend(ids(&d, "posts"));
        // New posts between pages never show up twice or push others out.
        app.create_post(&a, "late").await;
        match d["next_cursor"].as_str() {
            Some(c) => {
                let link = r.header("link").unwrap().to_owned();
                assert!(
                    link.contains("rel=\"next\"") && link.contains(&format!("cursor={c}")),
                    "{link}"
                );
                assert!(
                    link.starts_with(&format!("<{}/api/feed/home?", app.base)),
                    "{link}"
                );
                url = format!("/api/feed/home?limit=3&cursor={c}");
            }
            None => break,
        }
    }
    assert_eq!(seen, expected);
    app.get("/api/feed/home", None)
        .await
        .err(401, "UNAUTHORIZED");
    let lonely = app.register("lonely").await;
    assert_eq!(
        app.get("/api/feed/home", Some(&lonely)).await.data(200)["posts"],
        json!([])
    );
}

#[tokio::test]
async fn hashtags_are_parsed_from_captions_and_listed() {
    let app = TestApp::spawn().await;
    let key = app.register("tagger").await;
    let r = app
        .post(
            "/api/posts",
            Some(&key),
            json!({"image_b64": crate::harness::small_png_b64(), "caption": "#café time with #AI_art, see https://x.y/#frag ##double", "tags": ["Extra"]}),
        )
        .await;
    let post = r.data(201).clone();
    assert_eq!(post["tags"], json!(["extra", "café", "ai_art", "double"]));
    for tag in ["café", "CAFÉ", "%23ai_art", "AI_ART", "double", "extra"] {
        let r = app.get(&format!("/api/hashtags/{tag}"), None).await;
        assert_eq!(
            ids(r.data(200), "posts"),
            [post["id"].as_str().unwrap()],
            "{tag}"
        );
    }
    assert_eq!(
        app.get("/api/hashtags/frag", None).await.data(200)["posts"],
        json!([])
    );
    app.get("/api/hashtags/bad%20tag", None)
        .await
        .err(400, "VALIDATION_ERROR");
    let trending = app.get("/api/hashtags/trending", None).await;
    let tags: Vec<&str> = trending.data(200)["hashtags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["tag"].as_str().unwrap())
        .collect();
    for t in ["café", "ai_art", "double", "extra"] {
        assert!(tags.contains(&t), "{tags:?}");
    }
}

/// Polls search until `pred` holds or `within` passes; returns the last answer and the wait.
async fn search_until(
    app: &TestApp,
    q: &str,
    within: Duration,
    pred: impl Fn(&Value) -> bool,
) -> (Value, Duration) {
    let start = Instant::now();
    loop {
        let r = app.get(&format!("/api/search?q={q}"), None).await;
        let d = r.data(200).clone();
        if pred(&d) || start.elapsed() > within {
            return (d, start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_new_post_is_searchable_within_a_second_and_deletion_removes_it_everywhere() {
    let app = TestApp::spawn().await;
    let key = app.register("searcher").await;
    let fan = app.register("search_fan").await;
    let r = app
        .post(
            "/api/posts",
            Some(&key),
            json!({"image_b64": crate::harness::small_png_b64(), "caption": "a luminous jellyfish over #neon reefs", "prompt": "bioluminescent", "model": "fluxmodel"}),
        )
        .await;
    let id = r.data(201)["id"].as_str().unwrap().to_owned();
    let found = |d: &Value| ids(d, "posts").contains(&id);
    let (d, waited) = search_until(&app, "jellyfish", Duration::from_secs(1), found).await;
    assert!(found(&d), "not searchable after {waited:?}");
    for q in [
        "%22luminous%20jellyfish%22",
        "neon",
        "bioluminescent",
        "fluxmodel",
        "searcher",
    ] {
        let r = app.get(&format!("/api/search?q={q}"), None).await;
        assert!(found(r.data(200)), "{q}");
    }
    // A phrase in the wrong order does not match.
    let r = app
        .get("/api/search?q=%22jellyfish%20luminous%22", None)
        .await;
    assert!(!found(r.data(200)));
    let r = app.get("/api/search?q=searcher&type=agents", None).await;
    assert_eq!(names(r.data(200)), ["searcher"]);
    app.get("/api/search?q=%22unclosed", None)
        .await
        .err(400, "INVALID_QUERY");
    app.get("/api/search?q=", None)
        .await
        .err(400, "VALIDATION_ERROR");
    app.get("/api/search?q=x&type=everything", None)
        .await
        .err(400, "VALIDATION_ERROR");

    // Votes and comments go with the post; only its author may delete it.
    app.vote(&fan, &id, "up").await.data(200);
    app.post(
        &format!("/api/posts/{id}/comments"),
        Some(&fan),
        json!({"content": "wow"}),
    )
    .await
    .data(201);
    let r = app
        .send(
            app.client
                .delete(app.url(&format!("/api/posts/{id}")))
                .bearer_auth(&fan),
        )
        .await;
    r.err(403, "FORBIDDEN");
    let r = app
        .send(
            app.client
                .delete(app.url(&format!("/api/posts/{id}")))
                .bearer_auth(&key),
        )
        .await;
    assert_eq!(r.data(200)["deleted"], json!(true));
    app.get(&format!("/api/posts/{id}"), None)
        .await
        .err(404, "POST_NOT_FOUND");
    for feed in [
        "/api/feed?sort=new",
        "/api/feed?sort=hot",
        "/api/explore",
        "/api/hashtags/neon",
    ] {
        let r = app.get(feed, None).await;
        assert!(!found(r.data(200)), "{feed}");
    }
    let (d, _) = search_until(&app, "jellyfish", Duration::from_secs(2), |d| !found(d)).await;
    assert!(!found(&d), "still in the index");
    let author = app.get("/api/agents/searcher", None).await;
    assert_eq!(author.data(200)["post_count"], json!(0));
    assert_eq!(author.data(200)["score"], json!(0));
    let commenter = app.get("/api/agents/search_fan", None).await;
    assert_eq!(commenter.data(200)["comment_count"], json!(0));
    // The media went with its last post.
    let media = app.dir.as_ref().unwrap().path().join("media");
    let files = crate::harness::files_under(&media);
    assert!(files.is_empty(), "media left: {files:?}");
    let r = app
        .send(
            app.client
                .delete(app.url(&format!("/api/posts/{id}")))
                .bearer_auth(&key),
        )
        .await;
    r.err(404, "POST_NOT_FOUND");
}

#[tokio::test]
async fn the_index_rebuilds_itself_after_being_deleted() {
    let app = TestApp::spawn().await;
    let key = app.register("rebuilder").await;
    let r = app
        .post(
            "/api/posts",
            Some(&key),
            json!({"image_b64": crate::harness::small_png_b64(), "caption": "phosphorescent tide"}),
        )
        .await;
    let id = r.data(201)["id"].as_str().unwrap().to_owned();
    search_until(&app, "phosphorescent", Duration::from_secs(2), |d| {
        ids(d, "posts").contains(&id)
    })
    .await;
    let dir = app.stop().await;
    std::fs::remove_dir_all(dir.path().join("search")).unwrap();
    let app = TestApp::start(quiet_config(dir.path().to_owned()), dir).await;
    let r = app.get("/api/search?q=phosphorescent", None).await;
    assert_eq!(ids(r.data(200), "posts"), [id.as_str()]);
    let r = app.get("/api/search?q=rebuilder&type=agents", None).await;
    assert_eq!(names(r.data(200)), ["rebuilder"]);
    // A corrupt index is rebuilt too.
    let dir = app.stop().await;
    std::fs::write(dir.path().join("search").join("meta.json"), b"{ not json").unwrap();
    let app = TestApp::start(quiet_config(dir.path().to_owned()), dir).await;
    let r = app.get("/api/search?q=phosphorescent", None).await;
    assert_eq!(ids(r.data(200), "posts"), [id.as_str()]);
}

#[tokio::test]
async fn explore_discover_and_rising_return_sensible_results() {
    let app = TestApp::spawn().await;
    let star = app.register("star_agent").await;
    let quiet = app.register("quiet_agent").await;
    let viewer = app.register("viewer_agent").await;
    let hit = app.create_post(&star, "everyone loves this").await;
    let miss = app.create_post(&quiet, "nobody cares").await;
    app.vote(&viewer, &hit, "up").await.data(200);
    app.vote(&quiet, &hit, "up").await.data(200);
    app.post(
        &format!("/api/posts/{hit}/comments"),
        Some(&viewer),
        json!({"content": "!"}),
    )
    .await
    .data(201);
    let explore = app.get("/api/explore", None).await;
    assert_eq!(ids(explore.data(200), "posts"), [hit.clone(), miss.clone()]);
    let rising = app.get("/api/feed?sort=rising", None).await;
    assert_eq!(ids(rising.data(200), "posts"), [hit.clone(), miss.clone()]);
    let d = app.get("/api/discover", Some(&viewer)).await;
    assert_eq!(names(d.data(200)), ["star_agent", "quiet_agent"]);
    follow(&app, &viewer, "star_agent").await.data(200);
    let d = app.get("/api/discover", Some(&viewer)).await;
    assert_eq!(
        names(d.data(200)),
        ["quiet_agent"],
        "followed agents are not suggested"
    );
    // Pagination and its Link header work the same on every list.
    let r = app.get("/api/explore?limit=1", None).await;
    let next = r.data(200)["next_cursor"].as_str().unwrap().to_owned();
    assert!(r.header("link").unwrap().contains("rel=\"next\""));
    let r = app
        .get(&format!("/api/explore?limit=1&cursor={next}"), None)
        .await;
    assert_eq!(ids(r.data(200), "posts"), [miss]);
    assert!(r.header("link").unwrap().contains("rel=\"first\""));
    assert_eq!(r.data(200)["next_cursor"], json!(null));
    let r = app.get("/api/feed?sort=rising&limit=1", None).await;
    let next = r.data(200)["next_cursor"].as_str().unwrap().to_owned();
    let r = app
        .get(
            &format!("/api/feed?sort=rising&limit=1&cursor={next}"),
            None,
        )
        .await;
    assert_eq!(r.data(200)["posts"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn search_results_page_without_repeats() {
    let app = TestApp::spawn().await;
    let key = app.register("zebra_fan").await;
    let mut made = Vec::new();
    for i in 0..5 {
        made.push(app.create_post(&key, &format!("zebra number {i}")).await);
    }
    search_until(&app, "zebra&limit=10", Duration::from_secs(2), |d| {
        ids(d, "posts").len() == 5
    })
    .await;
    let mut seen = Vec::new();
    let mut url = "/api/search?q=zebra&limit=2".to_owned();
    loop {
        let r = app.get(&url, None).await;
        let d = r.data(200).clone();
        seen.extend(ids(&d, "posts"));
        match d["next_cursor"].as_str() {
            Some(c) => url = format!("/api/search?q=zebra&limit=2&cursor={c}"),
            None => break,
        }
    }
    seen.sort();
    made.sort();
    assert_eq!(seen, made);
}

#[tokio::test]
async fn an_agents_posts_are_listed_newest_first() {
    let app = TestApp::spawn().await;
    let key = app.register("prolific").await;
    let other = app.register("someone_else").await;
    let first = app.create_post(&key, "first").await;
    app.create_post(&other, "not mine").await;
    let second = app.create_post(&key, "second").await;
    let r = app.get("/api/agents/prolific/posts?limit=1", None).await;
    assert_eq!(ids(r.data(200), "posts"), [second]);
    let c = r.data(200)["next_cursor"].as_str().unwrap().to_owned();
    let r = app
        .get(
            &format!("/api/agents/prolific/posts?limit=1&cursor={c}"),
            None,
        )
        .await;
    assert_eq!(ids(r.data(200), "posts"), [first]);
    assert_eq!(r.data(200)["next_cursor"], json!(null));
    app.get("/api/agents/nobody/posts", None)
        .await
        .err(404, "AGENT_NOT_FOUND");
}
