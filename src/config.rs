//! Configuration: embedded defaults < TOML file < `AISTAGRAM_*` environment < command-line flags.
//! Unknown keys and bad values fail at start with a message that names the key. Secrets and URL
//! passwords are typed ([`Secret`], [`ConfigUrl`]) so that printing the config never shows them.

mod api;
mod email;
mod generation;
mod notifications;
mod secret;
mod storage;
mod tls;

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

pub use api::Api;
pub use email::Email;
pub use generation::{Generation, ProviderEndpoint, Providers};
pub use notifications::Notifications;
pub use secret::{ConfigUrl, REDACTED, Secret, redact_url};
pub use storage::{S3, StorageKind};
pub use tls::{LETS_ENCRYPT, Tls, TlsMode};

/// The effective configuration of one server.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where the database (and later media and the search index) live.
    pub data_dir: PathBuf,
    /// Address the HTTP server binds.
    pub listen: SocketAddr,
    /// Base of every absolute URL the server emits; empty means `http://<listen>`, or with
    /// TLS on `https://<first ACME domain or listen_tls>`.
    pub public_url: ConfigUrl,
    /// Peers whose `X-Forwarded-For` header is believed (a reverse proxy on the same host).
    pub trusted_proxies: Vec<IpAddr>,
    /// `pretty` for people, `json` for log collectors.
    pub log_format: LogFormat,
    /// Seconds in-flight requests get to finish after a shutdown signal; connections still open
    /// then (a client that stalls mid-request) are closed, so a stop never hangs.
    pub shutdown_grace_secs: u64,
    pub limits: Limits,
    pub media: Media,
    pub metrics: Metrics,
    pub webhooks: Webhooks,
    pub email: Email,
    pub generation: Generation,
    pub analytics: Analytics,
    pub notifications: Notifications,
    pub api: Api,
    pub tls: Tls,
}

/// The analytics snapshot behind `/api/v1/analytics/*`, `/api/v1/network/*` and `/stats`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Analytics {
    /// Seconds between checks for changes; a snapshot is rebuilt only when something was
    /// written since the last one (or it is an hour old, since windows slide).
    pub refresh_secs: u64,
    /// Per-agent lists (roles, attendance, similarity) keep this many most active agents.
    pub max_agents: usize,
}

impl Default for Analytics {
    fn default() -> Self {
        Analytics {
            refresh_secs: 60,
            max_agents: 2000,
        }
    }
}

/// Webhook delivery (the AIspace-compatible surface registers webhooks).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Webhooks {
    /// Delay before the first retry, in milliseconds; each further retry waits twice as long.
    pub retry_base_ms: u64,
    /// Attempts per event (the first one included) before it is given up.
    pub max_attempts: u32,
    /// Failed attempts in a row after which a webhook is switched off.
    pub disable_after_failures: u32,
    /// Seconds one delivery attempt may take.
    pub timeout_secs: u64,
}

impl Default for Webhooks {
    fn default() -> Self {
        Webhooks {
            retry_base_ms: 5000,
            max_attempts: 8,
            disable_after_failures: 20,
            timeout_secs: 10,
        }
    }
}

/// The Prometheus endpoint: off unless `listen` is set, and never on the public listener.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Metrics {
    /// Address for `GET /metrics` (e.g. `127.0.0.1:9464`); unset means no metrics endpoint.
    pub listen: Option<SocketAddr>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Every rate limit; `enabled = false` switches them all off.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    pub enabled: bool,
    /// API requests per minute for one API key.
    pub requests_per_minute: u32,
    /// Requests per minute for one client address without an API key.
    pub anonymous_requests_per_minute: u32,
    /// Seconds an agent must wait between two posts.
    pub post_interval_secs: u64,
    /// Seconds an agent must wait between two comments.
    pub comment_interval_secs: u64,
    /// Agent registrations per hour from one client address.
    pub registrations_per_hour: u32,
    /// Counted windows per agent (Glimpse's document names them); 0 is no window. Hours start
    /// on the hour and days at midnight UTC.
    pub posts_per_hour: u32,
    pub posts_per_day: u32,
    pub comments_per_hour: u32,
    /// Likes, dislikes and their removals (votes on `/api`, likes on `/api/agent`).
    pub reactions_per_hour: u32,
    pub follows_per_hour: u32,
    /// Changes of an agent's own settings: its profile and its image-generation provider key.
    pub settings_per_minute: u32,
    /// Image generations (`POST /api/v1/images/generate`), Glimpse's 10 a minute (every call)
    /// and 6 a UTC day (successes only).
    pub generations_per_minute: u32,
    pub generations_per_day: u32,
}

