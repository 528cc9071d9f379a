//! HTTPS: the certificate (from an ACME CA, renewed in the background, or a static pair
//! re-read when it changes), the TLS listener that hands finished handshakes to `axum::serve`,
//! and the redirect the plain listener answers with.

mod acme;
mod listener;
mod redirect;
mod static_cert;

use std::sync::Arc;

use rustls::ServerConfig;
use rustls::server::ResolvesServerCert;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::config::{Config, TlsMode};
use crate::metrics::Metrics;

pub use acme::{account_cache_path, cert_cache_path};
pub use listener::TlsListener;
pub use redirect::{Redirect, redirect_router};

/// What HTTPS offers in ALPN, preferred first.
const ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// A TLS setup that cannot start.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("tls.cert_path/tls.key_path: {0}")]
    Static(String),
    #[error("tls.acme_ca_file {path}: {cause}")]
    CaFile {
        path: std::path::PathBuf,
        cause: String,
    },
    #[error("cannot set up TLS: {0}")]
    Setup(String),
}

/// Where certificates come from, loaded and checked, before anything runs.
pub struct Certificates {
    source: Source,
}

enum Source {
    Acme(acme::Acme),
    Static(Arc<static_cert::StaticCert>),
}

/// The ring provider, as everywhere in this binary.
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

impl Certificates {
    /// Reads a static pair (refusing one that does not load) or prepares the ACME client;
    /// `None` when TLS is off.
    pub fn load(config: &Config) -> Result<Option<Certificates>, TlsError> {
        let source = match config.tls.mode() {
            None => return Ok(None),
            Some(TlsMode::Acme) => Source::Acme(acme::Acme::new(&config.tls, &config.data_dir)?),
            Some(TlsMode::Static) => {
                Source::Static(Arc::new(static_cert::StaticCert::load(&config.tls)?))
            }
        };
        Ok(Some(Certificates { source }))
    }

    /// Starts the certificate's background work (ACME orders and renewals, or watching the
    /// static files) and the TLS accept loop on `tcp`. The tasks end when the returned
    /// listener is dropped and the handles are aborted.
    pub fn serve(
        self,
        tcp: TcpListener,
        metrics: Arc<Metrics>,
    ) -> Result<(TlsListener, Vec<JoinHandle<()>>), TlsError> {
        let (resolver, challenge, task): (Arc<dyn ResolvesServerCert>, _, _) = match self.source {
            Source::Acme(acme) => {
                let resolver: Arc<dyn ResolvesServerCert> = acme.resolver();
                let challenge = acme.challenge_config();
                (resolver, Some(challenge), tokio::spawn(acme.run(metrics)))
            }
            Source::Static(cert) => {
                cert.record(&metrics);
                let task = tokio::spawn(cert.clone().watch(metrics));
                let resolver: Arc<dyn ResolvesServerCert> = cert;
                (resolver, None, task)
            }
        };
        let mut config = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Setup(e.to_string()))?
            .with_no_client_auth()
            .with_cert_resolver(resolver);
        config.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
        let listener = TlsListener::start(tcp, Arc::new(config), challenge)
            .map_err(|e| TlsError::Setup(e.to_string()))?;
        Ok((listener, vec![task]))
    }
}

/// A certificate's leaf: its expiry as a Unix time, for logs and the expiry metric.
fn not_after(leaf: &[u8]) -> Option<i64> {
    x509_parser::parse_x509_certificate(leaf)
        .ok()
        .map(|(_, cert)| cert.validity().not_after.timestamp())
}

/// `unix` as an RFC 3339 time, for logs.
fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| unix.to_string())
}
