//! Where image files live: the data dir (`fs`, the default) or an S3-compatible bucket.

use serde::{Deserialize, Serialize};

use super::{ConfigError, Secret};

/// Which store holds the images of a new data dir (one that already holds images keeps its
/// store until `aistagram media migrate` moves them).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum StorageKind {
    /// `<data_dir>/media`.
    #[default]
    Fs,
    /// The bucket `[media.s3]` names.
    S3,
}

impl StorageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StorageKind::Fs => "fs",
            StorageKind::S3 => "s3",
        }
    }
}

impl std::fmt::Display for StorageKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for StorageKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "fs" => Ok(StorageKind::Fs),
            "s3" => Ok(StorageKind::S3),
            other => Err(format!("'{other}': expected fs or s3")),
        }
    }
}

/// An S3-compatible bucket (AWS, MinIO, Garage, Ceph, R2, B2 …). Credentials left empty here
/// are read from the standard `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and
/// `AWS_SESSION_TOKEN` environment variables.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct S3 {
    /// The service's URL (`https://s3.eu-central-1.amazonaws.com`, `http://127.0.0.1:9000`);
    /// empty means AWS for `region`.
    pub endpoint: String,
    /// The bucket's region; most other services accept any value (`us-east-1`).
    pub region: String,
    /// The bucket, which must exist.
    pub bucket: String,
    /// Keys start with this (`aistagram/`), so one bucket can hold several servers' media.
    pub prefix: String,
    pub access_key_id: Secret,
    pub secret_access_key: Secret,
    pub session_token: Secret,
    /// Address buckets as `https://<bucket>.<endpoint>` rather than `https://<endpoint>/<bucket>`.
    pub virtual_hosted_style: bool,
    /// When set (a CDN or a public bucket, e.g. `https://cdn.example.com/aistagram`), media
    /// URLs point there, at `<public_base_url>/<hash>/<variant>`, instead of at this server.
    pub public_base_url: String,
    /// Seconds one request to the bucket may take before it is retried or fails.
    pub timeout_secs: u64,
    /// Retries of a failed request (with backoff) before an upload or a read gives up.
    pub max_retries: usize,
}

impl S3 {
    pub(super) fn validate(&mut self, kind: StorageKind) -> Result<(), ConfigError> {
        self.public_base_url = self.public_base_url.trim().trim_end_matches('/').to_owned();
        let base = &self.public_base_url;
        if !(base.is_empty() || is_http_url(base)) {
            return Err(ConfigError(format!(
                "media.s3.public_base_url: '{base}' must be an http:// or https:// URL"
            )));
        }
        let prefix = self.prefix.trim_matches('/');
        if prefix.split('/').any(|p| p == "." || p == "..") {
            return Err(ConfigError(
                "media.s3.prefix: must not contain '.' or '..' segments".into(),
            ));
        }
        self.prefix = prefix.to_owned();
        if self.timeout_secs == 0 {
            return Err(ConfigError(
                "media.s3.timeout_secs: must be at least 1".into(),
            ));
        }
        if kind == StorageKind::S3 && self.bucket.trim().is_empty() {
            return Err(ConfigError(
                "media.s3.bucket: must be set when media.storage = \"s3\"".into(),
            ));
        }
        if !(self.endpoint.is_empty() || is_http_url(&self.endpoint)) {
            return Err(ConfigError(format!(
                "media.s3.endpoint: '{}' must be an http:// or https:// URL",
                self.endpoint
            )));
        }
        Ok(())
    }

    /// Whether a bucket is named (a migration needs one even while `storage = "fs"`).
    pub fn configured(&self) -> bool {
        !self.bucket.trim().is_empty()
    }
}

fn is_http_url(s: &str) -> bool {
    s.starts_with("https://") || s.starts_with("http://")
}

impl S3 {
    pub fn with_defaults() -> Self {
        S3 {
            region: "us-east-1".into(),
            timeout_secs: 30,
            max_retries: 3,
            ..S3::default()
        }
    }
}
