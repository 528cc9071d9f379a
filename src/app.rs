//! Assembling a server: open the store, bind the listener, build the services and routes, and run
//! until a shutdown signal, finishing in-flight requests and closing the database cleanly.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};

use crate::admin::{Admin, socket};
use crate::clock::Clock;
use crate::config::Config;
use crate::http::{self, AppState};
use crate::media::Media;
use crate::search::Search;
use crate::service::{Limits, Parts, Services};
use crate::store::{OpenError, Store};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] OpenError),
    #[error("cannot open the search index: {0}")]
    Search(String),
    #[error("cannot set up media: {0}")]
    Media(String),
    #[error("cannot set up mail: {0}")]
    Email(String),
    #[error("cannot read or create the data dir's key {path}: {cause}")]
    SecretKey {
        path: std::path::PathBuf,
        cause: std::io::Error,
    },
    #[error("cannot open the admin socket {path}: {cause}")]
    AdminSocket {
        path: std::path::PathBuf,
        cause: std::io::Error,
    },
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    #[error("cannot listen on {addr}: {cause}")]
    Bind {
        addr: SocketAddr,
        cause: std::io::Error,
    },
}

/// A built server, bound and ready to run.
pub struct App {
    listener: TcpListener,
    metrics_listener: Option<TcpListener>,
    admin_socket: tokio::net::UnixListener,
    addr: SocketAddr,
    opened: Opened,
    state: Arc<AppState>,
    /// With `[tls]` on: HTTPS, and the redirect the plain listener answers with.
    tls: Option<Https>,
    /// How long in-flight requests may take to finish after the shutdown signal.
    grace: Duration,
}

/// The HTTPS side of a built server.
struct Https {
    listener: TcpListener,
    addr: SocketAddr,
    certificates: crate::tls::Certificates,
    /// `None` when `tls.redirect_http` is off and the plain listener serves the site too.
    redirect: Option<Arc<crate::tls::Redirect>>,
}

/// A data dir opened: its services, and the handles the background tasks and the admin
/// commands work with.
#[derive(Clone)]
pub struct Opened {
    pub services: Arc<Services>,
    pub store: Store,
    pub media: Arc<Media>,
    pub search: Arc<Search>,
    pub data_dir: std::path::PathBuf,
}

impl Opened {
    /// The admin side of this data dir.
    pub fn admin(&self) -> Admin {
        Admin {
            services: self.services.clone(),
            store: self.store.clone(),
            media: self.media.clone(),
            search: self.search.clone(),
            data_dir: self.data_dir.clone(),
        }
    }
}

/// Opens a data dir's store, media and search index (rebuilding the index when it is missing)
/// and builds the services over them; `base_url` is what absolute URLs start with.
async fn open(
    config: &Config,
    store: Store,
    base_url: String,
    clock: Clock,
) -> Result<Opened, StartError> {
    let agent = format!("aistagram/{} (+{base_url})", env!("CARGO_PKG_VERSION"));
    let media = Arc::new(
        Media::new(&config.data_dir, &config.media, &agent)
            .map_err(|e| StartError::Media(crate::error::Chain(&e).to_string()))?,
    );
    // A bucket that cannot be listed is reported now; the server starts anyway and serves what
    // it can, and uploads get 503 until the bucket answers.
    let storage = media.storage();
    tokio::spawn(async move {
        if let Err(e) = storage.probe().await {
            tracing::error!(at = %storage.describe(), error = %crate::error::Chain(&e), "the media bucket does not answer");
        }
    });
    let (search, rebuild) =
        Search::open(&config.data_dir).map_err(|e| StartError::Search(e.to_string()))?;
    if rebuild {
        tracing::info!("search index missing or unreadable; rebuilding from the database");
        search
            .rebuild(&store)
            .await
            .map_err(|e| StartError::Search(e.to_string()))?;
    }
    // Read once: webhook secrets are sealed under it and mailed codes hashed with it.
    let data_key =
        crate::secret_key::load(&config.data_dir).map_err(|cause| StartError::SecretKey {
            path: config.data_dir.join("secret.key"),
            cause,
        })?;
    let deliverer = crate::service::webhooks::Deliverer::new(&data_key, config, &agent)
        .map_err(|e| StartError::Media(crate::error::Chain(&e).to_string()))?;
    let mailer = crate::mail::Mailer::from_config(&config.email).map_err(StartError::Email)?;
    let codes = crate::service::codes::Codes::new(
        mailer.map(Arc::new),
        &data_key,
        std::time::Duration::from_secs(config.email.code_ttl_secs),
        config.email.verification_required(),
    );
    let services = Services::new(Parts {
        store: store.clone(),
        media: media.clone(),
        search: search.clone(),
        limits: Limits::new(&config.limits, clock),
        base_url,
        metrics: Arc::new(crate::metrics::Metrics::new(&config.data_dir)),
        deliverer,
        codes,
        data_key,
        generation: config.generation.clone(),
        generation_client: crate::service::generation::http_client(&agent)
            .map_err(|e| StartError::Media(crate::error::Chain(&e).to_string()))?,
        analytics: config.analytics.clone(),
        notifications: config.notifications.clone(),
    });
    Ok(Opened {
        services: Arc::new(services),
        store,
        media,
        search,
        data_dir: config.data_dir.clone(),
    })
}

