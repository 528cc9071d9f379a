//! The fast paths against their anchors, side by side in one run:
//! - `wrk -t2 -c64` against the release server and against nginx serving the very same bytes
//!   (one feed-size WebP variant, and the anonymous first page of `/api/feed?sort=new&limit=20`),
//!   plus one keep-alive connection's median latency for the media URL;
//! - durable votes per second (`wrk -t2 -c64` posting votes) against PostgreSQL running the same
//!   vote transaction (`INSERT … ON CONFLICT` of the vote row plus the counter `UPDATE`) through
//!   `pgbench -c64`, synchronous commit, its cluster in the same directory (same disk).
//!
//! Run: `cargo bench --bench fast_paths` (add `-- --secs 10 --rounds 3`). Needs Debian's
//! `nginx`, `wrk` and `postgresql`; without one it says so and skips that part. Everything
//! listens on 127.0.0.1 or a Unix socket. Targets (issue 13): media ≥ 0.8× nginx, feed first page
//! ≥ 0.5× nginx, single-connection media p50 < 1 ms, durable votes ≥ 3× PostgreSQL.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};

mod common;

const AGENTS: usize = 64;
const POSTS_PER_AGENT: usize = 3;

fn main() {
    let secs = common::flag("--secs", 10);
    let rounds = common::flag("--rounds", 3) as usize;
    for tool in ["nginx", "wrk"] {
        if which(tool).is_none() {
            println!("fast_paths: skipped, `{tool}` is not installed (apt-get install nginx wrk)");
            return;
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-fast-paths");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("www")).expect("bench dir");

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let server = common::Server::start(&rt, root.join("data"));
    let base = server.base.clone();

    let (media, feed, keys, posts) = rt.block_on(setup(&base, &root.join("www")));
    let mut nginx = start_nginx(&root).expect("nginx starts");
    let nginx_base = format!("http://127.0.0.1:{}", nginx.1);
    println!("fast paths: wrk -t2 -c64, {rounds} rounds of {secs} s, alternating");
    println!("media: {} bytes; feed page: {} bytes", media.1, feed.1);
    let mut rows: Vec<(&str, Vec<f64>, Vec<f64>)> = vec![
        ("GET media feed variant", Vec::new(), Vec::new()),
        ("GET /api/feed?sort=new&limit=20", Vec::new(), Vec::new()),
    ];
    for _ in 0..rounds {
        let ours = [format!("{base}{}", media.0), format!("{base}{}", feed.0)];
        let theirs = [
            format!("{nginx_base}/media.webp"),
            format!("{nginx_base}/feed.json"),
        ];
        for (i, row) in rows.iter_mut().enumerate() {
            row.1.push(wrk_rate(&ours[i], secs));
            row.2.push(wrk_rate(&theirs[i], secs));
        }
    }
    println!(
        "{:<34} {:>14} {:>14} {:>7}",
        "endpoint (median req/s)", "aistagram", "nginx", "ratio"
    );
    for (name, ours, theirs) in &mut rows {
        let (a, n) = (median(ours), median(theirs));
        println!("{name:<34} {a:>14.0} {n:>14.0} {:>7.2}", a / n);
    }
    let p50 = wrk_p50(&format!("{base}{}", media.0), secs.min(5));
    let p50_nginx = wrk_p50(&format!("{nginx_base}/media.webp"), secs.min(5));
    println!("one keep-alive connection, media: p50 {p50} (nginx {p50_nginx})");

    let _ = nginx.0.kill();
    let _ = nginx.0.wait();

    match Postgres::start(&root) {
        Ok(pg) => {
            let script = vote_script(&root, &keys, &posts);
            let (mut ours, mut theirs) = (Vec::new(), Vec::new());
            for _ in 0..rounds {
                ours.push(wrk_votes(&script, &base, secs));
                theirs.push(pg.votes(secs));
            }
            let (a, p) = (median(&mut ours), median(&mut theirs));
            println!(
                "{:<34} {a:>14.0} {p:>14.0} {:>7.2}",
                "durable votes/s (vs PostgreSQL)",
                a / p
            );
            pg.stop();
        }
        Err(why) => println!("durable votes vs PostgreSQL: skipped ({why})"),
    }
    server.stop(&rt);
}

/// What the setup made: the media path and size, the feed path and size, keys and post ids.
type Made = ((String, usize), (String, usize), Vec<String>, Vec<String>);

/// Registers agents and posts images; writes the media variant's and the feed page's bytes
/// where nginx serves them.
async fn setup(base: &str, www: &Path) -> Made {
    let c = reqwest::Client::new();
    let mut media = String::new();
    let (mut keys, mut posts) = (Vec::new(), Vec::new());
    for i in 0..AGENTS {
        let key = common::register(&c, base, json!({ "name": format!("fast{i}") })).await;
        for j in 0..POSTS_PER_AGENT {
            let b64 = base64::engine::general_purpose::STANDARD.encode(picture(i * 7 + j));
            let r: Value = c
                .post(format!("{base}/api/posts"))
                .bearer_auth(&key)
                .json(&json!({ "image_b64": b64, "caption": format!("bench {i} {j} #fast") }))
                .send()
                .await
                .expect("post")
                .json()
                .await
                .expect("json");
            media = r["data"]["image_url"].as_str().expect("url").to_owned();
            posts.push(r["data"]["id"].as_str().expect("id").to_owned());
        }
        keys.push(key);
    }
    let media_path = media.strip_prefix(base).expect("absolute").to_owned();
    let feed_path = "/api/feed?sort=new&limit=20".to_owned();
    let mut out = Vec::new();
    for (path, file) in [(&media_path, "media.webp"), (&feed_path, "feed.json")] {
        let bytes = c
            .get(format!("{base}{path}"))
            .send()
            .await
            .expect("get")
            .bytes()
            .await
            .expect("bytes");
        std::fs::write(www.join(file), &bytes).expect("write");
        out.push((path.clone(), bytes.len()));
    }
    let feed = out.pop().expect("feed");
    let media = out.pop().expect("media");
    (media, feed, keys, posts)
}

/// A wrk script that posts up votes, each request the next (agent, post) pair: a vote on a pair
/// already voted removes it, so every request is a durable write either way.
fn vote_script(root: &Path, keys: &[String], posts: &[String]) -> PathBuf {
    let list = |v: &[String]| {
        v.iter()
            .map(|s| format!("\"{s}\""))
            .collect::<Vec<_>>()
            .join(",")
    };
    let script = format!(
        "local keys = {{{}}}\nlocal posts = {{{}}}\nlocal n = 0\n\
         wrk.method = \"POST\"\nwrk.body = '{{\"vote_type\":\"up\"}}'\n\
         wrk.headers[\"Content-Type\"] = \"application/json\"\n\
         request = function()\n  n = n + 1\n  local k = keys[(n % #keys) + 1]\n  \
         local p = posts[((n * 7) % #posts) + 1]\n  \
         return wrk.format(nil, \"/api/posts/\" .. p .. \"/vote\", {{[\"Authorization\"] = \"Bearer \" .. k, \
         [\"Content-Type\"] = \"application/json\"}})\nend\n",
        list(keys),
        list(posts)
    );
    let path = root.join("vote.lua");
    std::fs::write(&path, script).expect("vote script");
    path
}

/// Durable votes per second that `wrk -t2 -c64` gets acknowledged (only 2xx answers count).
fn wrk_votes(script: &Path, base: &str, secs: u64) -> f64 {
    let script = script.to_str().expect("utf-8 path");
    let text = wrk(&["-t2", "-c64", &format!("-d{secs}s"), "-s", script, base]);
    let rate: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0);
    let bad = text.contains("Non-2xx or 3xx responses");
    if bad {
        println!("warning: some votes were refused:\n{text}");
    }
    rate
}

/// A throwaway PostgreSQL cluster in the bench directory, run as the `postgres` user on a Unix
/// socket only, with the vote tables.
struct Postgres {
    dir: PathBuf,
    bin: PathBuf,
}

impl Postgres {
    fn start(root: &Path) -> Result<Postgres, String> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .map_err(|_| "postgresql is not installed (apt-get install postgresql)".to_owned())?
            .flatten()
            .map(|e| e.path().join("bin"))
            .find(|b| b.join("pgbench").is_file())
            .ok_or("no pgbench found")?;
        let dir = root.join("pg");
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let pg = Postgres { dir, bin };
        pg.run(
            "chown",
            &["-R", "postgres", pg.dir.to_str().unwrap_or_default()],
            false,
        )?;
        let data = pg.dir.join("data");
        let data = data.to_str().unwrap_or_default();
        pg.run(
            "initdb",
            &["-D", data, "-A", "trust", "-U", "postgres"],
            true,
        )?;
        let sock = pg.dir.to_str().unwrap_or_default().to_owned();
        // Defaults otherwise: fsync on, synchronous_commit on, on the same disk as aistagram's.
        let opts = format!("-k {sock} -c listen_addresses='' -c max_connections=100");
        pg.run(
            "pg_ctl",
            &[
                "-D",
                data,
                "-o",
                &opts,
                "-w",
                "-l",
                &format!("{sock}/log"),
                "start",
            ],
            true,
        )?;
        let schema = "CREATE TABLE votes (post_id bigint, agent_id bigint, value smallint, \
                      PRIMARY KEY (post_id, agent_id)); \
                      CREATE TABLE post_stats (post_id bigint PRIMARY KEY, up bigint, down bigint); \
                      INSERT INTO post_stats SELECT g, 0, 0 FROM generate_series(1, 192) g;";
        pg.run(
            "psql",
            &["-h", &sock, "-U", "postgres", "-q", "-c", schema],
            true,
        )?;
        let script = "\\set post random(1, 192)\n\\set agent random(1, 64)\nBEGIN;\n\
                      INSERT INTO votes VALUES (:post, :agent, 1) ON CONFLICT (post_id, agent_id) \
                      DO UPDATE SET value = -votes.value;\n\
                      UPDATE post_stats SET up = up + 1 WHERE post_id = :post;\nEND;\n";
        std::fs::write(pg.dir.join("vote.sql"), script).map_err(|e| e.to_string())?;
        pg.run(
            "chown",
            &[
                "postgres",
                pg.dir.join("vote.sql").to_str().unwrap_or_default(),
            ],
            false,
        )?;
        Ok(pg)
    }

    /// Runs a tool (a PostgreSQL one as the `postgres` user).
    fn run(&self, tool: &str, args: &[&str], as_postgres: bool) -> Result<String, String> {
        let mut cmd = if as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(self.bin.join(tool));
            c
        } else {
            Command::new(tool)
        };
        let out = cmd
            .args(args)
            .output()
            .map_err(|e| format!("{tool}: {e}"))?;
        if !out.status.success() {
            return Err(format!("{tool}: {}", String::from_utf8_lossy(&out.stderr)));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Transactions per second of the vote script, 64 clients on 2 threads.
    fn votes(&self, secs: u64) -> f64 {
        let sock = self.dir.to_str().unwrap_or_default();
        let script = self.dir.join("vote.sql");
        let args = [
            "-h",
            sock,
            "-U",
            "postgres",
            "-n",
            "-c",
            "64",
            "-j",
            "2",
            "-T",
            &secs.to_string(),
            "-f",
            script.to_str().unwrap_or_default(),
            "postgres",
        ];
        let out = self.run("pgbench", &args, true).unwrap_or_default();
        out.lines()
            .find_map(|l| l.strip_prefix("tps = "))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    }

    fn stop(self) {
        let data = self.dir.join("data");
        let _ = self.run(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap_or_default(),
                "-m",
                "fast",
                "stop",
            ],
            true,
        );
    }
}

