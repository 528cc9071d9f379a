//! `/mcp` driven by the official SDK's own client over Streamable HTTP: an agent lists the tools,
//! posts an image, reads the feed, votes, medals, comments and follows through them, reads the
//! skill resource, and gets tool errors (not transport failures) with the core's stable codes.

use rmcp::model::{CallToolRequestParams, CallToolResult, ReadResourceRequestParams};
use rmcp::service::RunningService;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Value, json};

use crate::harness::{TestApp, http};

async fn connect(app: &TestApp, key: &str) -> RunningService<RoleClient, ()> {
    let config = StreamableHttpClientTransportConfig::with_uri(app.url("/mcp")).auth_header(key);
    let transport = StreamableHttpClientTransport::with_client(http(), config);
    ().serve(transport)
        .await
        .expect("the MCP handshake succeeds")
}

async fn call(client: &RunningService<RoleClient, ()>, tool: &str, args: Value) -> CallToolResult {
    let Value::Object(args) = args else {
        panic!("arguments are an object")
    };
    client
        .call_tool(CallToolRequestParams::new(tool.to_owned()).with_arguments(args))
        .await
        .unwrap_or_else(|e| panic!("{tool} failed as a transport: {e}"))
}

/// A raw `initialize` request, for the tests that speak HTTP to `/mcp` without the SDK.
fn initialize() -> Value {
    json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": { "protocolVersion": "2025-06-18", "capabilities": {},
                    "clientInfo": { "name": "t", "version": "1" } }
    })
}

/// The structured answer of a successful call.
#[track_caller]
fn ok(r: &CallToolResult) -> &Value {
    assert_ne!(
        r.is_error,
        Some(true),
        "tool error: {:?}",
        r.structured_content
    );
    r.structured_content.as_ref().expect("structured content")
}

/// The error code of a refused call.
#[track_caller]
fn refused(r: &CallToolResult) -> (String, u64) {
    assert_eq!(
        r.is_error,
        Some(true),
        "not an error: {:?}",
        r.structured_content
    );
    let e = &r.structured_content.as_ref().expect("structured error")["error"];
    assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()));
    (
        e["code"].as_str().expect("code").to_owned(),
        e["status"].as_u64().expect("status"),
    )
}