/// The admin side of a data dir no server is running on (the CLI's direct path).
pub async fn open_admin(config: &Config) -> Result<Admin, StartError> {
    let store = Store::open(&config.data_dir)?;
    let opened = open(
        config,
        store,
        config.base_url(config.listen),
        Clock::system(),
    )
    .await?;
    Ok(opened.admin())
}

impl App {
    pub async fn build(config: Config) -> Result<App, StartError> {
        Self::build_with_clock(config, Clock::system()).await
    }

    /// [`App::build`] with the clock the calendar limits read (a test's manual clock).
    pub async fn build_with_clock(config: Config, clock: Clock) -> Result<App, StartError> {
        let store = Store::open(&config.data_dir)?;
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|cause| StartError::Bind {
                    addr: config.listen,
                    cause,
                })?;
        let addr = listener.local_addr().map_err(|cause| StartError::Bind {
            addr: config.listen,
            cause,
        })?;
        let metrics_listener = match config.metrics.listen {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .map_err(|cause| StartError::Bind { addr, cause })?,
            ),
            None => None,
        };
        let tls = Self::bind_tls(&config).await?;
        let base_url = match &tls {
            Some(https) => config.base_url_bound(addr, https.addr),
            None => config.base_url(addr),
        };
        let opened = open(&config, store, base_url.clone(), clock).await?;
        let admin_socket =
            socket::bind(&config.data_dir).map_err(|cause| StartError::AdminSocket {
                path: socket::path(&config.data_dir),
                cause,
            })?;
        let state = Arc::new(AppState::new(
            opened.services.clone(),
            config.trusted_proxies.clone(),
            config.api.live_service_keys,
        ));
        Ok(App {
            listener,
            metrics_listener,
            admin_socket,
            addr,
            opened,
            state,
            tls,
            grace: Duration::from_secs(config.shutdown_grace_secs),
        })
    }

    /// Loads the certificate (a static pair must load) and binds `tls.listen_tls`, when TLS is
    /// on; before the services are built, so a bad setup stops the start early.
    async fn bind_tls(config: &Config) -> Result<Option<Https>, StartError> {
        let Some(certificates) = crate::tls::Certificates::load(config)? else {
            return Ok(None);
        };
        let want = config.tls.listen_tls;
        let listener = TcpListener::bind(want)
            .await
            .map_err(|cause| StartError::Bind { addr: want, cause })?;
        let addr = listener
            .local_addr()
            .map_err(|cause| StartError::Bind { addr: want, cause })?;
        let redirect = config
            .tls
            .redirect_http
            .then(|| Arc::new(crate::tls::Redirect::new(config, addr)));
        Ok(Some(Https {
            listener,
            addr,
            certificates,
            redirect,
        }))
    }

    /// The services (for benchmarks and embedding), to keep using after [`App::run_until`]
    /// takes the app.
    pub fn services(&self) -> Arc<Services> {
        self.opened.services.clone()
    }

    /// The address actually bound (useful with port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The HTTPS address actually bound, when `[tls]` is on.
    pub fn tls_addr(&self) -> Option<SocketAddr> {
        self.tls.as_ref().map(|t| t.addr)
    }

    /// Where `/metrics` is served, when it is.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
    }

    /// Serves until `shutdown` resolves, then lets in-flight requests finish, drains the writer
    /// and closes the database.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let opened = self.opened.clone();
        let services = opened.services.clone();
        let sweeper = tokio::spawn({
            let services = services.clone();
            async move {
                let mut tick = tokio::time::interval(Duration::from_secs(60));
                for minute in 0u64.. {
                    tick.tick().await;
                    services.limits.sweep();
                    // Generations past `generation.keep_secs`, every ten minutes.
                    if minute % 10 == 0
                        && let Err(e) = services.generation.collect().await
                    {
                        tracing::warn!(error = %crate::error::Chain(&e), "collecting generations");
                    }
                    // Notifications past `notifications.keep_days`, every hour.
                    if minute % 60 == 0 {
                        let now = crate::service::views::Timestamp::now().0;
                        if let Err(e) = services.notifications.sweep(now).await {
                            tracing::warn!(error = %crate::error::Chain(&e), "sweeping notifications");
                        }
                    }
                }
            }
        });
        let indexer = tokio::spawn(opened.search.clone().run(opened.store.clone()));
        services.analytics.start();
        let scheduler = tokio::spawn({
            let services = services.clone();
            async move { services.scheduled.run().await }
        });
        let webhooks = tokio::spawn({
            let services = services.clone();
            async move { services.webhooks.run().await }
        });
        let metrics = self.metrics_listener.map(|listener| {
            // Its own listener, for the operator's scraper: not part of the public API.
            #[expect(clippy::disallowed_methods, reason = "not part of the public API")]
            let app = axum::Router::new()
                .route("/metrics", axum::routing::get(crate::metrics::serve))
                .with_state(services.metrics.clone());
            tracing::info!(addr = ?listener.local_addr().ok(), "metrics serving");
            tokio::spawn(async move { axum::serve(no_delay(listener), app).await })
        });
        let admin = tokio::spawn(socket::serve(self.admin_socket, opened.admin()));
        tracing::info!(addr = %self.addr, tls_addr = ?self.tls.as_ref().map(|t| t.addr), base_url = %services.base_url, "aistagram serving");
        let router = http::router(self.state.clone());
        // One stop for every listener, and after it a deadline for what is still in flight: a
        // client stalled mid-request (or holding HTTP/2 open without answering pings) would
        // otherwise keep graceful shutdown, and so the database's close, waiting for ever.
        let stop = tokio_util::sync::CancellationToken::new();
        let signal = tokio::spawn({
            let stop = stop.clone();
            async move {
                shutdown.await;
                stop.cancel();
            }
        });
        let (listener, tls, metrics_registry) = (self.listener, self.tls, services.metrics.clone());
        let serving = async {
            match tls {
                None => {
                    let app = router.into_make_service_with_connect_info::<SocketAddr>();
                    axum::serve(no_delay(listener), app)
                        .with_graceful_shutdown(stop.clone().cancelled_owned())
                        .await
                }
                Some(https) => {
                    serve_https(listener, https, router, metrics_registry, stop.clone()).await
                }
            }
        };
        let grace = self.grace;
        let served = tokio::select! {
            served = serving => served,
            () = async {
                stop.cancelled().await;
                tokio::time::sleep(grace).await;
            } => {
                tracing::warn!(
                    grace_secs = grace.as_secs(),
                    "requests still in flight when the shutdown grace period ended; their connections are closed"
                );
                Ok(())
            }
        };
        signal.abort();
        sweeper.abort();
        scheduler.abort();
        let _ = scheduler.await;
        webhooks.abort();
        let _ = webhooks.await;
        admin.abort();
        if let Some(m) = metrics {
            m.abort();
        }
        let _ = admin.await;
        let _ = std::fs::remove_file(socket::path(&opened.data_dir));
        // The indexer finishes the batch it is applying (its blocking work cannot be cancelled)
        // and exits; awaiting both tasks drops what they hold, the store among it, so the
        // database is closed, and its lock released, when this returns.
        opened.search.stop();
        services.analytics.stop().await;
        let _ = sweeper.await;
        let _ = indexer.await;
        opened.store.close().await;
        tracing::info!("aistagram stopped; database closed");
        served
    }
}

