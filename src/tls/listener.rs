//! The HTTPS listener: accepts TCP, runs each TLS handshake in its own task with a deadline
//! (a slow or silent client never holds up the next accept), answers ACME tls-alpn-01
//! challenges, and hands finished TLS streams to `axum::serve` as an [`axum::serve::Listener`].

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls::ServerConfig;
use rustls::server::Acceptor;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinHandle;
use tokio_rustls::LazyConfigAcceptor;
use tokio_rustls::server::TlsStream;

/// How long a client may take from connecting to a finished handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Handshakes in progress at once; past it, new connections are closed at once rather than
/// letting half-open clients pile up memory and tasks.
const MAX_HANDSHAKES: usize = 4096;
/// Finished handshakes waiting for `axum::serve` to take them.
const QUEUE: usize = 256;

/// TLS connections, handshaken, ready for HTTP.
pub struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    addr: SocketAddr,
    acceptor: JoinHandle<()>,
}

impl TlsListener {
    /// Starts accepting on `tcp`. `challenge`, with ACME, answers tls-alpn-01 validations.
    pub(super) fn start(
        tcp: TcpListener,
        config: Arc<ServerConfig>,
        challenge: Option<Arc<ServerConfig>>,
    ) -> io::Result<TlsListener> {
        let addr = tcp.local_addr()?;
        let (tx, ready) = mpsc::channel(QUEUE);
        let acceptor = tokio::spawn(accept_loop(tcp, config, challenge, tx));
        Ok(TlsListener {
            ready,
            addr,
            acceptor,
        })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        // axum::serve drops its listener on shutdown: stop accepting then, too.
        self.acceptor.abort();
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(conn) => conn,
            // The accept loop is gone (aborted with this listener): nothing more will come.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.addr)
    }
}

async fn accept_loop(
    tcp: TcpListener,
    config: Arc<ServerConfig>,
    challenge: Option<Arc<ServerConfig>>,
    ready: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
) {
    let handshakes = Arc::new(Semaphore::new(MAX_HANDSHAKES));
    loop {
        let (stream, peer) = match tcp.accept().await {
            Ok(conn) => conn,
            Err(e) => {
                accept_error(e).await;
                continue;
            }
        };
        let Ok(permit) = handshakes.clone().try_acquire_owned() else {
            tracing::debug!(%peer, "too many TLS handshakes in progress; connection closed");
            continue;
        };
        // See app::no_delay: responses must not wait for the client's delayed ACK.
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(cause = %e, "TCP_NODELAY not set");
        }
        let (config, challenge, ready) = (config.clone(), challenge.clone(), ready.clone());
        tokio::spawn(async move {
            let done = tokio::time::timeout(
                HANDSHAKE_TIMEOUT,
                handshake(stream, &config, challenge.as_ref()),
            )
            .await;
            drop(permit);
            match done {
                Ok(Ok(Some(tls))) => {
                    // Fails only when the server is shutting down: the connection just closes.
                    let _ = ready.send((tls, peer)).await;
                }
                Ok(Ok(None)) => tracing::debug!(%peer, "answered an ACME tls-alpn-01 validation"),
                Ok(Err(e)) => tracing::debug!(%peer, cause = %e, "TLS handshake failed"),
                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
            }
        });
    }
}

/// The handshake; `None` when the connection was an ACME validation, answered and closed.
async fn handshake(
    stream: TcpStream,
    config: &Arc<ServerConfig>,
    challenge: Option<&Arc<ServerConfig>>,
) -> io::Result<Option<TlsStream<TcpStream>>> {
    let start = LazyConfigAcceptor::new(Acceptor::default(), stream).await?;
    if let Some(challenge) = challenge
        && rustls_acme::is_tls_alpn_challenge(&start.client_hello())
    {
        let mut tls = start.into_stream(challenge.clone()).await?;
        let _ = tls.shutdown().await;
        return Ok(None);
    }
    Ok(Some(start.into_stream(config.clone()).await?))
}

/// As axum's own listener does: per-connection errors are the client's and skipped; others
/// (out of file descriptors) are logged and waited out, so the loop does not spin.
async fn accept_error(e: io::Error) {
    if matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(cause = %e, "accepting a TLS connection");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
