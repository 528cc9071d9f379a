//! `[tls]`: HTTPS served by the binary itself, with a certificate from an ACME CA (Let's Encrypt
//! by default) or a static certificate and key on disk.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{ConfigError, ConfigUrl};

/// Let's Encrypt's production directory: what `acme_domains` alone gets.
pub const LETS_ENCRYPT: &str = "https://acme-v02.api.letsencrypt.org/directory";

/// HTTPS: off unless `acme_domains` or `cert_path` and `key_path` are set.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Tls {
    /// Address the HTTPS server binds when TLS is on. ACME's tls-alpn-01 challenge reaches it
    /// on port 443 of every domain, so it must be (or be forwarded from) port 443.
    pub listen_tls: SocketAddr,
    /// Names the ACME certificate is issued for (one certificate holding them all); setting
    /// any turns ACME on. Every name must resolve to this server.
    pub acme_domains: Vec<String>,
    /// Account contacts sent to the CA, as `mailto:` URLs (expiry and policy mail).
    pub acme_contact: Vec<String>,
    /// The ACME directory URL; Let's Encrypt's production directory by default.
    pub acme_directory: ConfigUrl,
    /// An extra PEM root (or bundle) trusted when talking to the ACME directory, besides the
    /// system's roots: for a private CA such as step-ca, or pebble in tests.
    pub acme_ca_file: Option<PathBuf>,
    /// A static certificate chain (PEM, leaf first), with `key_path`; instead of ACME.
    pub cert_path: Option<PathBuf>,
    /// The private key (PEM: PKCS#8, PKCS#1 or SEC1) of `cert_path`.
    pub key_path: Option<PathBuf>,
    /// Seconds between checks of `cert_path` and `key_path` for a new pair (SIGHUP checks at
    /// once); a changed pair is served without a restart.
    pub reload_secs: u64,
    /// Whether the plain `listen` address answers every request with a redirect to HTTPS.
    /// `false` keeps serving the site over plain HTTP there too.
    pub redirect_http: bool,
}

impl Default for Tls {
    fn default() -> Self {
        Tls {
            listen_tls: SocketAddr::from(([0, 0, 0, 0], 443)),
            acme_domains: Vec::new(),
            acme_contact: Vec::new(),
            acme_directory: ConfigUrl::new(LETS_ENCRYPT),
            acme_ca_file: None,
            cert_path: None,
            key_path: None,
            reload_secs: 10,
            redirect_http: true,
        }
    }
}

/// Where the served certificate comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    Acme,
    Static,
}

impl Tls {
    /// Whether HTTPS is served, and with which kind of certificate.
    pub fn mode(&self) -> Option<TlsMode> {
        if !self.acme_domains.is_empty() {
            Some(TlsMode::Acme)
        } else if self.cert_path.is_some() || self.key_path.is_some() {
            Some(TlsMode::Static)
        } else {
            None
        }
    }

    /// Whether HTTPS is served at all.
    pub fn enabled(&self) -> bool {
        self.mode().is_some()
    }

    /// Refuses values the server cannot run with, naming the key. Domains are normalised to
    /// lower case without a trailing dot, as certificates and Host headers compare them.
    pub(super) fn validate(&mut self) -> Result<(), ConfigError> {
        let acme = !self.acme_domains.is_empty();
        match (&self.cert_path, &self.key_path) {
            (Some(_), None) => {
                return Err(ConfigError(
                    "tls.cert_path is set without tls.key_path: a static certificate needs both"
                        .into(),
                ));
            }
            (None, Some(_)) => {
                return Err(ConfigError(
                    "tls.key_path is set without tls.cert_path: a static certificate needs both"
                        .into(),
                ));
            }
            (Some(_), Some(_)) if acme => {
                return Err(ConfigError(
                    "tls.acme_domains and tls.cert_path/tls.key_path are both set: choose ACME \
                     or a static certificate"
                        .into(),
                ));
            }
            _ => {}
        }
        for d in &mut self.acme_domains {
            let name = d.trim().trim_end_matches('.').to_ascii_lowercase();
            if !valid_dns_name(&name) {
                return Err(ConfigError(format!(
                    "tls.acme_domains: '{d}' is not a DNS name (IP addresses and wildcards \
                     cannot be validated by tls-alpn-01)"
                )));
            }
            *d = name;
        }
        for c in &self.acme_contact {
            if !c.starts_with("mailto:") || c.len() <= "mailto:".len() {
                return Err(ConfigError(format!(
                    "tls.acme_contact: '{c}' must be a mailto: URL, e.g. mailto:admin@example.org"
                )));
            }
        }
        if acme && !self.acme_directory.expose().starts_with("https://") {
            return Err(ConfigError(format!(
                "tls.acme_directory: '{}' must be an https:// URL",
                self.acme_directory
            )));
        }
        if self.reload_secs == 0 {
            return Err(ConfigError("tls.reload_secs: must be at least 1".into()));
        }
        Ok(())
    }
}

/// A host name a CA can issue for: dot-separated labels of letters, digits and inner hyphens,
/// at least two labels, and not all digits (an IP address).
fn valid_dns_name(name: &str) -> bool {
    let labels: Vec<&str> = name.split('.').collect();
    name.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        && !labels.iter().all(|l| l.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_names_are_told_from_addresses_and_wildcards() {
        for ok in ["aistagram.test", "a-b.example.org", "xn--bcher-kva.example"] {
            assert!(valid_dns_name(ok), "{ok}");
        }
        for bad in [
            "localhost",
            "127.0.0.1",
            "*.example.org",
            "-a.example",
            "a..example",
            "a b.example",
        ] {
            assert!(!valid_dns_name(bad), "{bad}");
        }
    }
}
