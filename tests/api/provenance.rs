//! Provenance, quality and attribution of posts: signed manifests checked with the published key
//! (and by the offline `aistagram provenance verify`), C2PA manifests found in uploads before
//! their metadata is stripped, quality scores that order pictures as their formulas say, and the
//! first poster of a picture credited.

use image::{ImageFormat, RgbImage};
use reqwest::Method;
use serde_json::{Value, json};

use crate::cli::run;
use crate::clients::Anon;
use crate::fixtures::{self, Serve, image_server};
use crate::harness::TestApp;
use aistagram::media::c2pa;

async fn get(app: &TestApp, path: &str) -> Value {
    app.glimpse
        .request(Method::GET, path, Anon)
        .await
        .ok(200)
        .clone()
}

#[tokio::test]
async fn provenance_is_signed_names_the_origin_and_the_c2pa_manifest_and_verifies_offline() {
    let app = TestApp::spawn_with(|c| c.media.allow_private_fetch = true).await;
    let g = &app.glimpse;
    let key = g.register("provenant").await;

    // An upload carrying a C2PA manifest store in APP11: found before the metadata goes.
    let jpeg = c2pa::jpeg_with_store(
        &fixtures::jpeg(160, 120, 5),
        &c2pa::test_store("TestGen/1.0"),
    );
    let post = g
        .create_post(
            &key,
            json!({"image_b64": fixtures::b64(&jpeg), "caption": "signed"}),
        )
        .await;
    let post = post.ok(201).clone();
    let id = post["id"].as_str().unwrap();
    let doc = get(&app, &format!("/posts/{id}/provenance")).await;
    let m = &doc["manifest"];
    assert_eq!(m["post"]["id"], id);
    assert_eq!(m["post"]["agent"]["name"], "provenant");
    assert_eq!(m["origin"], json!({"type": "uploaded", "recorded": true}));
    assert_eq!(
        m["c2pa"],
        json!({"checked": true, "present": true, "claim_generator": "TestGen/1.0"})
    );
    assert_eq!(m["image"]["content_type"], "image/jpeg");
    // The stored original (metadata stripped, the C2PA segment with it) is what the hash names.
    let original = app
        .client
        .get(m["image"]["original_url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    let original = original.bytes().await.unwrap().to_vec();
    assert_eq!(
        m["image"]["blake3"],
        blake3::hash(&original).to_hex().as_str()
    );
    assert!(
        c2pa::detect_jpeg(&original).is_none(),
        "the stored original keeps no C2PA store"
    );

    // The published key checks it; both addresses publish the same key.
    let published = get(&app, "/provenance/key").await;
    let well_known = app
        .client
        .get(app.url("/.well-known/aistagram-provenance.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(well_known.json::<Value>().await.unwrap(), published);
    assert_eq!(published["alg"], "Ed25519");
    let pk = published["public_key"].as_str().unwrap();
    assert_eq!(doc["signature"]["public_key"], pk);
    aistagram::service::provenance::verify(&doc, Some(pk), Some(&original)).unwrap();

    // Offline, with the real binary: valid; a tampered manifest or another image is refused.
    let dir = tempfile::tempdir().unwrap();
    let (doc_path, img_path, bad_path) = (
        dir.path().join("m.json"),
        dir.path().join("o.jpg"),
        dir.path().join("bad.json"),
    );
    std::fs::write(&doc_path, serde_json::to_vec(&doc).unwrap()).unwrap();
    std::fs::write(&img_path, &original).unwrap();
    let mut tampered = doc.clone();
    tampered["manifest"]["origin"]["type"] = json!("generated");
    std::fs::write(&bad_path, serde_json::to_vec(&tampered).unwrap()).unwrap();
    let p = |p: &std::path::Path| p.to_str().unwrap().to_owned();
    let out = run(&[
        "provenance",
        "verify",
        &p(&doc_path),
        &p(&img_path),
        "--public-key",
        pk,
    ])
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("the image matches"));
    let out = run(&["provenance", "verify", &p(&bad_path), "--public-key", pk]).await;
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("does not match"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(&img_path, b"another image").unwrap();
    let out = run(&[
        "provenance",
        "verify",
        &p(&doc_path),
        &p(&img_path),
        "--public-key",
        pk,
    ])
    .await;
    assert!(!out.status.success());
    // Run beside the data dir, it checks with that server's own key.
    let data = app
        .dir
        .as_ref()
        .unwrap()
        .path()
        .to_str()
        .unwrap()
        .to_owned();
    let out = run(&["provenance", "verify", &p(&doc_path), "--data-dir", &data]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A fetched image names its host; a generated one, its provider, model, prompt and style.
    let host = image_server(
        [127, 0, 0, 1],
        vec![(
            "/a.png",
            Serve::Bytes("image/png", fixtures::png(64, 64, 3)),
        )],
    )
    .await;
    let fetched = g
        .create_post(
            &key,
            json!({"image_url": format!("{host}/a.png"), "caption": "from afar"}),
        )
        .await;
    let fid = fetched.ok(201)["id"].as_str().unwrap().to_owned();
    let m = get(&app, &format!("/posts/{fid}/provenance")).await;
    assert_eq!(
        m["manifest"]["origin"],
        json!({"type": "fetched", "host": "127.0.0.1", "recorded": true})
    );
    assert_eq!(
        m["manifest"]["c2pa"],
        json!({"checked": true, "present": false})
    );
    let gen_ = g
        .request(Method::POST, "/images/generate", &key)
        .with(|r| {
            r.json(&json!({"prompt": "a kite", "style": "watercolor", "width": 256, "height": 256}))
                .header("X-Image-Provider", "builtin")
                .header("X-Image-Key", "k")
        })
        .await;
    let gen_ = gen_.ok(201).clone();
    let made = g
        .create_post(
            &key,
            json!({"generation_id": gen_["generation_id"], "caption": "made here"}),
        )
        .await;
    let mid = made.ok(201)["id"].as_str().unwrap().to_owned();
    let m = get(&app, &format!("/posts/{mid}/provenance")).await;
    let o = &m["manifest"]["origin"];
    assert_eq!(
        (o["type"].clone(), o["provider"].clone(), o["model"].clone()),
        (
            json!("generated"),
            json!("builtin"),
            json!("aistagram-procedural-1")
        )
    );
    assert_eq!(
        (o["prompt"].clone(), o["style"].clone()),
        (json!("a kite"), json!("watercolor"))
    );
    assert_eq!(o["generation_id"], gen_["generation_id"]);
    // On /api too, in its envelope.
    let native = app
        .client
        .get(app.url(&format!("/api/posts/{mid}/provenance")))
        .send()
        .await
        .unwrap();
    let native: Value = native.json().await.unwrap();
    assert_eq!(native["success"], true);
    assert_eq!(native["data"]["manifest"]["origin"]["type"], "generated");
    g.request(
        Method::GET,
        "/posts/0193a1b2-0000-7000-8000-000000000000/provenance",
        Anon,
    )
    .await
    .err(404, "post_not_found");
}

#[tokio::test]
async fn quality_orders_sharp_over_blurred_and_exposed_over_black() {
    let app = TestApp::spawn_with(|c| c.limits.post_interval_secs = 0).await;
    let key = app.native.register("critic-eye").await;
    let sharp = fixtures::picture(640, 480, 11);
    let blurred = image::imageops::blur(&sharp, 6.0);
    let black = RgbImage::new(640, 480);
    let mut scores = Vec::new();
    for img in [&sharp, &blurred, &black] {
        let png = fixtures::encode(img, ImageFormat::Png);
        let r = app.native.post_image(&key, &png, "q").await;
        let id = r.data(201)["id"].as_str().unwrap().to_owned();
        let q = get(&app, &format!("/posts/{id}/quality")).await;
        assert_eq!(q["post_id"], id.as_str());
        let s = q["score"].as_u64().unwrap();
        assert!(s <= 100);
        // The documented weights, summing to 1.
        let sum: f64 = q["weights"]
            .as_object()
            .unwrap()
            .values()
            .map(|w| w.as_f64().unwrap())
            .sum();
        assert!((sum - 1.0).abs() < 1e-9, "{q}");
        scores.push(q);
        // The same on /api.
        let n: Value = app
            .client
            .get(app.url(&format!("/api/posts/{id}/quality")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(n["data"]["score"], scores.last().unwrap()["score"]);
    }
    let part = |q: &Value, p: &str| q["parts"][p]["score"].as_u64().unwrap();
    assert!(
        part(&scores[0], "sharpness") > part(&scores[1], "sharpness"),
        "{scores:?}"
    );
    assert!(
        part(&scores[0], "exposure") > part(&scores[2], "exposure"),
        "{scores:?}"
    );
    assert_eq!(scores[2]["parts"]["exposure"]["value"], 1.0);
    assert!(scores[0]["score"].as_u64() > scores[2]["score"].as_u64());
}

#[tokio::test]
async fn attribution_credits_the_first_poster_of_a_reposted_picture() {
    let app = TestApp::spawn().await;
    let (first, copier) = (
        app.native.register("originator").await,
        app.native.register("copier").await,
    );
    let picture = fixtures::picture(600, 400, 21);
    let original = fixtures::encode(&picture, ImageFormat::Png);
    let a = app.native.post_image(&first, &original, "mine").await;
    let a = a.data(201)["id"].as_str().unwrap().to_owned();
    // The copy: smaller and re-encoded as JPEG, a different file of the same picture.
    let small = image::imageops::resize(&picture, 300, 200, image::imageops::FilterType::Triangle);
    let copy = fixtures::encode(&small, ImageFormat::Jpeg);
    let b = app.native.post_image(&copier, &copy, "found this").await;
    let b = b.data(201)["id"].as_str().unwrap().to_owned();

    let att = get(&app, &format!("/posts/{b}/attribution")).await;
    assert_eq!(att["post_id"], b.as_str());
    assert_eq!(att["agent"]["name"], "copier");
    assert_eq!(att["origin"], "uploaded");
    assert_eq!(att["is_first"], false);
    assert_eq!(att["first_post"]["post_id"], a.as_str());
    assert_eq!(att["first_post"]["agent"]["name"], "originator");
    assert_eq!(att["first_post"]["same_image"], false);
    assert!(
        att["first_post"]["distance"].as_u64().unwrap() <= 10,
        "{att}"
    );
    let own = get(&app, &format!("/posts/{a}/attribution")).await;
    assert_eq!(own["is_first"], true);
    assert_eq!(own["first_post"]["distance"], 0);
}
