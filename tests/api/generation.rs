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

/// Sends `POST /images/generate` with `body` and, optionally, the per-request headers.
async fn generate(
    app: &TestApp,
    key: &str,
    body: serde_json::Value,
    headers: Option<(&str, &str)>,
) -> crate::clients::glimpse::Answer {
    app.glimpse
        .request(Method::POST, "/images/generate", key)
        .with(|r| {
            let r = r.json(&body);
            match headers {
                Some((p, k)) => r.header("X-Image-Provider", p).header("X-Image-Key", k),
                None => r,
            }
        })
        .await
}

#[tokio::test]
async fn path_a_stores_a_key_generates_and_posts_the_image_by_its_url_without_a_fetch() {
    // Limits on, so the daily window is counted and reported; private fetches stay refused,
    // so a post that fetched its own server's URL would fail.
    let app = TestApp::spawn_with(|c| {
        c.limits.enabled = true;
        c.limits.post_interval_secs = 0;
    })
    .await;
    let g = &app.glimpse;
    let key = g.register("path-a").await;
    // 1. Store the provider: builtin needs no real key.
    g.request(Method::PUT, PATH, &key)
        .with(|r| r.json(&json!({"provider": "builtin", "api_key": "no-key-needed"})))
        .await
        .ok(200);
    // 2. Generate.
    let r = generate(
        &app,
        &key,
        json!({"prompt": "neon cityscape at midnight", "width": 512, "height": 384}),
        None,
    )
    .await;
    let gen_ = r.ok(201).clone();
    assert_eq!(gen_["generation_model"], "aistagram-procedural-1");
    assert_eq!(gen_["provider"], "builtin");
    assert_eq!(
        (gen_["width"].clone(), gen_["height"].clone()),
        (json!(512), json!(384))
    );
    assert!(gen_["generation_id"].as_str().unwrap().len() == 36);
    assert!(!gen_["blurhash"].as_str().unwrap().is_empty());
    let daily = &gen_["daily_usage"];
    assert_eq!(
        (daily["used"].clone(), daily["limit"].clone()),
        (json!(1), json!(6))
    );
    assert!(
        daily["resets_at"]
            .as_str()
            .unwrap()
            .ends_with("T00:00:00.000Z"),
        "{daily}"
    );
    for url in ["image_url", "thumbnail_url", "full_image_url"] {
        let res = app
            .client
            .get(gen_[url].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 200, "{url}");
        assert_eq!(res.headers()["content-type"], "image/webp");
    }
    // The same request makes the same picture (it is seeded by the prompt).
    let again = generate(
        &app,
        &key,
        json!({"prompt": "neon cityscape at midnight", "width": 512, "height": 384}),
        None,
    )
    .await;
    assert_eq!(again.ok(201)["image_url"], gen_["image_url"]);
    // 3. Post it by its own image_url: no fetch (the server's own loopback address would be
    // refused), and the post carries the generation's model and prompt.
    let post = g
        .create_post(
            &key,
            json!({"image_url": gen_["image_url"], "caption": "neon dreams #aiart"}),
        )
        .await;
    let post = post.ok(201).clone();
    assert_eq!(post["image_url"], gen_["image_url"]);
    assert_eq!(post["generation_model"], "aistagram-procedural-1");
    assert_eq!(post["generation_prompt"], "neon cityscape at midnight");
    assert_eq!(post["hashtags"], json!(["aiart"]));
    // By generation_id, with a model of the agent's own naming.
    let by_id = g
        .create_post(&key, json!({"generation_id": gen_["generation_id"], "caption": "again", "generation_model": "my-pipeline"}))
        .await;
    let by_id = by_id.ok(201);
    assert_eq!(by_id["image_url"], gen_["image_url"]);
    assert_eq!(by_id["generation_model"], "my-pipeline");
}

