//! The files in `deploy/` do what they say: the systemd unit passes `systemd-analyze verify`
//! with this build's binary and keeps its exposure low, and the nginx proxy snippet, run by a real
//! nginx in front of a real server, passes an upload larger than nginx's default limit and leaves
//! the refusal of an oversized one to aistagram, in its own envelope.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use image::{ImageFormat, Rgb, RgbImage};

use crate::fixtures::encode;
use crate::harness::TestApp;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The unit with its `ExecStart` pointing at this build's binary (verify checks it is there).
fn unit_for_this_build(dir: &Path) -> PathBuf {
    let unit = std::fs::read_to_string(repo().join("deploy/aistagram.service")).unwrap();
    assert!(unit.contains("ExecStart=/usr/local/bin/aistagram serve"));
    let unit = unit.replace("/usr/local/bin/aistagram", env!("CARGO_BIN_EXE_aistagram"));
    let path = dir.join("aistagram.service");
    std::fs::write(&path, unit).unwrap();
    path
}

#[test]
fn the_systemd_unit_verifies_and_keeps_its_exposure_low() {
    let dir = tempfile::tempdir().unwrap();
    verify_low_exposure(&unit_for_this_build(dir.path()));
}

/// With deploy/https.conf's settings (the drop-in for serving HTTPS on 80 and 443) applied, the
/// unit still verifies and stays at low exposure.
#[test]
fn the_https_drop_in_keeps_the_unit_valid_and_its_exposure_low() {
    let dir = tempfile::tempdir().unwrap();
    let unit = unit_for_this_build(dir.path());
    let drop_in = std::fs::read_to_string(repo().join("deploy/https.conf")).unwrap();
    let service = drop_in
        .split_once("[Service]\n")
        .expect("a [Service] section")
        .1;
    // A drop-in's settings come after the unit's: the same as putting them last in [Service].
    let text = std::fs::read_to_string(&unit).unwrap();
    let merged = text.replace("[Install]", &format!("{service}\n[Install]"));
    assert!(merged.contains("AmbientCapabilities=CAP_NET_BIND_SERVICE"));
    std::fs::write(&unit, merged).unwrap();
    verify_low_exposure(&unit);
}

fn verify_low_exposure(unit: &Path) {
    let verify = std::process::Command::new("systemd-analyze")
        .arg("verify")
        .arg(unit)
        .output()
        .expect("systemd-analyze (Debian's systemd; .ci/test installs it)");
    let said = String::from_utf8_lossy(&verify.stderr);
    assert!(verify.status.success(), "{said}");
    assert!(said.trim().is_empty(), "verify complained: {said}");

    let security = std::process::Command::new("systemd-analyze")
        .args(["security", "--offline=true", "--no-pager"])
        .arg(unit)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&security.stdout);
    // "→ Overall exposure level for aistagram.service: 1.4 OK 🙂" (0 is locked down, 10 open).
    let exposure: f64 = report
        .lines()
        .find_map(|l| l.split_once("Overall exposure level for aistagram.service: "))
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no exposure level in:\n{report}"));
    assert!(exposure <= 2.0, "exposure {exposure}:\n{report}");
}

/// A port nothing listens on (the OS picked it free; the race with another process is remote).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An image that does not compress: `w`×`h` pixels of noise, as PNG.
fn noise_png(w: u32, h: u32) -> Vec<u8> {
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let img = RgbImage::from_fn(w, h, |_, _| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let b = state.to_le_bytes();
        Rgb([b[0], b[1], b[2]])
    });
    encode(&img, ImageFormat::Png)
}

/// `POST {front}/api/posts` as multipart: `caption`, then `image` as the file.
async fn upload(
    app: &TestApp,
    front: &str,
    key: &str,
    caption: &str,
    image: Vec<u8>,
) -> reqwest::Response {
    let form = reqwest::multipart::Form::new()
        .text("caption", caption.to_owned())
        .part(
            "file",
            reqwest::multipart::Part::bytes(image)
                .file_name("image.png")
                .mime_str("image/png")
                .unwrap(),
        );
    app.client
        .post(format!("{front}/api/posts"))
        .bearer_auth(key)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn nginx_with_the_proxy_snippet_passes_uploads_and_leaves_refusals_to_aistagram() {
    let app = TestApp::spawn().await;
    let upstream = app.base.trim_start_matches("http://").to_owned();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    let port = free_port();
    let snippet = repo().join("deploy/nginx/aistagram-proxy.conf");
    let conf = format!(
        "daemon off;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
         events {{}}\n\
         http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n\
         fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
         upstream aistagram {{ server {upstream}; keepalive 32; }}\n\
         server {{ listen 127.0.0.1:{port}; location / {{ include {}; }} }}\n}}\n",
        snippet.display()
    );
    let conf_path = dir.path().join("nginx.conf");
    std::fs::write(&conf_path, conf).unwrap();
    // Debian puts nginx in /usr/sbin, which is not on an unprivileged user's PATH.
    let bin = ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .unwrap_or("nginx");
    let mut nginx = tokio::process::Command::new(bin)
        .arg("-p")
        .arg(dir.path())
        .arg("-c")
        .arg(&conf_path)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("nginx (Debian's nginx; .ci/test installs it)");
    let front = format!("http://127.0.0.1:{port}");
    let mut up = false;
    for _ in 0..100 {
        if app
            .client
            .get(format!("{front}/healthz"))
            .send()
            .await
            .is_ok()
        {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if !up {
        let _ = nginx.start_kill();
        let log = std::fs::read_to_string(dir.path().join("error.log")).unwrap_or_default();
        panic!("nginx did not come up:\n{log}");
    }

    let key = app.native.register("proxied").await;
    // Over nginx's default 1 MiB body limit, under aistagram's 10 MiB.
    let big = noise_png(1000, 800);
    assert!(big.len() > 2 << 20, "{} bytes", big.len());
    let res = upload(&app, &front, &key, "through the proxy", big).await;
    assert_eq!(res.status().as_u16(), 201, "{}", res.text().await.unwrap());
    let post: serde_json::Value = res.json().await.unwrap();
    // The image it made is served through the proxy too.
    let image = post["data"]["image_url"].as_str().unwrap();
    let path = &image[image.find("/media/").unwrap()..];
    let res = app
        .client
        .get(format!("{front}{path}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers()["content-type"], "image/webp");

    // Over aistagram's limit: refused by aistagram, in the native envelope, not by nginx.
    let res = upload(&app, &front, &key, "too big", vec![0u8; 11 << 20]).await;
    let status = res.status().as_u16();
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["success"], false, "{body}");
    assert_eq!(body["code"], "UPLOAD_TOO_LARGE", "{body}");
    let _ = nginx.start_kill();
}
