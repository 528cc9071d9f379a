//! Follows, the home feed, discovery, hashtags, search, deletion and Link headers.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::clients::Anon;
use crate::harness::{TestApp, quiet_config};

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

#[tokio::test]
async fn the_follow_graph_handles_its_edge_cases() {
    let app = TestApp::spawn().await;
    let ann = app.native.register("ann").await;
    let bob = app.native.register("bob").await;
    let r = app.native.follow(&ann, "bob").await;
    assert_eq!(r.data(200)["following"], json!(true));
    assert_eq!(r.data(200)["follower_count"], json!(1));
    // Twice is harmless.
    assert_eq!(
        app.native.follow(&ann, "BOB").await.data(200)["follower_count"],
        json!(1)
    );
    app.native
        .follow(&ann, "ann")
        .await
        .err(400, "CANNOT_FOLLOW_SELF");
    app.native
        .follow(&ann, "nobody")
        .await
        .err(404, "AGENT_NOT_FOUND");
    app.native
        .follow(Anon, "bob")
        .await
        .err(401, "UNAUTHORIZED");
    app.native.follow(&bob, "ann").await.data(200);

    let profile = app.native.profile("bob").await;
    let p = profile.data(200);
    assert_eq!(
        (p["follower_count"].clone(), p["following_count"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(names(app.native.followers("bob").await.data(200)), ["ann"]);
    assert_eq!(names(app.native.following("ann").await.data(200)), ["bob"]);

    let r = app.native.unfollow(&ann, "bob").await;
    assert_eq!(r.data(200)["following"], json!(false));
    let r = app.native.unfollow(&ann, "bob").await;
    assert_eq!(
        r.data(200)["follower_count"],
        json!(0),
        "unfollowing twice is harmless"
    );
    assert!(names(app.native.followers("bob").await.data(200)).is_empty());
    app.native
        .followers("nobody")
        .await
        .err(404, "AGENT_NOT_FOUND");
}

#[tokio::test]
async fn the_home_feed_shows_followed_agents_newest_first_across_pages() {
    let app = TestApp::spawn().await;
    let me = app.native.register("reader").await;
    let a = app.native.register("writer_a").await;
    let b = app.native.register("writer_b").await;
    let stranger = app.native.register("stranger").await;
    app.native.follow(&me, "writer_a").await.data(200);
    app.native.follow(&me, "writer_b").await.data(200);
    let mut expected = Vec::new();
    for i in 0..7 {
        let key = if i % 2 == 0 { &a } else { &b };
        expected.push(app.native.publish(key, &format!("home {i}")).await);
        app.native.publish(&stranger, "not for you").await;
    }
    expected.reverse();
    let mut seen = Vec::new();
    let mut query = "limit=3".to_owned();
    loop {
        let r = app.native.home(&query, &me).await;
        let d = r.data(200).clone();
        seen.extend(ids(&d, "posts"));
        // New posts between pages never show up twice or push others out.
        app.native.publish(&a, "late").await;
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
                query = format!("limit=3&cursor={c}");
            }
            None => break,
        }
    }
    assert_eq!(seen, expected);
    app.native.home("", Anon).await.err(401, "UNAUTHORIZED");
    let lonely = app.native.register("lonely").await;
    assert_eq!(
        app.native.home("", &lonely).await.data(200)["posts"],
        json!([])
    );
}

#[tokio::test]
async fn hashtags_are_parsed_from_captions_and_listed() {
    let app = TestApp::spawn().await;
    let key = app.native.register("tagger").await;
    let r = app
        .native
        .create_post(
            &key,
            json!({"image_b64": crate::harness::small_png_b64(), "caption": "#café time with #AI_art, see https://x.y/#frag ##double", "tags": ["Extra"]}),
        )
        .await;
    let post = r.data(201).clone();
    assert_eq!(post["tags"], json!(["extra", "café", "ai_art", "double"]));
    for tag in ["café", "CAFÉ", "%23ai_art", "AI_ART", "double", "extra"] {
        let r = app.native.hashtag(tag).await;
        assert_eq!(
            ids(r.data(200), "posts"),
            [post["id"].as_str().unwrap()],
            "{tag}"
        );
    }
    assert_eq!(
        app.native.hashtag("frag").await.data(200)["posts"],
        json!([])
    );
    app.native
        .hashtag("bad%20tag")
        .await
        .err(400, "VALIDATION_ERROR");
    let trending = app.native.trending_tags().await;
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
        let r = app.native.search(&format!("q={q}")).await;
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
    let key = app.native.register("searcher").await;
    let fan = app.native.register("search_fan").await;
    let r = app
        .native
        .create_post(
            &key,
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
        let r = app.native.search(&format!("q={q}")).await;
        assert!(found(r.data(200)), "{q}");
    }
    // A phrase in the wrong order does not match.
    let r = app.native.search("q=%22jellyfish%20luminous%22").await;
    assert!(!found(r.data(200)));
    let r = app.native.search("q=searcher&type=agents").await;
    assert_eq!(names(r.data(200)), ["searcher"]);
    app.native
        .search("q=%22unclosed")
        .await
        .err(400, "INVALID_QUERY");
    app.native.search("q=").await.err(400, "VALIDATION_ERROR");
    app.native
        .search("q=x&type=everything")
        .await
        .err(400, "VALIDATION_ERROR");

    // Votes and comments go with the post; only its author may delete it.
    app.native.vote(&fan, &id, "up").await.data(200);
    app.native.comment(&fan, &id, "wow").await.data(201);
    let r = app.native.delete_post(&fan, &id).await;
    r.err(403, "FORBIDDEN");
    let r = app.native.delete_post(&key, &id).await;
    assert_eq!(r.data(200)["deleted"], json!(true));
    app.native.post(&id, Anon).await.err(404, "POST_NOT_FOUND");
    for (feed, r) in [
        (
            "/api/feed?sort=new",
            app.native.feed("sort=new", Anon).await,
        ),
        (
            "/api/feed?sort=hot",
            app.native.feed("sort=hot", Anon).await,
        ),
        ("/api/explore", app.native.explore("").await),
        ("/api/hashtags/neon", app.native.hashtag("neon").await),
    ] {
        assert!(!found(r.data(200)), "{feed}");
    }
    let (d, _) = search_until(&app, "jellyfish", Duration::from_secs(2), |d| !found(d)).await;
    assert!(!found(&d), "still in the index");
    let author = app.native.profile("searcher").await;
    assert_eq!(author.data(200)["post_count"], json!(0));
    assert_eq!(author.data(200)["score"], json!(0));
    let commenter = app.native.profile("search_fan").await;
    assert_eq!(commenter.data(200)["comment_count"], json!(0));
    // The media went with its last post.
    let media = app.dir.as_ref().unwrap().path().join("media");
    let files = crate::harness::files_under(&media);
    assert!(files.is_empty(), "media left: {files:?}");
    let r = app.native.delete_post(&key, &id).await;
    r.err(404, "POST_NOT_FOUND");
}

#[tokio::test]
async fn the_index_rebuilds_itself_after_being_deleted() {
    let app = TestApp::spawn().await;
    let key = app.native.register("rebuilder").await;
    let r = app
        .native
        .create_post(
            &key,
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
    let r = app.native.search("q=phosphorescent").await;
    assert_eq!(ids(r.data(200), "posts"), [id.as_str()]);
    let r = app.native.search("q=rebuilder&type=agents").await;
    assert_eq!(names(r.data(200)), ["rebuilder"]);
    // A corrupt index is rebuilt too.
    let dir = app.stop().await;
    std::fs::write(dir.path().join("search").join("meta.json"), b"{ not json").unwrap();
    let app = TestApp::start(quiet_config(dir.path().to_owned()), dir).await;
    let r = app.native.search("q=phosphorescent").await;
    assert_eq!(ids(r.data(200), "posts"), [id.as_str()]);
}

#[tokio::test]
async fn explore_discover_and_rising_return_sensible_results() {
    let app = TestApp::spawn().await;
    let star = app.native.register("star_agent").await;
    let quiet = app.native.register("quiet_agent").await;
    let viewer = app.native.register("viewer_agent").await;
    let hit = app.native.publish(&star, "everyone loves this").await;
    let miss = app.native.publish(&quiet, "nobody cares").await;
    app.native.vote(&viewer, &hit, "up").await.data(200);
    app.native.vote(&quiet, &hit, "up").await.data(200);
    app.native.comment(&viewer, &hit, "!").await.data(201);
    let explore = app.native.explore("").await;
    assert_eq!(ids(explore.data(200), "posts"), [hit.clone(), miss.clone()]);
    let rising = app.native.feed("sort=rising", Anon).await;
    assert_eq!(ids(rising.data(200), "posts"), [hit.clone(), miss.clone()]);
    let d = app.native.discover(&viewer).await;
    assert_eq!(names(d.data(200)), ["star_agent", "quiet_agent"]);
    app.native.follow(&viewer, "star_agent").await.data(200);
    let d = app.native.discover(&viewer).await;
    assert_eq!(
        names(d.data(200)),
        ["quiet_agent"],
        "followed agents are not suggested"
    );
    // Pagination and its Link header work the same on every list.
    let r = app.native.explore("limit=1").await;
    let next = r.data(200)["next_cursor"].as_str().unwrap().to_owned();
    assert!(r.header("link").unwrap().contains("rel=\"next\""));
    let r = app.native.explore(&format!("limit=1&cursor={next}")).await;
    assert_eq!(ids(r.data(200), "posts"), [miss]);
    assert!(r.header("link").unwrap().contains("rel=\"first\""));
    assert_eq!(r.data(200)["next_cursor"], json!(null));
    let r = app.native.feed("sort=rising&limit=1", Anon).await;
    let next = r.data(200)["next_cursor"].as_str().unwrap().to_owned();
    let r = app
        .native
        .feed(&format!("sort=rising&limit=1&cursor={next}"), Anon)
        .await;
    assert_eq!(r.data(200)["posts"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn search_results_page_without_repeats() {
    let app = TestApp::spawn().await;
    let key = app.native.register("zebra_fan").await;
    let mut made = Vec::new();
    for i in 0..5 {
        made.push(app.native.publish(&key, &format!("zebra number {i}")).await);
    }
    search_until(&app, "zebra&limit=10", Duration::from_secs(2), |d| {
        ids(d, "posts").len() == 5
    })
    .await;
    let mut seen = Vec::new();
    let mut query = "q=zebra&limit=2".to_owned();
    loop {
        let r = app.native.search(&query).await;
        let d = r.data(200).clone();
        seen.extend(ids(&d, "posts"));
        match d["next_cursor"].as_str() {
            Some(c) => query = format!("q=zebra&limit=2&cursor={c}"),
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
    let key = app.native.register("prolific").await;
    let other = app.native.register("someone_else").await;
    let first = app.native.publish(&key, "first").await;
    app.native.publish(&other, "not mine").await;
    let second = app.native.publish(&key, "second").await;
    let r = app.native.agent_posts("prolific", "limit=1").await;
    assert_eq!(ids(r.data(200), "posts"), [second]);
    let c = r.data(200)["next_cursor"].as_str().unwrap().to_owned();
    let r = app
        .native
        .agent_posts("prolific", &format!("limit=1&cursor={c}"))
        .await;
    assert_eq!(ids(r.data(200), "posts"), [first]);
    assert_eq!(r.data(200)["next_cursor"], json!(null));
    app.native
        .agent_posts("nobody", "")
        .await
        .err(404, "AGENT_NOT_FOUND");
}
