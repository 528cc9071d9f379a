//! Images: the three ways in, the served variants and their headers, hostile inputs, SSRF, EXIF.

use reqwest::header::HeaderMap;
use reqwest::multipart;
use serde_json::{Value, json};

use crate::clients::{Anon, Res};
use crate::fixtures::{self, Serve, image_server};
use crate::harness::{TestApp, media_hash};

fn lan(cfg: &mut aistagram::Config) {
    cfg.media.allow_private_fetch = true;
}

async fn fetch_variant(app: &TestApp, url: &str) -> (u16, HeaderMap, Vec<u8>) {
    let r = app.client.get(url).send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.bytes().await.unwrap().to_vec())
}

fn dims(webp: &[u8]) -> (u32, u32) {
    let img = image::load_from_memory_with_format(webp, image::ImageFormat::WebP)
        .expect("a decodable WebP");
    (img.width(), img.height())
}

/// Checks every header a served variant must carry and returns the decoded dimensions.
async fn check_variant(app: &TestApp, url: &str, content_type: &str) -> Vec<u8> {
    let (status, h, body) = fetch_variant(app, url).await;
    assert_eq!(status, 200, "{url}");
    assert_eq!(h["content-type"], content_type, "{url}");
    assert_eq!(
        h["content-length"].to_str().unwrap(),
        body.len().to_string()
    );
    assert_eq!(h["cache-control"], "public, max-age=31536000, immutable");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["content-security-policy"], "default-src 'none'; sandbox");
    let etag = h["etag"].to_str().unwrap().to_owned();
    assert!(
        etag.starts_with('"') && !etag.starts_with("W/"),
        "strong ETag: {etag}"
    );
    // Conditional requests and HEAD.
    let cached = app
        .client
        .get(url)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status().as_u16(), 304);
    assert_eq!(cached.headers()["etag"], etag.as_str());
    let head = app.client.head(url).send().await.unwrap();
    assert_eq!(head.status().as_u16(), 200);
    assert_eq!(
        head.headers()["content-length"].to_str().unwrap(),
        body.len().to_string()
    );
    assert!(head.bytes().await.unwrap().is_empty());
    body
}

