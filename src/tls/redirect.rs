//! What the plain-HTTP listener answers with TLS on: a permanent redirect to the same path on
//! HTTPS. The target host is the request's own only when it is one this server holds a
//! certificate for (an ACME domain or `public_url`'s host); any other `Host` gets the canonical
//! one, so a forged header never turns the redirect into a link elsewhere.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use crate::config::Config;

/// Where plain-HTTP requests are sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    /// The host redirects name when the request's is not one of `hosts`.
    canonical: String,
    /// `:port` after the host, or empty for 443.
    port: String,
    /// Hosts (lower case) a request may keep.
    hosts: Vec<String>,
}

impl Redirect {
    /// From `public_url` (its host and port, when set), else the first ACME domain (or the TLS
    /// address) and the bound HTTPS port.
    pub fn new(config: &Config, tls_bound: SocketAddr) -> Redirect {
        let base = url::Url::parse(&config.base_url_bound(config.listen, tls_bound)).ok();
        let canonical = base
            .as_ref()
            .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
            .unwrap_or_else(|| tls_bound.ip().to_string());
        let port = match base.as_ref().and_then(url::Url::port) {
            Some(p) if p != 443 => format!(":{p}"),
            _ => String::new(),
        };
        let mut hosts = config.tls.acme_domains.clone();
        hosts.push(canonical.clone());
        Redirect {
            canonical,
            port,
            hosts,
        }
    }

    /// The `https://` URL for a request with this `Host` header and path.
    pub fn location(&self, host: Option<&str>, path_and_query: &str) -> String {
        let asked = host.map(host_part).map(str::to_ascii_lowercase);
        let host = match asked {
            Some(h) if self.hosts.contains(&h) => h,
            _ => self.canonical.clone(),
        };
        format!("https://{host}{}{path_and_query}", self.port)
    }
}

/// `host[:port]` without the port (an IPv6 literal keeps its brackets) and a trailing dot.
fn host_part(authority: &str) -> &str {
    let host = if authority.starts_with('[') {
        authority
            .find(']')
            .map_or(authority, |end| &authority[..=end])
    } else {
        authority.split(':').next().unwrap_or(authority)
    };
    host.trim_end_matches('.')
}

/// The plain listener's router: every path and method redirects.
pub fn redirect_router(redirect: Arc<Redirect>) -> axum::Router {
    axum::Router::new().fallback(answer).with_state(redirect)
}

async fn answer(
    State(redirect): State<Arc<Redirect>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| uri.authority().map(|a| a.as_str()));
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let location = redirect.location(host, path);
    // 301 is what every client follows for a page; 308 keeps the method and body of the rest.
    let status = if method == Method::GET || method == Method::HEAD {
        StatusCode::MOVED_PERMANENTLY
    } else {
        StatusCode::PERMANENT_REDIRECT
    };
    (status, [(header::LOCATION, location)]).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(toml_tls: &str, public_url: &str) -> Config {
        Config {
            public_url: crate::config::ConfigUrl::new(public_url),
            tls: toml::from_str(toml_tls).expect("tls section"),
            ..Config::default()
        }
    }

    #[test]
    fn a_known_host_is_kept_and_any_other_gets_the_canonical_one() {
        let c = config(r#"acme_domains = ["a.example", "b.example"]"#, "");
        let r = Redirect::new(&c, "0.0.0.0:443".parse().unwrap());
        assert_eq!(
            r.location(Some("b.example"), "/p/1?x=2"),
            "https://b.example/p/1?x=2"
        );
        assert_eq!(r.location(Some("B.Example.:80"), "/"), "https://b.example/");
        assert_eq!(r.location(Some("evil.example"), "/"), "https://a.example/");
        assert_eq!(r.location(Some("[::1]:80"), "/"), "https://a.example/");
        assert_eq!(r.location(None, "/x"), "https://a.example/x");
        // Port 0 bound as 8443: the redirect names the real port.
        let r = Redirect::new(&c, "127.0.0.1:8443".parse().unwrap());
        assert_eq!(
            r.location(Some("a.example:8080"), "/"),
            "https://a.example:8443/"
        );
    }

    #[test]
    fn public_url_names_the_canonical_host_and_port() {
        let c = config(
            r#"acme_domains = ["a.example"]"#,
            "https://www.a.example:4443",
        );
        let r = Redirect::new(&c, "0.0.0.0:443".parse().unwrap());
        assert_eq!(r.location(Some("evil"), "/"), "https://www.a.example:4443/");
        assert_eq!(
            r.location(Some("a.example"), "/"),
            "https://a.example:4443/"
        );
        let c = config("cert_path = \"/c\"\nkey_path = \"/k\"", "https://s.example");
        let r = Redirect::new(&c, "0.0.0.0:8443".parse().unwrap());
        assert_eq!(
            r.location(Some("s.example:80"), "/a"),
            "https://s.example/a"
        );
        // A static pair without public_url: the address is all there is.
        let c = config("cert_path = \"/c\"\nkey_path = \"/k\"", "");
        let r = Redirect::new(&c, "127.0.0.1:8443".parse().unwrap());
        assert_eq!(r.location(Some("evil"), "/"), "https://127.0.0.1:8443/");
    }
}
