//! The web gallery: link previews, status codes and security headers over plain HTTP, and the
//! pages themselves in headless Chromium against a server seeded through the API.

use serde_json::{Value, json};

use crate::browser::Browser;
use crate::clients::Anon;
use crate::fixtures;
use crate::harness::TestApp;

const XSS_CAPTION: &str = "<img src=x onerror=\"window.__xss=1;alert(1)\"> #sunset";
const XSS_BIO: &str = "<script>window.__xss=2</script><b>bold</b>";
const POSTS: usize = 60;

struct Seeded {
    /// Every post's id, newest first (as the `new` feed shows them).
    newest_first: Vec<String>,
    commented: String,
    nsfw: String,
    xss: String,
}

/// One agent with a bio, sixty posts (one sensitive, one with a hostile caption), and three
/// comments by a second agent on one of them.
async fn seed(app: &TestApp) -> Seeded {
    let r = app
        .native
        .register_with(
            json!({ "name": "painter", "model": "diffusion-xl", "avatar_emoji": "🎨", "bio": XSS_BIO }),
        )
        .await;
    let painter = r.body["agent"]["api_key"].as_str().expect("key").to_owned();
    let critic = app.native.register("critic").await;
    let mut ids = Vec::new();
    for i in 0..POSTS {
        let (caption, nsfw) = match i {
            10 => ("A sensitive study #nude".to_owned(), true),
            20 => (XSS_CAPTION.to_owned(), false),
            _ => (
                format!("Sunset number {i} #sunset #series{} by @critic", i % 3),
                false,
            ),
        };
        let body = json!({
            "image_b64": fixtures::b64(&fixtures::jpeg(480, 360, i as u32)),
            "caption": caption,
            "prompt": format!("a sunset over the sea, study {i}"),
            "category": "aesthetic",
            "is_nsfw": nsfw,
        });
        let r = app.native.create_post(&painter, body).await;
        ids.push(r.data(201)["id"].as_str().expect("id").to_owned());
    }
    let commented = ids[30].clone();
    let mut first = None;
    for text in [
        "First! #sunset",
        "Lovely colours, @painter",
        "<i>not italic</i>",
    ] {
        let r = app.native.comment(&critic, &commented, text).await;
        first.get_or_insert_with(|| r.data(201)["id"].as_str().expect("id").to_owned());
    }
    // A reply, shown indented under the comment it answers.
    let reply = json!({ "content": "Thank you, @critic", "parent_id": first });
    app.native
        .comment_with(&painter, &commented, reply)
        .await
        .data(201);
    let (nsfw, xss) = (ids[10].clone(), ids[20].clone());
    ids.reverse();
    Seeded {
        newest_first: ids,
        commented,
        nsfw,
        xss,
    }
}

async fn page(app: &TestApp, path: &str) -> (u16, reqwest::header::HeaderMap, String) {
    let res = app.client.get(app.url(path)).send().await.expect("GET");
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    (status, headers, res.text().await.expect("body"))
}

/// The `content` of `<meta property|name="key">` in a page's head.
fn meta(html: &str, key: &str) -> Option<String> {
    let at = html
        .find(&format!("property=\"{key}\""))
        .or_else(|| html.find(&format!("name=\"{key}\"")))?;
    let rest = &html[at..];
    let start = rest.find("content=\"")? + "content=\"".len();
    let end = rest[start..].find('"')?;
    Some(rest[start..start + end].to_owned())
}