#[tokio::test]
async fn posting_by_url_base64_and_multipart_each_yields_served_variants() {
    let app = TestApp::spawn_with(lan).await;
    let key = app.native.register("imager").await;
    let photo = fixtures::jpeg(1600, 1200, 7);
    let host = image_server(
        [127, 0, 0, 1],
        vec![("/photo.jpg", Serve::Bytes("image/jpeg", photo))],
    )
    .await;

    // 1. By URL: the server fetches and re-hosts it.
    let url = format!("{host}/photo.jpg");
    let r = app
        .native
        .create_post(&key, json!({"image_url": url, "caption": "fetched"}))
        .await;
    let p = r.data(201).clone();
    assert_eq!(
        (p["width"].clone(), p["height"].clone()),
        (json!(1600), json!(1200))
    );
    assert_eq!(p["source_url"], json!(url));
    assert!(p["blurhash"].as_str().unwrap().len() >= 6);
    assert!(
        p["image_url"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{}/media/", app.base))
    );
    let feed = check_variant(&app, p["image_url"].as_str().unwrap(), "image/webp").await;
    assert_eq!(dims(&feed), (1080, 810));
    let full = check_variant(&app, p["full_image_url"].as_str().unwrap(), "image/webp").await;
    assert_eq!(dims(&full), (1600, 1200));
    let thumb = check_variant(&app, p["thumbnail_url"].as_str().unwrap(), "image/webp").await;
    assert_eq!(dims(&thumb), (150, 150));
    check_variant(&app, p["original_url"].as_str().unwrap(), "image/jpeg").await;

    // 2. By base64 (a data: URL here): an image smaller than the feed size is never upscaled.
    let png = fixtures::png(800, 600, 8);
    let r = app
        .native
        .create_post(
            &key,
            json!({"image_b64": format!("data:image/png;base64,{}", fixtures::b64(&png)), "caption": "inline"}),
        )
        .await;
    let p = r.data(201).clone();
    assert_eq!(p["source_url"], json!(null));
    let feed = check_variant(&app, p["image_url"].as_str().unwrap(), "image/webp").await;
    assert_eq!(dims(&feed), (800, 600));
    let full = check_variant(&app, p["full_image_url"].as_str().unwrap(), "image/webp").await;
    assert_eq!(dims(&full), (800, 600));
    check_variant(&app, p["original_url"].as_str().unwrap(), "image/png").await;

    // 3. By multipart upload, with the other fields as form fields.
    let form = multipart::Form::new()
        .part(
            "file",
            multipart::Part::bytes(fixtures::transparent_png(300, 500)).file_name("x.png"),
        )
        .text("caption", "uploaded #multipart")
        .text("category", "aesthetic")
        .text("tags", "one,two")
        .text("is_nsfw", "true");
    let r = app.native.create_post_form(&key, form).await;
    let p = r.data(201).clone();
    assert_eq!(p["category"], json!("aesthetic"));
    // Explicit tags first, then the caption's hashtags.
    assert_eq!(p["tags"], json!(["one", "two", "multipart"]));
    assert_eq!(p["is_nsfw"], json!(true));
    let thumb = check_variant(&app, p["thumbnail_url"].as_str().unwrap(), "image/webp").await;
    assert_eq!(dims(&thumb), (150, 150));
    let decoded = image::load_from_memory(&thumb).unwrap();
    assert!(decoded.color().has_alpha(), "transparency survives");
}

#[tokio::test]
async fn the_same_bytes_uploaded_twice_are_stored_once() {
    let app = TestApp::spawn_with(crate::harness::on_disk).await;
    let a = app.native.register("first_up").await;
    let b = app.native.register("second_up").await;
    let png = fixtures::png(400, 300, 11);
    let one = app.native.post_image(&a, &png, "1").await;
    let two = app.native.post_image(&b, &png, "2").await;
    let (one, two) = (one.data(201).clone(), two.data(201).clone());
    assert_ne!(one["id"], two["id"]);
    assert_eq!(one["image_url"], two["image_url"]);
    let hash = media_hash(one["image_url"].as_str().unwrap());
    let media = app.dir.as_ref().unwrap().path().join("media");
    let folders: Vec<_> = std::fs::read_dir(media.join(&hash[..2]))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(folders.len(), 1, "{folders:?}");
}

async fn assert_refused(app: &TestApp, key: &str, bytes: &[u8], status: u16, code: &str) -> Res {
    let r = app.native.post_image(key, bytes, "bad").await;
    r.err(status, code);
    r
}

#[tokio::test]
async fn hostile_and_broken_files_are_refused_and_leave_nothing_behind() {
    let app = TestApp::spawn().await;
    let key = app.native.register("hostile").await;
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>"#;
    let r = assert_refused(&app, &key, svg, 415, "UNSUPPORTED_MEDIA_TYPE").await;
    let msg = r.body["error"].as_str().unwrap();
    assert!(
        ["JPEG", "PNG", "WebP", "GIF", "AVIF"]
            .iter()
            .all(|f| msg.contains(f)),
        "{msg}"
    );
    assert_refused(
        &app,
        &key,
        b"<!doctype html><script>alert(1)</script>",
        415,
        "UNSUPPORTED_MEDIA_TYPE",
    )
    .await;
    assert_refused(
        &app,
        &key,
        b"plain text, not a picture",
        415,
        "UNSUPPORTED_MEDIA_TYPE",
    )
    .await;
    // An AVIF header with no image behind it.
    assert_refused(
        &app,
        &key,
        b"\0\0\0\x1cftypavif\0\0\0\0avifmif1",
        422,
        "INVALID_IMAGE",
    )
    .await;
    // A GIF89a header followed by HTML: a polyglot that is no image.
    assert_refused(
        &app,
        &key,
        b"GIF89a\x10\x00\x10\x00\x00\x00\x00<html><script>alert(1)</script></html>",
        422,
        "INVALID_IMAGE",
    )
    .await;
    let png = fixtures::png(200, 200, 3);
    assert_refused(&app, &key, &png[..png.len() / 2], 422, "INVALID_IMAGE").await;
    let mut corrupt = fixtures::jpeg(200, 200, 3);
    let mid = corrupt.len() / 2;
    corrupt.truncate(mid);
    assert_refused(&app, &key, &corrupt, 422, "INVALID_IMAGE").await;
    // Decompression bombs and oversized images are refused from the header alone.
    let bomb = fixtures::png_bomb(100_000, 100_000);
    assert!(bomb.len() < 100);
    let r = assert_refused(&app, &key, &bomb, 422, "IMAGE_TOO_LARGE").await;
    assert!(r.body["error"].as_str().unwrap().contains("100000×100000"));
    assert_refused(
        &app,
        &key,
        &fixtures::png_bomb(9000, 10),
        422,
        "IMAGE_TOO_LARGE",
    )
    .await;
    assert_refused(
        &app,
        &key,
        &fixtures::png_bomb(7000, 7000),
        422,
        "IMAGE_TOO_LARGE",
    )
    .await;
    // Over the byte limit.
    let mut huge = fixtures::png(8, 8, 1);
    huge.resize(11 * 1024 * 1024, 0);
    assert_refused(&app, &key, &huge, 413, "UPLOAD_TOO_LARGE").await;
    assert_refused(&app, &key, b"", 400, "IMAGE_REQUIRED").await;

    let feed = app.native.feed("sort=new", Anon).await;
    assert_eq!(feed.data(200)["posts"], json!([]));
    let media = app.dir.as_ref().unwrap().path().join("media");
    let leftovers = crate::harness::files_under(&media);
    assert!(leftovers.is_empty(), "files left behind: {leftovers:?}");
}

#[tokio::test]
async fn urls_pointing_inside_the_network_are_refused() {
    let app = TestApp::spawn().await;
    let key = app.native.register("ssrf_probe").await;
    let png = fixtures::png(64, 64, 5);
    let host = image_server(
        [127, 0, 0, 1],
        vec![("/x.png", Serve::Bytes("image/png", png))],
    )
    .await;
    let port = host.rsplit(':').next().unwrap();
    for url in [
        format!("{host}/x.png"),
        format!("http://localhost:{port}/x.png"),
        format!("http://LOCALHOST.:{port}/x.png"),
        format!("http://[::1]:{port}/x.png"),
        format!("http://[::ffff:127.0.0.1]:{port}/x.png"),
        format!("http://2130706433:{port}/x.png"),
        format!("http://0x7f.1:{port}/x.png"),
        format!("http://127.1:{port}/x.png"),
        "http://10.0.0.1/x.png".to_owned(),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://[fd00::1]/x.png".to_owned(),
        "http://100.64.0.1/x.png".to_owned(),
        "http://0.0.0.0/x.png".to_owned(),
        "gopher://example.com/x".to_owned(),
    ] {
        let r = app
            .native
            .create_post(&key, json!({"image_url": url, "caption": "probe"}))
            .await;
        r.err(400, "FORBIDDEN_URL");
    }
}

#[tokio::test]
async fn redirects_are_checked_at_every_hop_and_fetch_failures_say_why() {
    // Private fetches allowed (the test servers live on loopback), but 127.0.0.2 stays denied: the
    // checker runs on real sockets.
    let app = TestApp::spawn_with(|c| {
        c.media.allow_private_fetch = true;
        c.media.deny_networks = vec!["127.0.0.2/32".parse().unwrap()];
        c.media.fetch_timeout_secs = 3;
    })
    .await;
    let key = app.native.register("redirected").await;
    let png = fixtures::png(64, 64, 6);
    let denied = image_server(
        [127, 0, 0, 2],
        vec![("/x.png", Serve::Bytes("image/png", png.clone()))],
    )
    .await;
    let hop = |to: &str| Serve::Redirect(to.to_owned());
    let allowed = image_server(
        [127, 0, 0, 1],
        vec![
            ("/x.png", Serve::Bytes("image/png", png)),
            ("/to-denied", hop(&format!("{denied}/x.png"))),
            ("/to-ok", hop("/x.png")),
            ("/r1", hop("/r2")),
            ("/r2", hop("/r3")),
            ("/r3", hop("/r4")),
            ("/r4", hop("/x.png")),
            ("/missing", Serve::Status(404)),
            (
                "/text",
                Serve::Bytes("image/png", b"<html>not an image</html>".to_vec()),
            ),
        ],
    )
    .await;
    let post = |path: String| {
        let app = &app;
        let key = key.clone();
        async move {
            app.native
                .create_post(&key, json!({"image_url": path, "caption": "hop"}))
                .await
        }
    };
    post(format!("{denied}/x.png"))
        .await
        .err(400, "FORBIDDEN_URL");
    post(format!("{allowed}/to-denied"))
        .await
        .err(400, "FORBIDDEN_URL");
    let ok = post(format!("{allowed}/to-ok")).await;
    assert_eq!(
        ok.data(201)["source_url"],
        json!(format!("{allowed}/x.png"))
    );
    // Three redirects are followed, a fourth is not.
    post(format!("{allowed}/r2")).await.data(201);
    let r = post(format!("{allowed}/r1")).await;
    assert!(
        r.err(422, "IMAGE_FETCH_FAILED")["error"]
            .as_str()
            .unwrap()
            .contains("redirect")
    );
    let r = post(format!("{allowed}/missing")).await;
    assert!(
        r.err(422, "IMAGE_FETCH_FAILED")["error"]
            .as_str()
            .unwrap()
            .contains("404")
    );
    // The declared type means nothing: the bytes are sniffed.
    post(format!("{allowed}/text"))
        .await
        .err(415, "UNSUPPORTED_MEDIA_TYPE");
    // Nothing listens on port 9 of loopback.
    post("http://127.0.0.1:9/x.png".to_owned())
        .await
        .err(422, "IMAGE_FETCH_FAILED");
}

#[tokio::test]
async fn exif_orientation_is_applied_and_no_metadata_reaches_the_variants() {
    let app = TestApp::spawn().await;
    let key = app.native.register("camera").await;
    let jpeg = fixtures::jpeg_with_exif(300, 200);
    assert!(
        jpeg.windows(fixtures::GPS_MARKER.len())
            .any(|w| w == fixtures::GPS_MARKER)
    );
    let r = app.native.post_image(&key, &jpeg, "rotated").await;
    let p = r.data(201).clone();
    // Orientation 6: the 300×200 landscape displays as a 200×300 portrait, left half on top.
    assert_eq!(
        (p["width"].clone(), p["height"].clone()),
        (json!(200), json!(300))
    );
    for key in [
        "image_url",
        "full_image_url",
        "thumbnail_url",
        "original_url",
    ] {
        let (_, _, body) = fetch_variant(&app, p[key].as_str().unwrap()).await;
        for marker in [fixtures::GPS_MARKER, fixtures::CAMERA_MARKER] {
            assert!(
                !body.windows(marker.len()).any(|w| w == marker),
                "{key} leaks metadata"
            );
        }
    }
    let (_, _, feed) = fetch_variant(&app, p["image_url"].as_str().unwrap()).await;
    let img = image::load_from_memory(&feed).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (200, 300));
    let top = img.get_pixel(100, 40);
    let bottom = img.get_pixel(100, 260);
    assert!(top[0] > 150 && top[2] < 100, "top should be red: {top:?}");
    assert!(
        bottom[2] > 150 && bottom[0] < 100,
        "bottom should be blue: {bottom:?}"
    );
}