/// A 640×480 picture with gradients and noise, so its feed variant is a realistic few KB.
fn picture(seed: usize) -> Vec<u8> {
    let mut state = seed as u32 * 2_654_435_761 + 1;
    let img = image::RgbImage::from_fn(640, 480, |x, y| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let n = (state & 31) as u8;
        image::Rgb([
            (x / 3) as u8 ^ n,
            (y / 2) as u8,
            (seed as u8).wrapping_mul(40) ^ n,
        ])
    });
    let mut png = std::io::Cursor::new(Vec::new());
    img.write_to(&mut png, image::ImageFormat::Png)
        .expect("png");
    png.into_inner()
}

/// nginx on a free loopback port, serving `root/www` with 2 workers (the machine's cores), no
/// access log, keep-alive.
fn start_nginx(root: &Path) -> std::io::Result<(Child, u16)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let www = root.join("www");
    let conf = root.join("nginx.conf");
    std::fs::write(
        &conf,
        format!(
            "worker_processes 2;\npid {pid};\nerror_log {err} warn;\nevents {{ worker_connections \
             1024; }}\nhttp {{\n  access_log off;\n  keepalive_requests 1000000;\n  \
             client_body_temp_path {tmp};\n  proxy_temp_path {tmp};\n  fastcgi_temp_path {tmp};\n  \
             uwsgi_temp_path {tmp};\n  scgi_temp_path {tmp};\n  server {{\n    listen \
             127.0.0.1:{port};\n    root {www};\n    location = /media.webp {{ default_type \
             image/webp; }}\n    location = /feed.json {{ default_type application/json; }}\n  \
             }}\n}}\n",
            pid = root.join("nginx.pid").display(),
            err = root.join("nginx.err").display(),
            tmp = root.join("tmp").display(),
            www = www.display(),
        ),
    )?;
    std::fs::create_dir_all(root.join("tmp"))?;
    let child = Command::new(which("nginx").unwrap_or_else(|| PathBuf::from("nginx")))
        .args(["-c"])
        .arg(&conf)
        .args(["-g", "daemon off;"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok((child, port));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(std::io::Error::other("nginx did not start listening"))
}

fn wrk(args: &[&str]) -> String {
    let out = Command::new("wrk").args(args).output().expect("wrk runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Requests per second `wrk -t2 -c64` reaches on `url` in `secs` seconds.
fn wrk_rate(url: &str, secs: u64) -> f64 {
    let text = wrk(&["-t2", "-c64", &format!("-d{secs}s"), url]);
    text.lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0)
}

/// The median latency of one keep-alive connection fetching `url` in a loop.
fn wrk_p50(url: &str, secs: u64) -> String {
    let text = wrk(&["-t1", "-c1", &format!("-d{secs}s"), "--latency", url]);
    text.lines()
        .find_map(|l| l.trim().strip_prefix("50%").map(|v| v.trim().to_owned()))
        .unwrap_or_else(|| "?".into())
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

fn which(tool: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .chain(["/usr/sbin", "/sbin"])
        .map(|d| Path::new(d).join(tool))
        .find(|p| p.is_file())
}
