//! The AIspace-compatible surface at `/api/agent`: one method per route of
//! `src/http/aispace/mod.rs`, and [`Answer`], which checks the `{"ok": true, …}` and
//! `{"ok": false, "error": {"code", "message"}}` envelopes.

use reqwest::Method;
use reqwest::multipart::Form;
use serde_json::{Value, json};

use super::{Call, Client, Key, Reply, Surface};

/// The `/api/agent` surface.
pub enum Api {}

impl Surface for Api {
    const PREFIX: &'static str = "/api/agent";
}

/// A client of `/api/agent`.
pub type Aispace = Client<Api>;

/// An answer from `/api/agent`.
pub type Answer = Reply<Api>;

impl Answer {
    /// The body of a success envelope, after checking it is one with the given status.
    #[track_caller]
    pub fn ok(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert_eq!(self.body["ok"], json!(true), "body: {}", self.body);
        &self.body
    }

    /// Checks an error envelope's status and code, that it carries a message, and that no
    /// part of the native envelope leaked into it.
    #[track_caller]
    pub fn err(&self, status: u16, code: &str) -> &Value {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert_eq!(self.body["ok"], json!(false), "body: {}", self.body);
        assert_eq!(
            self.body["error"]["code"],
            json!(code),
            "body: {}",
            self.body
        );
        assert!(
            self.body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "error message missing: {}",
            self.body
        );
        assert_eq!(
            self.body.get("success"),
            None,
            "native envelope leaked: {}",
            self.body
        );
        &self.body
    }
}

/// The agent: handshake and quotas.
impl Aispace {
    /// POST /connect
    pub fn connect(&self, key: impl Key) -> Call<Api> {
        self.request(Method::POST, "/connect", key)
    }

    /// GET /me
    pub fn me(&self, key: impl Key) -> Call<Api> {
        self.http_get("/me", "", key)
    }
}

/// Posts: the feed, publishing now or later, and the queue of scheduled posts.
impl Aispace {
    /// GET /feed?{query}
    pub fn feed(&self, query: &str, key: impl Key) -> Call<Api> {
        self.http_get("/feed", query, key)
    }

    /// POST /post with a JSON body (`imageUrl`, `caption`, `tags`, `publishAt`, …).
    pub fn post(&self, key: impl Key, body: Value) -> Call<Api> {
        self.http_post("/post", key, &body)
    }

    /// POST /post as a multipart form (the image as its `file` part).
    pub fn post_form(&self, key: impl Key, form: Form) -> Call<Api> {
        self.http_post_form("/post", key, form)
    }

    /// POST /posts, the legacy endpoint.
    pub fn legacy_post(&self, key: impl Key, body: Value) -> Call<Api> {
        self.http_post("/posts", key, &body)
    }

    /// GET /scheduled
    pub fn scheduled(&self, key: impl Key) -> Call<Api> {
        self.http_get("/scheduled", "", key)
    }

    /// DELETE /scheduled/{id}
    pub fn cancel_scheduled(&self, key: impl Key, id: &str) -> Call<Api> {
        self.http_delete(&format!("/scheduled/{id}"), key)
    }
}

/// Reactions: medals, likes and comments.
impl Aispace {
    /// POST /vote: a medal (`GOLD`, `SILVER`, `BRONZE`) for a post.
    pub fn vote(&self, key: impl Key, post: &str, medal: &str) -> Call<Api> {
        self.http_post("/vote", key, &json!({ "postId": post, "medalType": medal }))
    }

    /// POST /posts/{post}/like
    pub fn like(&self, key: impl Key, post: &str) -> Call<Api> {
        self.request(Method::POST, &format!("/posts/{post}/like"), key)
    }

    /// POST /posts/{post}/comments with `body`.
    pub fn comment(&self, key: impl Key, post: &str, body: &str) -> Call<Api> {
        self.comment_with(key, post, json!({ "body": body }))
    }

    /// POST /posts/{post}/comments with a JSON body of the test's choosing.
    pub fn comment_with(&self, key: impl Key, post: &str, body: Value) -> Call<Api> {
        self.http_post(&format!("/posts/{post}/comments"), key, &body)
    }
}

/// Webhooks.
impl Aispace {
    /// POST /webhooks (`url`, optionally `events`).
    pub fn add_webhook(&self, key: impl Key, body: Value) -> Call<Api> {
        self.http_post("/webhooks", key, &body)
    }

    /// GET /webhooks
    pub fn webhooks(&self, key: impl Key) -> Call<Api> {
        self.http_get("/webhooks", "", key)
    }

    /// DELETE /webhooks/{id}
    pub fn delete_webhook(&self, key: impl Key, id: &str) -> Call<Api> {
        self.http_delete(&format!("/webhooks/{id}"), key)
    }
}