#[tokio::test]
async fn resized_re_encodes_are_found_as_duplicates() {
    let app = TestApp::spawn().await;
    let key = app.native.register("reposter").await;
    let post = |bytes: Vec<u8>, caption: &'static str| {
        let app = &app;
        let key = key.clone();
        async move {
            let r = app.native.post_image(&key, &bytes, caption).await;
            r.data(201)["id"].as_str().unwrap().to_owned()
        }
    };
    let original = post(fixtures::png(1200, 900, 21), "original").await;
    let resized = post(fixtures::jpeg(600, 450, 21), "resized jpeg").await;
    let other = post(fixtures::png(1200, 900, 99), "different picture").await;
    let r = app.native.duplicates(&original).await;
    let found: Vec<Value> = r.data(200)["duplicates"].as_array().unwrap().clone();
    let ids: Vec<&str> = found
        .iter()
        .map(|d| d["post"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [resized.as_str()], "{found:?}");
    assert!(found[0]["distance"].as_u64().unwrap() <= 10);
    let r = app.native.duplicates(&other).await;
    assert_eq!(r.data(200)["duplicates"], json!([]));
    app.native
        .duplicates("not-a-post")
        .await
        .err(404, "POST_NOT_FOUND");
}

#[tokio::test]
async fn unknown_media_is_a_404() {
    let app = TestApp::spawn().await;
    let zeros = "0".repeat(64);
    for path in [
        format!("/media/{zeros}/feed"),
        format!("/media/{zeros}/secret"),
        "/media/../../etc/passwd/feed".to_owned(),
        "/media/abc/feed".to_owned(),
    ] {
        let (status, _, _) = fetch_variant(&app, &app.url(&path)).await;
        assert_eq!(status, 404, "{path}");
    }
}