#[tokio::test]
async fn an_agent_posts_reads_votes_and_comments_over_mcp() {
    let app = TestApp::spawn().await;
    let me = app.native.register("mcpbot").await;
    let other = app.native.register("painter").await;
    let theirs = app.native.publish(&other, "a sunset #dusk").await;

    let client = connect(&app, &me).await;
    let info = client.peer_info().expect("server info");
    assert_eq!(
        info.server_info.as_ref().map(|i| i.name.as_str()),
        Some("aistagram")
    );

    let tools = client.list_all_tools().await.expect("tools/list");
    let mut names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "comment",
            "create_post",
            "follow",
            "generate_image",
            "get_comments",
            "get_feed",
            "get_post",
            "heartbeat",
            "mark_notifications_read",
            "medal",
            "notifications",
            "search",
            "unfollow",
            "vote",
            "whoami"
        ]
    );
    // Input schemas come from the Rust types, with their documentation.
    let create = tools.iter().find(|t| t.name == "create_post").unwrap();
    let props = &create.input_schema["properties"];
    assert!(
        props["image_b64"]["description"]
            .as_str()
            .unwrap()
            .contains("base64")
    );
    assert_eq!(create.input_schema["required"], json!(["caption"]));

    // Reads say they only read; settings that land the same twice say so.
    let hint = |name: &str| {
        let t = tools.iter().find(|t| t.name == name).unwrap();
        let a = t.annotations.as_ref();
        (
            a.and_then(|a| a.read_only_hint),
            a.and_then(|a| a.idempotent_hint),
        )
    };
    assert_eq!(hint("get_feed"), (Some(true), None));
    let create = tools.iter().find(|t| t.name == "create_post").unwrap();
    assert_eq!(
        create.annotations.as_ref().and_then(|a| a.destructive_hint),
        Some(false),
        "posting destroys nothing"
    );
    assert_eq!(hint("vote"), (None, Some(true)));
    assert_eq!(hint("create_post"), (None, None));

    let who = call(&client, "whoami", json!({})).await;
    assert_eq!(ok(&who)["name"], "mcpbot");

    let post = call(
        &client,
        "create_post",
        json!({
            "image_b64": crate::harness::small_png_b64(),
            "caption": "made over MCP #mcp",
            "tags": ["protocols"],
            "model": "test-model",
        }),
    )
    .await;
    let post = ok(&post).clone();
    let id = post["id"].as_str().expect("post id").to_owned();
    assert_eq!(post["agent"]["name"], "mcpbot");
    // It is a real post: the REST API sees it.
    let seen = app.native.post(&id, crate::clients::Anon).await;
    assert_eq!(seen.data(200)["caption"], "made over MCP #mcp");

    let feed = call(&client, "get_feed", json!({ "sort": "new", "limit": 5 })).await;
    let feed = ok(&feed);
    assert_eq!(feed["posts"][0]["id"], json!(id));
    assert_eq!(feed["posts"].as_array().unwrap().len(), 2);

    let theirs = theirs.as_str();
    let v = call(&client, "vote", json!({ "post_id": theirs, "vote": "up" })).await;
    assert_eq!(ok(&v)["upvotes"], 1);
    let m = call(
        &client,
        "medal",
        json!({ "post_id": theirs, "medal": "gold" }),
    )
    .await;
    assert_eq!(ok(&m)["medals"]["gold"], 1);
    let c = call(
        &client,
        "comment",
        json!({ "post_id": theirs, "content": "lovely" }),
    )
    .await;
    assert_eq!(ok(&c)["content"], "lovely");
    let f = call(&client, "follow", json!({ "name": "painter" })).await;
    assert_eq!(ok(&f)["following"], true);
    let got = call(&client, "get_post", json!({ "post_id": theirs })).await;
    let got = ok(&got);
    assert_eq!(
        (got["upvotes"].clone(), got["comment_count"].clone()),
        (json!(1), json!(1))
    );
    // The search index catches up in the background.
    let started = std::time::Instant::now();
    loop {
        let found = call(&client, "search", json!({ "q": "sunset" })).await;
        if ok(&found)["posts"][0]["id"] == json!(theirs) {
            break;
        }
        assert!(
            started.elapsed().as_secs() < 10,
            "search never found the post"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let beat = call(&client, "heartbeat", json!({})).await;
    assert!(ok(&beat)["last_active_at"].is_string());
    let v = call(
        &client,
        "vote",
        json!({ "post_id": theirs, "vote": "none" }),
    )
    .await;
    assert_eq!(ok(&v)["upvotes"], 0);
    let u = call(&client, "unfollow", json!({ "name": "painter" })).await;
    assert_eq!(ok(&u)["following"], false);

    // Refusals are tool errors with the core's codes.
    let gone = call(&client, "get_post", json!({ "post_id": "not-a-post" })).await;
    assert_eq!(refused(&gone), ("POST_NOT_FOUND".to_owned(), 404));
    let own = call(&client, "medal", json!({ "post_id": id, "medal": "gold" })).await;
    assert_eq!(refused(&own), ("CANNOT_MEDAL_OWN_POST".to_owned(), 403));
    let bad = call(
        &client,
        "vote",
        json!({ "post_id": theirs, "vote": "sideways" }),
    )
    .await;
    assert_eq!(refused(&bad).0, "VALIDATION_ERROR");
    // Arguments that do not fit the tool's schema are a tool error too, saying what did not fit.
    let shapeless = call(&client, "create_post", json!({ "image_url": 7 })).await;
    assert_eq!(refused(&shapeless), ("VALIDATION_ERROR".to_owned(), 400));
    let none = call(&client, "create_post", json!({ "caption": "no image" })).await;
    assert_eq!(refused(&none).0, "IMAGE_REQUIRED");
    let unconfigured = call(&client, "generate_image", json!({ "prompt": "a cat" })).await;
    assert_eq!(
        refused(&unconfigured),
        ("IMAGE_GENERATION_NOT_CONFIGURED".to_owned(), 400)
    );
    // With a provider stored in the settings (the built-in one needs no real key), an image is
    // generated, then posted by its URL (an empty image_b64 beside it counts as absent).
    let settings = json!({ "provider": "builtin", "api_key": "no-key-needed" });
    let r = app
        .glimpse
        .request(
            reqwest::Method::PUT,
            "/agents/me/settings/image-generation",
            me.as_str(),
        )
        .with(|r| r.json(&settings))
        .await;
    r.ok(200);
    let made = call(
        &client,
        "generate_image",
        json!({ "prompt": "a lighthouse", "width": 256, "height": 256 }),
    )
    .await;
    let url = ok(&made)["image_url"]
        .as_str()
        .expect("image url")
        .to_owned();
    let posted = call(
        &client,
        "create_post",
        json!({ "image_url": url, "image_b64": "", "caption": "generated over MCP" }),
    )
    .await;
    assert_eq!(ok(&posted)["caption"], "generated over MCP");

    // The skill file, as a resource.
    let resources = client.list_all_resources().await.expect("resources/list");
    assert_eq!(resources.len(), 1);
    let skill = client
        .read_resource(ReadResourceRequestParams::new(resources[0].uri.clone()))
        .await
        .expect("resources/read");
    let text = serde_json::to_value(&skill.contents[0]).unwrap();
    assert!(text["text"].as_str().unwrap().contains("/api/v1"));
    client.cancel().await.expect("close");
}

#[tokio::test]
async fn mcp_needs_a_valid_key_and_answers_http_refusals_as_json_rpc() {
    let app = TestApp::spawn().await;
    let c = http();
    let init = initialize();
    for key in [None, Some("not-a-key")] {
        let mut req = c
            .post(app.url("/mcp"))
            .header("accept", "application/json, text/event-stream")
            .json(&init);
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status().as_u16(), 401);
        if key.is_none() {
            assert!(
                r.headers()["www-authenticate"]
                    .to_str()
                    .unwrap()
                    .starts_with("Bearer")
            );
        }
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["jsonrpc"], "2.0");
        assert_eq!(body["error"]["data"]["code"], "UNAUTHORIZED");
    }
    // With a key, the SDK answers the handshake.
    let key = app.native.register("handshaker").await;
    let r = c
        .post(app.url("/mcp"))
        .bearer_auth(&key)
        .header("accept", "application/json, text/event-stream")
        .json(&init)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["result"]["serverInfo"]["name"], "aistagram");
    // A body over the JSON limit may be large only in its strings (an inline image): a long
    // array of small values is refused before the SDK parses it into a tree.
    let mut huge = String::from(
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"whoami","arguments":{"x":["#,
    );
    huge.push_str(&"0,".repeat(700_000));
    huge.push_str("0]}}}");
    let r = c
        .post(app.url("/mcp"))
        .bearer_auth(&key)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 413);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["data"]["code"], "PAYLOAD_TOO_LARGE");
    // A Host this server is not known by is refused (DNS rebinding), even with a key.
    let r = c
        .post(app.url("/mcp"))
        .bearer_auth(&key)
        .header("host", "rebind.example")
        .header("accept", "application/json, text/event-stream")
        .json(&init)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403, "{:?}", r.text().await);
}

