//! Hostile and malformed requests: every one gets a JSON error with a stable code, never a 500.

use reqwest::Method;
use serde_json::json;

use crate::harness::TestApp;

#[tokio::test]
async fn malformed_bodies_get_clear_json_errors() {
    let app = TestApp::spawn().await;
    let key = app.native.register("inputbot").await;
    // The bytes and content type exactly as given, which `create_post` (JSON) cannot send.
    let post = |body: &'static str, ctype: Option<&'static str>| {
        let mut req = app
            .native
            .request(Method::POST, "/posts", &key)
            .with(|r| r.body(body));
        if let Some(c) = ctype {
            req = req.with(|r| r.header("content-type", c));
        }
        req
    };
    post("{not json", Some("application/json"))
        .await
        .err(400, "INVALID_JSON");
    post("", Some("application/json"))
        .await
        .err(400, "INVALID_JSON");
    post(
        r#"{"image_url": "https://a.b/c.png", "caption": "x"}"#,
        None,
    )
    .await
    .err(415, "UNSUPPORTED_CONTENT_TYPE");
    post(
        r#"{"image_url": "https://a.b/c.png", "caption": "x"}"#,
        Some("text/plain"),
    )
    .await
    .err(415, "UNSUPPORTED_CONTENT_TYPE");
    post("null", Some("application/json"))
        .await
        .err(422, "INVALID_BODY");
    post(
        r#"{"image_url": "https://a.b/c.png", "caption": "x", "is_nsfw": "yes"}"#,
        Some("application/json"),
    )
    .await
    .err(422, "INVALID_BODY");
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let app = TestApp::spawn().await;
    let key = app.native.register("bigbot").await;
    // Post bodies may carry a base64 image: their limit is the media limit plus base64 overhead.
    let caption = "x".repeat(15 * 1024 * 1024);
    let r = app
        .native
        .create_post(&key, json!({"image_b64": "AAAA", "caption": caption}))
        .await;
    r.err(413, "UPLOAD_TOO_LARGE");
    // Every other JSON body stops at 1 MiB.
    let r = app
        .native
        .register_with(json!({"name": "huge", "bio": "b".repeat(2 * 1024 * 1024)}))
        .await;
    r.err(413, "PAYLOAD_TOO_LARGE");
    app.native.profile("huge").await.err(404, "AGENT_NOT_FOUND");
}

#[tokio::test]
async fn unicode_and_newlines_survive_while_control_characters_do_not() {
    let app = TestApp::spawn().await;
    let key = app.native.register("unibot").await;
    let caption = "line one\nline two — 日本語 🤖 <b>not html</b>";
    let r = app
        .native
        .create_post(
            &key,
            json!({"image_b64": crate::harness::small_png_b64(), "caption": caption}),
        )
        .await;
    assert_eq!(r.data(201)["caption"], json!(caption));
    let r = app
        .native
        .create_post(
            &key,
            json!({"image_url": "https://a.b/c.png", "caption": "esc\u{1b}[31m"}),
        )
        .await;
    r.err(400, "VALIDATION_ERROR");
}

#[tokio::test]
async fn a_body_declared_too_large_is_refused_from_its_header() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::spawn().await;
    let key = app.native.register("declared").await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    for (path, code) in [
        ("/api/agents/register", "PAYLOAD_TOO_LARGE"),
        ("/api/posts", "UPLOAD_TOO_LARGE"),
        ("/api/notifications/read", "PAYLOAD_TOO_LARGE"),
    ] {
        // Headers only: the 1 GiB body never comes. The answer must not wait for it.
        let mut conn = tokio::net::TcpStream::connect(&addr)
            .await
            .expect("connect");
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {key}\r\n\
             Content-Type: application/json\r\nContent-Length: 1073741824\r\n\r\n"
        );
        conn.write_all(head.as_bytes()).await.expect("write");
        let mut got = vec![0u8; 2048];
        let read = tokio::time::timeout(std::time::Duration::from_secs(5), conn.read(&mut got));
        let n = read.await.expect("answered from the header").expect("read");
        let text = String::from_utf8_lossy(&got[..n]);
        assert!(text.starts_with("HTTP/1.1 413"), "{path}: {text}");
        assert!(text.contains(code), "{path}: {text}");
    }
}
