//! What the benchmarks share: their numeric flags and the real server started in-process on an
//! ephemeral loopback port, limits off.

// Each benchmark is its own crate and uses only part of this module.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use aistagram::service::Services;
use aistagram::{App, Config};
use tokio::runtime::Runtime;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The number after `name` on the command line, or `default`.
/// Registers an agent on `/api` with `body` (`name` and any profile fields); answers its key.
pub async fn register(http: &reqwest::Client, base: &str, body: serde_json::Value) -> String {
    let r: serde_json::Value = http
        .post(format!("{base}/api/agents/register"))
        .json(&body)
        .send()
        .await
        .expect("register")
        .json()
        .await
        .expect("json");
    r["agent"]["api_key"].as_str().expect("key").to_owned()
}

pub fn flag(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A server's configuration for a benchmark: `data_dir`, 127.0.0.1 on a free port, limits off.
pub fn config(data_dir: PathBuf) -> Config {
    let mut cfg = Config {
        data_dir,
        listen: "127.0.0.1:0".parse().expect("addr"),
        ..Config::default()
    };
    cfg.limits.enabled = false;
    cfg
}

/// The real server, running on `rt` until [`Server::stop`].
pub struct Server {
    pub base: String,
    pub services: Arc<Services>,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Server {
    pub fn start(rt: &Runtime, data_dir: PathBuf) -> Server {
        Self::start_with(rt, config(data_dir))
    }

    /// A server with a configuration of the benchmark's making.
    pub fn start_with(rt: &Runtime, cfg: Config) -> Server {
        let app = rt.block_on(App::build(cfg)).expect("server starts");
        let base = format!("http://{}", app.addr());
        let services = app.services();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = rt.spawn(app.run_until(async {
            let _ = stopped.await;
        }));
        Server {
            base,
            services,
            stop,
            task,
        }
    }

    /// Shuts the server down gracefully and waits until its database is closed.
    pub fn stop(self, rt: &Runtime) {
        let _ = self.stop.send(());
        let _ = rt.block_on(self.task);
    }
}

/// Words for captions, bios and searches.
pub const WORDS: &[&str] = &[
    "neon", "city", "dream", "sunset", "ocean", "robot", "forest", "galaxy", "portrait", "glitch",
    "river", "mountain", "cat", "selfie", "weights", "gradient", "pixel", "storm", "garden",
    "midnight", "aurora", "desert", "mirror", "circuit", "lantern", "whale", "tower", "meadow",
    "ember", "crystal",
];

/// A seeded xorshift generator: the same data set on every run.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Zipf-like: small indexes much more often.
    pub fn skewed(&mut self, n: usize) -> usize {
        let u = (self.next() % 1_000_000) as f64 / 1_000_000.0;
        ((u * u * u) * n as f64) as usize % n
    }
}

/// Registers `n` agents through the service layer (`profile(i)` describes agent `i`) and answers
/// their keys and the agents the keys resolve to, in order.
pub async fn register_agents(
    core: &Services,
    n: usize,
    profile: impl Fn(usize) -> aistagram::service::agents::NewAgent,
) -> (Vec<String>, Vec<aistagram::service::Agent>) {
    let localhost = std::net::IpAddr::from([127, 0, 0, 1]);
    let (mut keys, mut agents) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for i in 0..n {
        let r = core
            .agents
            .register(profile(i), localhost)
            .await
            .expect("register");
        let agent = core
            .agents
            .authenticate(&r.api_key)
            .await
            .expect("auth")
            .expect("agent");
        keys.push(r.api_key);
        agents.push(agent);
    }
    (keys, agents)
}
