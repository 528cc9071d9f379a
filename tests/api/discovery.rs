//! The discovery documents agents and their tools read: `/skill.json`, `/llms.txt`, the A2A agent
//! card, and Glimpse's `/api/v1/mcp` and `/api/v1/protocols`: each parses, says what the server
//! really serves (the MCP tools as the running server lists them), and every URL in it answers.

use serde_json::Value;

use crate::harness::TestApp;

async fn get(app: &TestApp, path: &str) -> (u16, String, String) {
    let r = app.client.get(app.url(path)).send().await.unwrap();
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, ct, r.text().await.unwrap())
}

async fn json_doc(app: &TestApp, path: &str) -> Value {
    let (status, ct, body) = get(app, path).await;
    assert_eq!(status, 200, "{path}: {body}");
    assert!(ct.starts_with("application/json"), "{path}: {ct}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path} is not JSON: {e}"))
}

/// Every string in `v` that is a URL on this server.
fn urls(v: &Value, base: &str, out: &mut Vec<String>) {
    match v {
        Value::String(s) if s.starts_with(base) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| urls(x, base, out)),
        Value::Object(o) => o.values().for_each(|x| urls(x, base, out)),
        _ => {}
    }
}

/// Each URL answers: documents with 200, the MCP endpoint with its 401 for a caller without a
/// key, a webhook registration route with its 401 too.
async fn all_answer(app: &TestApp, doc: &Value) {
    let mut found = Vec::new();
    urls(doc, &app.base, &mut found);
    assert!(!found.is_empty());
    for url in found {
        let path = url[app.base.len()..].split('#').next().unwrap().to_owned();
        let (status, _, body) = get(app, &path).await;
        let expected = if path == "/mcp" || path == "/api/agent/webhooks" {
            401
        } else {
            200
        };
        assert_eq!(status, expected, "{url}: {body}");
    }
}

#[tokio::test]
async fn skill_json_names_a_version_and_where_everything_is() {
    let app = TestApp::spawn().await;
    let doc = json_doc(&app, "/skill.json").await;
    assert_eq!(doc["name"], "aistagram");
    let version = doc["version"].as_str().unwrap();
    let (pkg, digest) = version.split_once('+').expect("version+digest");
    assert_eq!(pkg, env!("CARGO_PKG_VERSION"));
    assert_eq!(digest.len(), 12);
    assert_eq!(doc["api_base"], format!("{}/api", app.base));
    all_answer(&app, &doc).await;
    // The same version everywhere it is given.
    let card = json_doc(&app, "/.well-known/agent-card.json").await;
    let mcp = json_doc(&app, "/api/v1/mcp").await;
    assert_eq!(card["version"], doc["version"]);
    assert_eq!(mcp["version"], doc["version"]);
}

#[tokio::test]
async fn the_a2a_card_is_complete_and_its_urls_answer() {
    let app = TestApp::spawn().await;
    let card = json_doc(&app, "/.well-known/agent-card.json").await;
    for field in [
        "protocolVersion",
        "name",
        "description",
        "url",
        "version",
        "preferredTransport",
    ] {
        assert!(
            card[field].as_str().is_some_and(|s| !s.is_empty()),
            "{field}: {card}"
        );
    }
    assert!(card["capabilities"].is_object());
    for modes in ["defaultInputModes", "defaultOutputModes"] {
        let m = card[modes].as_array().unwrap();
        assert!(
            !m.is_empty()
                && m.iter()
                    .all(|x| x.as_str().is_some_and(|s| s.contains('/')))
        );
    }
    let skills = card["skills"].as_array().unwrap();
    assert!(skills.len() >= 4);
    for s in skills {
        for field in ["id", "name", "description"] {
            assert!(s[field].as_str().is_some_and(|x| !x.is_empty()), "{s}");
        }
        assert!(s["tags"].as_array().is_some_and(|t| !t.is_empty()), "{s}");
    }
    assert_eq!(card["securitySchemes"]["bearer"]["scheme"], "bearer");
    all_answer(&app, &card).await;
}

#[tokio::test]
async fn mcp_metadata_lists_the_running_servers_tools() {
    let app = TestApp::spawn().await;
    let doc = json_doc(&app, "/api/v1/mcp").await;
    assert_eq!(doc["endpoint"], format!("{}/mcp", app.base));
    assert_eq!(doc["transport"], "streamable-http");
    assert_eq!(doc["auth"]["type"], "bearer");
    let mut names: Vec<&str> = doc["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    let mut served: Vec<String> = aistagram::http::mcp::Server::tools()
        .into_iter()
        .map(|t| t.name.into_owned())
        .collect();
    served.sort_unstable();
    assert_eq!(names, served);
    assert_eq!(names.len(), 15);
    for t in doc["tools"].as_array().unwrap() {
        assert!(t["description"].as_str().is_some_and(|d| !d.is_empty()));
        assert_eq!(t["input_schema"]["type"], "object");
    }
    all_answer(&app, &doc).await;
}

#[tokio::test]
async fn protocols_and_llms_txt_point_at_what_is_served() {
    let app = TestApp::spawn().await;
    let p = json_doc(&app, "/api/v1/protocols").await;
    let rest: Vec<&str> = p["rest"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["base_url"].as_str().unwrap())
        .collect();
    assert_eq!(
        rest,
        [
            format!("{}/api", app.base),
            format!("{}/api/v1", app.base),
            format!("{}/api/agent", app.base)
        ]
    );
    assert!(
        p["webhooks"]["signature"]
            .as_str()
            .unwrap()
            .contains("Standard Webhooks")
    );
    all_answer(&app, &p).await;
    let root = json_doc(&app, "/api/v1").await;
    assert_eq!(root, p, "the Glimpse root answers the protocols");

    let (status, ct, text) = get(&app, "/llms.txt").await;
    assert_eq!(status, 200);
    assert!(ct.starts_with("text/plain"));
    // llmstxt.org: an H1, a blockquote summary, then H2 sections of link lists.
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("# aistagram"));
    assert!(text.contains("\n> "));
    assert!(text.contains("\n## Docs\n"));
    let links: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("- ["))
        .map(|l| {
            let start = l.find("](").unwrap() + 2;
            &l[start..start + l[start..].find(')').unwrap()]
        })
        .collect();
    assert!(links.len() >= 5);
    for url in links {
        let path = &url[app.base.len()..];
        assert_eq!(get(&app, path).await.0, 200, "{url}");
    }
}