/// Image intake: size bounds, the URL fetcher, and the variant encoder.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Media {
    /// Largest accepted original, in bytes.
    pub max_bytes: usize,
    /// Largest accepted width or height, in pixels.
    pub max_side: u32,
    /// Largest accepted width × height.
    pub max_pixels: u64,
    /// Most frames accepted in an animated GIF or WebP.
    pub max_frames: u32,
    /// Let `image_url` fetches reach loopback and RFC 1918 addresses (LAN setups, tests); never
    /// cloud-metadata addresses (see `media::ssrf`).
    pub allow_private_fetch: bool,
    /// Networks never fetched from, whatever `allow_private_fetch` says (CIDR notation).
    pub deny_networks: Vec<ipnet::IpNet>,
    /// Seconds to wait for a connection to an image host.
    pub connect_timeout_secs: u64,
    /// Seconds a whole image fetch may take, redirects included.
    pub fetch_timeout_secs: u64,
    /// Redirects followed when fetching an image.
    pub max_redirects: usize,
    /// Lossy WebP quality of the variants, 0–100.
    pub webp_quality: f32,
    /// libwebp effort, 0 (fastest) – 6 (smallest files).
    pub webp_method: i32,
    /// Images processed at once; 0 means one per CPU core.
    pub workers: usize,
    /// Bytes of hot variants (thumb, feed, full) kept in memory; 0 switches the cache off.
    pub cache_bytes: usize,
    /// Where a new data dir keeps its images: `fs` (the data dir) or `s3` (`[media.s3]`).
    pub storage: StorageKind,
    pub s3: S3,
}

impl Default for Media {
    fn default() -> Self {
        Media {
            max_bytes: 10 * 1024 * 1024,
            max_side: 8192,
            max_pixels: 40_000_000,
            max_frames: 1000,
            allow_private_fetch: false,
            deny_networks: Vec::new(),
            connect_timeout_secs: 5,
            fetch_timeout_secs: 15,
            max_redirects: 3,
            webp_quality: 80.0,
            webp_method: 4,
            workers: 0,
            cache_bytes: 64 * 1024 * 1024,
            storage: StorageKind::Fs,
            s3: S3::with_defaults(),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("./aistagram-data"),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: ConfigUrl::default(),
            trusted_proxies: Vec::new(),
            log_format: LogFormat::Pretty,
            limits: Limits::default(),
            media: Media::default(),
            metrics: Metrics::default(),
            webhooks: Webhooks::default(),
            email: Email::default(),
            generation: Generation::default(),
            analytics: Analytics::default(),
            notifications: Notifications::default(),
            api: Api::default(),
            tls: Tls::default(),
            shutdown_grace_secs: 30,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            enabled: true,
            requests_per_minute: 100,
            anonymous_requests_per_minute: 120,
            post_interval_secs: 600,
            comment_interval_secs: 15,
            registrations_per_hour: 10,
            posts_per_hour: 0,
            posts_per_day: 0,
            comments_per_hour: 0,
            reactions_per_hour: 0,
            follows_per_hour: 0,
            settings_per_minute: 10,
            generations_per_minute: 10,
            generations_per_day: 6,
        }
    }
}

/// Values given on the command line; they win over everything else.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub data_dir: Option<PathBuf>,
    pub listen: Option<SocketAddr>,
}

#[derive(Debug, thiserror::Error)]
#[error("configuration error: {0}")]
pub struct ConfigError(String);

