//! The six image providers against fake servers on loopback that speak each provider's wire
//! format: what each fake received (path, auth header, body) is checked, and each kind of
//! failure a provider can answer is seen to become its documented Glimpse error.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method as HttpMethod, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use reqwest::Method;
use serde_json::{Value, json};

use crate::fixtures;
use crate::harness::TestApp;

const KEY: &str = "sk-test-SECRET-provider-key-42";

/// What the fake answers next.
#[derive(Clone)]
enum Mode {
    /// The provider's normal answer, carrying this PNG.
    Normal,
    /// Hugging Face: `n` loading 503s before the picture.
    Loading(u32),
    /// Replicate: `n` polls answering `processing` before `succeeded`.
    Polls(u32),
    /// fal: the picture as an https URL (here: the fake's own `/files/out.png`).
    UrlOutput,
    Status(u16, Option<&'static str>),
    Sleep(Duration),
    /// A 200 whose "image" is this.
    Garbage(Vec<u8>),
}

#[derive(Clone)]
struct Fake {
    png: Arc<Vec<u8>>,
    mode: Arc<Mutex<Mode>>,
    seen: Arc<Mutex<Vec<Seen>>>,
    base: Arc<Mutex<String>>,
}

#[derive(Clone, Debug)]
struct Seen {
    method: String,
    path: String,
    headers: HeaderMap,
    body: Bytes,
}

impl Fake {
    fn set(&self, m: Mode) {
        *self.mode.lock().unwrap() = m;
    }
    fn take(&self) -> Vec<Seen> {
        std::mem::take(&mut *self.seen.lock().unwrap())
    }
}

fn b64(b: &[u8]) -> String {
    fixtures::b64(b)
}

/// One handler for every provider: the path says which one is being called.
async fn handle(
    State(f): State<Fake>,
    method: HttpMethod,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    f.seen.lock().unwrap().push(Seen {
        method: method.to_string(),
        path: path.clone(),
        headers,
        body,
    });
    let base = f.base.lock().unwrap().clone();
    if path == "/files/out.png" {
        return ([(header::CONTENT_TYPE, "image/png")], f.png.to_vec()).into_response();
    }
    let mode = f.mode.lock().unwrap().clone();
    let image = |png: &[u8]| ([(header::CONTENT_TYPE, "image/png")], png.to_vec()).into_response();
    match mode {
        Mode::Sleep(d) => {
            tokio::time::sleep(d).await;
            return StatusCode::OK.into_response();
        }
        Mode::Status(code, retry) => {
            let status = StatusCode::from_u16(code).unwrap();
            let body = json!({"error": {"message": format!("refused key {KEY}")}});
            let mut res = (status, axum::Json(body)).into_response();
            if let Some(r) = retry {
                res.headers_mut()
                    .insert(header::RETRY_AFTER, r.parse().unwrap());
            }
            return res;
        }
        Mode::Loading(n) if n > 0 && path.starts_with("/models/") => {
            f.set(Mode::Loading(n - 1));
            let body = json!({"error": "Model black-forest-labs/FLUX.1-schnell is currently loading", "estimated_time": 0.05});
            return (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response();
        }
        _ => {}
    }
    let png: &[u8] = match &mode {
        Mode::Garbage(g) => g,
        _ => &f.png,
    };
    if path.starts_with("/models/") {
        image(png)
    } else if path == "/v1/images/generations" {
        axum::Json(json!({"created": 1, "data": [{"b64_json": b64(png)}]})).into_response()
    } else if path.starts_with("/v1beta/models/") {
        axum::Json(json!({"candidates": [{"content": {"parts": [
            {"text": "Here is your image."},
            {"inlineData": {"mimeType": "image/png", "data": b64(png)}}
        ]}}]}))
        .into_response()
    } else if path.starts_with("/v1/models/") || path.starts_with("/v1/predictions/") {
        let waiting = match mode {
            Mode::Polls(n) if n > 0 => {
                f.set(Mode::Polls(n - 1));
                true
            }
            _ => false,
        };
        let status = if waiting { "processing" } else { "succeeded" };
        let output = (!waiting).then(|| json!([format!("{base}/files/out.png")]));
        axum::Json(json!({
            "id": "p1",
            "status": status,
            "output": output,
            "urls": {"get": format!("{base}/v1/predictions/p1")},
        }))
        .into_response()
    } else if path == "/v2beta/stable-image/generate/sd3" {
        image(png)
    } else {
        // fal: any other path is a model id.
        let url = match mode {
            Mode::UrlOutput => format!("{base}/files/out.png"),
            _ => format!("data:image/png;base64,{}", b64(png)),
        };
        axum::Json(json!({"images": [{"url": url, "width": 64, "height": 48}], "seed": 1}))
            .into_response()
    }
}

async fn fake() -> (Fake, String) {
    let f = Fake {
        png: Arc::new(fixtures::png(64, 48, 9)),
        mode: Arc::new(Mutex::new(Mode::Normal)),
        seen: Arc::default(),
        base: Arc::default(),
    };
    let app = Router::new().fallback(handle).with_state(f.clone());
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    *f.base.lock().unwrap() = base.clone();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (f, base)
}

async fn app_with(base: &str, tune: impl FnOnce(&mut aistagram::Config)) -> TestApp {
    let base = base.to_owned();
    TestApp::spawn_with(move |c| {
        let p = &mut c.generation.providers;
        for e in p.endpoints_mut() {
            e.base_url = base.clone();
        }
        // Replicate's and fal's output URLs are fetched like any image URL; here they are on
        // loopback.
        c.media.allow_private_fetch = true;
        tune(c);
    })
    .await
}

async fn generate(
    app: &TestApp,
    key: &str,
    provider: &str,
    body: Value,
) -> crate::clients::glimpse::Answer {
    app.glimpse
        .request(Method::POST, "/images/generate", key)
        .with(|r| {
            r.json(&body)
                .header("X-Image-Provider", provider)
                .header("X-Image-Key", KEY)
        })
        .await
}

fn json_body(s: &Seen) -> Value {
    serde_json::from_slice(&s.body).unwrap_or(Value::Null)
}

#[tokio::test]
async fn each_provider_is_called_in_its_own_wire_format_and_its_picture_is_taken_in() {
    let (f, base) = fake().await;
    let app = app_with(&base, |_| {}).await;
    let key = app.glimpse.register("byok-all").await;
    let body = json!({"prompt": "a fox in the snow", "width": 1024, "height": 768, "seed": 7, "negative_prompt": "blurry"});
    for provider in [
        "huggingface",
        "openai",
        "google",
        "replicate",
        "fal",
        "stability",
    ] {
        let r = generate(&app, &key, provider, body.clone()).await;
        let g = r.ok(201).clone();
        assert_eq!(
            (g["width"].clone(), g["height"].clone()),
            (json!(64), json!(48)),
            "{provider}"
        );
        assert_eq!(g["provider"], provider);
        assert!(
            !r.body.to_string().contains("SECRET"),
            "{provider} echoes the key"
        );
        let img = app
            .client
            .get(g["image_url"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(img.status().as_u16(), 200);
        let seen = f.take();
        let first = &seen[0];
        let auth = |s: &Seen| {
            s.headers
                .get("authorization")
                .map(|v| v.to_str().unwrap().to_owned())
        };
        match provider {
            "huggingface" => {
                assert_eq!(first.path, "/models/black-forest-labs/FLUX.1-schnell");
                assert_eq!(auth(first).unwrap(), format!("Bearer {KEY}"));
                let b = json_body(first);
                assert_eq!(b["inputs"], "a fox in the snow");
                assert_eq!(
                    b["parameters"],
                    json!({"width": 1024, "height": 768, "seed": 7, "negative_prompt": "blurry"})
                );
                assert_eq!(g["generation_model"], "black-forest-labs/FLUX.1-schnell");
            }
            "openai" => {
                assert_eq!(first.path, "/v1/images/generations");
                assert_eq!(auth(first).unwrap(), format!("Bearer {KEY}"));
                assert_eq!(
                    json_body(first),
                    json!({"model": "dall-e-3", "prompt": "a fox in the snow", "n": 1, "size": "1792x1024", "response_format": "b64_json"})
                );
            }
            "google" => {
                assert_eq!(
                    first.path,
                    "/v1beta/models/gemini-2.5-flash-image:generateContent"
                );
                assert_eq!(first.headers["x-goog-api-key"], KEY);
                assert!(auth(first).is_none());
                let b = json_body(first);
                assert_eq!(b["contents"][0]["parts"][0]["text"], "a fox in the snow");
                assert!(
                    b["generationConfig"]["responseModalities"]
                        .as_array()
                        .unwrap()
                        .contains(&json!("IMAGE"))
                );
            }
            "replicate" => {
                assert_eq!(
                    first.path,
                    "/v1/models/black-forest-labs/flux-schnell/predictions"
                );
                assert_eq!(auth(first).unwrap(), format!("Bearer {KEY}"));
                assert_eq!(first.headers["prefer"], "wait");
                let b = json_body(first);
                assert_eq!(b["input"]["prompt"], "a fox in the snow");
                // 1024×768 is nearest 5:4 among the ratios FLUX takes.
                assert_eq!(b["input"]["aspect_ratio"], "5:4");
                assert_eq!(b["input"]["seed"], 7);
                // The output URL is fetched with no key.
                let fetch = seen
                    .iter()
                    .find(|s| s.path == "/files/out.png")
                    .expect("output fetched");
                assert!(auth(fetch).is_none());
            }
            "fal" => {
                assert_eq!(first.path, "/fal-ai/flux/schnell");
                assert_eq!(auth(first).unwrap(), format!("Key {KEY}"));
                let b = json_body(first);
                assert_eq!(b["image_size"], json!({"width": 1024, "height": 768}));
                assert_eq!(b["num_images"], 1);
            }
            "stability" => {
                assert_eq!(first.path, "/v2beta/stable-image/generate/sd3");
                assert_eq!(auth(first).unwrap(), format!("Bearer {KEY}"));
                assert_eq!(first.headers["accept"], "image/*");
                let ct = first.headers["content-type"].to_str().unwrap();
                assert!(ct.starts_with("multipart/form-data"), "{ct}");
                let text = String::from_utf8_lossy(&first.body);
                for field in [
                    "name=\"prompt\"",
                    "a fox in the snow",
                    "name=\"output_format\"",
                    "png",
                    "name=\"model\"",
                    "sd3.5-large",
                    "name=\"negative_prompt\"",
                    "blurry",
                ] {
                    assert!(text.contains(field), "{field} missing from the form");
                }
            }
            _ => unreachable!(),
        }
        assert!(seen.iter().all(|s| s.method == "POST" || s.method == "GET"));
    }
}

#[tokio::test]
async fn loading_models_polling_and_url_outputs_are_followed_to_the_picture() {
    let (f, base) = fake().await;
    let app = app_with(&base, |_| {}).await;
    let key = app.glimpse.register("patient").await;
    let body = json!({"prompt": "a slow model"});

    f.set(Mode::Loading(2));
    generate(&app, &key, "huggingface", body.clone())
        .await
        .ok(201);
    assert_eq!(f.take().len(), 3, "two loading answers, then the picture");

    f.set(Mode::Polls(2));
    generate(&app, &key, "replicate", body.clone())
        .await
        .ok(201);
    let seen = f.take();
    let polls: Vec<_> = seen
        .iter()
        .filter(|s| s.path == "/v1/predictions/p1")
        .collect();
    assert_eq!(polls.len(), 2, "polled until it succeeded");
    assert!(polls.iter().all(
        |p| p.method == "GET" && p.headers["authorization"] == format!("Bearer {KEY}").as_str()
    ));

    f.set(Mode::UrlOutput);
    generate(&app, &key, "fal", body.clone()).await.ok(201);
    assert!(f.take().iter().any(|s| s.path == "/files/out.png"));
}

#[tokio::test]
async fn provider_failures_become_honest_statuses_and_cost_nothing() {
    let (f, base) = fake().await;
    let app = app_with(&base, |c| {
        c.generation.timeout_secs = 1;
        c.limits.enabled = true;
        c.limits.generations_per_day = 1;
    })
    .await;
    let key = app.glimpse.register("unlucky").await;
    let body = json!({"prompt": "anything"});

    f.set(Mode::Status(401, None));
    let r = generate(&app, &key, "openai", body.clone()).await;
    r.err(400, "provider_key_rejected");
    assert!(
        !r.body.to_string().contains("SECRET"),
        "the key leaked: {}",
        r.body
    );
    assert!(r.body.to_string().contains("***"), "{}", r.body);

    f.set(Mode::Status(429, Some("7")));
    let r = generate(&app, &key, "stability", body.clone()).await;
    r.err(429, "provider_rate_limited");
    assert_eq!(r.headers["retry-after"], "7");

    f.set(Mode::Status(500, None));
    generate(&app, &key, "fal", body.clone())
        .await
        .err(502, "provider_error");

    f.set(Mode::Sleep(Duration::from_secs(3)));
    generate(&app, &key, "huggingface", body.clone())
        .await
        .err(504, "provider_timeout");

    f.set(Mode::Garbage(b"<html>not an image</html>".to_vec()));
    generate(&app, &key, "huggingface", body.clone())
        .await
        .err(502, "provider_bad_output");
    generate(&app, &key, "openai", body.clone())
        .await
        .err(502, "provider_bad_output");

    f.set(Mode::Garbage(fixtures::png_bomb(100_000, 100_000)));
    let r = generate(&app, &key, "google", body.clone()).await;
    let msg = r.err(502, "provider_bad_output")["error"]["message"].to_string();
    assert!(msg.contains("100000"), "{msg}");

    // None of that counted: the one generation of the day is still free.
    f.set(Mode::Normal);
    let ok = generate(&app, &key, "replicate", body.clone()).await;
    assert_eq!(ok.ok(201)["daily_usage"]["used"], 1);
    generate(&app, &key, "replicate", body)
        .await
        .err(429, "rate_limit_exceeded");
}

#[tokio::test]
async fn stored_settings_choose_the_provider_and_the_model_override() {
    let (f, base) = fake().await;
    let app = app_with(&base, |c| {
        c.generation.providers.openai.model = "dall-e-2".into()
    })
    .await;
    let key = app.glimpse.register("settled").await;
    let g = &app.glimpse;
    g.request(Method::PUT, "/agents/me/settings/image-generation", &key)
        .with(|r| r.json(&json!({"provider": "openai", "api_key": KEY})))
        .await
        .ok(200);
    let gen_ = |body: Value| {
        g.request(Method::POST, "/images/generate", &key)
            .with(move |r| r.json(&body))
    };
    // The operator's model for the provider.
    let r = gen_(json!({"prompt": "stored key", "width": 512, "height": 512})).await;
    assert_eq!(r.ok(201)["generation_model"], "dall-e-2");
    let seen = f.take();
    assert_eq!(json_body(&seen[0])["size"], "512x512");
    assert_eq!(
        seen[0].headers["authorization"],
        format!("Bearer {KEY}").as_str()
    );
    // The agent's own model wins.
    g.request(Method::PUT, "/agents/me/settings/image-generation", &key)
        .with(|r| r.json(&json!({"provider": "openai", "api_key": KEY, "model": "gpt-image-1"})))
        .await
        .ok(200);
    let r = gen_(json!({"prompt": "stored key"})).await;
    assert_eq!(r.ok(201)["generation_model"], "gpt-image-1");
    let sent = json_body(&f.take()[0]);
    assert_eq!(sent["model"], "gpt-image-1");
    assert!(
        sent.get("response_format").is_none(),
        "gpt-image models take no response_format"
    );
}

#[tokio::test]
async fn the_key_never_reaches_an_answer_or_a_log_line() {
    let (f, base) = fake().await;
    let dir = tempfile::tempdir().unwrap();
    // The real binary with its real log, at debug level.
    let mut env = vec![("RUST_LOG".to_owned(), "debug".to_owned())];
    for p in [
        "HUGGINGFACE",
        "OPENAI",
        "GOOGLE",
        "REPLICATE",
        "FAL",
        "STABILITY",
    ] {
        env.push((
            format!("AISTAGRAM_GENERATION__PROVIDERS__{p}__BASE_URL"),
            base.clone(),
        ));
    }
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let server = crate::cli::serve_with(dir.path(), &env);
    let g = crate::clients::Glimpse::at(&server.url);
    let key = g.register("log-watcher").await;
    g.request(Method::PUT, "/agents/me/settings/image-generation", &key)
        .with(|r| r.json(&json!({"provider": "openai", "api_key": KEY})))
        .await
        .ok(200);
    let gen_ = |body: Value| {
        g.request(Method::POST, "/images/generate", &key)
            .with(move |r| r.json(&body))
    };
    let mut answers = Vec::new();
    for mode in [
        Mode::Status(401, None),
        Mode::Status(500, None),
        Mode::Garbage(b"nope".to_vec()),
        Mode::Normal,
    ] {
        f.set(mode);
        answers.push(
            gen_(json!({"prompt": "watch the logs"}))
                .await
                .body
                .to_string(),
        );
    }
    let headers = g
        .request(Method::POST, "/images/generate", &key)
        .with(|r| {
            r.json(&json!({"prompt": "by header"}))
                .header("X-Image-Provider", "fal")
                .header("X-Image-Key", KEY)
        })
        .await;
    answers.push(headers.body.to_string());
    let settings = g
        .request(Method::GET, "/agents/me/settings/image-generation", &key)
        .await;
    answers.push(settings.body.to_string());
    let mut server = server;
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    // The process is gone; the reader thread hands over the rest of its stderr, then hangs up.
    let log: Vec<String> =
        std::iter::from_fn(|| server.log.recv_timeout(Duration::from_secs(5)).ok()).collect();
    assert!(
        log.iter().any(|l| l.contains("openai: HTTP 500")),
        "the provider's failure is logged: {log:#?}"
    );
    for line in &log {
        assert!(!line.contains("SECRET"), "a log line holds the key: {line}");
    }
    for a in &answers {
        assert!(!a.contains("SECRET"), "an answer holds the key: {a}");
    }
    assert!(answers[3].contains("generation_id"), "{}", answers[3]);
}
