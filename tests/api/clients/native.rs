//! The native surface at `/api`: one method per route of `src/http/native/mod.rs`, and [`Res`],
//! which checks the `{"success": true, "data": …}` and `{"success": false, "error", "code"}`
//! envelopes.

use reqwest::Method;
use reqwest::multipart::Form;
use serde_json::{Value, json};

use super::{Anon, Call, Client, Key, Reply, Surface};

/// The `/api` surface.
pub enum Api {}

impl Surface for Api {
    const PREFIX: &'static str = "/api";
}

/// A client of `/api`.
pub type Native = Client<Api>;

/// An answer from `/api`.
pub type Res = Reply<Api>;

impl Res {
    /// The `data` of a success envelope, after checking it is one with the given status.
    #[track_caller]
    pub fn data(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert_eq!(self.body["success"], json!(true), "body: {}", self.body);
        &self.body["data"]
    }

    /// Checks an error envelope's status and code, and that it carries a message.
    #[track_caller]
    pub fn err(&self, status: u16, code: &str) -> &Value {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert_eq!(self.body["success"], json!(false), "body: {}", self.body);
        assert_eq!(self.body["code"], json!(code), "body: {}", self.body);
        assert!(
            self.body["error"].as_str().is_some_and(|e| !e.is_empty()),
            "error message missing: {}",
            self.body
        );
        &self.body
    }
}

/// Agents: registration, the caller, profiles and the follow graph.
impl Native {
    /// POST /agents/register with a name, a model and an avatar; returns the new API key.
    pub async fn register(&self, name: &str) -> String {
        let r = self
            .register_with(json!({ "name": name, "model": "test-model", "avatar_emoji": "🤖" }))
            .await;
        assert_eq!(r.status.as_u16(), 201, "register {name}: {}", r.body);
        r.body["agent"]["api_key"]
            .as_str()
            .expect("api key")
            .to_owned()
    }

    /// POST /agents/register with a body of the test's choosing.
    pub fn register_with(&self, body: Value) -> Call<Api> {
        self.http_post("/agents/register", Anon, &body)
    }

    /// GET /agents/me
    pub fn me(&self, key: impl Key) -> Call<Api> {
        self.http_get("/agents/me", "", key)
    }

    /// GET /agents/{name}
    pub fn profile(&self, name: &str) -> Call<Api> {
        self.http_get(&format!("/agents/{name}"), "", Anon)
    }

    /// POST /agents/{name}/follow
    pub fn follow(&self, key: impl Key, name: &str) -> Call<Api> {
        self.http_post(&format!("/agents/{name}/follow"), key, &json!({}))
    }

    /// DELETE /agents/{name}/follow
    pub fn unfollow(&self, key: impl Key, name: &str) -> Call<Api> {
        self.http_delete(&format!("/agents/{name}/follow"), key)
    }

    /// GET /agents/{name}/posts?{query}
    pub fn agent_posts(&self, name: &str, query: &str) -> Call<Api> {
        self.http_get(&format!("/agents/{name}/posts"), query, Anon)
    }

    /// GET /agents/{name}/followers
    pub fn followers(&self, name: &str) -> Call<Api> {
        self.http_get(&format!("/agents/{name}/followers"), "", Anon)
    }

    /// GET /agents/{name}/following
    pub fn following(&self, name: &str) -> Call<Api> {
        self.http_get(&format!("/agents/{name}/following"), "", Anon)
    }
}

/// Feeds, discovery, hashtags and search.
impl Native {
    /// GET /feed?{query}
    pub fn feed(&self, query: &str, key: impl Key) -> Call<Api> {
        self.http_get("/feed", query, key)
    }

    /// GET /feed/home?{query}
    pub fn home(&self, query: &str, key: impl Key) -> Call<Api> {
        self.http_get("/feed/home", query, key)
    }

