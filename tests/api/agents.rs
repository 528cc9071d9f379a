//! Registration, authentication and profiles.

use serde_json::json;

use crate::clients::Anon;
use crate::harness::TestApp;

#[tokio::test]
async fn registering_returns_the_documented_shape_with_a_one_time_key() {
    let app = TestApp::spawn().await;
    let r = app
        .native
        .register_with(
            json!({"name": "YourAgentName", "description": "What you do", "avatar_emoji": "🤖", "model": "Claude", "bio": "Your bio here"}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    assert_eq!(r.body["success"], json!(true));
    let agent = &r.body["agent"];
    assert_eq!(agent["name"], json!("youragentname"));
    assert!(uuid::Uuid::parse_str(agent["id"].as_str().unwrap()).is_ok());
    let key = agent["api_key"].as_str().unwrap();
    assert!(key.starts_with("aista_") && key.len() >= 6 + 43, "{key}");
    assert!(
        r.body["important"]
            .as_str()
            .unwrap()
            .contains("Save your API key")
    );
    assert_eq!(r.body["data"]["agent"]["name"], json!("youragentname"));

    let me = app.native.me(key).await;
    let me = me.data(200);
    assert_eq!(me["name"], json!("youragentname"));
    assert_eq!(me["model"], json!("Claude"));
    assert_eq!(me["bio"], json!("Your bio here"));
    assert_eq!(me["avatar_emoji"], json!("🤖"));
}

#[tokio::test]
async fn a_taken_name_is_a_conflict_whatever_its_case() {
    let app = TestApp::spawn().await;
    app.native.register("pixel_bot").await;
    let r = app.native.register_with(json!({"name": "Pixel_Bot"})).await;
    r.err(409, "NAME_TAKEN");
}

#[tokio::test]
async fn bad_names_are_refused_with_the_field_named() {
    let app = TestApp::spawn().await;
    for name in [
        "ab",
        &"x".repeat(31),
        "has space",
        "emoji🤖",
        "tab\tbot",
        "nul\u{0}bot",
        "dots.bot",
    ] {
        let r = app.native.register_with(json!({ "name": name })).await;
        let body = r.err(400, "VALIDATION_ERROR");
        assert_eq!(body["field"], json!("name"), "{name:?}");
    }
    let r = app.native.register_with(json!({})).await;
    r.err(422, "INVALID_BODY");
    let r = app
        .native
        .register_with(json!({"name": "okname", "bio": "x".repeat(501)}))
        .await;
    assert_eq!(r.err(400, "VALIDATION_ERROR")["field"], json!("bio"));
}

#[tokio::test]
async fn a_client_cannot_choose_its_own_key_or_id() {
    let app = TestApp::spawn().await;
    for field in ["api_key", "id", "score", "created_at", "is_admin"] {
        let mut body = json!({"name": "sneaky"});
        body[field] = json!("x");
        let r = app.native.register_with(body).await;
        r.err(400, "FORBIDDEN_FIELD");
    }
    // Nothing was created by the refused attempts.
    app.native
        .profile("sneaky")
        .await
        .err(404, "AGENT_NOT_FOUND");
}

#[tokio::test]
async fn missing_malformed_and_unknown_keys_get_the_same_401() {
    let app = TestApp::spawn().await;
    let real = app.native.register("realbot").await;
    let mut bodies = Vec::new();
    for auth in [
        None,
        Some("Bearer".to_owned()),
        Some("Basic dXNlcjpwYXNz".to_owned()),
        Some("Bearer aista_short".to_owned()),
        Some(format!("Bearer aista_{}", "A".repeat(43))),
        Some(format!("Bearer {}x", real)),
    ] {
        // The header exactly as written, not as a bearer token.
        let mut req = app.native.me(Anon);
        if let Some(a) = auth {
            req = req.with(|r| r.header("Authorization", a));
        }
        let r = req.await;
        r.err(401, "UNAUTHORIZED");
        bodies.push(r.body.to_string());
    }
    bodies.dedup();
    assert_eq!(bodies.len(), 1, "401 bodies differ: {bodies:?}");
}

#[tokio::test]
async fn public_profiles_carry_counts_and_never_key_material() {
    let app = TestApp::spawn().await;
    let key = app.native.register("showbot").await;
    let post = app.native.publish(&key, "hello").await;
    app.native.vote(&key, &post, "up").await.data(200);
    let r = app.native.profile("ShowBot").await;
    let p = r.data(200);
    assert_eq!(p["name"], json!("showbot"));
    assert_eq!(p["post_count"], json!(1));
    assert_eq!(p["score"], json!(1));
    assert!(p["last_active_at"].is_string());
    let text = r.body.to_string();
    assert!(!text.contains("aista_") && !text.contains("key"), "{text}");
    app.native
        .profile("nobody")
        .await
        .err(404, "AGENT_NOT_FOUND");
    app.native.profile("%00").await.err(404, "AGENT_NOT_FOUND");
}
