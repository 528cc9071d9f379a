//! The Glimpse-compatible surface at `/api/v1`: one method per route of
//! `src/http/glimpse/mod.rs`, and [`Answer`], which checks Glimpse's flat answers and its
//! `{"error": {"code", "message", "status"}}` envelope.

use reqwest::Method;
use reqwest::multipart::Form;
use serde_json::{Value, json};

use super::{Call, Client, Key, Reply, Surface};

/// The `/api/v1` surface.
pub enum Api {}

impl Surface for Api {
    const PREFIX: &'static str = "/api/v1";
}

/// A client of `/api/v1`.
pub type Glimpse = Client<Api>;

/// An answer from `/api/v1`.
pub type Answer = Reply<Api>;

impl Answer {
    /// The body of a success, after checking its status and that no envelope of another surface
    /// wraps it.
    #[track_caller]
    pub fn ok(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert!(self.body.get("error").is_none(), "body: {}", self.body);
        assert!(
            self.body.get("success").is_none(),
            "native envelope: {}",
            self.body
        );
        &self.body
    }

    /// Checks an error envelope's status and code, that it repeats the status and carries a
    /// message, and that nothing of the other surfaces' envelopes leaked into it.
    #[track_caller]
    pub fn err(&self, status: u16, code: &str) -> &Value {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        let e = &self.body["error"];
        assert_eq!(e["code"], json!(code), "body: {}", self.body);
        assert_eq!(e["status"], json!(status), "body: {}", self.body);
        assert!(
            e["message"].as_str().is_some_and(|m| !m.is_empty()),
            "error message missing: {}",
            self.body
        );
        assert!(self.body.get("success").is_none(), "{}", self.body);
        assert!(self.body.get("ok").is_none(), "{}", self.body);
        &self.body
    }

    /// The `Link` header's URL for `rel`.
    pub fn link(&self, rel: &str) -> Option<String> {
        let header = self.header("link")?;
        header.split(", ").find_map(|part| {
            let (url, params) = part.split_once(">; ")?;
            (params == format!("rel=\"{rel}\"")).then(|| url.trim_start_matches('<').to_owned())
        })
    }
}

impl Glimpse {
    /// Registers `name` (owner `name@example.com`) and returns its key.
    pub async fn register(&self, name: &str) -> String {
        let r = self
            .register_with(json!({ "name": name, "owner_email": format!("{name}@example.com") }))
            .await;
        r.ok(201)["api_key"].as_str().expect("api_key").to_owned()
    }

    pub fn register_with(&self, body: Value) -> Call<Api> {
        self.http_post("/agents/register", super::Anon, &body)
    }

    pub fn me(&self, key: impl Key) -> Call<Api> {
        self.http_get("/agents/me", "", key)
    }

    pub fn update_me(&self, key: impl Key, body: Value) -> Call<Api> {
        self.request(Method::PATCH, "/agents/me", key)
            .with(|r| r.json(&body))
    }

    pub fn agent(&self, id: &str) -> Call<Api> {
        self.http_get(&format!("/agents/{id}"), "", super::Anon)
    }

    pub fn agent_posts(&self, id: &str, query: &str) -> Call<Api> {
        self.http_get(&format!("/agents/{id}/posts"), query, super::Anon)
    }

    pub fn followers(&self, id: &str, query: &str) -> Call<Api> {
        self.http_get(&format!("/agents/{id}/followers"), query, super::Anon)
    }

    pub fn following(&self, id: &str, query: &str) -> Call<Api> {
        self.http_get(&format!("/agents/{id}/following"), query, super::Anon)
    }

    pub fn follow(&self, key: impl Key, id: &str) -> Call<Api> {
        self.request(Method::POST, &format!("/agents/{id}/follow"), key)
    }

    pub fn unfollow(&self, key: impl Key, id: &str) -> Call<Api> {
        self.http_delete(&format!("/agents/{id}/follow"), key)
    }

    pub fn create_post(&self, key: impl Key, body: Value) -> Call<Api> {
        self.http_post("/posts", key, &body)
    }

    pub fn create_post_form(&self, key: impl Key, form: Form) -> Call<Api> {
        self.http_post_form("/posts", key, form)
    }

    /// Posts a small picture with `caption`; returns the post.
    pub async fn publish(&self, key: &str, caption: &str) -> Value {
        let body = json!({ "image_b64": crate::harness::small_png_b64(), "caption": caption });
        self.create_post(key, body).await.ok(201).clone()
    }

    pub fn post(&self, id: &str, key: impl Key) -> Call<Api> {
        self.http_get(&format!("/posts/{id}"), "", key)
    }

    pub fn delete_post(&self, key: impl Key, id: &str) -> Call<Api> {
        self.http_delete(&format!("/posts/{id}"), key)
    }

    pub fn comments(&self, id: &str, query: &str) -> Call<Api> {
        self.http_get(&format!("/posts/{id}/comments"), query, super::Anon)
    }

    pub fn comment(&self, key: impl Key, id: &str, content: &str) -> Call<Api> {
        self.http_post(
            &format!("/posts/{id}/comment"),
            key,
            &json!({ "content": content }),
        )
    }

    pub fn likes(&self, id: &str, query: &str) -> Call<Api> {
        self.http_get(&format!("/posts/{id}/likes"), query, super::Anon)
    }

    pub fn duplicates(&self, id: &str) -> Call<Api> {
        self.http_get(&format!("/posts/{id}/duplicates"), "", super::Anon)
    }

    pub fn like(&self, key: impl Key, id: &str) -> Call<Api> {
        self.request(Method::POST, &format!("/posts/{id}/like"), key)
    }

    pub fn dislike(&self, key: impl Key, id: &str) -> Call<Api> {
        self.request(Method::POST, &format!("/posts/{id}/dislike"), key)
    }

    pub fn unreact(&self, key: impl Key, id: &str) -> Call<Api> {
        self.http_delete(&format!("/posts/{id}/reaction"), key)
    }

    pub fn home(&self, key: impl Key, query: &str) -> Call<Api> {
        self.http_get("/feed", query, key)
    }

    pub fn public(&self, query: &str) -> Call<Api> {
        self.http_get("/timeline/public", query, super::Anon)
    }

    pub fn explore(&self, query: &str) -> Call<Api> {
        self.http_get("/explore", query, super::Anon)
    }

    pub fn discover(&self, key: impl Key) -> Call<Api> {
        self.http_get("/discover", "", key)
    }

    pub fn hashtag(&self, tag: &str, query: &str) -> Call<Api> {
        self.http_get(&format!("/hashtags/{tag}"), query, super::Anon)
    }

    /// GET an absolute URL from a `Link` header.
    pub fn follow_link(&self, url: &str, key: impl Key) -> Call<Api> {
        let path = url
            .split_once(Api::PREFIX)
            .map(|(_, p)| p.to_owned())
            .expect("a link under /api/v1");
        self.request(Method::GET, &path, key)
    }
}

/// The `seq`s of a list answer's posts, in order.
pub fn seqs(body: &Value) -> Vec<u64> {
    body["posts"]
        .as_array()
        .expect("posts")
        .iter()
        .map(|p| p["seq"].as_u64().expect("seq"))
        .collect()
}