/// Serves the site on HTTPS and the redirect (or the site) on the plain listener until `stop`
/// is cancelled, then lets in-flight requests on both finish.
async fn serve_https(
    plain: TcpListener,
    https: Https,
    router: axum::Router,
    metrics: Arc<crate::metrics::Metrics>,
    stop: tokio_util::sync::CancellationToken,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    let (tls, certificate_tasks) = https
        .certificates
        .serve(https.listener, metrics)
        .map_err(std::io::Error::other)?;
    // `tap_io` (a no-op: the accept loop set TCP_NODELAY) is what gives axum's ConnectInfo
    // the peer address of a listener of our own.
    let secure = axum::serve(
        tls.tap_io(|_| {}),
        router
            .clone()
            .into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(stop.clone().cancelled_owned());
    let plain_router = match https.redirect {
        Some(redirect) => crate::tls::redirect_router(redirect),
        None => router,
    };
    let insecure = axum::serve(
        no_delay(plain),
        plain_router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(stop.clone().cancelled_owned());
    let (secure, insecure) = tokio::join!(async { secure.await }, async { insecure.await });
    for task in certificate_tasks {
        task.abort();
        let _ = task.await;
    }
    secure.and(insecure)
}

/// A listener whose connections send each write at once. Without `TCP_NODELAY`, a response whose
/// headers and body leave in two writes waits for the client's delayed ACK (about 40 ms) before
/// the body goes out.
fn no_delay(listener: TcpListener) -> axum::serve::TapIo<TcpListener, fn(&mut TcpStream)> {
    use axum::serve::ListenerExt;
    fn set(tcp: &mut TcpStream) {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(cause = %e, "TCP_NODELAY not set");
        }
    }
    listener.tap_io(set as fn(&mut TcpStream))
}

#[cfg(test)]
mod tests {
    use axum::serve::Listener;

    use super::*;

    #[tokio::test]
    async fn accepted_connections_send_without_delay() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut listener = no_delay(listener);
        let client = tokio::spawn(TcpStream::connect(addr));
        let (stream, _) = listener.accept().await;
        assert!(
            stream.nodelay().unwrap(),
            "TCP_NODELAY is set on accepted sockets"
        );
        drop(client.await.unwrap().unwrap());
    }
}
