//! The data dir's own 32-byte key (`secret.key`, owner-only, made on first use). Webhook
//! secrets are sealed under it and mailed codes are hashed with a key derived from it, so a copy
//! of the database alone reveals neither.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

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
