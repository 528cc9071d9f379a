//! Image generation on `/api/v1`: the agent's stored provider credentials, which go in once and
//! never come out (not in answers, not in the clear on disk).

use reqwest::Method;
use serde_json::json;

use crate::clients::Anon;
use crate::harness::TestApp;

const PATH: &str = "/agents/me/settings/image-generation";

#[tokio::test]
async fn a_stored_provider_key_is_sealed_shown_by_its_last_four_and_removable() {
    let app = TestApp::spawn().await;
    let g = &app.glimpse;
    let key = g.register("byok").await;
    let secret = "hf_SuperSecretToken0123WXYZ";

    let none = g.request(Method::GET, PATH, &key).await;
    assert_eq!(
        none.ok(200).clone(),
        json!({"configured": false, "provider": null, "model": null, "key_last4": null, "updated_at": null})
    );
    let put = |body: serde_json::Value| g.request(Method::PUT, PATH, &key).with(|r| r.json(&body));
    let set = put(json!({"provider": "huggingface", "api_key": secret})).await;
    let body = set.ok(200).clone();
    assert_eq!(body["configured"], true);
    assert_eq!(body["provider"], "huggingface");
    assert_eq!(body["key_last4"], "WXYZ");
    assert_eq!(body["model"], json!(null));
    assert!(body["updated_at"].as_str().unwrap().ends_with('Z'));
    assert!(!set.body.to_string().contains("SuperSecret"));

    let got = g.request(Method::GET, PATH, &key).await;
    assert_eq!(got.ok(200).clone(), body);
    assert!(!got.body.to_string().contains("SuperSecret"));

    // Replacing: another provider, with a model override; the name is case-insensitive.
    let set = put(json!({"provider": "OpenAI", "api_key": "sk-proj-another-key-9876", "model": "gpt-image-1"})).await;
    let body = set.ok(200);
    assert_eq!(
        (
            body["provider"].clone(),
            body["model"].clone(),
            body["key_last4"].clone()
        ),
        (json!("openai"), json!("gpt-image-1"), json!("9876"))
    );

    // Bad input: the field named, in Glimpse's envelope.
    let bad = put(json!({"provider": "midjourney", "api_key": secret})).await;
    let e = bad.err(400, "validation_error")["error"].clone();
    assert_eq!(e["field"], "provider");
    assert!(
        e["message"].as_str().unwrap().contains("huggingface"),
        "{e}"
    );
    put(json!({"provider": "fal"}))
        .await
        .err(400, "validation_error");
    put(json!({"provider": "fal", "api_key": "short"}))
        .await
        .err(400, "validation_error");
    put(json!({"provider": "fal", "api_key": secret, "model": "bad model!"}))
        .await
        .err(400, "validation_error");
    put(json!({"provider": "fal", "api_key": secret, "temperature": 2}))
        .await
        .err(400, "validation_error");
    // Other people's settings are not reachable, and none without a key.
    g.request(Method::GET, PATH, Anon)
        .await
        .err(401, "unauthorized");
    let other = g.register("other").await;
    let theirs = g.request(Method::GET, PATH, &other).await;
    assert_eq!(theirs.ok(200)["configured"], false);

    // The key is not on disk in the clear: the database file holds only the sealed bytes.
    let db = std::fs::read(app.dir.as_ref().unwrap().path().join("aistagram.redb")).unwrap();
    for needle in [&b"SuperSecret"[..], b"another-key"] {
        assert!(
            !db.windows(needle.len()).any(|w| w == needle),
            "a key is stored in the clear"
        );
    }

    let gone = g.request(Method::DELETE, PATH, &key).await;
    assert_eq!(gone.ok(200).clone(), json!({"deleted": true}));
    let again = g.request(Method::DELETE, PATH, &key).await;
    assert_eq!(again.ok(200).clone(), json!({"deleted": false}));
    let none = g.request(Method::GET, PATH, &key).await;
    assert_eq!(none.ok(200)["configured"], false);
}

#[tokio::test]
async fn settings_changes_are_limited_to_ten_a_minute_by_default() {
    // The configured defaults, with limits on (the harness switches them off).
    let app = TestApp::spawn_with(|c| c.limits.enabled = true).await;
    let g = &app.glimpse;
    let key = g.register("fiddler").await;
    let body = json!({"provider": "stability", "api_key": "sk-stability-0000"});
    for i in 0..10 {
        let r = g
            .request(Method::PUT, PATH, &key)
            .with(|r| r.json(&body))
            .await;
        assert_eq!(r.status.as_u16(), 200, "change {i}: {}", r.body);
    }
    let refused = g
        .request(Method::PUT, PATH, &key)
        .with(|r| r.json(&body))
        .await;
    let e = refused.err(429, "rate_limit_exceeded")["error"].clone();
    assert_eq!(e["limit"], 10);
    assert_eq!(e["used"], 10);
    // Reading is not a change, and a refused change left the settings as they were.
    let got = g.request(Method::GET, PATH, &key).await;
    assert_eq!(got.ok(200)["provider"], "stability");
}
