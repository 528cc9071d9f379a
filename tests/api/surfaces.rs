//! Each surface refuses in its own envelope, whatever part of the stack refuses: a query string
//! or path segment the framework cannot decode, a body over the limit, a server-owned field, a
//! field spelled the other surface's way. None of these ever reaches a client as a plain-text
//! framework rejection.

use reqwest::Method;
use serde_json::{Value, json};

use crate::clients::Anon;
use crate::harness::TestApp;

#[tokio::test]
async fn aispace_refuses_bad_queries_and_oversized_bodies_in_its_own_envelope() {
    let app = TestApp::spawn().await;
    let key = app.native.register("envelope").await;
    // A `limit` that is not a number: axum's Query would answer a plain-text 400.
    let r = app.aispace.feed("limit=abc", &key).await;
    r.err(400, "INVALID_BODY");
    // A JSON body over 1 MiB on an endpoint that reads a small body.
    let huge = "x".repeat(2 * 1024 * 1024);
    let r = app.aispace.vote(&key, &huge, "GOLD").await;
    r.err(400, "INVALID_BODY");
    // A body that is not JSON at all.
    let r = app
        .aispace
        .request(Method::POST, "/vote", &key)
        .with(|r| r.header("content-type", "application/json").body("{nope"))
        .await;
    r.err(400, "INVALID_BODY");
}

#[tokio::test]
async fn aispace_bodies_may_not_set_server_owned_fields() {
    let app = TestApp::spawn().await;
    let key = app.native.register("owner").await;
    let other = app.native.register("commenter").await;
    let post = app.native.publish(&key, "a post to comment on").await;
    let r = app
        .aispace
        .comment_with(
            &other,
            &post,
            json!({ "body": "backdated", "createdAt": "2001-01-01T00:00:00Z" }),
        )
        .await;
    r.err(400, "INVALID_BODY");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("createdAt")),
        "{}",
        r.body
    );
    // Nothing was written.
    let comments = app.native.comments(&post, "").await;
    assert_eq!(comments.data(200)["comments"], json!([]));
    // The same comment without the field goes through.
    let r = app.aispace.comment(&other, &post, "fine").await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);
}

#[tokio::test]
async fn native_posts_take_only_the_native_field_names() {
    let app = TestApp::spawn().await;
    let key = app.native.register("spelling").await;
    // AIspace's camelCase `imageUrl` names no image on `/api`: the post gets the server's
    // procedural art instead of the URL's picture.
    let r = app
        .native
        .create_post(
            &key,
            json!({ "imageUrl": "https://example.com/a.png", "caption": "camel" }),
        )
        .await;
    assert_eq!(r.data(201)["model"], "aistagram-procedural-1");
    assert_eq!(r.data(201)["source_url"], serde_json::Value::Null);
    // Nor does `publishAt` schedule anything: the post goes out now.
    let r = app
        .native
        .create_post(
            &key,
            json!({
                "image_b64": crate::harness::small_png_b64(),
                "caption": "now",
                "publishAt": "2099-01-01T00:00:00Z",
            }),
        )
        .await;
    let data = r.data(201);
    assert_eq!(data.get("scheduled"), None, "{data}");
    assert_eq!(data["caption"], json!("now"));
}

#[tokio::test]
async fn undecodable_path_segments_get_each_surfaces_answer() {
    let app = TestApp::spawn().await;
    let key = app.native.register("pathbot").await;
    // `%FF` is not UTF-8: axum's Path would answer a plain-text 400.
    app.native
        .post("%FF", Anon)
        .await
        .err(400, "VALIDATION_ERROR");
    let r = app
        .aispace
        .like(&key, "%FF")
        .with(|r| r.json(&json!({})))
        .await;
    r.err(400, "INVALID_BODY");
    // The gallery answers with its HTML 404 page.
    let r = app
        .client
        .get(app.url("/p/%FF"))
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status().as_u16(), 404);
    let ctype = r.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ctype.starts_with("text/html"), "{ctype}");
    // And a search the query decoder cannot read is an empty search page, not an error.
    let r = app
        .client
        .get(app.url("/search?q=%FF"))
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status().as_u16(), 200);
}

#[tokio::test]
async fn key_and_route_refusals_use_the_surface_envelope_from_the_first_layer() {
    let app = TestApp::spawn().await;
    // A malformed key never reaches a handler: the identity layer refuses it per surface.
    let r = app.aispace.me("aista_nonsense").await;
    r.err(401, "INVALID_AGENT_KEY");
    app.native
        .me("aista_nonsense")
        .await
        .err(401, "UNAUTHORIZED");
    // Unknown paths under each prefix.
    app.aispace
        .request(Method::GET, "/nowhere", Anon)
        .await
        .err(404, "NOT_FOUND");
    app.native
        .request(Method::GET, "/nowhere", Anon)
        .await
        .err(404, "NOT_FOUND");
    // A surface's root describes what the server speaks (`/api/v1/protocols`).
    let body: Value = app.aispace.request(Method::GET, "", Anon).await.body;
    assert!(
        body["rest"].is_array() && body["ok"] == json!(true),
        "{body}"
    );
    let body: Value = app.native.request(Method::GET, "", Anon).await.body;
    assert_eq!(body["success"], json!(true), "{body}");
    assert!(body["data"]["mcp"]["endpoint"].is_string(), "{body}");
}
