//! Certificates from an ACME CA (rustls-acme): the account key and certificate cached in
//! `<data_dir>/acme/`, an order at start when the cache has none, and a renewal once two thirds
//! of the certificate's lifetime has passed (rustls-acme's schedule), all while serving.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::StreamExt;
use rustls::ClientConfig;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls_acme::{AcmeConfig, AcmeState, EventOk, ResolvesServerCertAcme};
use sha2::{Digest, Sha256};

use super::TlsError;
use crate::metrics::Metrics;

/// An ACME client ready to run.
pub(super) struct Acme {
    state: AcmeState<io::Error>,
    /// The certificate PEM the cache last read or wrote: how its expiry is known.
    last: Arc<Mutex<Option<Vec<u8>>>>,
    domains: Vec<String>,
}

impl Acme {
    pub(super) fn new(tls: &crate::config::Tls, data_dir: &Path) -> Result<Acme, TlsError> {
        let provider = super::provider();
        let extra = match &tls.acme_ca_file {
            None => Vec::new(),
            Some(path) => {
                let ca_error = |cause: String| TlsError::CaFile {
                    path: path.clone(),
                    cause,
                };
                let roots = CertificateDer::pem_file_iter(path)
                    .map_err(|e| ca_error(e.to_string()))?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| ca_error(e.to_string()))?;
                if roots.is_empty() {
                    return Err(ca_error("no PEM certificate in it".into()));
                }
                roots
            }
        };
        // The system's roots (as mail and image fetches use) plus the configured one.
        let verifier =
            rustls_platform_verifier::Verifier::new_with_extra_roots(extra, provider.clone())
                .map_err(|e| TlsError::Setup(format!("ACME client roots: {e}")))?;
        let client = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Setup(e.to_string()))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        let last = Arc::new(Mutex::new(None));
        let cache = Cache {
            dir: data_dir.join("acme"),
            last: last.clone(),
        };
        let state = AcmeConfig::new_with_client_config(&tls.acme_domains, Arc::new(client))
            .directory(tls.acme_directory.expose())
            .contact(&tls.acme_contact)
            .cache(cache)
            .state();
        Ok(Acme {
            state,
            last,
            domains: tls.acme_domains.clone(),
        })
    }

    /// Serves the certificate and answers tls-alpn-01 challenges.
    pub(super) fn resolver(&self) -> Arc<ResolvesServerCertAcme> {
        self.state.resolver()
    }

    /// The server config for tls-alpn-01 validation connections.
    pub(super) fn challenge_config(&self) -> Arc<rustls::ServerConfig> {
        self.state
            .challenge_rustls_config_with_provider(super::provider())
    }

    /// Drives the state machine (load the cache, order, wait for the renewal time, renew) and
    /// reports what it does; runs until aborted.
    pub(super) async fn run(mut self, metrics: Arc<Metrics>) {
        let domains = self.domains.join(",");
        let mut deployed = false;
        while let Some(event) = self.state.next().await {
            match event {
                Ok(EventOk::DeployedCachedCert) => {
                    deployed = true;
                    let not_after = self.expiry(&metrics);
                    tracing::info!(%domains, %not_after, "serving the cached ACME certificate");
                }
                Ok(EventOk::DeployedNewCert) => {
                    let verb = if deployed { "renewed" } else { "obtained" };
                    deployed = true;
                    tracing::info!(%domains, "ACME certificate {verb}; serving it");
                }
                Ok(EventOk::CertCacheStore) => {
                    let not_after = self.expiry(&metrics);
                    tracing::info!(%domains, %not_after, "ACME certificate cached");
                }
                Ok(EventOk::AccountCacheStore) => {
                    tracing::info!("ACME account key created and cached");
                }
                // rustls-acme retries orders with a growing delay (1 s doubling to 18 h).
                Err(e) => tracing::error!(%domains, cause = %e, "ACME certificate"),
            }
        }
    }

    /// The expiry of the certificate last cached, reported to the metrics, for logs.
    fn expiry(&self, metrics: &Metrics) -> String {
        self.not_after(metrics)
            .unwrap_or_else(|| "unknown".to_owned())
    }

    fn not_after(&self, metrics: &Metrics) -> Option<String> {
        let pem = self
            .last
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()?;
        // The cache file holds the key first, then the chain; the leaf is the first certificate.
        let leaf = CertificateDer::pem_slice_iter(&pem).next()?.ok()?;
        let t = super::not_after(&leaf)?;
        metrics.set_certificate_expiry("acme", t);
        Some(super::rfc3339(t))
    }
}

