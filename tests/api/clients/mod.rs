//! One test client per API surface, with one method per endpoint (after zero2prod's
//! `tests/api/helpers.rs`), and one response type per surface that checks that surface's
//! envelope. Tests name the endpoint they call and what they expect; how a request is built and
//! sent, and how an envelope is checked, is written here once.
//!
//! - [`Native`] speaks `/api` and answers [`Res`]: `.data(status)` / `.err(status, code)`.
//! - [`Aispace`] speaks `/api/agent` and answers [`aispace::Answer`]: `.ok(status)` / `.err(status, code)`.
//! - [`Glimpse`] speaks `/api/v1` and answers [`glimpse::Answer`]: `.ok(status)` / `.err(status, code)`.
//!
//! An endpoint method returns a [`Call`]: awaiting it sends the request and panics if the
//! server cannot be reached; [`Call::try_send`] hands that failure to the caller instead, and
//! [`Call::with`] adjusts the request first (an extra header, a raw body). [`Client::request`]
//! reaches any path under the surface, for tests about paths and methods no endpoint has.

pub mod aispace;
pub mod glimpse;
pub mod native;

use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::pin::Pin;

use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::Value;

pub use aispace::Aispace;
pub use glimpse::Glimpse;
pub use native::{Native, Res};

/// An API surface: the prefix of its routes. Its envelope is checked by the methods of
/// `Reply<Self>` in the surface's own module.
pub trait Surface: 'static {
    const PREFIX: &'static str;
}

/// The API key a request carries: `&key` for a key, [`Anon`] for none.
pub trait Key {
    fn key(&self) -> Option<&str>;
}

impl Key for str {
    fn key(&self) -> Option<&str> {
        Some(self)
    }
}

impl Key for String {
    fn key(&self) -> Option<&str> {
        Some(self)
    }
}

impl<K: Key + ?Sized> Key for &K {
    fn key(&self) -> Option<&str> {
        (**self).key()
    }
}

/// No `Authorization` header at all.
pub struct Anon;

impl Key for Anon {
    fn key(&self) -> Option<&str> {
        None
    }
}

/// A client of surface `S`: the server's base URL and an HTTP client.
pub struct Client<S> {
    base: String,
    http: reqwest::Client,
    surface: PhantomData<fn() -> S>,
}

impl<S> Clone for Client<S> {
    fn clone(&self) -> Self {
        Client {
            base: self.base.clone(),
            http: self.http.clone(),
            surface: PhantomData,
        }
    }
}

impl<S: Surface> Client<S> {
    pub fn new(base: &str, http: reqwest::Client) -> Self {
        Client {
            base: base.to_owned(),
            http,
            surface: PhantomData,
        }
    }

    /// A client with an HTTP client of its own, for a server the tests did not start in this
    /// process (an `aistagram serve` child).
    pub fn at(base: &str) -> Self {
        Self::new(base, crate::harness::http())
    }

    /// Any request to `path` under the surface's prefix, for the odd path, method or body no
    /// endpoint method sends.
    pub fn request(&self, method: Method, path: &str, key: impl Key) -> Call<S> {
        self.call(method, format!("{}{}{path}", self.base, S::PREFIX), key)
    }

    /// A request to a full `url`, for the few routes outside the surface's prefix.
    fn call(&self, method: Method, url: String, key: impl Key) -> Call<S> {
        let mut req = self.http.request(method, url);
        if let Some(k) = key.key() {
            req = req.bearer_auth(k);
        }
        Call {
            req,
            surface: PhantomData,
        }
    }

    /// GET `path?query`; `query` is sent as written (already encoded), and empty means none.
    fn http_get(&self, path: &str, query: &str, key: impl Key) -> Call<S> {
        if query.is_empty() {
            self.request(Method::GET, path, key)
        } else {
            self.request(Method::GET, &format!("{path}?{query}"), key)
        }
    }

    /// POST `body` as JSON.
    fn http_post(&self, path: &str, key: impl Key, body: &Value) -> Call<S> {
        self.request(Method::POST, path, key).with(|r| r.json(body))
    }

    /// POST a multipart form.
    fn http_post_form(&self, path: &str, key: impl Key, form: reqwest::multipart::Form) -> Call<S> {
        self.request(Method::POST, path, key)
            .with(|r| r.multipart(form))
    }

    fn http_delete(&self, path: &str, key: impl Key) -> Call<S> {
        self.request(Method::DELETE, path, key)
    }
}

/// A request to surface `S`, sent when awaited.
#[must_use = "a request is sent only when it is awaited"]
pub struct Call<S> {
    req: RequestBuilder,
    surface: PhantomData<fn() -> S>,
}

impl<S: Surface> Call<S> {
    /// Adjusts the request before it is sent: an extra header, a raw body.
    pub fn with(self, f: impl FnOnce(RequestBuilder) -> RequestBuilder) -> Self {
        Call {
            req: f(self.req),
            surface: PhantomData,
        }
    }

    /// Sends the request; a server that is gone is the caller's to handle.
    pub async fn try_send(self) -> reqwest::Result<Reply<S>> {
        let r = self.req.send().await?;
        let status = r.status();
        let headers = r.headers().clone();
        let text = r.text().await?;
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok(Reply {
            status,
            headers,
            body,
            surface: PhantomData,
        })
    }
}

impl<S: Surface> IntoFuture for Call<S> {
    type Output = Reply<S>;
    type IntoFuture = Pin<Box<dyn Future<Output = Reply<S>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move { self.try_send().await.expect("request sent and answered") })
    }
}

/// An answer from surface `S`, reduced to what tests look at (a body that is not JSON is kept
/// as a JSON string). `Reply<native::Api>` is [`Res`], `Reply<aispace::Api>` is [`aispace::Answer`]; each
/// checks its own envelope.
pub struct Reply<S> {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    surface: PhantomData<fn() -> S>,
}

impl<S> Reply<S> {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}