impl Config {
    /// Layers defaults, the optional file, the environment and the flags, then checks the result.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Config, ConfigError> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError(format!(
                    "config file {} does not exist",
                    path.display()
                )));
            }
            fig = fig.merge(Toml::file_exact(path));
        }
        // `AISTAGRAM_LIMITS__POST_INTERVAL_SECS` sets `limits.post_interval_secs`;
        // `AISTAGRAM_CONFIG` names the file and is not a key.
        fig = fig.merge(Env::prefixed("AISTAGRAM_").ignore(&["CONFIG"]).split("__"));
        if let Some(d) = &overrides.data_dir {
            fig = fig.merge(Serialized::default("data_dir", d));
        }
        if let Some(l) = &overrides.listen {
            fig = fig.merge(Serialized::default("listen", l.to_string()));
        }
        let mut cfg: Config = fig.extract().map_err(|e| {
            ConfigError(
                e.into_iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })?;
        cfg.validate()?;
        Ok(cfg)
    }

    fn validate(&mut self) -> Result<(), ConfigError> {
        let url = self
            .public_url
            .expose()
            .trim()
            .trim_end_matches('/')
            .to_owned();
        if !url.is_empty() {
            let rest = url
                .strip_prefix("https://")
                .or_else(|| url.strip_prefix("http://"));
            match rest {
                Some(host) if !host.is_empty() && !host.contains(['?', '#', ' ']) => {}
                _ => {
                    // Display hides a password the URL may carry.
                    return Err(ConfigError(format!(
                        "public_url: '{}' must be an http:// or https:// URL without query or fragment",
                        self.public_url
                    )));
                }
            }
        }
        self.public_url = ConfigUrl::new(url);
        self.tls.validate()?;
        // Links and redirects would send people back to plain HTTP, which only redirects.
        if self.tls.enabled()
            && self.tls.redirect_http
            && self.public_url.expose().starts_with("http://")
        {
            return Err(ConfigError(format!(
                "public_url: '{}' must be https:// when [tls] is on (or set tls.redirect_http = false)",
                self.public_url
            )));
        }
        let l = &self.limits;
        for (key, v) in [
            (
                "limits.requests_per_minute",
                u64::from(l.requests_per_minute),
            ),
            (
                "limits.anonymous_requests_per_minute",
                u64::from(l.anonymous_requests_per_minute),
            ),
            ("limits.post_interval_secs", l.post_interval_secs),
            ("limits.comment_interval_secs", l.comment_interval_secs),
            (
                "limits.registrations_per_hour",
                u64::from(l.registrations_per_hour),
            ),
        ] {
            if v == 0 {
                return Err(ConfigError(format!(
                    "{key}: must be at least 1 (set limits.enabled = false to switch limits off)"
                )));
            }
        }
        if self.analytics.refresh_secs == 0 || self.analytics.max_agents == 0 {
            return Err(ConfigError(
                "analytics.refresh_secs and analytics.max_agents must be at least 1".into(),
            ));
        }
        let m = &self.media;
        if m.max_bytes == 0 || m.max_side == 0 || m.max_pixels == 0 || m.max_frames == 0 {
            return Err(ConfigError(
                "media.max_bytes, max_side, max_pixels and max_frames must be at least 1".into(),
            ));
        }
        if !(0.0..=100.0).contains(&m.webp_quality) {
            return Err(ConfigError(
                "media.webp_quality: must be between 0 and 100".into(),
            ));
        }
        if !(0..=6).contains(&m.webp_method) {
            return Err(ConfigError(
                "media.webp_method: must be between 0 and 6".into(),
            ));
        }
        if m.fetch_timeout_secs == 0 || m.connect_timeout_secs == 0 {
            return Err(ConfigError(
                "media.fetch_timeout_secs and media.connect_timeout_secs must be at least 1".into(),
            ));
        }
        let storage = self.media.storage;
        self.media.s3.validate(storage)?;
        self.email.validate()?;
        self.generation.validate()?;
        if self.data_dir.as_os_str().is_empty() {
            return Err(ConfigError("data_dir: must not be empty".into()));
        }
        Ok(())
    }

    /// The base of absolute URLs, without a trailing slash; `bound` is the plain listener's
    /// address. With TLS on, the HTTPS port is the configured `tls.listen_tls`'s.
    pub fn base_url(&self, bound: SocketAddr) -> String {
        self.base_url_bound(bound, self.tls.listen_tls)
    }

    /// [`Config::base_url`] with the HTTPS listener's address as bound (port 0 resolved).
    pub fn base_url_bound(&self, bound: SocketAddr, tls_bound: SocketAddr) -> String {
        if !self.public_url.is_empty() {
            return self.public_url.expose().to_owned();
        }
        if !self.tls.enabled() {
            return format!("http://{bound}");
        }
        // The certificate's first name is what browsers will accept; a static pair's names
        // are not known here, so the address is all there is (set public_url).
        let host = match self.tls.acme_domains.first() {
            Some(domain) => domain.clone(),
            None => match tls_bound.ip() {
                std::net::IpAddr::V6(ip) => format!("[{ip}]"),
                ip => ip.to_string(),
            },
        };
        match tls_bound.port() {
            443 => format!("https://{host}"),
            port => format!("https://{host}:{port}"),
        }
    }

    /// The configuration as TOML, as `aistagram config` prints it: secrets and URL passwords
    /// are shown as `[redacted]`.
    pub fn to_toml(&self) -> String {
        printable_toml(self)
    }
}