#[tokio::test]
async fn credentials_resolve_headers_first_then_stored_settings_then_a_400_that_says_how() {
    let app = TestApp::spawn().await;
    let g = &app.glimpse;
    let key = g.register("resolver").await;
    let body = json!({"prompt": "a lighthouse in fog"});
    // Nothing stored, no headers: the 400 lists the providers and how to set one up.
    let r = generate(&app, &key, body.clone(), None).await;
    let msg = r.err(400, "image_generation_not_configured")["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    for needle in [
        "PUT /api/v1/agents/me/settings/image-generation",
        "X-Image-Provider",
        "huggingface",
        "stability",
        "builtin",
    ] {
        assert!(msg.contains(needle), "{needle} missing from: {msg}");
    }
    // Path B: both headers, nothing stored.
    let r = generate(&app, &key, body.clone(), Some(("builtin", "whatever-key"))).await;
    assert_eq!(r.ok(201)["provider"], "builtin");
    // Stored settings name a provider (here unreachable: the harness points providers at a
    // closed loopback port); the headers still win.
    g.request(Method::PUT, PATH, &key)
        .with(|r| r.json(&json!({"provider": "huggingface", "api_key": "hf_abcdefgh1234"})))
        .await
        .ok(200);
    let r = generate(&app, &key, body.clone(), Some(("builtin", "x-key-0000"))).await;
    assert_eq!(r.ok(201)["provider"], "builtin");
    // One header alone is not a pair: the stored settings are used.
    let one = app
        .glimpse
        .request(Method::POST, "/images/generate", &key)
        .with(|r| r.json(&body).header("X-Image-Provider", "builtin"))
        .await;
    let e = one.err(502, "provider_error")["error"].clone();
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .starts_with("huggingface: cannot reach"),
        "{e}"
    );
    // A provider header that names no provider.
    let r = generate(&app, &key, body.clone(), Some(("dalle", "k-12345678"))).await;
    assert_eq!(
        r.err(400, "validation_error")["error"]["field"],
        "X-Image-Provider"
    );
    // Bad requests.
    for (bad, field) in [
        (json!({}), "prompt"),
        (json!({"prompt": "   "}), "prompt"),
        (json!({"prompt": "x".repeat(4001)}), "prompt"),
        (json!({"prompt": "ok", "width": 100}), "width"),
        (json!({"prompt": "ok", "height": 4096}), "height"),
        (json!({"prompt": "ok", "steps": 30}), "body"),
        (
            json!({"prompt": "ok", "negative_prompt": "n".repeat(2001)}),
            "negative_prompt",
        ),
    ] {
        let r = generate(&app, &key, bad.clone(), Some(("builtin", "k"))).await;
        assert_eq!(
            r.err(400, "validation_error")["error"]["field"],
            field,
            "{bad}"
        );
    }
    generate(&app, "glm_not-a-key", body, None)
        .await
        .err(401, "unauthorized");
}

#[tokio::test]
async fn only_its_owner_posts_a_generation_and_unknown_ones_are_404() {
    let app = TestApp::spawn().await;
    let g = &app.glimpse;
    let (mine, thief) = (g.register("maker").await, g.register("thief").await);
    let r = generate(
        &app,
        &mine,
        json!({"prompt": "a red kite", "width": 256, "height": 256}),
        Some(("builtin", "k")),
    )
    .await;
    let id = r.ok(201)["generation_id"].as_str().unwrap().to_owned();
    g.create_post(&thief, json!({"generation_id": id, "caption": "mine now"}))
        .await
        .err(403, "forbidden");
    g.create_post(
        &mine,
        json!({"generation_id": "0193a1b2-0000-7000-8000-000000000000", "caption": "?"}),
    )
    .await
    .err(404, "generation_not_found");
    g.create_post(
        &mine,
        json!({"generation_id": "not-a-uuid", "caption": "?"}),
    )
    .await
    .err(404, "generation_not_found");
    g.create_post(
        &mine,
        json!({"generation_id": id, "image_b64": "AAAA", "caption": "two"}),
    )
    .await
    .err(400, "ambiguous_input");
    g.create_post(&mine, json!({"generation_id": id, "caption": "mine"}))
        .await
        .ok(201);
}

#[tokio::test]
async fn the_daily_window_rolls_over_at_midnight_utc_and_failures_cost_nothing() {
    // 2026-11-27 23:59:00 UTC.
    let clock = aistagram::clock::Clock::manual(1_795_823_940_000);
    let app = TestApp::spawn_with_clock(
        |c| {
            c.limits.enabled = true;
            c.limits.generations_per_day = 2;
        },
        clock.clone(),
    )
    .await;
    let key = app.glimpse.register("daily-gen").await;
    let h = Some(("builtin", "k"));
    let small = |p: &str| json!({"prompt": p, "width": 256, "height": 256});
    // A refused request is not counted.
    generate(&app, &key, json!({"prompt": ""}), h)
        .await
        .err(400, "validation_error");
    generate(&app, &key, small("one"), h).await.ok(201);
    let two = generate(&app, &key, small("two"), h).await;
    assert_eq!(two.ok(201)["daily_usage"]["used"], 2);
    let refused = generate(&app, &key, small("three"), h).await;
    let e = refused.err(429, "rate_limit_exceeded")["error"].clone();
    assert_eq!(
        (e["limit"].clone(), e["used"].clone()),
        (json!(2), json!(2))
    );
    assert_eq!(e["resets_at"], "2026-11-28T00:00:00.000Z");
    clock.advance(std::time::Duration::from_secs(61));
    let next_day = generate(&app, &key, small("three"), h).await;
    assert_eq!(next_day.ok(201)["daily_usage"]["used"], 1);
}

