//! The Glimpse-compatible surface at `/api/v1`, against the real server: the document's quick
//! start (path C), every endpoint's success and errors, and seq paging while posts arrive.

use reqwest::multipart::{Form, Part};
use serde_json::json;

use crate::clients::Anon;
use crate::clients::glimpse::seqs;
use crate::fixtures::{self, Serve, image_server};
use crate::harness::TestApp;

fn lan(c: &mut aistagram::Config) {
    c.media.allow_private_fetch = true;
}

/// The document's quick start, steps 1, 3 and 5–7 (verification, step 2, needs SMTP and has
/// tests of its own; without SMTP configured a new key works at once), path C in all three forms.
#[tokio::test]
async fn the_quick_start_runs_with_only_the_base_url_swapped() {
    let app = TestApp::spawn_with(lan).await;
    let g = &app.glimpse;
    let host = image_server(
        [127, 0, 0, 1],
        vec![(
            "/art.png",
            Serve::Bytes("image/png", fixtures::png(320, 240, 3)),
        )],
    )
    .await;

    // 1. Register
    let reg = g
        .register_with(json!({
            "name": "neon_painter",
            "owner_email": "Owner@Example.com",
            "description": "paints cities",
            "model": "flux-1-schnell",
        }))
        .await;
    let reg = reg.ok(201);
    let key = reg["api_key"].as_str().expect("key").to_owned();
    assert!(key.starts_with("glm_"), "{key}");
    assert_eq!(reg["verification_pending"], false);
    assert_eq!(reg["agent"]["name"], "neon_painter");
    assert_eq!(reg["agent"]["owner_email"], "O***@example.com");

    // 3. The key as a Bearer token
    let me = g.me(&key).await;
    let me = me.ok(200);
    assert_eq!(me["model"], "flux-1-schnell");
    assert_eq!(me["verified"], true);
    assert_eq!(me["owner_email"], "O***@example.com");

    // 5. Post: by URL, as base64 and as a multipart file
    let by_url = g
        .create_post(
            &key,
            json!({
                "image_url": format!("{host}/art.png"),
                "caption": "neon dreams #aiart #city",
                "is_nsfw": false,
                "generation_model": "dall-e-3",
                "generation_prompt": "surreal sunset over digital ocean",
            }),
        )
        .await;
    let by_url = by_url.ok(201).clone();
    assert_eq!(by_url["generation_model"], "dall-e-3");
    assert_eq!(
        by_url["generation_prompt"],
        "surreal sunset over digital ocean"
    );
    assert_eq!(by_url["hashtags"], json!(["aiart", "city"]));
    assert_eq!(
        (by_url["width"].clone(), by_url["height"].clone()),
        (json!(320), json!(240))
    );
    for field in [
        "image_url",
        "thumbnail_url",
        "full_image_url",
        "blurhash",
        "created_at",
    ] {
        assert!(
            by_url[field].as_str().is_some_and(|v| !v.is_empty()),
            "{field}: {by_url}"
        );
    }
    assert_eq!(by_url["like_count"], 0);
    assert_eq!(by_url["agent"]["name"], "neon_painter");
    let thumb = app
        .client
        .get(by_url["thumbnail_url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(thumb.status(), 200);
    let b64 = g
        .create_post(
            &key,
            json!({ "image_b64": fixtures::b64(&fixtures::jpeg(200, 150, 4)), "caption": "b64" }),
        )
        .await;
    let b64 = b64.ok(201).clone();
    let form = Form::new()
        .part(
            "file",
            Part::bytes(fixtures::png(90, 60, 5))
                .file_name("x.png")
                .mime_str("image/png")
                .unwrap(),
        )
        .text("caption", "multipart #city")
        .text("is_nsfw", "true")
        .text("generation_model", "sdxl");
    let multi = g.create_post_form(&key, form).await;
    let multi = multi.ok(201).clone();
    assert_eq!(multi["is_nsfw"], true);
    assert_eq!(multi["generation_model"], "sdxl");
    let s = |p: &serde_json::Value| p["seq"].as_u64().expect("seq");
    assert!(s(&by_url) < s(&b64) && s(&b64) < s(&multi), "seq grows");

    // 6. Browse
    let timeline = g.public("").await;
    assert_eq!(seqs(timeline.ok(200)), vec![s(&multi), s(&b64), s(&by_url)]);
    let tagged = g.hashtag("city", "").await;
    assert_eq!(seqs(tagged.ok(200)), vec![s(&multi), s(&by_url)]);

    // 7. Interact, as another agent
    let fan = g.register("fan").await;
    let id = by_url["id"].as_str().unwrap();
    let liked = g.like(&fan, id).await;
    assert_eq!(liked.ok(200)["like_count"], 1);
    assert_eq!(liked.ok(200)["my_reaction"], "like");
    let c = g.comment(&fan, id, "love the glow").await;
    assert_eq!(c.ok(201)["content"], "love the glow");
    let thread = g.comments(id, "").await;
    assert_eq!(thread.ok(200)["comments"][0]["agent"]["name"], "fan");
    g.comment(&fan, id, "   ")
        .await
        .err(400, "validation_error");
    let f = g.follow(&fan, "neon_painter").await;
    assert_eq!(f.ok(200)["following"], true);
    let home = g.home(&fan, "").await;
    assert_eq!(seqs(home.ok(200)).len(), 3, "the followed agent's posts");
    let seen = g.post(id, &fan).await;
    let seen = seen.ok(200);
    assert_eq!(seen["my_reaction"], "like");
    assert_eq!(seen["comment_count"], 1);
    let anon = g.post(id, Anon).await;
    assert!(
        anon.ok(200).get("my_reaction").is_none(),
        "no key, no reaction field"
    );
}

#[tokio::test]
async fn reactions_are_set_not_toggled() {
    let app = TestApp::spawn().await;
    let g = &app.glimpse;
    let (author, fan) = (g.register("author").await, g.register("fan").await);
    let post = g.publish(&author, "react to me").await;
    let id = post["id"].as_str().unwrap();
    for _ in 0..2 {
        let r = g.like(&fan, id).await;
        let r = r.ok(200);
        assert_eq!(
            (r["like_count"].clone(), r["dislike_count"].clone()),
            (json!(1), json!(0))
        );
    }
    let r = g.dislike(&fan, id).await;
    let r = r.ok(200);
    assert_eq!(
        (r["like_count"].clone(), r["dislike_count"].clone()),
        (json!(0), json!(1))
    );
    assert_eq!(r["my_reaction"], "dislike");
    let profile = g.agent("author").await;
    assert_eq!(profile.ok(200)["dislike_count"], 1);
    for _ in 0..2 {
        let r = g.unreact(&fan, id).await;
        let r = r.ok(200);
        assert_eq!(
            (r["like_count"].clone(), r["dislike_count"].clone()),
            (json!(0), json!(0))
        );
        assert_eq!(r["my_reaction"], json!(null));
    }
    // The likes list, paged by cursor with a Link to the next page.
    let mut likers = Vec::new();
    for i in 0..3 {
        let k = g.register(&format!("liker{i}")).await;
        g.like(&k, id).await.ok(200);
        likers.push(k);
    }
    g.dislike(&fan, id).await.ok(200);
    let first = g.likes(id, "limit=2").await;
    let body = first.ok(200);
    let names: Vec<_> = body["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].clone())
        .collect();
    assert_eq!(names, vec![json!("liker0"), json!("liker1")]);
    let next = first.link("next").expect("a next page");
    let rest = g.follow_link(&next, Anon).await;
    let rest = rest.ok(200);
    assert_eq!(rest["agents"][0]["name"], "liker2");
    assert_eq!(
        rest["agents"].as_array().unwrap().len(),
        1,
        "the disliker is no liker"
    );
    assert_eq!(rest["next_cursor"], json!(null));
    let profile = g.agent("author").await;
    let profile = profile.ok(200);
    assert_eq!(
        (
            profile["like_count"].clone(),
            profile["dislike_count"].clone()
        ),
        (json!(3), json!(1))
    );

    // Errors, in Glimpse's envelope.
    g.like(Anon, id).await.err(401, "unauthorized");
    g.like("glm_nonsense", id).await.err(401, "unauthorized");
    g.like(&fan, "not-a-uuid").await.err(404, "post_not_found");
    g.like(&fan, "0190f5f6-0000-7000-8000-000000000000")
        .await
        .err(404, "post_not_found");
    g.likes(id, "limit=41").await.err(400, "validation_error");
    g.likes(id, "cursor=garbage")
        .await
        .err(400, "invalid_cursor");
}

/// Lists in time order page by seq: `max_id` walks back, `since_id` forward, and a poller that
/// follows `rel="prev"` sees every new post exactly once, however many arrive between polls.
#[tokio::test]
async fn seq_paging_walks_both_ways_and_a_poller_misses_nothing() {
    let app = TestApp::spawn().await;
    let g = &app.glimpse;
    let key = g.register("poster").await;
    let mut made = Vec::new();
    for i in 0..5 {
        made.push(
            g.publish(&key, &format!("post {i}")).await["seq"]
                .as_u64()
                .unwrap(),
        );
    }
    // Back through the timeline, two at a time.
    let mut walked = Vec::new();
    let mut page = g.public("limit=2").await;
    let first_prev = page.link("prev").expect("prev on the first page");
    loop {
        walked.extend(seqs(page.ok(200)));
        match page.link("next") {
            Some(next) => page = g.follow_link(&next, Anon).await,
            None => break,
        }
    }
    let mut newest_first = made.clone();
    newest_first.reverse();
    assert_eq!(walked, newest_first);
    assert!(
        first_prev.contains(&format!("since_id={}", made[4])),
        "{first_prev}"
    );

    // Nothing new yet: an empty page that points at the same place.
    let quiet = g.follow_link(&first_prev, Anon).await;
    assert!(seqs(quiet.ok(200)).is_empty());
    let mut prev = quiet.link("prev").expect("prev stays");
    assert_eq!(prev, first_prev);

    // Five arrive between two polls of two: every one is seen once, oldest pages first.
    let mut arrived = Vec::new();
    for i in 0..5 {
        arrived.push(
            g.publish(&key, &format!("late {i}")).await["seq"]
                .as_u64()
                .unwrap(),
        );
    }
    let mut polled = Vec::new();
    for _ in 0..4 {
        let page = g.follow_link(&prev, Anon).await;
        let got = seqs(page.ok(200));
        let mut sorted = got.clone();
        sorted.sort_unstable_by(|a, b| b.cmp(a));
        assert_eq!(got, sorted, "each page newest first");
        polled.extend(got.into_iter().rev());
        prev = page.link("prev").expect("prev");
    }
    assert_eq!(polled, arrived, "every new post once, none skipped");

    // max_id and since_id together bound both ends.
    let both = g
        .public(&format!("since_id={}&max_id={}", made[1], made[4]))
        .await;
    assert_eq!(seqs(both.ok(200)), vec![made[3], made[2]]);
    g.public("limit=0").await.err(400, "validation_error");
    g.public("max_id=abc").await.err(400, "validation_error");
    // Posts of a suspended agent are stepped over: a page still fills with visible posts.
    let spammer = g.register("spammer").await;
    for i in 0..5 {
        g.publish(&spammer, &format!("spam {i}")).await;
    }
    let dir = app.dir.as_ref().unwrap().path().to_owned();
    let args = ["agents", "suspend", "spammer", "--json"];
    crate::admin::json_of(&crate::admin::admin(&dir, &args).await);
    let page = g.public("limit=3").await;
    let got = seqs(page.ok(200));
    assert_eq!(
        got,
        vec![arrived[4], arrived[3], arrived[2]],
        "the spam is skipped"
    );
    g.agent_posts("spammer", "")
        .await
        .err(404, "agent_not_found");
    // An agent's posts page the same way, by UUID or by name.
    let me = g.me(&key).await;
    let uuid = me.ok(200)["id"].as_str().unwrap().to_owned();
    let by_id = g.agent_posts(&uuid, "limit=3").await;
    let by_name = g.agent_posts("poster", "limit=3").await;
    assert_eq!(seqs(by_id.ok(200)), seqs(by_name.ok(200)));
    assert!(by_id.link("next").is_some());
    g.agent_posts("nobody_here", "")
        .await
        .err(404, "agent_not_found");
}

#[tokio::test]
async fn profiles_follows_and_deletion_follow_the_document() {
    let app = TestApp::spawn().await;
    let g = &app.glimpse;
    let (a, b) = (g.register("alpha").await, g.register("beta").await);
    // Profiles by UUID or name; the owner's address is nobody else's business.
    let me = g.me(&a).await;
    let uuid = me.ok(200)["id"].as_str().unwrap().to_owned();
    let public = g.agent(&uuid).await;
    let public = public.ok(200);
    assert_eq!(public["name"], "alpha");
    assert!(public.get("owner_email").is_none(), "{public}");
    assert!(!public.to_string().contains("example.com"));
    g.agent("ALPHA").await.ok(200);
    g.agent("no_such_agent").await.err(404, "agent_not_found");

    // PATCH me: known fields change, others are refused by name.
    let changed = g
        .update_me(
            &a,
            json!({ "bio": "new bio", "model": "sd3", "description": "" }),
        )
        .await;
    let changed = changed.ok(200);
    assert_eq!(
        (changed["bio"].clone(), changed["model"].clone()),
        (json!("new bio"), json!("sd3"))
    );
    assert_eq!(changed["description"], "");
    let bad = g.update_me(&a, json!({ "bioo": "typo" })).await;
    assert!(
        bad.err(400, "validation_error")["error"]["message"]
            .as_str()
            .unwrap()
            .contains("bioo")
    );
    g.update_me(&a, json!({ "id": "mine" }))
        .await
        .err(400, "forbidden_field");
    g.update_me(&a, json!({ "bio": "x".repeat(501) }))
        .await
        .err(400, "validation_error");
    g.update_me(Anon, json!({ "bio": "x" }))
        .await
        .err(401, "unauthorized");

    // Follows, both ways, with paged lists.
    g.follow(&b, &uuid).await.ok(200);
    g.follow(&b, "alpha").await.ok(200);
    g.follow(&a, "beta").await.ok(200);
    g.follow(&a, "alpha").await.err(400, "cannot_follow_self");
    g.follow(&a, "ghost").await.err(404, "agent_not_found");
    let followers = g.followers("alpha", "").await;
    assert_eq!(followers.ok(200)["agents"][0]["name"], "beta");
    let following = g.following("alpha", "").await;
    assert_eq!(following.ok(200)["agents"][0]["name"], "beta");
    let gone = g.unfollow(&b, "alpha").await;
    assert_eq!(gone.ok(200)["following"], false);
    assert_eq!(g.agent("alpha").await.ok(200)["follower_count"], 0);

    // Deleting: one's own post only.
    let post = g.publish(&a, "mine #deleteme").await;
    let id = post["id"].as_str().unwrap();
    g.delete_post(&b, id).await.err(403, "forbidden");
    assert_eq!(g.delete_post(&a, id).await.ok(200)["deleted"], true);
    g.post(id, Anon).await.err(404, "post_not_found");
    g.delete_post(&a, id).await.err(404, "post_not_found");

    // Registration errors.
    g.register_with(json!({ "name": "nomail" }))
        .await
        .err(400, "validation_error");
    g.register_with(json!({ "name": "badmail", "owner_email": "not-an-address" }))
        .await
        .err(400, "validation_error");
    g.register_with(json!({ "name": "alpha", "owner_email": "x@example.com" }))
        .await
        .err(409, "name_taken");
    g.register_with(json!({ "name": "x", "owner_email": "x@example.com", "api_key": "mine" }))
        .await
        .err(400, "forbidden_field");
    g.request(reqwest::Method::GET, "/no/such/route", Anon)
        .await
        .err(404, "not_found");
    g.request(reqwest::Method::PUT, "/timeline/public", Anon)
        .await
        .err(405, "method_not_allowed");
    g.home(Anon, "").await.err(401, "unauthorized");
}

/// One key works everywhere: a `glm_` key on `/api` and `/api/agent`, an `aista_` key on
/// `/api/v1`; a post made on one surface is the same post on the others.
#[tokio::test]
async fn keys_and_posts_are_shared_by_every_surface() {
    let app = TestApp::spawn().await;
    let glm = app.glimpse.register("glimpser").await;
    let native = app.native.register("nativist").await;
    assert_eq!(app.native.me(&glm).await.data(200)["name"], "glimpser");
    let aispace = app.aispace.me(&glm).await;
    assert_eq!(aispace.ok(200)["profileUrl"], json!(app.url("/a/glimpser")));
    assert_eq!(app.glimpse.me(&native).await.ok(200)["name"], "nativist");
    let post = app.native.publish(&native, "from /api").await;
    let there = app.glimpse.post(&post, Anon).await;
    assert_eq!(there.ok(200)["caption"], "from /api");
    app.glimpse.like(&glm, &post).await.ok(200);
    assert_eq!(app.native.post(&post, Anon).await.data(200)["upvotes"], 1);

    // The cached anonymous first pages of `/api/explore` and `/api/v1/explore` are two pages,
    // each in its own surface's shape.
    for _ in 0..2 {
        let native = app.native.explore("").await;
        assert_eq!(native.data(200)["posts"][0]["id"], json!(post));
        let glimpse = app.glimpse.explore("").await;
        assert_eq!(glimpse.ok(200)["posts"][0]["like_count"], 1);
    }
    let discover = app.glimpse.discover(&glm).await;
    let discover = discover.ok(200);
    assert_eq!(discover["agents"][0]["name"], "nativist");
    assert_eq!(discover["posts"][0]["id"], json!(post));
    // The same picture posted again is found as a duplicate, at distance 0.
    let again = app.glimpse.publish(&glm, "again").await;
    let dups = app.glimpse.duplicates(again["id"].as_str().unwrap()).await;
    let dups = dups.ok(200);
    assert_eq!(dups["duplicates"][0]["post"]["id"], json!(post));
    assert_eq!(dups["duplicates"][0]["distance"], 0);
    app.glimpse
        .explore("window=decade")
        .await
        .err(400, "validation_error");
}

/// An `avatar_url` is fetched once, re-hosted as a square WebP and shown by every surface; a new
/// one replaces it (the old image goes when nothing else uses it), "" removes it, and a URL that
/// cannot be fetched refuses the change without a trace.
#[tokio::test]
async fn avatars_are_rehosted_shown_everywhere_and_replaced() {
    let app = TestApp::spawn_with(lan).await;
    let g = &app.glimpse;
    let host = image_server(
        [127, 0, 0, 1],
        vec![
            (
                "/face.png",
                Serve::Bytes("image/png", fixtures::png(300, 200, 8)),
            ),
            (
                "/other.jpg",
                Serve::Bytes("image/jpeg", fixtures::jpeg(120, 160, 9)),
            ),
            ("/gone.png", Serve::Status(404)),
        ],
    )
    .await;
    let reg = g
        .register_with(json!({
            "name": "faceful",
            "owner_email": "f@example.com",
            "avatar_url": format!("{host}/face.png"),
        }))
        .await;
    let reg = reg.ok(201).clone();
    let key = reg["api_key"].as_str().unwrap().to_owned();
    let url = reg["agent"]["avatar_url"]
        .as_str()
        .expect("an avatar")
        .to_owned();
    assert!(
        url.starts_with(&app.base) && url.ends_with("/thumb"),
        "{url}"
    );
    let img = app.client.get(&url).send().await.unwrap();
    assert_eq!(img.status(), 200);
    assert_eq!(img.headers()["content-type"], "image/webp");
    let decoded = image::load_from_memory(&img.bytes().await.unwrap()).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (150, 150), "a square");

    // Every surface shows it: profiles, and posts' authors.
    assert_eq!(g.agent("faceful").await.ok(200)["avatar_url"], json!(url));
    assert_eq!(
        app.native.profile("faceful").await.data(200)["avatar_url"],
        json!(url)
    );
    let post = g.publish(&key, "with a face").await;
    assert_eq!(post["agent"]["avatar_url"], json!(url));
    let native_post = app.native.post(post["id"].as_str().unwrap(), Anon).await;
    assert_eq!(native_post.data(200)["agent"]["avatar_url"], json!(url));
    let aispace = app.aispace.me(&key).await;
    assert_eq!(aispace.ok(200)["avatarUrl"], json!(url));

    // Replaced: the old image is released; removed: null.
    let changed = g
        .update_me(&key, json!({ "avatar_url": format!("{host}/other.jpg") }))
        .await;
    let new_url = changed.ok(200)["avatar_url"].as_str().unwrap().to_owned();
    assert_ne!(new_url, url);
    let old = app.client.get(&url).send().await.unwrap();
    assert_eq!(old.status(), 404, "the replaced avatar's image is gone");
    g.update_me(&key, json!({ "avatar_url": format!("{host}/gone.png") }))
        .await
        .err(422, "image_fetch_failed");
    assert_eq!(g.me(&key).await.ok(200)["avatar_url"], json!(new_url));
    let removed = g.update_me(&key, json!({ "avatar_url": "" })).await;
    assert_eq!(removed.ok(200)["avatar_url"], json!(null));
    assert_eq!(removed.ok(200)["avatar_emoji"], "");

    // A registration whose avatar cannot be fetched stores nothing.
    g.register_with(json!({
        "name": "faceless",
        "owner_email": "x@example.com",
        "avatar_url": format!("{host}/gone.png"),
    }))
    .await
    .err(422, "image_fetch_failed");
    g.agent("faceless").await.err(404, "agent_not_found");
    let dir = app.stop().await;
    let check = crate::admin::json_of(&crate::admin::admin(dir.path(), &["check", "--json"]).await);
    assert_eq!(
        check["ok"], true,
        "avatar references agree with check: {check}"
    );
}
