//! The HTTP side: one router per API surface (`native` at `/api`, `aispace` at `/api/agent`),
//! each carrying its own envelope, plus media, the gallery and the server's own documents; and the
//! middleware every request passes (identity, rate limits, body limit, metrics, tracing).
//! Handlers are thin: extract, call one service, shape the answer.

mod aispace;
mod discovery;
pub mod extract;
mod gallery;
mod glimpse;
mod links;
pub mod mcp;
mod media;
mod meta;
mod page_cache;
pub use meta::render_skill;
mod native;
pub mod openapi;
pub mod post_body;
mod shapes;
pub mod surface;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use crate::error::Error;
use crate::service::{Caller, Services};
use extract::{ClientIp, JSON_BODY_LIMIT};
use native::Native;
use surface::{Reject, Surface, set_limit_headers};

/// What every handler can reach.
pub struct AppState {
    pub services: Arc<Services>,
    pub trusted_proxies: Vec<IpAddr>,
    /// `api.live_service_keys`: `/api` answers carry the live service's named keys too.
    pub live_keys: bool,
    /// Anonymous first pages of public lists, as rendered bytes.
    pub pages: page_cache::PageCache,
    /// The OpenAPI document and the discovery documents (`/skill.json`, `/llms.txt`, the agent
    /// card, MCP metadata and protocols), rendered once when the router is built: the OpenAPI
    /// document is made from the routes, and the API version digests it.
    published: std::sync::OnceLock<Published>,
}

/// What [`router`] renders once for every request to read.
struct Published {
    openapi: bytes::Bytes,
    /// The skill file, rendered with this server's base URL and route index.
    skill_md: String,
    documents: discovery::Documents,
}

impl AppState {
    pub fn new(services: Arc<Services>, trusted_proxies: Vec<IpAddr>, live_keys: bool) -> Self {
        AppState {
            services,
            trusted_proxies,
            live_keys,
            // A few hundred distinct first pages (sorts × windows × limits × hashtags).
            pages: page_cache::PageCache::new(512),
            published: std::sync::OnceLock::new(),
        }
    }

    /// The discovery documents; set before the router serves its first request.
    fn documents(&self) -> Result<&discovery::Documents, Error> {
        self.published
            .get()
            .map(|p| &p.documents)
            .ok_or_else(|| Error::internal("the documents were not rendered"))
    }

    /// The served skill file; set before the router serves its first request.
    pub fn skill_md(&self) -> Result<&str, Error> {
        self.published
            .get()
            .map(|p| p.skill_md.as_str())
            .ok_or_else(|| Error::internal("the skill file was not rendered"))
    }

    /// The OpenAPI document; set before the router serves its first request.
    fn openapi(&self) -> Result<bytes::Bytes, Error> {
        self.published
            .get()
            .map(|p| p.openapi.clone())
            .ok_or_else(|| Error::internal("the OpenAPI document was not rendered"))
    }
}

pub type SharedState = Arc<AppState>;

pub fn router(state: SharedState) -> Router {
    let (routes, api) = documented(&state).split_for_parts();
    let base = &state.services.base_url;
    let mut api = openapi::finish(api);
    // The API version digests the document as every deployment of this build serves it.
    let unserved = openapi::render(&api);
    api.servers = Some(vec![
        utoipa::openapi::ServerBuilder::new()
            .url(base.to_string())
            .build(),
    ]);
    // Built once per server; a second router over the same state has the same routes.
    let _ = state.published.set(Published {
        openapi: openapi::render(&api),
        skill_md: render_skill(base, &api),
        documents: discovery::Documents::new(base, &unserved),
    });
    routes
        .merge(mcp::router(&state))
        .layer(middleware::from_fn_with_state(
            state.services.metrics.clone(),
            crate::metrics::track,
        ))
        .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT))
        .layer(CatchPanicLayer::custom(|_| {
            Reject::<Native>::from(Error::internal("handler panicked")).into_response()
        }))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .with_state(state)
}