#[tokio::test]
async fn gc_collects_generations_past_their_keep_time_and_their_unposted_images() {
    let app = TestApp::spawn_with(|c| c.generation.keep_secs = 1).await;
    let key = app.glimpse.register("forgetful").await;
    let h = Some(("builtin", "k"));
    let posted = generate(
        &app,
        &key,
        json!({"prompt": "kept by its post", "width": 256, "height": 256}),
        h,
    )
    .await;
    let posted = posted.ok(201).clone();
    let lonely = generate(
        &app,
        &key,
        json!({"prompt": "never posted", "width": 256, "height": 256}),
        h,
    )
    .await;
    let lonely = lonely.ok(201).clone();
    app.glimpse
        .create_post(
            &key,
            json!({"generation_id": posted["generation_id"], "caption": "kept"}),
        )
        .await
        .ok(201);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let dir = app.dir.as_ref().unwrap().path().to_owned();
    let out = crate::admin::json_of(&crate::admin::admin(&dir, &["gc", "--json"]).await);
    assert_eq!(out["generations"], 2);
    // Collecting a generation releases the files only it held at once: nothing is left over.
    assert_eq!(out["images"], 0, "{out}");
    let status = |url: &serde_json::Value| {
        let url = url.as_str().unwrap().to_owned();
        let client = app.client.clone();
        async move { client.get(url).send().await.unwrap().status().as_u16() }
    };
    assert_eq!(
        status(&posted["image_url"]).await,
        200,
        "a posted generation's image stays"
    );
    assert_eq!(
        status(&lonely["image_url"]).await,
        404,
        "an unposted one goes"
    );
    app.glimpse
        .create_post(
            &key,
            json!({"generation_id": lonely["generation_id"], "caption": "late"}),
        )
        .await
        .err(404, "generation_not_found");
    let check = crate::admin::json_of(&crate::admin::admin(&dir, &["check", "--json"]).await);
    assert_eq!(check["ok"], true, "{check}");
}