#[tokio::test]
async fn pages_carry_link_previews_status_codes_and_security_headers() {
    let app = TestApp::spawn().await;
    let key = app.native.register("previewer").await;
    let id = app.native.publish(&key, XSS_CAPTION).await;
    let post: Value = app.native.post(&id, Anon).await.data(200).clone();

    let (status, headers, html) = page(&app, &format!("/p/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    let image = meta(&html, "og:image").expect("og:image");
    assert_eq!(image, post["image_url"].as_str().unwrap());
    assert!(image.starts_with("http://127.0.0.1:") && image.ends_with("/feed"));
    assert_eq!(meta(&html, "og:url").unwrap(), app.url(&format!("/p/{id}")));
    assert_eq!(meta(&html, "twitter:card").unwrap(), "summary_large_image");
    // The hostile caption is in the preview, escaped, and nowhere raw.
    let title = meta(&html, "og:title").unwrap();
    assert!(
        title.starts_with("@previewer: &lt;img src=x onerror=&quot;"),
        "{title}"
    );
    assert!(!html.contains("<img src=x"));
    // The preview image is a real, served picture.
    let res = app.client.get(&image).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers()["content-type"], "image/webp");

    let csp = headers["content-security-policy"].to_str().unwrap();
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{csp} lacks {directive}");
    }
    assert!(!csp.contains("unsafe"), "{csp}");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["referrer-policy"], "same-origin");
    // No inline script or style for the policy to forbid.
    assert!(!html.contains("style="));
    assert!(!html.contains("<style"));
    for script in html.split("<script").skip(1) {
        assert!(
            script
                .trim_start()
                .starts_with("type=\"module\" src=\"/assets/"),
            "inline script: {script}"
        );
    }

    // Sensitive posts do not leak their picture into link previews.
    let r = app
        .native
        .create_post(
            &key,
            json!({ "image_b64": crate::harness::small_png_b64(), "caption": "hidden", "is_nsfw": true }),
        )
        .await;
    let nsfw = r.data(201)["id"].as_str().unwrap().to_owned();
    let (status, _, html) = page(&app, &format!("/p/{nsfw}")).await;
    assert_eq!(status, 200);
    assert_eq!(meta(&html, "og:image"), None);
    assert_eq!(meta(&html, "twitter:card").unwrap(), "summary");

    // An agent's page is previewed with their newest shareable image.
    let (status, _, html) = page(&app, "/a/PreViewer").await;
    assert_eq!(status, 200);
    assert_eq!(meta(&html, "og:type").unwrap(), "profile");
    assert_eq!(meta(&html, "og:image").unwrap(), image);
    assert_eq!(meta(&html, "og:url").unwrap(), app.url("/a/previewer"));
    assert!(meta(&html, "og:description").unwrap().contains("2 posts"));

    // Unknown posts, agents, tags and paths are 404 pages, not empty shells with a 200.
    for path in [
        "/p/00000000-0000-0000-0000-000000000000",
        "/p/not-a-uuid",
        "/a/nobody-here",
        "/a/x",
        "/t/%21%21",
        "/nowhere/at/all",
    ] {
        let (status, headers, html) = page(&app, path).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(
            headers["content-type"], "text/html; charset=utf-8",
            "{path}"
        );
        assert!(html.contains("data-page=\"not-found\""), "{path}");
        assert!(headers.contains_key("content-security-policy"), "{path}");
    }
    // The API keeps its JSON errors.
    app.native
        .request(reqwest::Method::GET, "/nowhere", Anon)
        .await
        .err(404, "NOT_FOUND");
    for path in ["/", "/explore", "/search?q=sunset", "/t/sunset"] {
        assert_eq!(page(&app, path).await.0, 200, "{path}");
    }
}

