//! How media bytes go out: the original answers `Range` requests (with `If-Range`), the WebP
//! variants go out whole with an exact length, and a deleted image is gone at once even when its
//! bytes were just served from memory.

use crate::fixtures;
use crate::harness::TestApp;

async fn get(app: &TestApp, url: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut req = app.client.get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.expect("sent")
}

#[tokio::test]
async fn the_original_answers_single_byte_ranges() {
    let app = TestApp::spawn().await;
    let key = app.native.register("ranger").await;
    let r = app
        .native
        .post_image(&key, &fixtures::jpeg(640, 480, 7), "ranges")
        .await;
    let url = r.data(201)["original_url"].as_str().unwrap().to_owned();
    let whole = get(&app, &url, &[]).await;
    assert_eq!(whole.status().as_u16(), 200);
    assert_eq!(whole.headers()["accept-ranges"], "bytes");
    let etag = whole.headers()["etag"].to_str().unwrap().to_owned();
    let all = whole.bytes().await.unwrap();
    let len = all.len();
    assert!(len > 100, "{len}");

    let part = get(&app, &url, &[("range", "bytes=0-9")]).await;
    assert_eq!(part.status().as_u16(), 206);
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 0-9/{len}").as_str()
    );
    assert_eq!(part.headers()["content-length"], "10");
    assert_eq!(part.headers()["content-type"], "image/jpeg");
    assert_eq!(part.bytes().await.unwrap(), all.slice(0..10));

    let tail = get(&app, &url, &[("range", "bytes=-16")]).await;
    assert_eq!(tail.status().as_u16(), 206);
    assert_eq!(tail.bytes().await.unwrap(), all.slice(len - 16..));

    let from = get(&app, &url, &[("range", "bytes=100-")]).await;
    assert_eq!(from.status().as_u16(), 206);
    assert_eq!(from.bytes().await.unwrap(), all.slice(100..));

    let past = get(&app, &url, &[("range", &format!("bytes={len}-"))]).await;
    assert_eq!(past.status().as_u16(), 416);
    assert_eq!(
        past.headers()["content-range"],
        format!("bytes */{len}").as_str()
    );

    // A range of another version is not applied: the whole current file comes back.
    let stale = get(
        &app,
        &url,
        &[("range", "bytes=0-9"), ("if-range", "\"other\"")],
    )
    .await;
    assert_eq!(stale.status().as_u16(), 200);
    assert_eq!(stale.bytes().await.unwrap().len(), len);
    let same = get(&app, &url, &[("range", "bytes=0-9"), ("if-range", &etag)]).await;
    assert_eq!(same.status().as_u16(), 206);
    // Several ranges at once: the whole file, as RFC 9110 allows.
    let multi = get(&app, &url, &[("range", "bytes=0-1,5-6")]).await;
    assert_eq!(multi.status().as_u16(), 200);
    assert_eq!(multi.bytes().await.unwrap().len(), len);
}

#[tokio::test]
async fn a_deleted_image_is_gone_at_once_even_from_memory() {
    let app = TestApp::spawn().await;
    let key = app.native.register("eraser").await;
    let r = app
        .native
        .post_image(&key, &fixtures::png(300, 200, 3), "soon gone")
        .await;
    let post = r.data(201)["id"].as_str().unwrap().to_owned();
    let feed = r.data(201)["image_url"].as_str().unwrap().to_owned();
    let thumb = r.data(201)["thumbnail_url"].as_str().unwrap().to_owned();
    for _ in 0..3 {
        // Served whole: the length says so, and the body matches it.
        let res = get(&app, &feed, &[]).await;
        assert_eq!(res.status().as_u16(), 200);
        assert_eq!(res.headers()["content-type"], "image/webp");
        let len: usize = res.headers()["content-length"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(res.bytes().await.unwrap().len(), len);
        assert_eq!(get(&app, &thumb, &[]).await.status().as_u16(), 200);
    }
    app.native.delete_post(&key, &post).await.data(200);
    for url in [&feed, &thumb] {
        let res = get(&app, url, &[]).await;
        assert_eq!(
            res.status().as_u16(),
            404,
            "{url} after its post was deleted"
        );
    }
}

#[tokio::test]
async fn an_image_used_twice_stays_served_until_its_last_post_goes() {
    let app = TestApp::spawn().await;
    let key = app.native.register("twice").await;
    let image = fixtures::png(200, 200, 9);
    let a = app.native.post_image(&key, &image, "one").await;
    let b = app.native.post_image(&key, &image, "two").await;
    let (a, b) = (a.data(201).clone(), b.data(201).clone());
    let feed = a["image_url"].as_str().unwrap().to_owned();
    assert_eq!(
        feed,
        b["image_url"].as_str().unwrap(),
        "one image, stored once"
    );
    assert_eq!(get(&app, &feed, &[]).await.status().as_u16(), 200);
    let del = |id: &str| app.native.delete_post(&key, id);
    del(a["id"].as_str().unwrap()).await.data(200);
    assert_eq!(
        get(&app, &feed, &[]).await.status().as_u16(),
        200,
        "still used"
    );
    del(b["id"].as_str().unwrap()).await.data(200);
    assert_eq!(get(&app, &feed, &[]).await.status().as_u16(), 404);
}
