//! The admin socket: `<data dir>/admin.sock`, a Unix socket only the server's own user (or root)
//! may use, never a network port. A client sends one [`Request`] as a JSON line; the server
//! answers with progress lines and then one final line: the [`Outcome`] or an error.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::mpsc;

use super::{Admin, Outcome, Progress, Request, Unit};

pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join("admin.sock")
}

/// One line from the server.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Line {
    Phase {
        name: String,
        total: u64,
        unit: Unit,
    },
    At(u64),
    Done(Outcome),
    Error {
        code: String,
        message: String,
    },
}

/// Binds the socket (replacing one a killed server left behind: this process holds the
/// database lock, so no other server owns it) with owner-only permissions.
pub fn bind(data_dir: &Path) -> std::io::Result<UnixListener> {
    let path = path(data_dir);
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let listener = UnixListener::bind(&path)?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    Ok(listener)
}

/// Accepts admin connections until the task is dropped.
pub async fn serve(listener: UnixListener, admin: Admin) {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        // The file mode already keeps others out; the peer's uid is checked as well.
        let uid = stream.peer_cred().map(|c| c.uid()).ok();
        if uid != Some(me) && uid != Some(0) {
            tracing::warn!(?uid, "admin socket connection from another user refused");
            continue;
        }
        tokio::spawn(handle(stream, admin.clone()));
    }
}

async fn handle(stream: UnixStream, admin: Admin) {
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    // A request is one short line; a client may not make the server buffer more.
    let mut reader = BufReader::new(tokio::io::AsyncReadExt::take(read, 64 * 1024));
    let request = match reader.read_line(&mut line).await {
        Ok(_) => serde_json::from_str::<Request>(&line).map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    let (tx, mut rx) = mpsc::unbounded_channel::<Line>();
    let writer = tokio::spawn(async move {
        while let Some(l) = rx.recv().await {
            let Ok(mut bytes) = serde_json::to_vec(&l) else {
                continue;
            };
            bytes.push(b'\n');
            if write.write_all(&bytes).await.is_err() {
                return;
            }
        }
    });
    let last = match request {
        Err(e) => Line::Error {
            code: "INVALID_REQUEST".into(),
            message: format!("not an admin request: {e}"),
        },
        Ok(req) => {
            tracing::info!(?req, "admin command");
            let progress = Arc::new(Remote::new(tx.clone()));
            match admin.execute(req, progress).await {
                Ok(o) => Line::Done(o),
                Err(e) => Line::Error {
                    code: e.code().into(),
                    message: e.to_string(),
                },
            }
        }
    };
    let _ = tx.send(last);
    drop(tx);
    let _ = writer.await;
}

/// Progress sent to the client, at most ten updates a second.
struct Remote {
    tx: mpsc::UnboundedSender<Line>,
    last: Mutex<Option<Instant>>,
}

impl Remote {
    fn new(tx: mpsc::UnboundedSender<Line>) -> Self {
        Remote {
            tx,
            last: Mutex::new(None),
        }
    }
}

impl Progress for Remote {
    fn phase(&self, name: &str, total: u64, unit: Unit) {
        let _ = self.tx.send(Line::Phase {
            name: name.to_owned(),
            total,
            unit,
        });
    }

    fn at(&self, done: u64) {
        let Ok(mut last) = self.last.lock() else {
            return;
        };
        if last.is_some_and(|t| t.elapsed() < Duration::from_millis(100)) {
            return;
        }
        *last = Some(Instant::now());
        let _ = self.tx.send(Line::At(done));
    }
}

/// The server's answer as the client sees it.
pub enum Reply {
    Done(Outcome),
    Failed { code: String, message: String },
}

/// Sends one request to a running server and relays its progress; `None` when no server
/// listens on this data dir.
pub async fn call(
    data_dir: &Path,
    req: &Request,
    progress: &dyn Progress,
) -> std::io::Result<Option<Reply>> {
    let stream = match UnixStream::connect(path(data_dir)).await {
        Ok(s) => s,
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
            ) =>
        {
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    let (read, mut write) = stream.into_split();
    let mut bytes = serde_json::to_vec(req)?;
    bytes.push(b'\n');
    write.write_all(&bytes).await?;
    let mut lines = BufReader::new(read).lines();
    while let Some(line) = lines.next_line().await? {
        match serde_json::from_str::<Line>(&line)? {
            Line::Phase { name, total, unit } => progress.phase(&name, total, unit),
            Line::At(n) => progress.at(n),
            Line::Done(o) => return Ok(Some(Reply::Done(o))),
            Line::Error { code, message } => return Ok(Some(Reply::Failed { code, message })),
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::UnexpectedEof,
        "the server closed the admin connection without an answer (did it stop?)",
    ))
}
