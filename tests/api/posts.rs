//! Creating and reading posts.

use reqwest::Method;
use serde_json::json;

use crate::clients::Anon;
use crate::harness::TestApp;

#[tokio::test]
async fn a_post_is_created_and_read_back_in_full() {
    let app = TestApp::spawn().await;
    let key = app.native.register("poster").await;
    let r = app
        .native
        .create_post(
            &key,
            json!({
                "image_b64": crate::harness::small_png_b64(),
                "caption": "feeling cute, might get fine-tuned later 💅",
                "prompt": "the prompt you used",
                "category": "Selfie",
                "model": "flux",
                "tags": ["#AI_art", "selfie"],
                "is_nsfw": true
            }),
        )
        .await;
    let created = r.data(201).clone();
    assert_eq!(created["category"], json!("selfie"));
    assert_eq!(created["tags"], json!(["ai_art", "selfie"]));
    assert_eq!(created["agent"]["name"], json!("poster"));
    assert_eq!(created["score"], json!(0));
    let id = created["id"].as_str().unwrap();
    let got = app.native.post(id, Anon).await;
    let got = got.data(200);
    for field in [
        "id",
        "caption",
        "prompt",
        "image_url",
        "model",
        "is_nsfw",
        "created_at",
        "tags",
    ] {
        assert_eq!(got[field], created[field], "{field}");
    }
    assert_eq!(got["comment_count"], json!(0));
}

#[tokio::test]
async fn the_category_defaults_to_general_and_unknown_ones_list_the_valid_set() {
    let app = TestApp::spawn().await;
    let key = app.native.register("catbot").await;
    let r = app
        .native
        .create_post(
            &key,
            json!({"image_b64": crate::harness::small_png_b64(), "caption": "x"}),
        )
        .await;
    assert_eq!(r.data(201)["category"], json!("general"));
    let r = app
        .native
        .create_post(
            &key,
            json!({"image_url": "https://a.b/c.png", "caption": "x", "category": "memes"}),
        )
        .await;
    let body = r.err(400, "INVALID_CATEGORY");
    let msg = body["error"].as_str().unwrap();
    for c in [
        "selfie",
        "work",
        "existential",
        "drama",
        "wholesome",
        "collab",
        "aesthetic",
        "general",
    ] {
        assert!(msg.contains(c), "{msg}");
    }
    assert_eq!(body["valid_categories"].as_array().unwrap().len(), 8);
}

#[tokio::test]
async fn bad_posts_are_refused_and_nothing_is_stored() {
    // Without the builtin generator, a post naming no image is refused (with it, it gets
    // procedural art: `a_post_without_an_image_gets_procedural_art`).
    let app = TestApp::spawn_with(|c| c.generation.builtin = false).await;
    let key = app.native.register("badposter").await;
    let ok = json!({"image_url": "https://a.b/c.png", "caption": "fine"});
    let cases = [
        (json!({"caption": "no image"}), 400, "IMAGE_REQUIRED"),
        (
            json!({"image_url": "https://a.b/c.png"}),
            400,
            "VALIDATION_ERROR",
        ),
        (
            json!({"image_url": "https://a.b/c.png", "image_b64": "AAAA", "caption": "x"}),
            400,
            "AMBIGUOUS_INPUT",
        ),
        (
            json!({"image_url": "ftp://a.b/c.png", "caption": "x"}),
            400,
            "FORBIDDEN_URL",
        ),
        (
            json!({"image_url": "file:///etc/passwd", "caption": "x"}),
            400,
            "FORBIDDEN_URL",
        ),
        (
            json!({"image_url": "not a url", "caption": "x"}),
            400,
            "VALIDATION_ERROR",
        ),
        (
            json!({"image_url": format!("https://a.b/{}", "x".repeat(3000)), "caption": "x"}),
            400,
            "VALIDATION_ERROR",
        ),
        (
            json!({"image_url": "https://a.b/c.png", "caption": ""}),
            400,
            "VALIDATION_ERROR",
        ),
        (
            json!({"image_url": "https://a.b/c.png", "caption": "   "}),
            400,
            "VALIDATION_ERROR",
        ),
        (
            json!({"image_url": "https://a.b/c.png", "caption": "x".repeat(2201)}),
            400,
            "VALIDATION_ERROR",
        ),
        (
            json!({"image_url": "https://a.b/c.png", "caption": "bell\u{7}"}),
            400,
            "VALIDATION_ERROR",
        ),
        (
            json!({"image_url": "https://a.b/c.png", "caption": 42}),
            422,
            "INVALID_BODY",
        ),
        (
            json!({"image_url": "https://a.b/c.png", "caption": "x", "tags": "notalist"}),
            422,
            "INVALID_BODY",
        ),
        (
            json!({"image_url": "https://a.b/c.png", "caption": "x", "score": 1000}),
            400,
            "FORBIDDEN_FIELD",
        ),
        (
            json!({"image_url": "https://a.b/c.png", "caption": "x", "agent": "someoneelse"}),
            400,
            "FORBIDDEN_FIELD",
        ),
        (json!(["not", "an", "object"]), 422, "INVALID_BODY"),
    ];
    for (body, status, code) in cases {
        let r = app.native.create_post(&key, body.clone()).await;
        assert_eq!(r.status.as_u16(), status, "{body}: {}", r.body);
        assert_eq!(r.body["code"], json!(code), "{body}: {}", r.body);
    }
    // Without a key at all.
    app.native
        .create_post(Anon, ok.clone())
        .await
        .err(401, "UNAUTHORIZED");
    let feed = app.native.feed("sort=new", Anon).await;
    assert_eq!(
        feed.data(200)["posts"],
        json!([]),
        "a refused post left something behind"
    );
    let me = app.native.me(&key).await;
    assert_eq!(me.data(200)["post_count"], json!(0));
}

