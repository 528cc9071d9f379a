//! The public feed: its four orders, limits, and cursor pagination under concurrent inserts.

use serde_json::{Value, json};

use crate::clients::Anon;
use crate::harness::TestApp;

fn ids(d: &Value) -> Vec<String> {
    d["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn each_sort_orders_posts_as_documented() {
    let app = TestApp::spawn().await;
    let author = app.native.register("feedauthor").await;
    let v1 = app.native.register("voter_one").await;
    let v2 = app.native.register("voter_two").await;
    let a = app.native.publish(&author, "a").await;
    let b = app.native.publish(&author, "b").await;
    let c = app.native.publish(&author, "c").await;
    let d = app.native.publish(&author, "d").await;
    app.native.vote(&v1, &b, "up").await.data(200);
    app.native.vote(&v2, &b, "up").await.data(200);
    app.native.vote(&v1, &a, "up").await.data(200);
    app.native.vote(&v1, &c, "down").await.data(200);
    for text in ["one", "two"] {
        app.native.comment(&v1, &c, text).await.data(201);
    }
    app.native.comment(&v2, &a, "x").await.data(201);

    let feed = |sort: &'static str| {
        let app = &app;
        async move {
            ids(app
                .native
                .feed(&format!("sort={sort}"), Anon)
                .await
                .data(200))
        }
    };
    assert_eq!(
        feed("new").await,
        [d.as_str(), c.as_str(), b.as_str(), a.as_str()]
    );
    assert_eq!(
        feed("top").await,
        [b.as_str(), a.as_str(), d.as_str(), c.as_str()]
    );
    // Score 2 is worth log10(2)·12.5 h of recency; ±1 counts as 0, so the rest is newest first.
    assert_eq!(
        feed("hot").await,
        [b.as_str(), d.as_str(), c.as_str(), a.as_str()]
    );
    assert_eq!(
        feed("discussed").await,
        [c.as_str(), a.as_str(), d.as_str(), b.as_str()]
    );
    // Default sort is hot; the day window holds all of these fresh posts.
    let default = app.native.feed("", Anon).await;
    assert_eq!(
        ids(default.data(200)),
        [b.as_str(), d.as_str(), c.as_str(), a.as_str()]
    );
    assert_eq!(default.data(200)["sort"], json!("hot"));
    let r = app.native.feed("sort=top&t=day", Anon).await;
    assert_eq!(
        ids(r.data(200)),
        [b.as_str(), a.as_str(), d.as_str(), c.as_str()]
    );
    // The caller's own votes show when a key is sent.
    let mine = app.native.feed("sort=new", &v1).await;
    let votes: Vec<Value> = mine.data(200)["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["your_vote"].clone())
        .collect();
    assert_eq!(
        votes,
        [json!(null), json!("down"), json!("up"), json!("up")]
    );
}

#[tokio::test]
async fn bad_feed_parameters_are_400s() {
    let app = TestApp::spawn().await;
    for (q, code) in [
        ("sort=best", "VALIDATION_ERROR"),
        ("limit=0", "VALIDATION_ERROR"),
        ("limit=101", "VALIDATION_ERROR"),
        ("limit=-5", "VALIDATION_ERROR"),
        ("limit=abc", "VALIDATION_ERROR"),
        ("sort=top&t=year", "VALIDATION_ERROR"),
        ("cursor=%%%", "INVALID_CURSOR"),
        ("cursor=AAAA", "INVALID_CURSOR"),
    ] {
        let r = app.native.feed(q, Anon).await;
        r.err(400, code);
    }
    // A cursor from one sort is refused by another.
    let key = app.native.register("cursorbot").await;
    for i in 0..3 {
        app.native.publish(&key, &format!("p{i}")).await;
    }
    let r = app.native.feed("sort=new&limit=1", Anon).await;
    let cursor = r.data(200)["next_cursor"].as_str().unwrap().to_owned();
    app.native
        .feed(&format!("sort=top&cursor={cursor}"), Anon)
        .await
        .err(400, "INVALID_CURSOR");
    let r = app.native.feed("limit=100", Anon).await;
    assert_eq!(r.data(200)["posts"].as_array().unwrap().len(), 3);
    assert_eq!(r.data(200)["next_cursor"], json!(null));
}

#[tokio::test]
async fn cursor_pages_have_no_duplicates_or_gaps_while_posts_arrive() {
    let app = TestApp::spawn().await;
    let key = app.native.register("pager").await;
    let voter = app.native.register("pagevoter").await;
    let mut original = Vec::new();
    for i in 0..25 {
        let id = app.native.publish(&key, &format!("post {i}")).await;
        if i % 3 == 0 {
            app.native.vote(&voter, &id, "up").await.data(200);
        }
        original.push(id);
    }
    for sort in ["new", "hot", "top", "discussed"] {
        let mut seen: Vec<String> = Vec::new();
        let mut cursor: Option<String> = None;
        let mut page = 0;
        loop {
            let mut query = format!("sort={sort}&limit=10");
            if let Some(c) = &cursor {
                query.push_str(&format!("&cursor={c}"));
            }
            let r = app.native.feed(&query, Anon).await;
            let d = r.data(200);
            seen.extend(ids(d));
            // New posts land between pages.
            for i in 0..3 {
                app.native
                    .publish(&key, &format!("late {sort} {page} {i}"))
                    .await;
            }
            page += 1;
            match d["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), seen.len(), "{sort}: duplicates");
        for id in &original {
            assert!(seen.contains(id), "{sort}: post {id} was skipped");
        }
    }
}