/// `value` as TOML for people to read, with what must not be printed hidden.
fn printable_toml<T: Serialize>(value: &T) -> String {
    secret::printing(|| toml::to_string(value))
        .unwrap_or_else(|e| format!("# cannot render config: {e}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_toml(toml: &str) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("c.toml");
        std::fs::write(&path, toml).expect("write");
        Config::load(Some(&path), &Overrides::default())
    }

    #[test]
    fn the_example_file_is_exactly_the_defaults() {
        let example = include_str!("../config.example.toml");
        let cfg = load_toml(example).expect("example parses");
        assert_eq!(cfg, Config::default());
    }

    #[test]
    fn an_unknown_key_is_named_in_the_error() {
        let err = load_toml("[limits]\npost_intervall_secs = 5\n").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("post_intervall_secs"), "{msg}");
    }

    #[test]
    fn a_bad_value_is_named_in_the_error() {
        let err = load_toml("listen = \"not an address\"\n").unwrap_err();
        assert!(err.to_string().contains("listen"), "{err}");
        let err = load_toml("[limits]\nrequests_per_minute = 0\n").unwrap_err();
        assert!(
            err.to_string().contains("limits.requests_per_minute"),
            "{err}"
        );
        let err = load_toml("public_url = \"ftp://x\"\n").unwrap_err();
        assert!(err.to_string().contains("public_url"), "{err}");
    }

    #[test]
    fn email_settings_are_checked_and_verification_follows_the_relay() {
        let err = load_toml("[email]\nrequire_verification = true\n").unwrap_err();
        assert!(err.to_string().contains("email.smtp_url"), "{err}");
        let err = load_toml("[email]\nsmtp_url = \"http://relay\"\n").unwrap_err();
        assert!(err.to_string().contains("smtp://"), "{err}");
        let err = load_toml("[email]\nfrom = \"not an address\"\n").unwrap_err();
        assert!(err.to_string().contains("email.from"), "{err}");
        let err = load_toml("[email]\ncode_ttl_secs = 0\n").unwrap_err();
        assert!(err.to_string().contains("code_ttl_secs"), "{err}");
        assert!(!Config::default().email.verification_required());
        let relay = load_toml("[email]\nsmtp_url = \"smtp://127.0.0.1:25\"\n").unwrap();
        assert!(relay.email.verification_required());
        let off = "[email]\nsmtp_url = \"smtp://127.0.0.1:25\"\nrequire_verification = false\n";
        assert!(!load_toml(off).unwrap().email.verification_required());
    }

    #[test]
    fn tls_settings_are_checked_naming_the_key() {
        assert_eq!(Config::default().tls.mode(), None);
        let err = load_toml("[tls]\ncert_path = \"/c.pem\"\n").unwrap_err();
        assert!(err.to_string().contains("tls.key_path"), "{err}");
        let err = load_toml("[tls]\nkey_path = \"/k.pem\"\n").unwrap_err();
        assert!(err.to_string().contains("tls.cert_path"), "{err}");
        let both = "[tls]\nacme_domains = [\"a.example\"]\ncert_path = \"/c\"\nkey_path = \"/k\"\n";
        let err = load_toml(both).unwrap_err();
        assert!(err.to_string().contains("tls.acme_domains"), "{err}");
        let err = load_toml("[tls]\nacme_domains = [\"10.0.0.1\"]\n").unwrap_err();
        assert!(err.to_string().contains("tls.acme_domains"), "{err}");
        let contact = "[tls]\nacme_domains = [\"a.example\"]\nacme_contact = [\"me@a.example\"]\n";
        let err = load_toml(contact).unwrap_err();
        assert!(err.to_string().contains("mailto:"), "{err}");
        let plain = "public_url = \"http://a.example\"\n[tls]\nacme_domains = [\"a.example\"]\n";
        let err = load_toml(plain).unwrap_err();
        assert!(err.to_string().contains("public_url"), "{err}");
    }

    #[test]
    fn with_tls_on_absolute_urls_are_https() {
        let cfg = load_toml("[tls]\nacme_domains = [\"A.Example.\", \"b.example\"]\n").unwrap();
        assert_eq!(cfg.tls.mode(), Some(TlsMode::Acme));
        assert_eq!(cfg.tls.acme_domains, ["a.example", "b.example"]);
        assert_eq!(cfg.base_url(cfg.listen), "https://a.example");
        let tls: SocketAddr = "127.0.0.1:8443".parse().unwrap();
        assert_eq!(
            cfg.base_url_bound(cfg.listen, tls),
            "https://a.example:8443"
        );
        let cfg = load_toml("[tls]\ncert_path = \"/c\"\nkey_path = \"/k\"\n").unwrap();
        assert_eq!(cfg.tls.mode(), Some(TlsMode::Static));
        assert_eq!(
            cfg.base_url_bound(cfg.listen, tls),
            "https://127.0.0.1:8443"
        );
    }

    #[test]
    fn flags_override_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            "listen = \"127.0.0.1:9000\"\npublic_url = \"https://x.example/\"\n",
        )
        .expect("write");
        let o = Overrides {
            listen: Some("127.0.0.1:9001".parse().expect("addr")),
            data_dir: None,
        };
        let cfg = Config::load(Some(&path), &o).expect("loads");
        assert_eq!(cfg.listen.port(), 9001);
        assert_eq!(cfg.public_url.expose(), "https://x.example");
    }

    #[test]
    fn a_url_password_is_never_printed_but_loads_intact() {
        let cfg =
            load_toml("public_url = \"https://user:hunter2@agents.example/\"\n").expect("loads");
        assert_eq!(
            cfg.public_url.expose(),
            "https://user:hunter2@agents.example"
        );
        assert_eq!(
            cfg.base_url(cfg.listen),
            "https://user:hunter2@agents.example"
        );
        for shown in [format!("{cfg:?}"), cfg.to_toml()] {
            assert!(!shown.contains("hunter2"), "{shown}");
            assert!(
                shown.contains("https://user:[redacted]@agents.example"),
                "{shown}"
            );
        }
        let err = load_toml("public_url = \"ftp://user:hunter2@agents.example\"\n").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    /// A config section with secrets, as SMTP or S3 settings will have (no key holds a
    /// [`Secret`] yet).
    #[derive(Debug, Default, Serialize, Deserialize)]
    #[serde(default)]
    struct Mail {
        url: ConfigUrl,
        password: Secret,
    }

    #[test]
    fn a_secret_is_never_printed_but_loads_intact() {
        // Loading serialises the defaults (figment), so a secret must survive serialisation.
        let defaults = Mail {
            password: Secret::new("default-hunter2"),
            ..Mail::default()
        };
        let fig = Figment::from(Serialized::defaults(&defaults));
        let loaded: Mail = fig.clone().extract().expect("defaults load");
        assert_eq!(loaded.password.expose(), "default-hunter2");
        let loaded: Mail = fig
            .merge(Toml::string(
                "url = \"smtp://mail:hunter2@smtp.example\"\npassword = \"hunter2\"\n",
            ))
            .extract()
            .expect("file loads");
        assert_eq!(loaded.password.expose(), "hunter2");
        assert_eq!(loaded.url.expose(), "smtp://mail:hunter2@smtp.example");
        for shown in [format!("{loaded:?}"), printable_toml(&loaded)] {
            assert!(!shown.contains("hunter2"), "{shown}");
            assert!(shown.contains(REDACTED), "{shown}");
        }
    }

    #[test]
    fn bucket_credentials_are_never_printed_and_a_bucket_is_required_for_s3() {
        let cfg = load_toml(
            "[media]\nstorage = \"s3\"\n[media.s3]\nbucket = \"pics\"\nprefix = \"/a/b/\"\naccess_key_id = \"AKIDEXAMPLE\"\nsecret_access_key = \"wJalrXUtnFEMI\"\npublic_base_url = \"https://cdn.example/x/\"\n",
        )
        .expect("loads");
        assert_eq!(cfg.media.s3.secret_access_key.expose(), "wJalrXUtnFEMI");
        assert_eq!(cfg.media.s3.prefix, "a/b");
        assert_eq!(cfg.media.s3.public_base_url, "https://cdn.example/x");
        let shown = cfg.to_toml();
        for secret in ["AKIDEXAMPLE", "wJalrXUtnFEMI"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        let err = load_toml("[media]\nstorage = \"s3\"\n").expect_err("no bucket");
        assert!(err.to_string().contains("media.s3.bucket"), "{err}");
        let err = load_toml("[media.s3]\nprefix = \"a/../b\"\n").expect_err("dot-dot");
        assert!(err.to_string().contains("media.s3.prefix"), "{err}");
    }
}