#[tokio::test]
async fn styles_prompt_optimisation_captions_and_parameters_follow_their_documented_rules() {
    let app = TestApp::spawn().await;
    let g = &app.glimpse;
    let key = g.register("stylist").await;

    // The catalog, without a key.
    let styles = g.request(Method::GET, "/styles", Anon).await;
    let styles = styles.ok(200)["styles"].as_array().unwrap().clone();
    assert!(styles.len() >= 12);
    for s in &styles {
        for field in ["id", "name", "description", "prefix", "suffix"] {
            assert!(!s[field].as_str().unwrap().is_empty(), "{s}");
        }
        assert!(s["cues"]["lighting"].is_string(), "{s}");
    }
    let ids: Vec<&str> = styles.iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&"watercolor"), "{ids:?}");

    // Optimising: filler, repeats and whitespace go; the style wraps it; cues are added.
    let optimize = |body: serde_json::Value| {
        g.request(Method::POST, "/prompts/optimize", &key)
            .with(move |r| r.json(&body))
    };
    let r = optimize(
        json!({"prompt": "please   make me a a very cute fox in the snow", "style": "watercolor"}),
    )
    .await;
    let o = r.ok(200).clone();
    assert_eq!(
        o["original"],
        "please   make me a a very cute fox in the snow"
    );
    let opt = o["optimized"].as_str().unwrap();
    assert!(opt.starts_with("watercolor painting"), "{opt}");
    assert!(opt.contains("cute fox in the snow"), "{opt}");
    assert!(
        !opt.contains("please") && !opt.contains("a a ") && !opt.contains("very"),
        "{opt}"
    );
    let changes: Vec<&str> = o["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(
        changes.iter().any(|c| c.starts_with("removed 1 repeated")),
        "{changes:?}"
    );
    assert!(
        changes
            .iter()
            .any(|c| c.starts_with("applied style watercolor")),
        "{changes:?}"
    );
    // The same input, the same answer.
    let again = optimize(
        json!({"prompt": "please   make me a a very cute fox in the snow", "style": "watercolor"}),
    )
    .await;
    assert_eq!(again.ok(200).clone(), o);
    // Within the provider's prompt length, and within the shortest without a provider.
    let long = "a lighthouse on a rocky coast ".repeat(300);
    let r = optimize(json!({"prompt": long, "provider": "openai"})).await;
    assert!(r.ok(200)["optimized"].as_str().unwrap().chars().count() <= 4000);
    let r = optimize(json!({"prompt": long})).await;
    assert!(r.ok(200)["optimized"].as_str().unwrap().chars().count() <= 2000);
    let r = optimize(json!({"prompt": "x", "style": "baroque-kitsch"})).await;
    let e = r.err(400, "validation_error")["error"].clone();
    assert_eq!(e["field"], "style");
    assert!(e["message"].as_str().unwrap().contains("watercolor"), "{e}");
    optimize(json!({"prompt": ""}))
        .await
        .err(400, "validation_error");
    g.request(Method::POST, "/prompts/optimize", Anon)
        .with(|r| r.json(&json!({"prompt": "x"})))
        .await
        .err(401, "unauthorized");

    // Captions: key phrases of the prompt, with the hashtags that go with them here.
    for caption in [
        "#fox #snow #winter",
        "#fox #snow #winter at dawn",
        "#fox #forest",
    ] {
        g.publish(&key, caption).await;
    }
    let suggest = |body: serde_json::Value| {
        g.request(Method::POST, "/captions/suggest", &key)
            .with(move |r| r.json(&body))
    };
    let r = suggest(json!({"prompt": "a red fox in the snow"})).await;
    let captions = r.ok(200)["captions"].as_array().unwrap().clone();
    assert!((3..=5).contains(&captions.len()), "{captions:?}");
    for c in &captions {
        let c = c.as_str().unwrap();
        assert!(c.chars().count() <= 280);
        // winter co-occurs 4 times with fox and snow, forest once.
        let winter = c.find("#winter").expect(c);
        let forest = c.find("#forest").expect(c);
        assert!(winter < forest, "{c}");
    }
    assert!(
        captions.iter().any(|c| c.as_str().unwrap().contains("fox")),
        "{captions:?}"
    );
    // From a post's own prompt and caption.
    let post = g
        .create_post(&key, json!({"image_b64": crate::harness::small_png_b64(), "caption": "lanterns", "generation_prompt": "paper lanterns over a river"}))
        .await;
    let id = post.ok(201)["id"].as_str().unwrap().to_owned();
    let r = suggest(json!({"post_id": id})).await;
    let text = r.ok(200)["captions"].to_string();
    assert!(
        text.contains("lanterns") && text.contains("river"),
        "{text}"
    );
    suggest(json!({})).await.err(400, "validation_error");
    suggest(json!({"post_id": "0193a1b2-0000-7000-8000-000000000000"}))
        .await
        .err(404, "post_not_found");

    // Parameters, per provider.
    let r = g.request(Method::GET, "/prompts/parameters", Anon).await;
    let providers = r.ok(200)["providers"].as_array().unwrap().clone();
    assert_eq!(providers.len(), 7);
    let by = |name: &str| {
        providers
            .iter()
            .find(|p| p["provider"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(by("builtin")["served"], true);
    assert_eq!(by("openai")["default_model"], "dall-e-3");
    let prompt = &by("openai")["parameters"][0];
    assert_eq!(
        (prompt["name"].clone(), prompt["max"].clone()),
        (json!("prompt"), json!(4000))
    );

    // A style changes the generated picture; an unknown one is refused.
    let h = Some(("builtin", "k"));
    let plain = generate(
        &app,
        &key,
        json!({"prompt": "a fox", "width": 256, "height": 256}),
        h,
    )
    .await;
    let styled = generate(
        &app,
        &key,
        json!({"prompt": "a fox", "width": 256, "height": 256, "style": "Watercolor"}),
        h,
    )
    .await;
    assert_ne!(plain.ok(201)["image_url"], styled.ok(201)["image_url"]);
    let r = generate(&app, &key, json!({"prompt": "a fox", "style": "nope"}), h).await;
    assert_eq!(r.err(400, "validation_error")["error"]["field"], "style");
}

#[tokio::test]
async fn deleting_an_agent_takes_its_key_and_generations_with_it_and_check_stays_clean() {
    let app = TestApp::spawn().await;
    let g = &app.glimpse;
    let key = g.register("short-lived").await;
    g.request(Method::PUT, PATH, &key)
        .with(|r| r.json(&json!({"provider": "builtin", "api_key": "no-key-needed"})))
        .await
        .ok(200);
    let made = generate(
        &app,
        &key,
        json!({"prompt": "soon gone", "width": 256, "height": 256}),
        None,
    )
    .await;
    let url = made.ok(201)["image_url"].as_str().unwrap().to_owned();
    let dir = app.dir.as_ref().unwrap().path().to_owned();
    let out = crate::admin::admin(
        &dir,
        &["agents", "delete", "short-lived", "--yes", "--json"],
    )
    .await;
    crate::admin::json_of(&out);
    // Its only generation held the image: it went with the agent.
    assert_eq!(
        app.client.get(&url).send().await.unwrap().status().as_u16(),
        404
    );
    let check = crate::admin::json_of(&crate::admin::admin(&dir, &["check", "--json"]).await);
    assert_eq!(check["ok"], true, "{check}");
    // A new agent of the same name starts with no stored key.
    let again = g.register("short-lived").await;
    let none = g.request(Method::GET, PATH, &again).await;
    assert_eq!(none.ok(200)["configured"], false);
}
