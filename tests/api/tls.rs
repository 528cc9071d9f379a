//! HTTPS: a certificate from pebble (Let's Encrypt's test ACME server, Debian's `pebble`, run
//! here on loopback) is obtained, served, cached across a restart and renewed while serving;
//! one test has pebble validate tls-alpn-01 for real against the server's HTTPS port, the others
//! make validation trivial. Plain HTTP redirects; a static pair is served and replaced without
//! a restart; a half-set pair stops the start. Every connection is a real TLS handshake.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use aistagram::Config;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, SanType};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::harness::{TestApp, quiet_config};

const DOMAIN: &str = "aistagram.test";

/// A port nothing listens on (the OS picked it free; the race with another process is remote).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A CA of the test's own and its key.
struct TestCa {
    cert: rcgen::Certificate,
    key: KeyPair,
}

impl TestCa {
    fn new(name: &str) -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        TestCa { cert, key }
    }

    /// A leaf for `names` (an IP literal becomes an IP SAN), with its key.
    fn leaf(&self, names: &[&str]) -> (rcgen::Certificate, KeyPair) {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        for n in names {
            params.subject_alt_names.push(match n.parse::<IpAddr>() {
                Ok(ip) => SanType::IpAddress(ip),
                Err(_) => SanType::DnsName((*n).try_into().unwrap()),
            });
        }
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        (cert, key)
    }
}

/// pebble on two loopback ports, serving its API with a certificate from a CA of ours.
struct Pebble {
    /// The ACME directory URL.
    directory: String,
    /// The CA pebble's HTTPS certificate is from: the server's `tls.acme_ca_file`.
    ca_file: PathBuf,
    management: String,
    client: reqwest::Client,
    log: PathBuf,
    child: tokio::process::Child,
    /// pebble's fake DNS, when it validates for real.
    _dns: Option<tokio::process::Child>,
    _dir: tempfile::TempDir,
}

impl Pebble {
    /// pebble that takes every challenge as passed.
    async fn start() -> Pebble {
        Self::start_with(None).await
    }

    /// pebble that validates tls-alpn-01 for real, connecting to `tls_port` on 127.0.0.1 (its
    /// fake DNS, pebble-challtestsrv, answers 127.0.0.1 for every name).
    async fn start_validating(tls_port: u16) -> Pebble {
        Self::start_with(Some(tls_port)).await
    }