/// Where the certificate for `domains` from `directory` is cached: its PEM private key (PKCS#8)
/// followed by the chain, leaf first, the format rustls-acme reads.
pub fn cert_cache_path(data_dir: &Path, domains: &[String], directory: &str) -> PathBuf {
    data_dir.join("acme").join(cert_file(domains, directory))
}

fn cert_file(domains: &[String], directory: &str) -> String {
    format!("cert-{}.pem", name_hash(domains, directory))
}

/// Where the account key for `contact` at `directory` is cached (PKCS#8 DER).
pub fn account_cache_path(data_dir: &Path, contact: &[String], directory: &str) -> PathBuf {
    data_dir.join("acme").join(account_file(contact, directory))
}

fn account_file(contact: &[String], directory: &str) -> String {
    format!("account-{}.der", name_hash(contact, directory))
}

/// A file name part that changes when the names or the CA do: a certificate for other names or
/// from another CA is never served from a stale file.
fn name_hash(names: &[String], directory: &str) -> String {
    let mut h = Sha256::new();
    h.update(directory.as_bytes());
    for n in names {
        h.update([0]);
        h.update(n.as_bytes());
    }
    h.finalize()[..12]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// rustls-acme's cache in the data dir: like its `DirCache`, but the files (private keys) are
/// written owner-only and atomically (a crash mid-write never leaves half a key), and the last
/// certificate is kept for its expiry.
struct Cache {
    dir: PathBuf,
    last: Arc<Mutex<Option<Vec<u8>>>>,
}

impl Cache {
    async fn read(path: PathBuf) -> io::Result<Option<Vec<u8>>> {
        let read = tokio::task::spawn_blocking(move || match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        });
        read.await.map_err(io::Error::other)?
    }

    async fn write(path: PathBuf, bytes: Vec<u8>) -> io::Result<()> {
        tokio::task::spawn_blocking(move || write_private(&path, &bytes))
            .await
            .map_err(io::Error::other)?
    }

    fn remember(&self, pem: &[u8]) {
        *self.last.lock().unwrap_or_else(PoisonError::into_inner) = Some(pem.to_vec());
    }
}

/// Writes `bytes` to `path` through an owner-only temporary file, synced and renamed.
fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let tmp = path.with_extension("tmp");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)?;
    std::fs::File::open(dir)?.sync_all()
}

#[async_trait::async_trait]
impl rustls_acme::CertCache for Cache {
    type EC = io::Error;

    async fn load_cert(&self, domains: &[String], directory: &str) -> io::Result<Option<Vec<u8>>> {
        let path = self.dir.join(cert_file(domains, directory));
        let pem = Self::read(path).await?;
        if let Some(pem) = &pem {
            self.remember(pem);
        }
        Ok(pem)
    }

    async fn store_cert(&self, domains: &[String], directory: &str, cert: &[u8]) -> io::Result<()> {
        let path = self.dir.join(cert_file(domains, directory));
        Self::write(path, cert.to_vec()).await?;
        self.remember(cert);
        Ok(())
    }
}

#[async_trait::async_trait]
impl rustls_acme::AccountCache for Cache {
    type EA = io::Error;

    async fn load_account(
        &self,
        contact: &[String],
        directory: &str,
    ) -> io::Result<Option<Vec<u8>>> {
        Self::read(self.dir.join(account_file(contact, directory))).await
    }

    async fn store_account(
        &self,
        contact: &[String],
        directory: &str,
        key: &[u8],
    ) -> io::Result<()> {
        Self::write(
            self.dir.join(account_file(contact, directory)),
            key.to_vec(),
        )
        .await
    }
}
