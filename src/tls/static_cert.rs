//! A static certificate and key from disk, served until the files change: checked every
//! `tls.reload_secs` and on SIGHUP, and swapped in only when the new pair loads and matches.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use super::TlsError;
use crate::metrics::Metrics;

/// The pair being served and how to tell that the files changed.
#[derive(Debug)]
pub(super) struct StaticCert {
    cert_path: PathBuf,
    key_path: PathBuf,
    every: Duration,
    current: RwLock<Loaded>,
    /// The files' state when last read, loaded or not: a bad pair is reported once, not at
    /// every check.
    seen: Mutex<Option<Stamp>>,
}

#[derive(Debug, Clone)]
struct Loaded {
    key: Arc<CertifiedKey>,
    not_after: Option<i64>,
}

/// What changes when a file is replaced or rewritten.
type Stamp = [(Option<SystemTime>, u64); 2];

impl StaticCert {
    /// The pair in `tls.cert_path` and `tls.key_path`; one that does not load stops the start.
    pub(super) fn load(tls: &crate::config::Tls) -> Result<StaticCert, TlsError> {
        let (Some(cert_path), Some(key_path)) = (&tls.cert_path, &tls.key_path) else {
            return Err(TlsError::Static("both must be set".into()));
        };
        let seen = stamp(cert_path, key_path);
        let current = load_pair(cert_path, key_path).map_err(TlsError::Static)?;
        tracing::info!(
            cert = %cert_path.display(),
            not_after = %current.not_after.map_or_else(|| "unknown".into(), super::rfc3339),
            "static TLS certificate loaded"
        );
        Ok(StaticCert {
            cert_path: cert_path.clone(),
            key_path: key_path.clone(),
            every: Duration::from_secs(tls.reload_secs),
            current: RwLock::new(current),
            seen: Mutex::new(Some(seen)),
        })
    }

    /// Reports the served certificate's expiry.
    pub(super) fn record(&self, metrics: &Metrics) {
        let current = self.current.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(t) = current.not_after {
            metrics.set_certificate_expiry("static", t);
        }
    }

    /// Checks the files every `reload_secs` and on SIGHUP; runs until aborted.
    pub(super) async fn watch(self: Arc<Self>, metrics: Arc<Metrics>) {
        let mut hangup =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
        let mut tick = tokio::time::interval(self.every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let forced = tokio::select! {
                _ = tick.tick() => false,
                Some(()) = async { match hangup.as_mut() {
                    Some(h) => h.recv().await,
                    None => std::future::pending().await,
                } } => true,
            };
            let this = self.clone();
            // File reads and PEM parsing are blocking work.
            let changed = tokio::task::spawn_blocking(move || this.reload(forced)).await;
            if let Ok(true) = changed {
                self.record(&metrics);
            }
        }
    }

    /// Re-reads the pair if the files changed (or `forced`); whether a new one is served.
    fn reload(&self, forced: bool) -> bool {
        let now = stamp(&self.cert_path, &self.key_path);
        {
            let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
            if !forced && seen.as_ref() == Some(&now) {
                return false;
            }
            *seen = Some(now);
        }
        match load_pair(&self.cert_path, &self.key_path) {
            Ok(loaded) => {
                tracing::info!(
                    cert = %self.cert_path.display(),
                    not_after = %loaded.not_after.map_or_else(|| "unknown".into(), super::rfc3339),
                    "static TLS certificate reloaded"
                );
                *self.current.write().unwrap_or_else(PoisonError::into_inner) = loaded;
                true
            }
            Err(e) => {
                tracing::warn!(
                    cause = %e,
                    "the changed static TLS certificate does not load; still serving the previous one"
                );
                false
            }
        }
    }
}

impl ResolvesServerCert for StaticCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let current = self.current.read().unwrap_or_else(PoisonError::into_inner);
        Some(current.key.clone())
    }
}

fn stamp(cert: &Path, key: &Path) -> Stamp {
    [cert, key].map(|p| match std::fs::metadata(p) {
        Ok(m) => (m.modified().ok(), m.len()),
        Err(_) => (None, 0),
    })
}

/// Reads and checks a pair: a chain, a key the ring provider can sign with, and the key
/// belonging to the chain's leaf.
fn load_pair(cert_path: &Path, key_path: &Path) -> Result<Loaded, String> {
    let pem = std::fs::read(cert_path).map_err(|e| format!("{}: {e}", cert_path.display()))?;
    let chain = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: {e}", cert_path.display()))?;
    let Some(leaf) = chain.first() else {
        return Err(format!("{}: no certificate in it", cert_path.display()));
    };
    let not_after = super::not_after(leaf);
    let pem = std::fs::read(key_path).map_err(|e| format!("{}: {e}", key_path.display()))?;
    let key =
        PrivateKeyDer::from_pem_slice(&pem).map_err(|e| format!("{}: {e}", key_path.display()))?;
    let key = CertifiedKey::from_der(chain, key, &super::provider()).map_err(|e| {
        format!(
            "{} and {} are not a usable pair: {e}",
            cert_path.display(),
            key_path.display()
        )
    })?;
    if let Some(t) = not_after
        && t < time::OffsetDateTime::now_utc().unix_timestamp()
    {
        tracing::warn!(cert = %cert_path.display(), not_after = %super::rfc3339(t), "the static TLS certificate has expired");
    }
    Ok(Loaded {
        key: Arc::new(key),
        not_after,
    })
}
