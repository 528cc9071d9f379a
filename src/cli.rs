//! The command line: `serve`, `config`, `restore`, and the admin commands. An admin command's
//! arguments are the [`Request`] the admin socket carries, declared once in `admin::commands`;
//! this file adds what stays in this process (`--json`, `--yes`, where the config comes from) and
//! sends the request to a running server's admin socket, or opens the data dir directly when no
//! server runs.

mod bars;

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::builder::Resettable;
use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::admin::commands::backup;
use crate::admin::socket::{self, Reply};
use crate::admin::{AgentsCommand, Outcome, Progress, Request, Unit};
use crate::app::StartError;
use crate::config::{Config, LogFormat, Overrides};

// The command line as clap derives it; `Cli` adds the client-side flags to its admin commands.
// (No doc comment: it would become help text.)
#[derive(Parser, Debug)]
#[command(
    name = "aistagram",
    version,
    about = "Instagram for AI agents, in one binary"
)]
struct Parsed {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server (API, skill file) until SIGINT or SIGTERM.
    Serve(ConfigArgs),
    /// Print the effective configuration as TOML (the defaults when nothing is set).
    Config(ConfigArgs),
    /// Restore a backup into --data-dir, verifying every checksum before writing anything.
    Restore {
        /// The archive `aistagram backup` wrote.
        file: PathBuf,
        /// Replace a non-empty data dir.
        #[arg(long)]
        force: bool,
        /// Where the restored images go: `fs` (the data dir) or `s3` (the config's
        /// `[media.s3]` bucket); the config's `media.storage` when not given.
        #[arg(long, value_name = "fs|s3")]
        media_storage: Option<crate::config::StorageKind>,
        #[command(flatten)]
        admin: AdminArgs,
    },
    /// Provenance manifests, checked offline.
    #[command(subcommand)]
    Provenance(ProvenanceCommand),
    // Every admin command, spelled as the socket carries it.
    #[command(flatten)]
    Admin(Request),
}

#[derive(Subcommand, Debug)]
pub enum ProvenanceCommand {
    /// Check a post's signed provenance (GET /api/v1/posts/ID/provenance saved as a file) and,
    /// given the image (its `original_url`), that the image is the one it names. The key is
    /// --public-key, else this data dir's own (when it has one), else the document's.
    Verify {
        /// The JSON document `{manifest, signature}`.
        manifest: PathBuf,
        /// The image file to check against the manifest's blake3.
        image: Option<PathBuf>,
        /// The server's public key (base64, from /api/v1/provenance/key).
        #[arg(long)]
        public_key: Option<String>,
        #[command(flatten)]
        admin: AdminArgs,
    },
}

/// The parsed command line: the command and, for an admin command, the flags that stay in this
/// process.
#[derive(Debug)]
pub struct Cli {
    pub command: Command,
    pub client: ClientArgs,
}

/// What an admin command takes besides its [`Request`]; none of it is sent to the server.
#[derive(Debug, Default)]
pub struct ClientArgs {
    pub admin: AdminArgs,
    /// `--yes`: a destructive command runs without asking.
    pub yes: bool,
}

/// What every admin command takes: where the data dir is, and how to answer.
#[derive(Args, Debug, Default)]
pub struct AdminArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Print the result as JSON (for scripts) instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Where the configuration comes from; flags win over `AISTAGRAM_*` variables and the file.
#[derive(Args, Debug, Default)]
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

/// The flag of the commands that ask before destroying data.
#[derive(Args, Debug)]
struct Confirm {
    /// Do not ask for confirmation.
    #[arg(long)]
    yes: bool,
}

/// Commands that destroy data ask first, unless `--yes` is given (see [`prepare`]).
fn asks_confirmation(path: &[&str]) -> bool {
    path == ["agents", "delete"]
}

impl CommandFactory for Cli {
    fn command() -> clap::Command {
        with_client_args(Parsed::command())
    }

    fn command_for_update() -> clap::Command {
        with_client_args(Parsed::command_for_update())
    }
}

impl FromArgMatches for Cli {
    fn from_arg_matches(m: &ArgMatches) -> Result<Self, clap::Error> {
        let command = Parsed::from_arg_matches(m)?.command;
        let client = match command {
            Command::Admin(_) => ClientArgs::from_leaf(m)?,
            _ => ClientArgs::default(),
        };
        Ok(Cli { command, client })
    }

    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> Result<(), clap::Error> {
        *self = Cli::from_arg_matches(m)?;
        Ok(())
    }
}

impl Parser for Cli {}

