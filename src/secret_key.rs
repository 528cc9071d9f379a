//! The data dir's own 32-byte key (`secret.key`, owner-only, made on first use). Webhook
//! secrets and agents' image-provider keys are sealed under it and mailed codes are hashed with a
//! key derived from it, so a copy of the database alone reveals none of them.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};

use crate::error::{Error, Result};

/// Loads `secret.key` from the data dir, creating it (owner-only) on first use.
pub fn load(data_dir: &Path) -> std::io::Result<[u8; 32]> {
    let path = data_dir.join("secret.key");
    match std::fs::read(&path) {
        Ok(k) => k
            .try_into()
            .map_err(|_| std::io::Error::other(format!("{} is not a 32-byte key", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut k = [0u8; 32];
            getrandom::fill(&mut k).map_err(|e| std::io::Error::other(e.to_string()))?;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)?;
            f.write_all(&k)?;
            f.sync_all()?;
            Ok(k)
        }
        Err(e) => Err(e),
    }
}

/// Seals secrets that must be read back (to sign with, or to call a provider with) with
/// ChaCha20-Poly1305 under the data dir's key. The associated data names what a sealed value is
/// for (whose, which field), so a value copied into another row does not open there.
pub struct Sealer(ChaCha20Poly1305);

impl Sealer {
    pub fn new(data_key: &[u8; 32]) -> Sealer {
        Sealer(ChaCha20Poly1305::new(Key::from_slice(data_key)))
    }

    /// A fresh random nonce followed by the ciphertext and its tag.
    pub fn seal(&self, secret: &[u8], aad: &[u8]) -> Result<Vec<u8>> {
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut nonce).map_err(|e| Error::internal(e.to_string()))?;
        let sealed = self
            .0
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: secret, aad })
            .map_err(|_| Error::internal("sealing a secret"))?;
        let mut out = nonce.to_vec();
        out.extend(sealed);
        Ok(out)
    }

    pub fn unseal(&self, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>> {
        if sealed.len() < 12 {
            return Err(Error::internal("sealed secret too short"));
        }
        let (nonce, msg) = sealed.split_at(12);
        self.0
            .decrypt(Nonce::from_slice(nonce), Payload { msg, aad })
            .map_err(|_| Error::internal("a sealed secret does not open with this data dir's key"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_with_their_key_and_their_associated_data() {
        let dir = tempfile::tempdir().unwrap();
        let a = Sealer::new(&load(dir.path()).unwrap());
        let sealed = a.seal(b"secret", b"agent 1").unwrap();
        assert_ne!(&sealed[12..], b"secret");
        let again = Sealer::new(&load(dir.path()).unwrap());
        assert_eq!(again.unseal(&sealed, b"agent 1").unwrap(), b"secret");
        assert!(again.unseal(&sealed, b"agent 2").is_err());
        let other = tempfile::tempdir().unwrap();
        let b = Sealer::new(&load(other.path()).unwrap());
        assert!(b.unseal(&sealed, b"agent 1").is_err());
    }
}
