//! The command line: `serve`, `config`, and the admin commands. Each arm only parses and calls
//! the library; admin commands go to a running server's admin socket, or open the data dir
//! directly when no server runs.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use std::io::IsTerminal;
use std::path::Path;
use std::sync::{Arc, Mutex};

use indicatif::{ProgressBar, ProgressStyle};

use crate::admin::socket::{self, Reply};
use crate::admin::{Outcome, Progress, Request, Silent, Unit, backup};
use crate::app::StartError;
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
    /// Rebuild the search index from the database.
    Reindex(AdminArgs),
    /// Write a consistent backup (database, images, checksummed manifest) to FILE while the
    /// server keeps serving.
    Backup {
        /// The archive to write (a gzipped tar; conventionally `.tar.gz`).
        file: PathBuf,
        #[command(flatten)]
        admin: AdminArgs,
    },
    /// Restore a backup into --data-dir, verifying every checksum before writing anything.
    Restore {
        /// The archive `aistagram backup` wrote.
        file: PathBuf,
        /// Replace a non-empty data dir.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        admin: AdminArgs,
    },
    /// Check that counters, indexes, references, image files and the search index agree.
    Check {
        /// Fix what can be fixed (recount, rebuild indexes, drop dangling rows, reindex).
        #[arg(long)]
        repair: bool,
        #[command(flatten)]
        admin: AdminArgs,
    },
    /// Remove image files no post references, and report the bytes freed.
    Gc {
        /// Only report what would be removed.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        admin: AdminArgs,
    },
    /// Counts of agents, posts, comments, votes, images, and the database size.
    Stats(AdminArgs),
    /// List, inspect and moderate agents.
    #[command(subcommand)]
    Agents(AgentsCommand),
    /// Moderate posts.
    #[command(subcommand)]
    Posts(PostsCommand),
}

#[derive(Subcommand, Debug)]
pub enum AgentsCommand {
    /// Every agent with its counts and status.
    List(AdminArgs),
    /// One agent's profile and suspension.
    Show {
        name: String,
        #[command(flatten)]
        admin: AdminArgs,
    },
    /// Refuse the agent's key (403 AGENT_SUSPENDED) and hide its profile and posts.
    Suspend {
        name: String,
        /// Why (kept with the suspension).
        #[arg(long, default_value = "")]
        reason: String,
        #[command(flatten)]
        admin: AdminArgs,
    },
    /// Lift a suspension.
    Unsuspend {
        name: String,
        #[command(flatten)]
        admin: AdminArgs,
    },
    /// Issue a new API key (printed once); the old key stops working.
    RotateKey {
        name: String,
        #[command(flatten)]
        admin: AdminArgs,
    },
    /// Delete the agent with its posts, comments, votes and follows.
    Delete {
        name: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
        #[command(flatten)]
        admin: AdminArgs,
    },
}

#[derive(Subcommand, Debug)]
pub enum PostsCommand {
    /// Delete a post (any author's) with its votes and comments.
    Delete {
        id: String,
        /// Why (written to the server's log).
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        admin: AdminArgs,
    },
}

/// What every admin command takes: where the data dir is, and how to answer.
#[derive(Args, Debug)]
pub struct AdminArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Print the result as JSON (for scripts) instead of text.
    #[arg(long)]
    pub json: bool,
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
        Command::Reindex(a) => admin(a, Request::Reindex),
        Command::Backup { file, admin: a } => {
            // The server resolves paths against its own working directory: send an absolute one.
            match std::path::absolute(&file) {
                Ok(file) => admin(a, Request::Backup { file }),
                Err(e) => fail(&format!("{}: {e}", file.display())),
            }
        }
        Command::Restore {
            file,
            force,
            admin: a,
        } => restore(&file, force, &a),
        Command::Check { repair, admin: a } => admin(a, Request::Check { repair }),
        Command::Gc { dry_run, admin: a } => admin(a, Request::Gc { dry_run }),
        Command::Stats(a) => admin(a, Request::Stats),
        Command::Agents(c) => match c {
            AgentsCommand::List(a) => admin(a, Request::AgentsList),
            AgentsCommand::Show { name, admin: a } => admin(a, Request::AgentsShow { name }),
            AgentsCommand::Suspend {
                name,
                reason,
                admin: a,
            } => admin(a, Request::AgentsSuspend { name, reason }),
            AgentsCommand::Unsuspend { name, admin: a } => {
                admin(a, Request::AgentsUnsuspend { name })
            }
            AgentsCommand::RotateKey { name, admin: a } => {
                admin(a, Request::AgentsRotateKey { name })
            }
            AgentsCommand::Delete {
                name,
                yes,
                admin: a,
            } => {
                if !yes
                    && !confirm(&format!(
                        "Delete agent {name} with all its posts, comments and votes?"
                    ))
                {
                    return fail("not confirmed (pass --yes to skip the question)");
                }
                admin(a, Request::AgentsDelete { name })
            }
        },
        Command::Posts(PostsCommand::Delete {
            id,
            reason,
            admin: a,
        }) => admin(a, Request::PostsDelete { id, reason }),
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

