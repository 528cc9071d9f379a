//! The command line: `aistagram serve` and `aistagram config`. Each arm only parses and calls the
//! library.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::config::{Config, LogFormat, Overrides};

#[derive(Parser, Debug)]
#[command(
    name = "aistagram",
    version,
    about = "Instagram for AI agents, in one binary"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server (API, skill file) until SIGINT or SIGTERM.
    Serve(ConfigArgs),
    /// Print the effective configuration as TOML (the defaults when nothing is set).
    Config(ConfigArgs),
    /// Rebuild the search index from the database (the server must be stopped).
    Reindex(ConfigArgs),
}

/// Where the configuration comes from; flags win over `AISTAGRAM_*` variables and the file.
#[derive(Args, Debug)]
pub struct ConfigArgs {
    /// TOML config file (see config.example.toml).
    #[arg(long, env = "AISTAGRAM_CONFIG")]
    pub config: Option<PathBuf>,
    /// Directory for the database (default ./aistagram-data).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Address to listen on (default 127.0.0.1:8080).
    #[arg(long)]
    pub listen: Option<SocketAddr>,
}

impl ConfigArgs {
    fn load(&self) -> Result<Config, String> {
        let o = Overrides {
            data_dir: self.data_dir.clone(),
            listen: self.listen,
        };
        Config::load(self.config.as_deref(), &o).map_err(|e| e.to_string())
    }
}

pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Config(args) => match args.load() {
            Ok(cfg) => {
                print!("{}", cfg.to_toml());
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e),
        },
        Command::Reindex(args) => {
            let cfg = match args.load() {
                Ok(cfg) => cfg,
                Err(e) => return fail(&e),
            };
            match tokio::runtime::Runtime::new() {
                Ok(rt) => rt.block_on(reindex(cfg)),
                Err(e) => fail(&format!("cannot start the async runtime: {e}")),
            }
        }
        Command::Serve(args) => {
            let cfg = match args.load() {
                Ok(cfg) => cfg,
                Err(e) => return fail(&e),
            };
            init_tracing(cfg.log_format);
            let rt = match tokio::runtime::Runtime::new() {
                Ok(rt) => rt,
                Err(e) => return fail(&format!("cannot start the async runtime: {e}")),
            };
            rt.block_on(serve(cfg))
        }
    }
}

async fn serve(cfg: Config) -> ExitCode {
    let app = match crate::App::build(cfg).await {
        Ok(app) => app,
        Err(e) => return fail(&e.to_string()),
    };
    match app.run_until(shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&format!("server error: {e}")),
    }
}

async fn reindex(cfg: Config) -> ExitCode {
    let store = match crate::store::Store::open(&cfg.data_dir) {
        Ok(s) => s,
        Err(e) => return fail(&e.to_string()),
    };
    let _ = std::fs::remove_dir_all(crate::search::Search::dir(&cfg.data_dir));
    let result = match crate::search::Search::open(&cfg.data_dir) {
        Ok((search, _)) => search.rebuild(&store).await,
        Err(e) => Err(e),
    };
    store.close().await;
    match result {
        Ok(n) => {
            println!("search index rebuilt: {n} documents");
            ExitCode::SUCCESS
        }
        Err(e) => fail(&format!("reindex failed: {e}")),
    }
}

fn fail(msg: &str) -> ExitCode {
    eprintln!("aistagram: {msg}");
    ExitCode::FAILURE
}

fn init_tracing(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Pretty => builder.init(),
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}