fn animated_gif(frames: u8) -> Vec<u8> {
    let mut gif = Vec::new();
    {
        let mut enc = image::codecs::gif::GifEncoder::new(&mut gif);
        for i in 0..frames {
            let frame = image::RgbaImage::from_fn(64, 40, |x, _| {
                if x < 32 {
                    image::Rgba([i * 60, 200, 40, 255])
                } else {
                    image::Rgba([10, 10, 10, 255])
                }
            });
            enc.encode_frame(image::Frame::new(frame)).unwrap();
        }
    }
    gif
}

#[tokio::test]
async fn animated_gifs_and_webp_are_accepted_and_frames_are_capped() {
    let app = TestApp::spawn_with(|c| c.media.max_frames = 3).await;
    let key = app.native.register("animator").await;
    let r = app.native.post_image(&key, &animated_gif(3), "gif").await;
    let p = r.data(201).clone();
    assert_eq!(
        (p["width"].clone(), p["height"].clone()),
        (json!(64), json!(40))
    );
    let thumb = check_variant(&app, p["thumbnail_url"].as_str().unwrap(), "image/webp").await;
    assert_eq!(dims(&thumb), (40, 40), "a thumbnail is never upscaled");
    check_variant(&app, p["original_url"].as_str().unwrap(), "image/gif").await;
    assert_refused(&app, &key, &animated_gif(4), 422, "IMAGE_TOO_LARGE").await;

    let webp = fixtures::encode(&fixtures::picture(300, 200, 4), image::ImageFormat::WebP);
    let r = app.native.post_image(&key, &webp, "webp").await;
    let p = r.data(201).clone();
    check_variant(&app, p["original_url"].as_str().unwrap(), "image/webp").await;
}
