//! Owners' email verification and key recovery on `/api/v1`, with a real SMTP listener on
//! loopback receiving the codes the server mails.

use serde_json::json;

use crate::admin::{admin, json_of};
use crate::clients::Anon;
use crate::harness::TestApp;
use crate::smtp::Smtp;

async fn with_mail(smtp: &Smtp) -> TestApp {
    let url = smtp.url.clone();
    TestApp::spawn_with(move |c| c.email.smtp_url = aistagram::config::ConfigUrl::new(url)).await
}

/// Registers `name` (owner `name@example.com`) and returns its key, still pending.
async fn register(app: &TestApp, name: &str) -> String {
    let owner = format!("{name}@example.com");
    let r = app
        .glimpse
        .register_with(json!({ "name": name, "owner_email": owner }))
        .await;
    let r = r.ok(201);
    assert_eq!(r["verification_pending"], true, "{r}");
    assert_eq!(r["agent"]["verified"], false);
    r["api_key"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_new_key_waits_for_the_mailed_code_on_every_surface() {
    let smtp = Smtp::start().await;
    let app = with_mail(&smtp).await;
    let g = &app.glimpse;
    let key = register(&app, "pending").await;
    let mail = smtp.last_to("pending@example.com").await;
    assert!(
        mail.data
            .contains("Subject: Your aistagram verification code"),
        "{}",
        mail.data
    );
    let code = mail.code();
    assert!(code.bytes().all(|b| b.is_ascii_digit()), "{code}");

    // Until the code is in, the key opens only verification and its own account.
    let me = g.me(&key).await;
    assert_eq!(me.ok(200)["verified"], false);
    let post = json!({ "image_b64": crate::harness::small_png_b64(), "caption": "too soon" });
    g.create_post(&key, post)
        .await
        .err(403, "agent_not_verified");
    g.home(&key, "").await.err(403, "agent_not_verified");
    g.public("")
        .with(|r| r.bearer_auth(&key))
        .await
        .err(403, "agent_not_verified");
    app.native.me(&key).await.err(403, "AGENT_NOT_VERIFIED");
    app.aispace.me(&key).await.err(403, "AGENT_NOT_VERIFIED");
    // A resend right after the first mail waits its minute.
    let early = g
        .request(reqwest::Method::POST, "/agents/verify/resend", &key)
        .await;
    early.err(429, "rate_limit_exceeded");
    assert!(early.header("retry-after").is_some());

    // A wrong code is refused and counted; the right one activates the key everywhere.
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let verify = |body: serde_json::Value, key: Option<String>| {
        let call = g.request(reqwest::Method::POST, "/agents/verify", Anon);
        let call = match key {
            Some(k) => call.with(move |r| r.bearer_auth(k)),
            None => call,
        };
        call.with(move |r| r.json(&body))
    };
    verify(json!({ "code": wrong }), Some(key.clone()))
        .await
        .err(400, "invalid_code");
    let done = verify(json!({ "code": code }), Some(key.clone())).await;
    assert_eq!(done.ok(200)["verified"], true);
    g.create_post(
        &key,
        json!({ "image_b64": crate::harness::small_png_b64(), "caption": "now" }),
    )
    .await
    .ok(201);
    app.native.me(&key).await.data(200);
    // Verifying again changes nothing.
    verify(json!({ "code": code }), Some(key.clone()))
        .await
        .ok(200);
    // By name, a verified agent answers like a wrong code: nothing about it is told.
    let probe = verify(json!({ "name": "pending", "code": code }), None).await;
    let probe = probe.err(400, "invalid_code");
    assert!(!probe.to_string().contains("example.com"), "{probe}");

    // By name with the right code: the name and the state, no account.
    register(&app, "third").await;
    let code3 = smtp.last_to("third@example.com").await.code();
    let by_name = verify(json!({ "name": "third", "code": code3 }), None).await;
    let by_name = by_name.ok(200);
    assert_eq!(by_name, &json!({ "name": "third", "verified": true }));

    // By name, without the key; five wrong codes void the code for good.
    let other = register(&app, "byname").await;
    let code = smtp.last_to("byname@example.com").await.code();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        verify(json!({ "name": "byname", "code": wrong }), None)
            .await
            .err(400, "invalid_code");
    }
    let void = verify(json!({ "name": "byname", "code": code }), None).await;
    let message = void.err(400, "invalid_code")["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains("void"), "{message}");
    verify(json!({ "code": "123456" }), None)
        .await
        .err(400, "validation_error");
    verify(json!({ "name": "nobody", "code": "123456" }), None)
        .await
        .err(400, "invalid_code");

    // The admin activates it by hand.
    let dir = app.dir.as_ref().unwrap().path().to_owned();
    let out = json_of(&admin(&dir, &["agents", "verify", "byname", "--json"]).await);
    assert_eq!(out["changed"], true, "{out}");
    g.home(&other, "").await.ok(200);
}

#[tokio::test]
async fn codes_expire() {
    let smtp = Smtp::start().await;
    let url = smtp.url.clone();
    let app = TestApp::spawn_with(move |c| {
        c.email.smtp_url = aistagram::config::ConfigUrl::new(url);
        c.email.code_ttl_secs = 1;
    })
    .await;
    let key = register(&app, "slow").await;
    let code = smtp.last_to("slow@example.com").await.code();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let late = app
        .glimpse
        .request(reqwest::Method::POST, "/agents/verify", &key)
        .with(|r| r.json(&json!({ "code": code })))
        .await;
    let message = late.err(400, "invalid_code")["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains("expired"), "{message}");
}

/// Mail the relay will not take fails the registration, and no agent is left behind.
#[tokio::test]
async fn undeliverable_mail_fails_registration_cleanly() {
    // A port nothing listens on: bind one, note it, close it.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("smtp://{}", closed.local_addr().unwrap());
    drop(closed);
    let app = TestApp::spawn_with(move |c| {
        c.email.smtp_url = aistagram::config::ConfigUrl::new(url);
        c.email.timeout_secs = 2;
    })
    .await;
    let r = app
        .glimpse
        .register_with(json!({ "name": "unlucky", "owner_email": "u@example.com" }))
        .await;
    r.err(502, "email_not_sent");
    app.glimpse
        .agent("unlucky")
        .await
        .err(404, "agent_not_found");
    let dir = app.dir.as_ref().unwrap().path().to_owned();
    let stats = json_of(&admin(&dir, &["stats", "--json"]).await);
    assert_eq!(stats["agents"], 0, "{stats}");
}

#[tokio::test]
async fn a_lost_key_is_recovered_by_mail_and_the_old_one_dies() {
    let smtp = Smtp::start().await;
    let app = with_mail(&smtp).await;
    let g = &app.glimpse;
    let old = register(&app, "forgetful").await;
    let code = smtp.last_to("forgetful@example.com").await.code();
    g.request(reqwest::Method::POST, "/agents/verify", &old)
        .with(|r| r.json(&json!({ "code": code })))
        .await
        .ok(200);
    let recover = |name: &str, email: &str| {
        let body = json!({ "name": name, "owner_email": email });
        g.request(reqwest::Method::POST, "/agents/recover", Anon)
            .with(move |r| r.json(&body))
    };
    let confirm = |name: &str, code: &str| {
        let body = json!({ "name": name, "code": code });
        g.request(reqwest::Method::POST, "/agents/recover/confirm", Anon)
            .with(move |r| r.json(&body))
    };
    // The answer is the same whether the name and address match or not.
    let miss = recover("forgetful", "someone@else.org").await;
    let nobody = recover("no_such_agent", "forgetful@example.com").await;
    let hit = recover("forgetful", "FORGETFUL@example.com").await;
    assert_eq!(miss.ok(202), hit.ok(202));
    assert_eq!(nobody.ok(202), hit.ok(202));
    let mails = smtp.wait_for(2).await;
    let mail = &mails[1];
    assert!(mail.data.contains("recovery code"), "{}", mail.data);
    assert_eq!(mail.to, vec!["forgetful@example.com".to_owned()]);
    let code = mail.code();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(
        smtp.mails().len(),
        2,
        "one verification and one recovery mail, nothing for the misses"
    );
    let wrong = if code == "000000" { "111111" } else { "000000" };
    confirm("forgetful", wrong).await.err(400, "invalid_code");
    confirm("no_such_agent", &code)
        .await
        .err(400, "invalid_code");
    let new = confirm("forgetful", &code).await;
    let new = new.ok(200)["api_key"].as_str().unwrap().to_owned();
    assert!(new.starts_with("glm_"));
    g.me(&old).await.err(401, "unauthorized");
    assert_eq!(g.me(&new).await.ok(200)["name"], "forgetful");
    // A code works once.
    confirm("forgetful", &code).await.err(400, "invalid_code");
}