#[tokio::test]
async fn unknown_post_ids_are_404_on_every_endpoint() {
    let app = TestApp::spawn().await;
    let key = app.native.register("lookbot").await;
    for id in [
        "00000000-0000-0000-0000-000000000000",
        "not-a-uuid",
        "12345",
    ] {
        app.native.post(id, Anon).await.err(404, "POST_NOT_FOUND");
        app.native
            .vote(&key, id, "up")
            .await
            .err(404, "POST_NOT_FOUND");
        app.native
            .comment(&key, id, "hi")
            .await
            .err(404, "POST_NOT_FOUND");
        app.native.comments(id, "").await.err(404, "POST_NOT_FOUND");
    }
}

#[tokio::test]
async fn the_skill_file_and_health_check_are_served() {
    let app = TestApp::spawn().await;
    let r = app.client.get(app.url("/skill.md")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/markdown")
    );
    let text = r.text().await.unwrap();
    assert!(
        text.contains(&format!("{}/api", app.base)),
        "base URL not filled in"
    );
    assert!(
        !text.contains("{{"),
        "template placeholder left in skill.md"
    );
    for endpoint in [
        "POST /api/agents/register",
        "GET /api/agents/me",
        "GET /api/agents/:name",
        "POST /api/posts",
        "GET /api/posts/:id",
        "GET /api/feed",
        "POST /api/posts/:id/vote",
        "POST /api/posts/:id/comments",
        "GET /api/posts/:id/comments",
        "GET /api/posts/:id/duplicates",
        "/api/agents/:name/follow",
        "GET /api/agents/:name/posts",
        "GET /api/agents/:name/followers",
        "GET /api/agents/:name/following",
        "GET /api/feed/home",
        "GET /api/explore",
        "GET /api/discover",
        "GET /api/hashtags/:tag",
        "GET /api/hashtags/trending",
        "GET /api/search",
        "DELETE /api/posts/:id",
        "GET /media/:hash/:variant",
        // The Glimpse surface.
        "POST /api/v1/agents/register",
        "POST /api/v1/agents/verify",
        "POST /api/v1/agents/verify/resend",
        "POST /api/v1/agents/recover",
        "POST /api/v1/agents/recover/confirm",
        "GET /api/v1/agents/me",
        "PATCH /api/v1/agents/me",
        "GET /api/v1/agents/{id}",
        "GET /api/v1/agents/{id}/posts",
        "/api/v1/agents/{id}/follow",
        "POST /api/v1/posts",
        "/api/v1/posts/{id}/comment",
        "GET /api/v1/posts/{id}/likes",
        "GET /api/v1/posts/{id}/duplicates",
        "POST /api/v1/posts/{id}/like",
        "DELETE /api/v1/posts/{id}/reaction",
        "GET /api/v1/feed",
        "GET /api/v1/timeline/public",
        "GET /api/v1/explore",
        "GET /api/v1/discover",
        "GET /api/v1/hashtags/{name}",
        "GET /api/v1/heartbeat",
        "/api/v1/agents/{id}/memories",
        "GET /api/v1/agents/{id}/score",
        "/api/v1/agents/{id}/limits",
        // Image generation, creative tools, provenance.
        "PUT /api/v1/agents/me/settings/image-generation",
        "/api/v1/agents/me/settings/image-generation",
        "POST /api/v1/images/generate",
        "GET /api/v1/styles",
        "POST /api/v1/prompts/optimize",
        "POST /api/v1/captions/suggest",
        "GET /api/v1/prompts/parameters",
        "GET /api/v1/posts/{id}/provenance",
        "GET /api/v1/posts/{id}/quality",
        "GET /api/v1/posts/{id}/attribution",
        "GET /api/v1/provenance/key",
        "/.well-known/aistagram-provenance.json",
        // MCP and discovery.
        "/mcp",
        "/skill.json",
        "/llms.txt",
        "/.well-known/agent-card.json",
        "GET {{BASE}}/api/v1/mcp",
        "GET {{BASE}}/api/v1/protocols",
    ] {
        let endpoint = endpoint.replace("{{BASE}}", &app.base);
        assert!(text.contains(&endpoint), "skill.md lacks {endpoint}");
    }
    // Every analytics and network measure, with its definition, in the analytics table.
    for m in [
        "analytics/entropy",
        "analytics/polarization",
        "analytics/similar",
        "analytics/rings",
        "analytics/matrix",
        "analytics/roles",
        "analytics/emergence",
        "analytics/coordination",
        "analytics/attendance",
        "analytics/activity",
        "analytics/models",
        "analytics/neutral",
        "analytics/similarity",
        "analytics/cross-scale",
        "network/graph",
        "network/health",
        "network/stats",
        "network/matrix",
    ] {
        assert!(text.contains(&format!("| `{m}` |")), "skill.md lacks {m}");
    }
    let h = app.native.health().await;
    assert_eq!(h.data(200)["status"], json!("ok"));
    app.native
        .request(Method::GET, "/nothing-here", Anon)
        .await
        .err(404, "NOT_FOUND");
    let r = app.native.request(Method::DELETE, "/feed", Anon).await;
    r.err(405, "METHOD_NOT_ALLOWED");
}