    async fn start_with(validate: Option<u16>) -> Pebble {
        let bin = ["/usr/bin/pebble", "/usr/sbin/pebble"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .unwrap_or_else(|| {
                panic!(
                    "pebble (Let's Encrypt's test ACME server) is not installed: run `bash .ci/test`, \
                     which installs Debian's pebble, or `apt-get install pebble`"
                )
            });
        let dir = tempfile::tempdir().unwrap();
        // Debian's package ships no test certificates: pebble's HTTPS gets one from our CA.
        let ca = TestCa::new("aistagram test minica");
        let (cert, key) = ca.leaf(&["localhost", "127.0.0.1"]);
        let ca_file = dir.path().join("minica.pem");
        std::fs::write(&ca_file, ca.cert.pem()).unwrap();
        std::fs::write(dir.path().join("cert.pem"), cert.pem()).unwrap();
        std::fs::write(dir.path().join("key.pem"), key.serialize_pem()).unwrap();
        let (api, management) = (free_port(), free_port());
        let config = serde_json::json!({"pebble": {
            "listenAddress": format!("127.0.0.1:{api}"),
            "managementListenAddress": format!("127.0.0.1:{management}"),
            "certificate": dir.path().join("cert.pem"),
            "privateKey": dir.path().join("key.pem"),
            // Where validation connects; with it always valid, nothing dials out at all.
            "httpPort": 5002,
            "tlsPort": validate.unwrap_or(5001),
            "ocspResponderURL": "",
            "externalAccountBindingRequired": false
        }});
        let config_path = dir.path().join("pebble.json");
        std::fs::write(&config_path, config.to_string()).unwrap();
        let log = dir.path().join("pebble.log");
        let out = std::fs::File::create(&log).unwrap();
        let mut command = tokio::process::Command::new(bin);
        command.arg("-config").arg(&config_path);
        let dns = validate.map(|_| {
            let dns = format!("127.0.0.1:{}", free_port());
            command.arg("-dnsserver").arg(&dns);
            tokio::process::Command::new("/usr/bin/pebble-challtestsrv")
                .args(["-defaultIPv4", "127.0.0.1", "-defaultIPv6", ""])
                .args([
                    "-dns01",
                    &dns,
                    "-http01",
                    "",
                    "-https01",
                    "",
                    "-tlsalpn01",
                    "",
                ])
                .arg("-management")
                .arg(format!("127.0.0.1:{}", free_port()))
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .expect("start pebble-challtestsrv (in Debian's pebble)")
        });
        if validate.is_none() {
            command.env("PEBBLE_VA_ALWAYS_VALID", "1");
        }
        let child = command
            .env("PEBBLE_VA_NOSLEEP", "1")
            .env("PEBBLE_WFE_NONCEREJECT", "0")
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .kill_on_drop(true)
            .spawn()
            .expect("start pebble");
        let client = client_trusting(&[ca.cert.der().clone()], None);
        let pebble = Pebble {
            directory: format!("https://127.0.0.1:{api}/dir"),
            ca_file,
            management: format!("https://127.0.0.1:{management}"),
            client,
            log,
            child,
            _dns: dns,
            _dir: dir,
        };
        for _ in 0..200 {
            if let Ok(r) = pebble.client.get(&pebble.directory).send().await
                && r.status().is_success()
            {
                return pebble;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("pebble did not come up:\n{}", pebble.log());
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The root pebble issues under (made at its start), to verify what the server serves.
    async fn root(&self) -> CertificateDer<'static> {
        let pem = self
            .client
            .get(format!("{}/roots/0", self.management))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        use rustls::pki_types::pem::PemObject;
        CertificateDer::from_pem_slice(pem.as_bytes()).unwrap()
    }

    /// A server configuration getting its certificate for [`DOMAIN`] from this pebble.
    fn config(&self, data_dir: &Path) -> Config {
        let mut cfg = quiet_config(data_dir.to_owned());
        cfg.tls.listen_tls = "127.0.0.1:0".parse().unwrap();
        cfg.tls.acme_domains = vec![DOMAIN.to_owned()];
        cfg.tls.acme_contact = vec!["mailto:ops@aistagram.test".to_owned()];
        cfg.tls.acme_directory = aistagram::config::ConfigUrl::new(&self.directory);
        cfg.tls.acme_ca_file = Some(self.ca_file.clone());
        cfg
    }
}

/// A client trusting only `roots`, sending `name` to `addr` when given.
fn client_trusting(
    roots: &[CertificateDer<'static>],
    resolve: Option<SocketAddr>,
) -> reqwest::Client {
    let _ = crate::harness::http();
    let certs = roots
        .iter()
        .map(|c| reqwest::Certificate::from_der(c).unwrap());
    let mut b = reqwest::Client::builder()
        .tls_certs_only(certs)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10));
    if let Some(addr) = resolve {
        b = b.resolve(DOMAIN, addr).resolve("static.test", addr);
    }
    b.build().unwrap()
}

/// A plain-HTTP client that shows redirects instead of following them.
fn no_follow() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Accepts any certificate: for looking at what is served, not trusting it.
#[derive(Debug)]
struct LookOnly(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for LookOnly {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// A TLS connection to `addr` naming `sni`, offering `alpn`.
async fn connect(
    addr: SocketAddr,
    sni: &str,
    alpn: &[&[u8]],
) -> std::io::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(LookOnly(provider)))
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let name = ServerName::try_from(sni.to_owned()).unwrap();
    tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
}

/// The leaf certificate served at `addr` for `sni`, if a handshake succeeds.
async fn served(addr: SocketAddr, sni: &str) -> Option<Vec<u8>> {
    let tls = connect(addr, sni, &[b"http/1.1"]).await.ok()?;
    let (_, conn) = tls.get_ref();
    conn.peer_certificates()?.first().map(|c| c.to_vec())
}

/// Polls until `check` holds for the served leaf, for up to 60 s.
async fn wait_for_served(
    addr: SocketAddr,
    sni: &str,
    what: &str,
    check: impl Fn(&[u8]) -> bool,
) -> Vec<u8> {
    for _ in 0..600 {
        if let Some(leaf) = served(addr, sni).await
            && check(&leaf)
        {
            return leaf;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

/// `GET https://{DOMAIN}/healthz`, verified against `root` only.
async fn verified_health(app: &TestApp, host: &str, root: &CertificateDer<'static>) -> u16 {
    let addr = app.tls_addr.expect("TLS is on");
    let client = client_trusting(std::slice::from_ref(root), Some(addr));
    let res = client
        .get(format!("https://{host}:{}/healthz", addr.port()))
        .send()
        .await
        .expect("a verified HTTPS request");
    res.status().as_u16()
}

#[tokio::test]
async fn an_acme_certificate_is_obtained_and_served_and_plain_http_redirects_to_it() {
    let pebble = Pebble::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = pebble.config(dir.path());
    cfg.metrics.listen = Some("127.0.0.1:0".parse().unwrap());
    let app = TestApp::start(cfg, dir).await;
    let tls = app.tls_addr.expect("TLS is on");

    let root = pebble.root().await;
    wait_for_served(tls, DOMAIN, "pebble's certificate", |_| true).await;
    assert_eq!(
        verified_health(&app, DOMAIN, &root).await,
        200,
        "{}",
        pebble.log()
    );

    // h2 is offered, chosen, and spoken: the server's first frame is its SETTINGS.
    let mut h2 = connect(tls, DOMAIN, &[b"h2", b"http/1.1"]).await.unwrap();
    assert_eq!(h2.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    h2.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0")
        .await
        .unwrap();
    let mut frame = [0u8; 9];
    h2.read_exact(&mut frame).await.unwrap();
    assert_eq!(frame[3], 0x4, "a SETTINGS frame: {frame:?}");
    // A client that leaves an h2 connection open without answering the server's PING holds up
    // a graceful shutdown (hyper waits for the ack); this one closes, as real clients do.
    drop(h2);

    // Plain HTTP: every request is sent to HTTPS, on a host the server has a certificate for.
    let https = format!("https://{DOMAIN}:{}", tls.port());
    let res = no_follow()
        .get(app.url("/p/1?sort=new"))
        .header("host", format!("{DOMAIN}:80"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 301);
    assert_eq!(res.headers()["location"], format!("{https}/p/1?sort=new"));
    let res = no_follow()
        .post(app.url("/api/posts"))
        .header("host", "evil.example")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 308, "a POST keeps its method");
    assert_eq!(res.headers()["location"], format!("{https}/api/posts"));

    // The certificate and account key are cached, readable by the server's user only.
    let data = app.dir.as_ref().unwrap().path();
    let cached = aistagram::tls::cert_cache_path(data, &[DOMAIN.to_owned()], &pebble.directory);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&cached).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{}", cached.display());
    let metrics = app
        .client
        .get(app.metrics.clone().unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("aistagram_tls_certificate_expiry_timestamp_seconds{source=\"acme\"}"),
        "{metrics}"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_ca_validates_the_domain_with_a_tls_alpn_01_challenge_on_the_https_port() {
    let port = free_port();
    let pebble = Pebble::start_validating(port).await;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = pebble.config(dir.path());
    cfg.tls.listen_tls = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let app = TestApp::start(cfg, dir).await;
    let root = pebble.root().await;
    wait_for_served(
        app.tls_addr.unwrap(),
        DOMAIN,
        "a validated certificate",
        |_| true,
    )
    .await;
    assert_eq!(
        verified_health(&app, DOMAIN, &root).await,
        200,
        "{}",
        pebble.log()
    );
    app.stop().await;
}

#[tokio::test]
async fn after_a_restart_the_cached_certificate_is_served_without_a_new_order() {
    let mut pebble = Pebble::start().await;
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(pebble.config(dir.path()), dir).await;
    let first = wait_for_served(app.tls_addr.unwrap(), DOMAIN, "a certificate", |_| true).await;
    let dir = app.stop().await;

    // The CA is gone: what is served now can only come from the cache.
    let cfg = pebble.config(dir.path());
    pebble.child.kill().await.unwrap();
    let app = TestApp::start(cfg, dir).await;
    let again = wait_for_served(
        app.tls_addr.unwrap(),
        DOMAIN,
        "the cached certificate",
        |_| true,
    )
    .await;
    assert_eq!(again, first, "the same certificate (same serial, same key)");
    app.stop().await;
}

#[tokio::test]
async fn a_certificate_due_for_renewal_is_replaced_while_the_server_keeps_serving() {
    let pebble = Pebble::start().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = pebble.config(dir.path());
    // In the cache: a certificate 60 days into a 90-day life, the point rustls-acme renews at.
    let now = time::OffsetDateTime::now_utc();
    let mut params = CertificateParams::new(vec![DOMAIN.to_owned()]).unwrap();
    params.not_before = now - time::Duration::days(61);
    params.not_after = now + time::Duration::days(29);
    let key = KeyPair::generate().unwrap();
    let old = params.self_signed(&key).unwrap();
    let cached =
        aistagram::tls::cert_cache_path(dir.path(), &[DOMAIN.to_owned()], &pebble.directory);
    std::fs::create_dir_all(cached.parent().unwrap()).unwrap();
    std::fs::write(&cached, format!("{}\n{}", key.serialize_pem(), old.pem())).unwrap();

    let app = TestApp::start(cfg, dir).await;
    let tls = app.tls_addr.unwrap();
    let old_der = old.der().to_vec();
    let first = wait_for_served(tls, DOMAIN, "any certificate", |_| true).await;
    assert_eq!(first, old_der, "the cached certificate is served at once");

    let renewed = wait_for_served(tls, DOMAIN, "the renewed certificate", |c| c != old_der).await;
    let root = pebble.root().await;
    assert_eq!(
        verified_health(&app, DOMAIN, &root).await,
        200,
        "{}",
        pebble.log()
    );
    // The same server is still up on plain HTTP too, and the renewal went to the cache.
    let res = no_follow().get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 301);
    for _ in 0..50 {
        if !std::fs::read_to_string(&cached)
            .unwrap()
            .contains(old.pem().trim())
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let pem = std::fs::read_to_string(&cached).unwrap();
    assert!(
        !pem.contains(old.pem().trim()),
        "the cache holds the new certificate"
    );
    assert_ne!(renewed, old_der);
    app.stop().await;
}

/// Writes a pair the way deploy tools do: each file whole, by rename.
fn install_pair(dir: &Path, cert: &str, key: &str) -> (PathBuf, PathBuf) {
    let (c, k) = (dir.join("fullchain.pem"), dir.join("privkey.pem"));
    for (path, text) in [(&k, key), (&c, cert)] {
        let tmp = path.with_extension("new");
        std::fs::write(&tmp, text).unwrap();
        std::fs::rename(&tmp, path).unwrap();
    }
    (c, k)
}

#[tokio::test]
async fn a_static_pair_is_served_and_a_new_one_is_picked_up_without_a_restart() {
    let ca = TestCa::new("aistagram static test CA");
    let files = tempfile::tempdir().unwrap();
    let (cert1, key1) = ca.leaf(&["static.test"]);
    let (cert_path, key_path) = install_pair(files.path(), &cert1.pem(), &key1.serialize_pem());
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = quiet_config(dir.path().to_owned());
    cfg.tls.listen_tls = "127.0.0.1:0".parse().unwrap();
    cfg.tls.cert_path = Some(cert_path);
    cfg.tls.key_path = Some(key_path);
    cfg.tls.reload_secs = 1;
    cfg.public_url = aistagram::config::ConfigUrl::new("https://static.test");
    let app = TestApp::start(cfg, dir).await;
    let tls = app.tls_addr.unwrap();
    let root = ca.cert.der().clone();

    assert_eq!(
        served(tls, "static.test").await.unwrap(),
        cert1.der().to_vec()
    );
    assert_eq!(verified_health(&app, "static.test", &root).await, 200);

    let (cert2, key2) = ca.leaf(&["static.test"]);
    install_pair(files.path(), &cert2.pem(), &key2.serialize_pem());
    let cert2_der = cert2.der().to_vec();
    wait_for_served(tls, "static.test", "the new pair", |c| c == cert2_der).await;
    assert_eq!(verified_health(&app, "static.test", &root).await, 200);

    // A pair whose key is not the certificate's is refused; the good one stays.
    let (cert3, _) = ca.leaf(&["static.test"]);
    install_pair(files.path(), &cert3.pem(), &key2.serialize_pem());
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(served(tls, "static.test").await.unwrap(), cert2_der);

    // Plain HTTP redirects to public_url's host whatever Host was sent.
    let res = no_follow()
        .get(app.url("/a/someone"))
        .header("host", "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 301);
    assert_eq!(res.headers()["location"], "https://static.test/a/someone");
    app.stop().await;
}

#[tokio::test]
async fn a_half_set_or_unusable_pair_stops_the_start_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    std::fs::write(&file, "[tls]\ncert_path = \"/etc/ssl/fullchain.pem\"\n").unwrap();
    let out = crate::cli::run(&["serve", "--config", file.to_str().unwrap()]).await;
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{said}");
    assert!(said.contains("tls.key_path"), "{said}");

    // A pair that is there but does not match fails the start, naming the files.
    let ca = TestCa::new("mismatch CA");
    let (cert, _) = ca.leaf(&["static.test"]);
    let other = KeyPair::generate().unwrap();
    let (c, k) = install_pair(dir.path(), &cert.pem(), &other.serialize_pem());
    let mut cfg = quiet_config(dir.path().join("data"));
    cfg.tls.listen_tls = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    cfg.tls.cert_path = Some(c);
    cfg.tls.key_path = Some(k);
    let err = aistagram::App::build(cfg).await.err().expect("refused");
    assert!(err.to_string().contains("privkey.pem"), "{err}");
}
