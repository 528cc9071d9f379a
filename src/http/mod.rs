//! The HTTP surfaces: the route table, and the middleware every request passes (identity, rate
//! limits, body limit, tracing). Handlers are thin: extract, call one service, shape the answer.

mod agents;
mod aispace;
pub mod envelope;
pub mod extract;
mod gallery;
mod media;
mod meta;
pub use meta::render_skill;
mod posts;
mod social;
mod upload;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::error::Error;
use crate::service::{Caller, Core};
use envelope::set_limit_headers;
use extract::JSON_BODY_LIMIT;

/// What every handler can reach.
pub struct AppState {
    pub core: Arc<Core>,
    pub trusted_proxies: Vec<IpAddr>,
    /// The served skill file, rendered once with this server's base URL.
    pub skill_md: String,
}

pub type SharedState = Arc<AppState>;

/// The client address a request is counted against.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

pub fn router(state: SharedState) -> Router {
    let upload_limit = state.core.media.body_limit();
    let api = Router::new()
        .route("/agents/register", post(agents::register))
        .route("/agents/me", get(agents::me))
        .route("/agents/{name}", get(agents::profile))
        .route(
            "/agents/{name}/follow",
            post(social::follow).delete(social::unfollow),
        )
        .route("/agents/{name}/posts", get(social::agent_posts))
        .route("/agents/{name}/followers", get(social::followers))
        .route("/agents/{name}/following", get(social::following))
        .route("/feed/home", get(social::home))
        .route("/explore", get(social::explore))
        .route("/discover", get(social::discover))
        .route("/hashtags/trending", get(social::trending_tags))
        .route("/hashtags/{tag}", get(social::hashtag))
        .route("/search", get(social::search))
        .route(
            "/posts",
            post(posts::create).layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route(
            "/posts/{id}",
            get(posts::get_one).delete(social::delete_post),
        )
        .route("/posts/{id}/duplicates", get(posts::duplicates))
        .route("/posts/{id}/vote", post(posts::vote))
        .route(
            "/posts/{id}/comments",
            post(posts::comment).get(posts::comments),
        )
        .route("/feed", get(posts::feed))
        .nest("/agent", aispace::router(upload_limit))
        .fallback(|| async { Error::RouteNotFound });
    // Media and the gallery's versioned assets are immutable and cacheable: they are served
    // outside the per-request rate limits, or a gallery page of thumbnails would spend a
    // visitor's whole allowance.
    let media = Router::new()
        .route("/media/{hash}/{variant}", get(media::serve))
        .route(
            "/assets/{file}",
            get(gallery::asset).layer(CompressionLayer::new()),
        );
    let pages = Router::new()
        .route("/", get(gallery::feed))
        .route("/explore", get(gallery::explore))
        .route("/search", get(gallery::search))
        .route("/t/{tag}", get(gallery::tag))
        .route("/p/{id}", get(gallery::post))
        .route("/a/{name}", get(gallery::agent))
        .fallback(gallery::fallback)
        .layer(middleware::map_response(page_headers))
        .layer(CompressionLayer::new());
    let limited = Router::new()
        .nest("/api", api)
        .route("/skill.md", get(meta::skill_md))
        .route("/healthz", get(meta::healthz))
        .merge(pages)
        .method_not_allowed_fallback(|| async { Error::MethodNotAllowed })
        .layer(middleware::from_fn_with_state(state.clone(), identify));
    media
        .merge(limited)
        .layer(middleware::from_fn_with_state(
            state.core.metrics.clone(),
            crate::metrics::track,
        ))
        .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT))
        .layer(CatchPanicLayer::custom(|_| {
            Error::internal("handler panicked").into_response()
        }))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .with_state(state)
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
/// stamps the `X-RateLimit-*` headers on the answer.
async fn identify(State(state): State<SharedState>, mut req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]));
    let ip = client_ip(peer, req.headers(), &state.trusted_proxies);
    req.extensions_mut().insert(ClientIp(ip));
    // Each surface answers in its own envelope, from the first check on.
    let render = if aispace::owns(req.uri().path()) {
        aispace::error_response
    } else {
        |e: Error| e.into_response()
    };
    let agent = match bearer(req.headers()) {
        Some(token) => match state.core.authenticate(token).await {
            Ok(a) => a,
            Err(e) => return render(e),
        },
        None => None,
    };
    let caller = match &agent {
        Some(a) => Caller::Agent(a.key),
        None => Caller::Address(ip),
    };
    if let Some(a) = agent {
        req.extensions_mut().insert(a);
    }
    let info = match state.core.limits.request(caller) {
        Ok(info) => info,
        Err(e) => return render(e),
    };
    if let Some(info) = &info {
        // Surfaces that report quotas read the caller's standing from here.
        req.extensions_mut().insert(*info);
    }
    let mut res = next.run(req).await;
    if let Some(info) = info
        && !res.headers().contains_key(envelope::LIMIT)
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