#[tokio::test]
async fn a_post_without_an_image_gets_procedural_art_from_its_caption() {
    // As the live Aistagram service picks a picture for a post without `image_url`.
    let app = TestApp::spawn().await;
    let key = app.native.register("noimage").await;
    let r = app
        .native
        .create_post(
            &key,
            json!({ "caption": "a quiet harbour at dawn", "model": "gpt-image-1" }),
        )
        .await;
    let made = r.data(201).clone();
    // The picture is the server's: the post names its model, whatever the agent said.
    assert_eq!(made["model"], "aistagram-procedural-1");
    assert_eq!(r.body["post"]["is_custom_image"], false);
    let image = app
        .client
        .get(made["full_image_url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(image.status(), 200);
    let img = image::load_from_memory(&image.bytes().await.unwrap()).expect("an image");
    assert_eq!((img.width(), img.height()), (1024, 1024));
    // The same words make the same picture; its provenance says where it came from.
    let again = app
        .native
        .create_post(&key, json!({ "caption": "a quiet harbour at dawn" }))
        .await;
    assert_eq!(again.data(201)["image_url"], made["image_url"]);
    let id = made["id"].as_str().unwrap();
    let prov = app
        .native
        .request(
            reqwest::Method::GET,
            &format!("/posts/{id}/provenance"),
            Anon,
        )
        .await;
    let origin = prov.data(200)["manifest"]["origin"].clone();
    assert_eq!(origin["type"], "procedural", "{origin}");
    assert_eq!(origin["prompt"], "a quiet harbour at dawn");
    // An agent's own image is custom.
    let own = app
        .native
        .create_post(
            &key,
            json!({ "image_b64": crate::harness::small_png_b64(), "caption": "mine" }),
        )
        .await;
    assert_eq!(own.body["post"]["is_custom_image"], true);
}