/// Every REST route, each with its description: the OpenAPI document is made from these.
/// (`/mcp` speaks JSON-RPC and describes itself; it is added beside them.)
pub fn documented(state: &SharedState) -> OpenApiRouter<SharedState> {
    let upload_limit = state.services.media.body_limit();
    // Media and the gallery's versioned assets are immutable and cacheable: they are served
    // outside the per-request rate limits, or a gallery page of thumbnails would spend a
    // visitor's whole allowance.
    let media = OpenApiRouter::new()
        .routes(routes!(media::serve))
        .routes(routes!(gallery::asset).map(|r| r.layer(CompressionLayer::new())));
    // The gallery's pages and the server's own documents are counted like `/api` reads, and
    // refused in the native envelope.
    let gallery = OpenApiRouter::new()
        .routes(routes!(gallery::feed))
        .routes(routes!(gallery::explore))
        .routes(routes!(gallery::stats))
        .routes(routes!(gallery::search))
        .routes(routes!(gallery::tag))
        .routes(routes!(gallery::post))
        .routes(routes!(gallery::agent))
        .fallback(gallery::fallback)
        .layer(middleware::map_response(page_headers))
        .layer(CompressionLayer::new());
    let pages = gallery.merge(
        OpenApiRouter::new()
            .routes(routes!(meta::skill_md))
            .routes(routes!(discovery::skill_json))
            .routes(routes!(discovery::llms_txt))
            .routes(routes!(discovery::agent_card))
            .routes(routes!(meta::provenance_key))
            .routes(routes!(meta::healthz))
            .routes(routes!(openapi::document)),
    );
    let pages = openapi::map_router(pages, |r| {
        r.method_not_allowed_fallback(|| async { Reject::<Native>::from(Error::MethodNotAllowed) })
    });
    // Each surface is its own router with its own envelope; `/api/agent` is matched before the
    // rest of `/api`, as its routes are the more specific.
    media
        .nest("/api/agent", aispace::router(state, upload_limit))
        .nest("/api/v1", glimpse::router(state, upload_limit))
        .nest("/api", native::router(state, upload_limit))
        .merge(surface_router::<Native>(pages, state))
}

/// The layers every surface router carries: identity and rate limits, and panics answered as a
/// 500, both in the surface's envelope.
fn surface_router<S: Surface>(
    routes: OpenApiRouter<SharedState>,
    state: &SharedState,
) -> OpenApiRouter<SharedState> {
    routes
        .layer(middleware::from_fn_with_state(state.clone(), identify::<S>))
        .layer(CatchPanicLayer::custom(|_| {
            Reject::<S>::from(Error::internal("handler panicked")).into_response()
        }))
}

/// The gallery's security headers (see [`gallery::PAGE_HEADERS`]).
async fn page_headers(mut res: Response) -> Response {
    for (name, value) in gallery::PAGE_HEADERS {
        res.headers_mut()
            .insert(name, axum::http::HeaderValue::from_static(value));
    }
    res
}

/// Resolves the caller (API key or client address), counts the request against its limit, and
/// stamps the `X-RateLimit-*` headers on the answer. Refusals are in surface `S`'s envelope.
async fn identify<S: Surface>(
    State(state): State<SharedState>,
    mut req: Request,
    next: Next,
) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]));
    let ip = client_ip(peer, req.headers(), &state.trusted_proxies);
    req.extensions_mut().insert(ClientIp(ip));
    let agent = match bearer(req.headers()) {
        Some(token) => match state.services.agents.authenticate(token).await {
            Ok(a) => a,
            Err(e) => return Reject::<S>::from(e).into_response(),
        },
        None => None,
    };
    let caller = match &agent {
        Some(a) => Caller::Agent(a.key),
        None => Caller::Address(ip),
    };
    if let Some(a) = agent {
        // The verification gate, once for every surface: a pending key opens only the routes
        // its surface admits for verifying.
        let route = req
            .extensions()
            .get::<MatchedPath>()
            .map(MatchedPath::as_str);
        if !a.verified && !route.is_some_and(|r| S::admits_unverified(req.method(), r)) {
            return Reject::<S>::from(Error::AgentNotVerified).into_response();
        }
        req.extensions_mut().insert(a);
    }
    let info = match state.services.limits.request(caller) {
        Ok(info) => info,
        Err(e) => return Reject::<S>::from(e).into_response(),
    };
    if let Some(info) = &info {
        // Surfaces that report quotas read the caller's standing from here.
        req.extensions_mut().insert(*info);
    }
    let mut res = next.run(req).await;
    if let Some(info) = info
        && !res.headers().contains_key(surface::LIMIT)
    {
        set_limit_headers(res.headers_mut(), &info);
    }
    res
}

/// The token of an `Authorization: Bearer …` header (scheme case-insensitive).
fn bearer(h: &HeaderMap) -> Option<&str> {
    let v = h.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// The peer address, or for a trusted proxy the last address in `X-Forwarded-For` that is not
/// itself a trusted proxy (the right-most hop is the one the proxy saw).
fn client_ip(peer: IpAddr, h: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let forwarded = h
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse::<IpAddr>().ok())
        .collect::<Vec<_>>();
    forwarded
        .into_iter()
        .rev()
        .find(|ip| !trusted.contains(ip))
        .unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "1.1.1.1, 203.0.113.7".parse().unwrap());
        assert_eq!(client_ip(proxy, &h, &[]), proxy);
        assert_eq!(
            client_ip(proxy, &h, &[proxy]),
            "203.0.113.7".parse::<IpAddr>().unwrap()
        );
        h.insert("x-forwarded-for", "garbage".parse().unwrap());
        assert_eq!(client_ip(proxy, &h, &[proxy]), proxy);
    }

    #[test]
    fn bearer_tokens_are_parsed_leniently() {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, "bearer  abc ".parse().unwrap());
        assert_eq!(bearer(&h), Some("abc"));
        h.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(bearer(&h), None);
        h.insert(header::AUTHORIZATION, "Bearer".parse().unwrap());
        assert_eq!(bearer(&h), None);
    }
}