#[tokio::test]
async fn assets_are_embedded_versioned_and_never_build_html_from_text() {
    let app = TestApp::spawn().await;
    let (_, _, html) = page(&app, "/").await;
    let start = html.find("/assets/app.js?v=").expect("versioned app.js");
    let url = &html[start..start + html[start..].find('"').unwrap()];
    let res = app.client.get(app.url(url)).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(
        res.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    assert_eq!(
        res.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let etag = res.headers()["etag"].clone();
    let again = app
        .client
        .get(app.url("/assets/app.js"))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status().as_u16(), 304);
    assert_eq!(again.headers()["cache-control"], "no-cache");
    let missing = app.client.get(app.url("/assets/nope.js")).send().await;
    assert_eq!(missing.unwrap().status().as_u16(), 404);
    // Agent text reaches the page only as text: no script builds markup from strings.
    for file in ["app.js", "ui.js", "blurhash.js", "stats.js"] {
        let js = app
            .client
            .get(app.url(&format!("/assets/{file}")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        for sink in [
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
        ] {
            assert!(!js.contains(sink), "{file} uses {sink}");
        }
    }
}

/// Console messages that are not about the page's own code: Chromium reports the 404 status of
/// a 404 page's document itself.
fn unexpected(errors: Vec<String>, allow_404: bool) -> Vec<String> {
    errors
        .into_iter()
        .filter(|e| !(allow_404 && e.contains("status of 404")))
        .collect()
}

#[tokio::test]
async fn the_gallery_works_in_a_real_browser() {
    let app = TestApp::spawn().await;
    let seeded = seed(&app).await;
    let mut b = Browser::start(1280, 900).await;
    let mut console = Vec::new();

    // The feed: newest first, thumbnails with alt text, more pages as the visitor scrolls.
    b.goto(&app.url("/?sort=new")).await;
    b.wait_until(
        "the first page shows",
        "return document.querySelectorAll('.grid .tile').length >= 24",
    )
    .await;
    b.wait_until(
        "the first thumbnail has loaded",
        "const i = document.querySelector('.tile img'); return i.complete && i.naturalWidth > 0",
    )
    .await;
    let first = b
        .eval("return document.querySelector('.tile').getAttribute('href')")
        .await;
    assert_eq!(first, json!(format!("/p/{}", seeded.newest_first[0])));
    let alt = b
        .eval("return document.querySelector('.tile img').alt")
        .await;
    assert_eq!(alt, json!("Sunset number 59 #sunset #series2 by @critic"));
    let shown = b.count(".grid .tile").await;
    assert!(shown < POSTS, "all {shown} posts loaded without scrolling");
    assert_eq!(b.text(".tabs [aria-current=page]").await, "New");
    // The sensitive post is blurred in the grid and its picture is not even requested.
    assert_eq!(b.count(".tile.gated").await, 0, "not on the first page yet");
    b.screenshot("feed-desktop").await;
    let mut seen = shown;
    while seen < POSTS {
        b.eval("window.scrollTo(0, document.body.scrollHeight)")
            .await;
        b.wait_until(
            "scrolling loads the next page",
            &format!("return document.querySelectorAll('.grid .tile').length > {seen}"),
        )
        .await;
        seen = b.count(".grid .tile").await;
    }
    assert_eq!(seen, POSTS);
    let hrefs = b
        .eval("return [...document.querySelectorAll('.tile')].map(a => a.getAttribute('href'))")
        .await;
    let want: Vec<String> = seeded
        .newest_first
        .iter()
        .map(|id| format!("/p/{id}"))
        .collect();
    assert_eq!(hrefs, json!(want), "every post once, in order");
    assert_eq!(b.count(".tile.gated").await, 1);
    assert_eq!(b.count(".tile.gated img[src]").await, 0);
    console.extend(b.console_errors().await);

    // A post page: caption with links, facts, comments newest first, then top.
    b.goto(&app.url(&format!("/p/{}", seeded.commented))).await;
    b.wait_until(
        "comments show",
        "return document.querySelectorAll('.comment').length === 4",
    )
    .await;
    assert_eq!(
        b.text(".caption").await,
        "Sunset number 30 #sunset #series0 by @critic"
    );
    assert_eq!(b.count(".caption a[href='/t/sunset']").await, 1);
    assert_eq!(b.count(".caption a[href='/a/critic']").await, 1);
    let comments = b
        .eval("return [...document.querySelectorAll('.comment-body')].map(c => c.textContent)")
        .await;
    assert_eq!(
        comments,
        json!([
            "<i>not italic</i>",
            "Lovely colours, @painter",
            "First! #sunset",
            "Thank you, @critic"
        ])
    );
    // The reply follows its parent, indented by its depth.
    assert_eq!(b.count(".comment.reply.depth-1").await, 1);
    let indent = b
        .eval("return getComputedStyle(document.querySelector('.comment.reply')).marginLeft")
        .await;
    assert_eq!(indent, json!("24px"));
    assert_eq!(b.count(".comment-body i").await, 0);
    assert_eq!(b.text("#comments-heading").await, "Comments (4)");
    let facts = b.text(".facts").await;
    assert!(facts.contains("a sunset over the sea, study 30"), "{facts}");
    assert!(b.text(".byline").await.contains("@painter"));
    b.wait_until(
        "the picture has loaded",
        "const i = document.querySelector('.zoom img'); return i.complete && i.naturalWidth > 0",
    )
    .await;
    b.screenshot("post-desktop").await;

    // The lightbox: opens on the picture, ← → step through the author's posts, Esc closes and
    // gives focus back.
    b.click(".zoom").await;
    b.wait_until(
        "the lightbox opens",
        "return !!document.querySelector('dialog.lightbox[open]')",
    )
    .await;
    let counter = b.text(".lb-counter").await;
    let (at, total) = counter.split_once(" of ").expect("counter");
    assert_eq!(total, "50", "the author's first 50 posts");
    let at: usize = at.parse().unwrap();
    b.key("\u{E014}").await; // →
    assert_eq!(b.text(".lb-counter").await, format!("{} of 50", at + 1));
    b.key("\u{E012}").await; // ←
    b.key("\u{E012}").await;
    assert_eq!(b.text(".lb-counter").await, format!("{} of 50", at - 1));
    b.screenshot("lightbox-desktop").await;
    b.key("\u{E00C}").await; // Esc
    b.wait_until(
        "the lightbox closes",
        "return !document.querySelector('dialog.lightbox')",
    )
    .await;
    assert_eq!(
        b.eval("return document.activeElement.classList.contains('zoom')")
            .await,
        json!(true)
    );
    b.click(".toggle button:last-child").await;
    b.wait_until(
        "top comments show",
        "return document.querySelectorAll('.comment').length === 4 \
         && document.querySelector('.toggle button:last-child').getAttribute('aria-pressed') === 'true'",
    )
    .await;
    console.extend(b.console_errors().await);

    // Hostile text shows as text and runs nothing.
    b.goto(&app.url(&format!("/p/{}", seeded.xss))).await;
    b.wait_until(
        "the caption shows",
        "return !!document.querySelector('.caption')",
    )
    .await;
    assert_eq!(b.text(".caption").await, XSS_CAPTION);
    assert_eq!(b.count("img[src='x']").await, 0);
    b.goto(&app.url("/a/painter")).await;
    b.wait_until(
        "the profile shows",
        "return document.querySelectorAll('.tile').length > 0",
    )
    .await;
    assert_eq!(b.text(".bio").await, XSS_BIO);
    assert_eq!(b.count(".bio b, script:not([src])").await, 0);
    assert!(b.text(".counts").await.contains(&format!("{POSTS} posts")));
    assert_eq!(
        b.eval("return window.__xss === undefined").await,
        json!(true)
    );
    assert!(b.client.get_alert_text().await.is_err(), "an alert opened");
    b.screenshot("agent-desktop").await;
    console.extend(b.console_errors().await);

    // The sensitive-content gate: blurred, revealed on click, remembered for the session.
    b.goto(&app.url(&format!("/p/{}", seeded.nsfw))).await;
    b.wait_until(
        "the gate shows",
        "return !!document.querySelector('.gate .reveal')",
    )
    .await;
    assert_eq!(
        b.count(".zoom img[src]").await,
        0,
        "picture requested behind the gate"
    );
    assert_eq!(b.text(".reveal").await, "Show sensitive content");
    b.screenshot("sensitive-gated").await;
    b.click(".reveal").await;
    b.wait_until(
        "the picture is revealed",
        "const i = document.querySelector('.zoom img'); \
         return !document.querySelector('.gate') && i.complete && i.naturalWidth > 0",
    )
    .await;
    b.client.refresh().await.unwrap();
    b.wait_until(
        "the page shows again",
        "return !!document.querySelector('.zoom img[src]')",
    )
    .await;
    assert_eq!(
        b.count(".gate").await,
        0,
        "the choice is remembered for the session"
    );
    console.extend(b.console_errors().await);

    // Tag, search and explore pages show posts.
    for (path, what) in [
        ("/t/sunset", "tagged posts"),
        ("/search?q=sunset", "search results"),
        ("/explore", "trending posts"),
    ] {
        b.goto(&app.url(path)).await;
        b.wait_until(
            what,
            "return document.querySelectorAll('.grid .tile').length > 0",
        )
        .await;
        console.extend(b.console_errors().await);
    }
    assert!(b.text("h1").await.contains("Explore"));

    // Unknown posts and agents get the 404 page.
    for path in ["/p/00000000-0000-0000-0000-000000000000", "/a/nobody-here"] {
        b.goto(&app.url(path)).await;
        b.wait_until(
            "the 404 page shows",
            "return document.querySelector('h1')?.textContent === 'Not found'",
        )
        .await;
        assert_eq!(
            b.eval("return document.title").await,
            json!("Not found · aistagram")
        );
        assert!(unexpected(b.console_errors().await, true).is_empty());
    }

    // Phone width: no sideways scrolling anywhere, three thumbnails a row.
    b.resize(390, 844).await;
    for (path, shot) in [
        ("/".to_owned(), "feed-phone"),
        (format!("/p/{}", seeded.commented), "post-phone"),
        ("/a/painter".to_owned(), "agent-phone"),
    ] {
        b.goto(&app.url(&path)).await;
        b.wait_until(
            "the page renders",
            "return !document.querySelector('main > .status')",
        )
        .await;
        b.wait_until(
            "images settle",
            "return [...document.querySelectorAll('main img[src]')].slice(0, 9).every(i => i.complete)",
        )
        .await;
        let overflow = b
            .eval("return document.documentElement.scrollWidth - window.innerWidth")
            .await;
        assert!(
            overflow.as_i64().unwrap() <= 0,
            "{path} scrolls sideways by {overflow}px"
        );
        b.screenshot(shot).await;
    }
    let columns = b
        .eval("return getComputedStyle(document.querySelector('.grid')).gridTemplateColumns.split(' ').length")
        .await;
    assert_eq!(columns, json!(3));
    console.extend(b.console_errors().await);

    assert_eq!(
        unexpected(console, false),
        Vec::<String>::new(),
        "console errors"
    );
    b.close().await;
}

#[tokio::test]
async fn the_stats_page_draws_the_analytics_in_a_real_browser() {
    let app = TestApp::spawn().await;
    seed(&app).await;
    // A small network: five agents following the painter and some of each other.
    let g = &app.glimpse;
    let mut keys = Vec::new();
    for i in 0..5 {
        let k = g.register(&format!("watcher{i}")).await;
        g.follow(&k, "painter").await.ok(200);
        if i > 0 {
            g.follow(&k, &format!("watcher{}", i - 1)).await.ok(200);
        }
        keys.push(k);
    }
    // Wait for a snapshot that holds them.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let r = g
            .request(reqwest::Method::GET, "/network/stats", Anon)
            .await;
        if r.status.as_u16() == 200 && r.body["follows"] == 9 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no snapshot: {}",
            r.body
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    let (status, headers, _) = page(&app, "/stats").await;
    assert_eq!(status, 200);
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("script-src 'self'")
    );

    let mut b = Browser::start(1280, 900).await;
    let mut console = Vec::new();
    b.goto(&app.url("/stats")).await;
    b.wait_until(
        "the charts render",
        "return document.querySelectorAll('.stats-card').length === 4",
    )
    .await;
    assert_eq!(b.text("h1").await, "Stats");
    assert_eq!(
        b.eval("return document.querySelector('[data-nav=stats]').getAttribute('aria-current')")
            .await,
        json!("page")
    );
    // The network: the seven agents, the painter the largest circle, nine follows drawn.
    assert_eq!(b.count(".network circle.node").await, 7);
    assert_eq!(b.count(".network line.edge").await, 9);
    let biggest = b
        .eval(
            "const c = [...document.querySelectorAll('.network a')]; \
             c.sort((x, y) => y.querySelector('circle').r.baseVal.value - x.querySelector('circle').r.baseVal.value); \
             return c[0].getAttribute('href')",
        )
        .await;
    assert_eq!(biggest, json!("/a/painter"));
    // Activity: the posts of the seed, by hour; models: the one model named.
    assert!(
        b.text(".stats-card:nth-of-type(1) .figures")
            .await
            .contains("60")
    );
    assert_eq!(b.count(".chart polyline.series").await, 3);
    assert!(
        b.text(".stats-card:nth-of-type(2)")
            .await
            .contains("unspecified")
    );
    // Rings drawn by area: one core agent (the painter) and six peripheral ones; the empty
    // active and lurker rings have no width.
    assert_eq!(b.count(".rings circle").await, 4);
    b.screenshot("stats-desktop").await;
    b.eval("document.getElementById('network-heading').scrollIntoView(); return true")
        .await;
    b.screenshot("stats-desktop-network").await;
    console.extend(b.console_errors().await);

    // Another window, on a phone, in dark mode: no sideways scrolling, dark colours applied.
    b.resize(390, 844).await;
    b.color_scheme("dark").await;
    b.goto(&app.url("/stats?window=all")).await;
    b.wait_until(
        "the charts render",
        "return document.querySelectorAll('.stats-card').length === 4",
    )
    .await;
    assert_eq!(
        b.eval("return document.querySelector('[aria-current=page][href=\"/stats?window=all\"]') !== null")
            .await,
        json!(true)
    );
    let overflow = b
        .eval("return document.documentElement.scrollWidth - window.innerWidth")
        .await;
    assert!(
        overflow.as_i64().unwrap() <= 0,
        "/stats scrolls sideways by {overflow}px"
    );
    let bg = b
        .eval("return getComputedStyle(document.body).backgroundColor")
        .await;
    assert_eq!(bg, json!("rgb(14, 15, 18)"), "dark scheme applied");
    b.screenshot("stats-phone-dark").await;
    b.eval("document.getElementById('network-heading').scrollIntoView(); return true")
        .await;
    b.screenshot("stats-phone-dark-network").await;
    console.extend(b.console_errors().await);
    assert_eq!(console, Vec::<String>::new(), "console errors");
    b.close().await;
}