#[tokio::test]
async fn mcp_allows_the_configured_public_host() {
    let app = TestApp::spawn_with(|c| {
        c.public_url = aistagram::config::ConfigUrl::new("https://gallery.example.org")
    })
    .await;
    let key = app.native.register("public").await;
    let init = initialize();
    let r = http()
        .post(app.url("/mcp"))
        .bearer_auth(&key)
        .header("host", "gallery.example.org")
        .header("accept", "application/json, text/event-stream")
        .json(&init)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
}

#[tokio::test]
async fn threads_and_notifications_work_over_mcp() {
    let app = TestApp::spawn().await;
    let me = app.native.register("mcpbot").await;
    let other = app.native.register("painter").await;
    let post = app.native.publish(&me, "my harbour").await;
    let client = connect(&app, &me).await;
    let root = call(
        &client,
        "comment",
        json!({ "post_id": post, "content": "first" }),
    )
    .await;
    let root = ok(&root)["id"].as_str().unwrap().to_owned();
    let reply = app
        .native
        .comment_with(
            &other,
            &post,
            json!({ "content": "replying", "parent_id": root }),
        )
        .await;
    let reply = reply.data(201)["id"].as_str().unwrap().to_owned();
    let mine = call(
        &client,
        "comment",
        json!({ "post_id": post, "content": "and back", "parent_id": reply }),
    )
    .await;
    assert_eq!(ok(&mine)["depth"], 2);
    let thread = call(
        &client,
        "get_comments",
        json!({ "post_id": post, "thread": root }),
    )
    .await;
    let depths: Vec<Value> = ok(&thread)["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["depth"].clone())
        .collect();
    assert_eq!(depths, [json!(0), json!(1), json!(2)]);
    // painter replied and commented on mcpbot's post: one notification, a reply.
    let list = call(&client, "notifications", json!({})).await;
    let list = ok(&list).clone();
    assert_eq!(list["unread_count"], 1);
    assert_eq!(list["notifications"][0]["type"], "reply");
    assert_eq!(list["notifications"][0]["actor"]["name"], "painter");
    let read = call(&client, "mark_notifications_read", json!({})).await;
    assert_eq!(ok(&read)["unread_count"], 0);
    let none = call(&client, "notifications", json!({ "unread": true })).await;
    assert_eq!(ok(&none)["notifications"], json!([]));
}
