//! The OpenAPI document against the running server: it is OpenAPI 3.1 and served at both
//! addresses; every operation it names is a route the router matches (by the route template the
//! metrics record, so a path that only reaches a fallback fails); every route is in the served
//! skill file; and the document's references all resolve.
//!
//! The other direction (a route the router has but the document lacks) cannot compile: routes
//! are registered only through `utoipa_axum::routes!`, and clippy refuses `Router::route`.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::harness::TestApp;

async fn document(app: &TestApp, path: &str) -> Value {
    let r = app.client.get(app.url(path)).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200, "{path}");
    assert_eq!(r.headers()["content-type"], "application/json", "{path}");
    r.json().await.unwrap()
}

/// `(METHOD, path template)` of every operation in the document.
fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            if ["get", "put", "post", "delete", "patch", "head"].contains(&method.as_str()) {
                ops.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    ops
}

/// The path with each `{param}` filled in.
fn concrete(template: &str) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}').expect("closed parameter") + open;
        out.push_str(&rest[..open]);
        out.push_str("x0");
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

#[tokio::test]
async fn the_document_is_openapi_3_1_and_served_where_glimpse_agents_look() {
    let app = TestApp::spawn().await;
    let doc = document(&app, "/openapi.json").await;
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["title"], "aistagram");
    assert_eq!(doc["servers"][0]["url"], app.base.as_str());
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert_eq!(document(&app, "/api/v1/openapi.json").await, doc);
    // Each surface's refusals are in its own envelope.
    let schema = |path: &str, method: &str, status: &str| {
        doc["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]
            ["$ref"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(
        schema("/api/posts/{id}", "get", "404"),
        "#/components/schemas/NativeError"
    );
    assert_eq!(
        schema("/api/v1/posts/{id}", "get", "404"),
        "#/components/schemas/GlimpseError"
    );
    assert_eq!(
        schema("/api/agent/me", "get", "401"),
        "#/components/schemas/AispaceError"
    );
    // A body-taking operation documents the refusals of a body.
    for status in ["413", "415", "422"] {
        assert!(
            doc["paths"]["/api/v1/posts"]["post"]["responses"][status].is_object(),
            "POST /api/v1/posts lacks {status}"
        );
    }
}

#[tokio::test]
async fn every_documented_operation_is_a_route_the_router_matches() {
    let app =
        TestApp::spawn_with(|c| c.metrics.listen = Some("127.0.0.1:0".parse().unwrap())).await;
    let doc = document(&app, "/openapi.json").await;
    let ops = operations(&doc);
    // Every surface is there, and not just a handful of routes.
    for prefix in [
        "/api/v1/",
        "/api/agent/",
        "/api/",
        "/media/",
        "/.well-known/",
    ] {
        assert!(
            ops.iter().any(|(_, p)| p.starts_with(prefix)),
            "nothing under {prefix}"
        );
    }
    assert!(ops.len() > 100, "{} operations", ops.len());
    for (method, template) in &ops {
        let url = app.url(&concrete(template));
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let res = app
            .client
            .request(method.clone(), &url)
            .send()
            .await
            .unwrap();
        assert_ne!(
            res.status().as_u16(),
            405,
            "{method} {template} is documented but refused as a method"
        );
    }
    // The metrics count each answer under the route template the router matched; a request
    // that only reached a fallback is counted under no documented template.
    let page = app
        .client
        .get(app.metrics.clone().expect("metrics listener"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for (method, template) in &ops {
        let series =
            format!(r#"aistagram_http_requests_total{{method="{method}",route="{template}","#);
        assert!(
            page.lines().any(|l| l.starts_with(&series)),
            "{method} {template} is documented but no route matched it"
        );
    }
}

#[tokio::test]
async fn every_route_is_in_the_skill_file() {
    let app = TestApp::spawn().await;
    let doc = document(&app, "/openapi.json").await;
    let skill = app
        .client
        .get(app.url("/skill.md"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for (method, template) in operations(&doc) {
        assert!(
            skill.contains(&format!("`{method} {template}`")),
            "{method} {template} is not in /skill.md"
        );
    }
    assert!(!skill.contains("{{"), "an unrendered placeholder is left");
    // Each route is one table row.
    for line in skill.lines().filter(|l| l.starts_with("| `")) {
        assert!(line.ends_with(" |"), "a broken row: {line}");
    }
}

#[tokio::test]
async fn every_reference_resolves_and_every_operation_says_what_it_answers() {
    let app = TestApp::spawn().await;
    let doc = document(&app, "/openapi.json").await;
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    let mut refs = Vec::new();
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(o) => {
                if let Some(Value::String(r)) = o.get("$ref") {
                    out.push(r.clone());
                }
                o.values().for_each(|x| walk(x, out));
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    walk(&doc, &mut refs);
    assert!(!refs.is_empty());
    for r in refs {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("{r} is not a schema reference"));
        assert!(schemas.contains_key(name), "{r} does not resolve");
    }
    let mut ids = BTreeSet::new();
    for (method, template) in operations(&doc) {
        let op = &doc["paths"][&template][method.to_lowercase()];
        let id = op["operationId"].as_str().unwrap_or_default();
        assert!(
            ids.insert(id.to_owned()),
            "{method} {template}: operationId {id} is taken"
        );
        assert!(
            op["summary"].as_str().is_some_and(|s| !s.is_empty()),
            "{method} {template} has no summary"
        );
        let responses = op["responses"].as_object().unwrap();
        assert!(
            responses.keys().any(|s| s.starts_with('2')),
            "{method} {template} documents no success"
        );
    }
}
