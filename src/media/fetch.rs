//! Fetching an image URL without becoming a proxy into the server's own network (SSRF).
//!
//! Names are resolved once by our resolver, which drops every address the [`AddressPolicy`]
//! refuses; reqwest then connects only to the addresses that were checked, so a DNS answer cannot
//! change between check and connect. IP-literal hosts never reach a resolver, so they are checked
//! here and in the redirect policy. At most `max_redirects` hops, each checked the same way; a
//! connect timeout, a total timeout, and a byte cap enforced while streaming.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::redirect;

use super::ssrf::AddressPolicy;
use crate::error::{Error, Result};

/// The marker error our resolver and redirect policy raise, found again in reqwest's error chain.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Blocked(String);

#[derive(Debug, thiserror::Error)]
#[error("more than {0} redirects")]
struct TooManyRedirects(usize);

struct PolicyResolver(Arc<AddressPolicy>);

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.0.clone();
        Box::pin(async move {
            let host = name.as_str().trim_end_matches('.').to_owned();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|e| -> Box<dyn std::error::Error + Send + Sync> { Box::new(e) })?
                .collect();
            let allowed: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| policy.allows(a.ip()))
                .collect();
            if allowed.is_empty() {
                let why = if found.is_empty() {
                    format!("{host} has no address")
                } else {
                    format!("{host} resolves to a private or reserved address")
                };
                return Err(Box::new(Blocked(why)) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// A fetched body and what the server said about it.
pub struct Fetched {
    pub bytes: Vec<u8>,
    /// The URL after redirects.
    pub final_url: String,
}

pub struct Fetcher {
    client: reqwest::Client,
    policy: Arc<AddressPolicy>,
    max_bytes: usize,
}

/// Checks the scheme and, for IP-literal hosts, the address of one URL (first hop or redirect).
pub fn check_url(url: &Url, policy: &AddressPolicy) -> std::result::Result<(), String> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "scheme '{}' is not allowed; use http or https",
            url.scheme()
        ));
    }
    let ip = match url.host() {
        Some(url::Host::Ipv4(v4)) => IpAddr::V4(v4),
        Some(url::Host::Ipv6(v6)) => IpAddr::V6(v6),
        Some(url::Host::Domain(_)) => return Ok(()),
        None => return Err("the URL has no host".into()),
    };
    if policy.allows(ip) {
        Ok(())
    } else {
        Err(format!("{ip} is a private or reserved address"))
    }
}

/// [`check_url`], and for a host name also the addresses it resolves to now, so a target that
/// names a private address (`https://localhost:8443/`) is refused when it is registered, not
/// only when it is used. A name that does not resolve within a few seconds is left to the check
/// every connection makes (the resolver refuses what it would reach then).
pub async fn check_resolved(url: &Url, policy: &AddressPolicy) -> std::result::Result<(), String> {
    check_url(url, policy)?;
    let Some(url::Host::Domain(name)) = url.host() else {
        return Ok(());
    };
    let name = name.trim_end_matches('.').to_owned();
    let port = url.port_or_known_default().unwrap_or(443);
    let lookup = tokio::net::lookup_host((name.as_str(), port));
    let Ok(Ok(found)) = tokio::time::timeout(Duration::from_secs(3), lookup).await else {
        return Ok(());
    };
    for addr in found {
        if !policy.allows(addr.ip()) {
            return Err(format!(
                "{name} resolves to {}, a private or reserved address",
                addr.ip()
            ));
        }
    }
    Ok(())
}

impl Fetcher {
    pub fn new(
        policy: AddressPolicy,
        max_bytes: usize,
        max_redirects: usize,
        connect_timeout: Duration,
        total_timeout: Duration,
        user_agent: &str,
    ) -> Result<Fetcher> {
        // One process-wide TLS provider; a second install is harmless and reports Err.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let policy = Arc::new(policy);
        let redirect_policy = {
            let policy = policy.clone();
            redirect::Policy::custom(move |attempt| {
                if attempt.previous().len() > max_redirects {
                    return attempt.error(TooManyRedirects(max_redirects));
                }
                match check_url(attempt.url(), &policy) {
                    Ok(()) => attempt.follow(),
                    Err(why) => attempt.error(Blocked(format!("redirect refused: {why}"))),
                }
            })
        };
        let client = reqwest::Client::builder()
            .no_proxy()
            .dns_resolver(Arc::new(PolicyResolver(policy.clone())))
            .redirect(redirect_policy)
            .connect_timeout(connect_timeout)
            .timeout(total_timeout)
            .user_agent(user_agent)
            .build()
            .map_err(|e| Error::internal(format!("HTTP client: {e}")))?;
        Ok(Fetcher {
            client,
            policy,
            max_bytes,
        })
    }

    /// Fetches `raw_url`: `FORBIDDEN_URL` for refused targets, `UPLOAD_TOO_LARGE` past the byte
    /// cap, `IMAGE_FETCH_FAILED` (with the reason) for everything else that goes wrong.
    pub async fn fetch(&self, raw_url: &str) -> Result<Fetched> {
        const MAX_URL: usize = 2048;
        if raw_url.len() > MAX_URL {
            return Err(Error::validation(
                "image_url",
                format!("must be at most {MAX_URL} characters"),
            ));
        }
        let url = Url::parse(raw_url.trim())
            .map_err(|e| Error::validation("image_url", format!("not a valid URL: {e}")))?;
        check_url(&url, &self.policy).map_err(Error::ForbiddenUrl)?;
        let mut res = self.client.get(url).send().await.map_err(classify)?;
        if !res.status().is_success() {
            return Err(Error::ImageFetchFailed(format!(
                "the image server answered {}",
                res.status()
            )));
        }
        if res
            .content_length()
            .is_some_and(|n| n > self.max_bytes as u64)
        {
            return Err(Error::UploadTooLarge(self.max_bytes));
        }
        let final_url = res.url().to_string();
        let mut bytes = Vec::new();
        while let Some(chunk) = res.chunk().await.map_err(classify)? {
            if bytes.len() + chunk.len() > self.max_bytes {
                return Err(Error::UploadTooLarge(self.max_bytes));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Fetched { bytes, final_url })
    }
}

/// A client for delivering webhooks: the same address policy as image fetches (names resolved
/// only to allowed addresses, no proxy), no redirects, one timeout per attempt.
pub fn delivery_client(
    policy: AddressPolicy,
    timeout: Duration,
    user_agent: &str,
) -> Result<reqwest::Client> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .no_proxy()
        .dns_resolver(Arc::new(PolicyResolver(Arc::new(policy))))
        .redirect(redirect::Policy::none())
        .connect_timeout(timeout)
        .timeout(timeout)
        .user_agent(user_agent)
        .build()
        .map_err(|e| Error::internal(format!("HTTP client: {e}")))
}

/// Turns a reqwest failure into our codes, looking through its causes for our own refusals.
fn classify(e: reqwest::Error) -> Error {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(s) = source {
        if let Some(b) = s.downcast_ref::<Blocked>() {
            return Error::ForbiddenUrl(b.0.clone());
        }
        if let Some(t) = s.downcast_ref::<TooManyRedirects>() {
            return Error::ImageFetchFailed(t.to_string());
        }
        source = s.source();
    }
    let why = if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "could not connect".to_owned()
    } else if e.is_redirect() {
        "bad redirect".to_owned()
    } else {
        let mut msg = e.to_string();
        let mut src = std::error::Error::source(&e);
        while let Some(s) = src {
            msg = format!("{msg}: {s}");
            src = s.source();
        }
        msg
    };
    Error::ImageFetchFailed(why)
}
