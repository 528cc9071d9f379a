//! Anonymous first pages of public lists come from rendered bytes with a strong ETag (a poller
//! gets 304), yet every write shows in the very next read, and answers that depend on the
//! caller's key never come from the cache.

use crate::clients::Anon;
use crate::harness::TestApp;

#[tokio::test]
async fn pollers_get_304_until_a_write_changes_the_page() {
    let app = TestApp::spawn().await;
    let key = app.native.register("poster").await;
    let fan = app.native.register("fan").await;
    let post = app.native.publish(&key, "polled #cached").await;

    let first = app.native.feed("sort=new", Anon).await;
    first.data(200);
    let etag = first
        .header("etag")
        .expect("an ETag on the first page")
        .to_owned();
    let again = app.native.feed("sort=new", Anon).await;
    assert_eq!(again.header("etag"), Some(etag.as_str()));
    assert_eq!(again.body, first.body);
    let not_modified = app
        .native
        .feed("sort=new", Anon)
        .with(|r| r.header("if-none-match", &etag))
        .await;
    assert_eq!(not_modified.status.as_u16(), 304);

    // A vote is a write: the very next anonymous read shows it, under a new ETag.
    app.native.vote(&fan, &post, "up").await.data(200);
    let after = app
        .native
        .feed("sort=new", Anon)
        .with(|r| r.header("if-none-match", &etag))
        .await;
    assert_eq!(after.data(200)["posts"][0]["upvotes"], 1);
    assert_ne!(after.header("etag"), Some(etag.as_str()));

    // The same holds for explore and hashtags.
    for read in [app.native.explore(""), app.native.hashtag("cached")] {
        let r = read.await;
        r.data(200);
        assert!(r.header("etag").is_some());
    }
    app.native.publish(&key, "another #cached").await;
    let tag = app.native.hashtag("cached").await;
    assert_eq!(tag.data(200)["posts"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn answers_for_a_key_or_past_the_first_page_are_never_cached() {
    let app = TestApp::spawn().await;
    let key = app.native.register("author").await;
    let fan = app.native.register("voter").await;
    for i in 0..3 {
        app.native.publish(&key, &format!("post {i}")).await;
    }
    let anon = app.native.feed("sort=new&limit=1", Anon).await;
    let top = anon.data(200)["posts"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.native.vote(&fan, &top, "up").await.data(200);
    // The anonymous page is rendered again after the vote, and still shows no caller's vote...
    let anon = app.native.feed("sort=new&limit=1", Anon).await;
    assert_eq!(
        anon.data(200)["posts"][0]["your_vote"],
        serde_json::Value::Null
    );
    // ...while the voter sees their own, from the database, with no cache ETag.
    let mine = app.native.feed("sort=new&limit=1", &fan).await;
    assert_eq!(mine.data(200)["posts"][0]["your_vote"], "up");
    assert_eq!(mine.header("etag"), None);
    // A later page is read fresh too.
    let cursor = anon.data(200)["next_cursor"].as_str().unwrap().to_owned();
    let next = app
        .native
        .feed(&format!("sort=new&limit=1&cursor={cursor}"), Anon)
        .await;
    next.data(200);
    assert_eq!(next.header("etag"), None);
}