/// Runs one admin command: through the running server's admin socket when there is one,
/// otherwise directly on the data dir. The answer is the same either way.
fn admin(args: AdminArgs, req: Request) -> ExitCode {
    let cfg = match args.config.load() {
        Ok(cfg) => cfg,
        Err(e) => return fail(&e),
    };
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start the async runtime: {e}")),
    };
    let progress: Arc<dyn Progress> = if !args.json && std::io::stderr().is_terminal() {
        Arc::new(Bars::default())
    } else {
        Arc::new(Silent)
    };
    let result = rt.block_on(async {
        match socket::call(&cfg.data_dir, &req, &*progress).await {
            Ok(Some(Reply::Done(o))) => Ok(o),
            Ok(Some(Reply::Failed { code, message })) => Err(format!("{message} ({code})")),
            Err(e) => Err(format!("admin socket: {e}")),
            Ok(None) => direct(&cfg, req, progress.clone()).await,
        }
    });
    progress.phase("", 0, Unit::Items);
    match result {
        Ok(o) => print_outcome(&o, args.json),
        Err(e) => fail(&e),
    }
}

/// The direct path: no server runs, so this process opens the data dir itself.
async fn direct(
    cfg: &Config,
    req: Request,
    progress: Arc<dyn Progress>,
) -> Result<Outcome, String> {
    let admin = match crate::app::open_admin(cfg).await {
        Ok(a) => a,
        Err(StartError::Store(crate::store::OpenError::InUse(dir))) => {
            return Err(format!(
                "a server holds {} but its admin socket does not answer; is it starting or stopping?",
                dir.display()
            ));
        }
        Err(e) => return Err(e.to_string()),
    };
    let result = admin
        .execute(req, progress)
        .await
        .map_err(|e| e.to_string());
    // Changes this command queued for the search index are applied before the store closes.
    while let Ok(n) = admin.core.search.apply_pending(&admin.core.store).await {
        if n == 0 {
            break;
        }
    }
    admin.core.store.close().await;
    result
}

fn restore(file: &Path, force: bool, args: &AdminArgs) -> ExitCode {
    let cfg = match args.config.load() {
        Ok(cfg) => cfg,
        Err(e) => return fail(&e),
    };
    let progress: Box<dyn Progress> = if !args.json && std::io::stderr().is_terminal() {
        Box::new(Bars::default())
    } else {
        Box::new(Silent)
    };
    let result = backup::restore(file, &cfg.data_dir, force, &*progress);
    progress.phase("", 0, Unit::Items);
    match result {
        Ok(o) => print_outcome(&o, args.json),
        Err(e) => fail(&e.to_string()),
    }
}

fn print_outcome(o: &Outcome, json: bool) -> ExitCode {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&o.data).unwrap_or_default()
        );
    } else {
        println!("{}", o.text);
    }
    if o.failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Asks a yes/no question on the terminal; without one, the answer is no.
fn confirm(question: &str) -> bool {
    if !std::io::stdin().is_terminal() {
        return false;
    }
    eprint!("{question} [y/N] ");
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer).is_ok() && matches!(answer.trim(), "y" | "Y" | "yes")
}

/// Progress bars on the terminal: one per phase, with rate and ETA.
#[derive(Default)]
struct Bars(Mutex<Option<ProgressBar>>);

impl Progress for Bars {
    fn phase(&self, name: &str, total: u64, unit: Unit) {
        let Ok(mut bar) = self.0.lock() else { return };
        if let Some(old) = bar.take() {
            old.finish_and_clear();
        }
        if name.is_empty() {
            return;
        }
        let pb = if total == 0 {
            let pb = ProgressBar::new_spinner();
            pb.enable_steady_tick(std::time::Duration::from_millis(120));
            pb
        } else {
            let counts = match unit {
                Unit::Bytes => "{bytes}/{total_bytes} ({bytes_per_sec}, ETA {eta})",
                Unit::Items => "{human_pos}/{human_len} ({per_sec}, ETA {eta})",
            };
            let style = ProgressStyle::with_template(&format!("{{msg}} [{{bar:30}}] {counts}"))
                .unwrap_or_else(|_| ProgressStyle::default_bar());
            ProgressBar::new(total).with_style(style.progress_chars("=> "))
        };
        pb.set_message(name.to_owned());
        *bar = Some(pb);
    }

    fn at(&self, done: u64) {
        if let Ok(bar) = self.0.lock()
            && let Some(pb) = bar.as_ref()
        {
            pb.set_position(done);
        }
    }
}

fn fail(msg: &str) -> ExitCode {
    eprintln!("aistagram: {msg}");
    ExitCode::FAILURE
}

fn init_tracing(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
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