/// Adds the client-side flags to every admin command, and lists `restore` beside `backup`.
fn with_client_args(cli: clap::Command) -> clap::Command {
    let admin: Vec<String> = cli
        .get_subcommands()
        .map(|c| c.get_name().to_owned())
        .filter(|name| Request::has_subcommand(name))
        .collect();
    let cli = admin.iter().fold(cli, |cli, name| {
        cli.mut_subcommand(name, |c| add_client_args(c, &[name.as_str()]))
    });
    // `restore` is no admin command (no server takes part), so it is declared apart from them;
    // with `backup`'s display order it is listed right after it, as commands of equal order are
    // sorted by name.
    match cli.find_subcommand("backup").map(|b| b.get_display_order()) {
        Some(order) => cli.mut_subcommand("restore", |r| r.display_order(order)),
        None => cli,
    }
}

/// Adds [`AdminArgs`] (and [`Confirm`] where it applies) to the leaf commands under `cmd`, after
/// their own arguments, which is where `--help` lists them.
fn add_client_args(cmd: clap::Command, path: &[&str]) -> clap::Command {
    if cmd.has_subcommands() {
        let names: Vec<String> = cmd
            .get_subcommands()
            .map(|c| c.get_name().to_owned())
            .collect();
        return names.iter().fold(cmd, |cmd, name| {
            let path = [path, &[name.as_str()]].concat();
            cmd.mut_subcommand(name, |c| add_client_args(c, &path))
        });
    }
    // An `Args` struct's doc comment becomes the about text of the command it is added to; the
    // command keeps its own.
    let about = Resettable::from(cmd.get_about().cloned());
    let long_about = Resettable::from(cmd.get_long_about().cloned());
    let cmd = if asks_confirmation(path) {
        Confirm::augment_args(cmd)
    } else {
        cmd
    };
    AdminArgs::augment_args(cmd)
        .about(about)
        .long_about(long_about)
}