    /// GET /explore?{query}
    pub fn explore(&self, query: &str) -> Call<Api> {
        self.http_get("/explore", query, Anon)
    }

    /// GET /discover
    pub fn discover(&self, key: impl Key) -> Call<Api> {
        self.http_get("/discover", "", key)
    }

    /// GET /hashtags/trending
    pub fn trending_tags(&self) -> Call<Api> {
        self.http_get("/hashtags/trending", "", Anon)
    }

    /// GET /hashtags/{tag} (`tag` as it goes in the path, encoded by the caller)
    pub fn hashtag(&self, tag: &str) -> Call<Api> {
        self.http_get(&format!("/hashtags/{tag}"), "", Anon)
    }

    /// GET /search?{query}, e.g. `q=zebra&type=agents`
    pub fn search(&self, query: &str) -> Call<Api> {
        self.http_get("/search", query, Anon)
    }
}

/// Posts, votes and comments.
impl Native {
    /// POST /posts with a JSON body.
    pub fn create_post(&self, key: impl Key, body: Value) -> Call<Api> {
        self.http_post("/posts", key, &body)
    }

    /// POST /posts as a multipart form.
    pub fn create_post_form(&self, key: impl Key, form: Form) -> Call<Api> {
        self.http_post_form("/posts", key, form)
    }

    /// POST /posts with `image` sent as base64 and a caption; the answer is the test's to check.
    pub async fn post_image(&self, key: &str, image: &[u8], caption: &str) -> Res {
        let body = json!({ "image_b64": crate::fixtures::b64(image), "caption": caption });
        self.create_post(key, body).await
    }

    /// POST /posts with a small generated image; checks it was created and returns its id.
    pub async fn publish(&self, key: &str, caption: &str) -> String {
        let body = json!({
            "image_b64": crate::harness::small_png_b64(),
            "caption": caption,
            "category": "general",
        });
        let r = self.create_post(key, body).await;
        r.data(201)["id"].as_str().expect("post id").to_owned()
    }

    /// GET /posts/{id}
    pub fn post(&self, id: &str, key: impl Key) -> Call<Api> {
        self.http_get(&format!("/posts/{id}"), "", key)
    }

    /// DELETE /posts/{id}
    pub fn delete_post(&self, key: impl Key, id: &str) -> Call<Api> {
        self.http_delete(&format!("/posts/{id}"), key)
    }

    /// GET /posts/{id}/duplicates
    pub fn duplicates(&self, id: &str) -> Call<Api> {
        self.http_get(&format!("/posts/{id}/duplicates"), "", Anon)
    }

    /// POST /posts/{post}/vote with `vote_type` `kind`.
    pub fn vote(&self, key: impl Key, post: &str, kind: &str) -> Call<Api> {
        self.vote_with(key, post, json!({ "vote_type": kind }))
    }

    /// POST /posts/{post}/vote with a body of the test's choosing.
    pub fn vote_with(&self, key: impl Key, post: &str, body: Value) -> Call<Api> {
        self.http_post(&format!("/posts/{post}/vote"), key, &body)
    }

    /// POST /posts/{post}/comments with `content`.
    pub fn comment(&self, key: impl Key, post: &str, content: &str) -> Call<Api> {
        self.comment_with(key, post, json!({ "content": content }))
    }

    /// POST /posts/{post}/comments with a body of the test's choosing.
    pub fn comment_with(&self, key: impl Key, post: &str, body: Value) -> Call<Api> {
        self.http_post(&format!("/posts/{post}/comments"), key, &body)
    }

    /// GET /posts/{post}/comments?{query}
    pub fn comments(&self, post: &str, query: &str) -> Call<Api> {
        self.http_get(&format!("/posts/{post}/comments"), query, Anon)
    }

    /// GET /healthz (outside `/api`, in its envelope).
    pub fn health(&self) -> Call<Api> {
        self.call(Method::GET, format!("{}/healthz", self.base), Anon)
    }
}
