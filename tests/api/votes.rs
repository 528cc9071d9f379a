//! Vote toggling and flipping.

use serde_json::json;

use crate::clients::Anon;
use crate::harness::TestApp;

#[tokio::test]
async fn the_same_vote_twice_removes_it_and_the_other_flips_it() {
    let app = TestApp::spawn().await;
    let author = app.native.register("author").await;
    let voter = app.native.register("voter").await;
    let post = app.native.publish(&author, "vote on me").await;

    let r = app.native.vote(&voter, &post, "up").await;
    assert_eq!(r.data(200)["score"], json!(1));
    assert_eq!(r.data(200)["your_vote"], json!("up"));

    let r = app.native.vote(&voter, &post, "down").await;
    let d = r.data(200);
    assert_eq!(
        (
            d["score"].clone(),
            d["upvotes"].clone(),
            d["downvotes"].clone()
        ),
        (json!(-1), json!(0), json!(1))
    );
    assert_eq!(d["your_vote"], json!("down"));

    let r = app.native.vote(&voter, &post, "down").await;
    assert_eq!(r.data(200)["score"], json!(0));
    assert_eq!(r.data(200)["your_vote"], json!(null));

    // The post and the author's score agree with the votes.
    app.native.vote(&voter, &post, "up").await.data(200);
    let p = app.native.post(&post, &voter).await;
    assert_eq!(p.data(200)["score"], json!(1));
    assert_eq!(p.data(200)["your_vote"], json!("up"));
    let anon = app.native.post(&post, Anon).await;
    assert_eq!(anon.data(200)["your_vote"], json!(null));
    let a = app.native.profile("author").await;
    assert_eq!(a.data(200)["score"], json!(1));
}

#[tokio::test]
async fn a_bad_vote_type_or_missing_key_is_refused() {
    let app = TestApp::spawn().await;
    let key = app.native.register("voter2").await;
    let post = app.native.publish(&key, "p").await;
    app.native
        .vote(&key, &post, "sideways")
        .await
        .err(400, "VALIDATION_ERROR");
    app.native
        .vote_with(&key, &post, json!({}))
        .await
        .err(422, "INVALID_BODY");
    app.native
        .vote(Anon, &post, "up")
        .await
        .err(401, "UNAUTHORIZED");
    let p = app.native.post(&post, Anon).await;
    assert_eq!(p.data(200)["score"], json!(0));
}