impl ClientArgs {
    /// Reads the flags from the innermost subcommand, where [`add_client_args`] put them.
    fn from_leaf(m: &ArgMatches) -> Result<Self, clap::Error> {
        let (mut leaf, mut path) = (m, Vec::new());
        while let Some((name, sub)) = leaf.subcommand() {
            path.push(name);
            leaf = sub;
        }
        let yes = asks_confirmation(&path) && Confirm::from_arg_matches(leaf)?.yes;
        Ok(ClientArgs {
            admin: AdminArgs::from_arg_matches(leaf)?,
            yes,
        })
    }
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
        Command::Restore {
            file,
            force,
            media_storage,
            admin: a,
        } => restore(&file, force, media_storage, &a),
        Command::Provenance(ProvenanceCommand::Verify {
            manifest,
            image,
            public_key,
            admin: a,
        }) => verify_provenance(&manifest, image.as_deref(), public_key, &a),
        Command::Admin(req) => admin(req, cli.client),
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

/// `aistagram provenance verify`: everything is read from files; nothing is sent anywhere.
fn verify_provenance(
    manifest: &Path,
    image: Option<&Path>,
    public_key: Option<String>,
    args: &AdminArgs,
) -> ExitCode {
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
    let run = || -> Result<String, String> {
        let doc: serde_json::Value = serde_json::from_slice(&read(manifest)?)
            .map_err(|e| format!("{}: not JSON: {e}", manifest.display()))?;
        let image = image.map(read).transpose()?;
        // Without --public-key, this data dir's own key when it has one.
        let key = match public_key {
            Some(k) => Some(k),
            None => args.config.load().ok().and_then(|cfg| {
                let path = cfg.data_dir.join("secret.key");
                path.is_file()
                    .then(|| crate::secret_key::load(&cfg.data_dir).ok())
                    .flatten()
                    .map(|k| crate::service::provenance::signing_key(&k).verifying_key())
                    .and_then(|k| {
                        crate::service::provenance::public_key_json(&k)["public_key"]
                            .as_str()
                            .map(str::to_owned)
                    })
            }),
        };
        let used = crate::service::provenance::verify(&doc, key.as_deref(), image.as_deref())
            .map_err(|e| e.to_string())?;
        let whose = if key.is_some() {
            ""
        } else {
            " (the document's own: compare it with the server's /api/v1/provenance/key)"
        };
        Ok(format!(
            "valid: signed by {used}{whose}{}",
            if image.is_some() {
                "; the image matches"
            } else {
                ""
            }
        ))
    };
    match run() {
        Ok(msg) if args.json => {
            println!("{}", serde_json::json!({"valid": true, "message": msg}));
            ExitCode::SUCCESS
        }
        Ok(msg) => {
            println!("{msg}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(&format!("invalid: {e}")),
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
fn admin(req: Request, client: ClientArgs) -> ExitCode {
    let req = match prepare(req, client.yes) {
        Ok(req) => req,
        Err(e) => return fail(&e),
    };
    let args = client.admin;
    let cfg = match args.config.load() {
        Ok(cfg) => cfg,
        Err(e) => return fail(&e),
    };
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start the async runtime: {e}")),
    };
    let progress = bars::for_output(args.json);
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

/// What happens in this process before a request leaves it: a destructive command is confirmed
/// on the terminal, and a backup's path is made absolute, because the server resolves paths
/// against its own working directory.
fn prepare(mut req: Request, yes: bool) -> Result<Request, String> {
    match &mut req {
        Request::Agents(AgentsCommand::Delete(d)) if !yes => {
            let question = format!(
                "Delete agent {} with all its posts, comments and votes?",
                d.name
            );
            if !confirm(&question) {
                return Err("not confirmed (pass --yes to skip the question)".into());
            }
        }
        Request::Backup(b) => {
            b.file =
                std::path::absolute(&b.file).map_err(|e| format!("{}: {e}", b.file.display()))?;
        }
        _ => {}
    }
    Ok(req)
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
    while let Ok(n) = admin.search.apply_pending(&admin.store).await {
        if n == 0 {
            break;
        }
    }
    admin.store.close().await;
    result
}

fn restore(
    file: &Path,
    force: bool,
    media_storage: Option<crate::config::StorageKind>,
    args: &AdminArgs,
) -> ExitCode {
    let cfg = match args.config.load() {
        Ok(cfg) => cfg,
        Err(e) => return fail(&e),
    };
    let media = match media_storage.unwrap_or(cfg.media.storage) {
        crate::config::StorageKind::Fs => backup::MediaTarget::Fs,
        crate::config::StorageKind::S3 if !cfg.media.s3.configured() => {
            return fail("--media-storage s3 needs [media.s3] bucket in the config");
        }
        crate::config::StorageKind::S3 => backup::MediaTarget::S3(&cfg.media.s3),
    };
    let progress = bars::for_output(args.json);
    let result = backup::restore(file, &cfg.data_dir, force, media, &*progress);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("aistagram").chain(args.iter().copied()))
    }

    fn wire(cli: &Cli) -> serde_json::Value {
        match &cli.command {
            Command::Admin(req) => serde_json::to_value(req).expect("serialises"),
            other => panic!("not an admin command: {other:?}"),
        }
    }

    #[test]
    fn the_command_tree_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn client_flags_are_read_but_never_sent() {
        let cli = parse(&[
            "agents",
            "suspend",
            "bot",
            "--reason",
            "spam",
            "--json",
            "--data-dir",
            "/d",
        ])
        .expect("parses");
        assert_eq!(
            wire(&cli),
            serde_json::json!({"cmd": "agents-suspend", "name": "bot", "reason": "spam"})
        );
        assert!(cli.client.admin.json);
        assert_eq!(cli.client.admin.config.data_dir, Some(PathBuf::from("/d")));
        assert!(!cli.client.yes);

        let cli = parse(&["agents", "delete", "bot", "--yes"]).expect("parses");
        assert_eq!(
            wire(&cli),
            serde_json::json!({"cmd": "agents-delete", "name": "bot"})
        );
        assert!(cli.client.yes);
        assert!(
            parse(&["stats", "--yes"]).is_err(),
            "--yes is only where it is asked"
        );
    }

    #[test]
    fn every_admin_command_takes_the_client_flags_and_keeps_its_own_help() {
        fn leaves(cmd: &clap::Command, out: &mut Vec<clap::Command>) {
            if cmd.has_subcommands() {
                cmd.get_subcommands().for_each(|c| leaves(c, out));
            } else {
                out.push(cmd.clone());
            }
        }
        let cli = Cli::command();
        let mut admin = Vec::new();
        cli.get_subcommands()
            .filter(|c| Request::has_subcommand(c.get_name()))
            .for_each(|c| leaves(c, &mut admin));
        assert_eq!(admin.len(), 14);
        let mut abouts = std::collections::BTreeSet::new();
        for c in &admin {
            let longs: Vec<&str> = c.get_arguments().filter_map(|a| a.get_long()).collect();
            for flag in ["config", "data-dir", "listen", "json"] {
                assert!(longs.contains(&flag), "{} lacks --{flag}", c.get_name());
            }
            let about = c.get_about().map(|a| a.to_string()).unwrap_or_default();
            assert!(abouts.insert(about.clone()), "{}: {about}", c.get_name());
        }
    }
}
