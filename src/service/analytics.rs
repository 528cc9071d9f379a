//! The analytics snapshot: a worker thread that, every `analytics.refresh_secs`, rebuilds every
//! analytics and network measure from one read transaction when something was written since
//! the last build, and the latest finished snapshot the endpoints answer from. Nothing is
//! computed on the request path.
//!
//! The measures are computed in the idle scheduling class so a build, which keeps one core busy
//! for about a second on a large society, yields to request handling at once on a small
//! machine; the read of the store and the swap of the snapshot run at normal priority.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::config;
use crate::domain::analytics::{self, Caps, Measures, Network, Window};
use crate::error::{Error, Result};
use crate::service::views::Timestamp;
use crate::store::{Store, repo};

/// A snapshot older than this is rebuilt even without writes: its windows have slid.
const MAX_AGE: Duration = Duration::from_secs(3600);

/// Every measure, as of one read of the store.
pub struct Snapshot {
    pub computed_at: Timestamp,
    /// The store's write generation the read saw (at least).
    pub generation: u64,
    /// Wall time of the build, read included.
    pub build_ms: u64,
    /// Of which the read of the society.
    pub read_ms: u64,
    /// Size of every answer it holds, serialised as JSON: what it keeps in memory, give or
    /// take the struct overhead.
    pub bytes: usize,
    windows: Vec<(Window, Measures)>,
    pub network: Network,
}

impl Snapshot {
    pub fn window(&self, w: Window) -> &Measures {
        // Built for every window; the first entry is never reached unless one were missing.
        self.windows
            .iter()
            .find(|(x, _)| *x == w)
            .map_or(&self.windows[0].1, |(_, m)| m)
    }
}

/// Builds a snapshot from the store as it is now. The read runs on the calling thread, at its
/// priority: a thread in the idle class must not hold the database's locks when it is
/// preempted. The measures are computed on a thread of their own, in the idle class when
/// `background` (so requests always come first), and `stop` is checked between their steps so
/// a server shutting down does not wait for a whole build. A panic in the measures is an error,
/// not the end of the worker.
fn build(
    store: &Store,
    generation: u64,
    caps: Caps,
    stop: &AtomicBool,
    background: bool,
) -> Result<Snapshot> {
    let started = Instant::now();
    // The clock is read inside the transaction, so nothing it holds is later than `now`.
    let society = store.read_blocking(|tx| repo::society(tx, Timestamp::now().0))?;
    let read_ms = millis(started.elapsed());
    let now = Timestamp(society.now_ms);
    let computed = std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .name("analytics-measures".into())
            .spawn_scoped(scope, || {
                if background {
                    lower_priority();
                }
                let mut windows = Vec::with_capacity(Window::EVERY.len());
                for w in Window::EVERY {
                    if stop.load(Ordering::Relaxed) {
                        return Err(Error::ShuttingDown);
                    }
                    windows.push((w, analytics::measure(&society, w, caps)));
                }
                if stop.load(Ordering::Relaxed) {
                    return Err(Error::ShuttingDown);
                }
                let network = analytics::network(&society);
                let bytes = windows
                    .iter()
                    .map(|(_, m)| json_len(m) + json_len(&m.neutral.items) + similarity_len(m))
                    .sum::<usize>()
                    + json_len(&network);
                Ok((windows, network, bytes))
            })
            .map_err(|e| Error::internal(format!("analytics thread: {e}")))?;
        worker
            .join()
            .map_err(|_| Error::internal("the analytics measures panicked"))?
    })?;
    let (windows, network, bytes) = computed;
    Ok(Snapshot {
        computed_at: now,
        generation,
        build_ms: millis(started.elapsed()),
        read_ms,
        bytes,
        windows,
        network,
    })
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn json_len<T: serde::Serialize>(v: &T) -> usize {
    serde_json::to_vec(v).map_or(0, |b| b.len())
}

/// The per-agent similarity lists are not serialised with the window (nor are the neutral
/// posts); they are counted apart.
fn similarity_len(m: &Measures) -> usize {
    m.similarity.per_agent.values().map(json_len).sum()
}

/// The analytics service: the latest snapshot and the worker that replaces it.
pub struct Analytics {
    shared: Arc<Shared>,
    worker: Mutex<Option<(mpsc::Sender<()>, JoinHandle<()>)>>,
}

struct Shared {
    store: Store,
    cfg: config::Analytics,
    current: RwLock<Option<Arc<Snapshot>>>,
    metrics: Arc<crate::metrics::Metrics>,
    stopping: AtomicBool,
}

impl Analytics {
    pub fn new(
        store: Store,
        cfg: config::Analytics,
        metrics: Arc<crate::metrics::Metrics>,
    ) -> Self {
        Analytics {
            shared: Arc::new(Shared {
                store,
                cfg,
                current: RwLock::new(None),
                metrics,
                stopping: AtomicBool::new(false),
            }),
            worker: Mutex::new(None),
        }
    }

    /// The latest snapshot; refused with 503 until the first build after start finishes.
    pub fn snapshot(&self) -> Result<Arc<Snapshot>> {
        self.shared
            .current
            .read()
            .map_err(|_| Error::internal("analytics snapshot lock poisoned"))?
            .clone()
            .ok_or(Error::AnalyticsNotReady)
    }

    /// Builds a snapshot now without publishing it (benchmarks); `background` computes it in
    /// the idle CPU class as the worker does.
    pub fn build_now(&self, background: bool) -> Result<Snapshot> {
        let generation = self
            .shared
            .store
            .writer_stats()
            .commits
            .load(Ordering::SeqCst);
        build(
            &self.shared.store,
            generation,
            self.shared.caps(),
            &AtomicBool::new(false),
            background,
        )
    }

    /// Starts the worker (once); it builds the first snapshot at once.
    pub fn start(&self) {
        let Ok(mut worker) = self.worker.lock() else {
            return;
        };
        if worker.is_some() {
            return;
        }
        let (tx, rx) = mpsc::channel();
        let shared = self.shared.clone();
        let spawned = std::thread::Builder::new()
            .name("analytics".into())
            .spawn(move || shared.run(rx));
        match spawned {
            Ok(handle) => *worker = Some((tx, handle)),
            Err(e) => tracing::error!(error = %e, "cannot start the analytics worker"),
        }
    }

    /// Stops the worker and waits for it (a build in progress stops at its next window), so
    /// the store it holds is released.
    pub async fn stop(&self) {
        let taken = self.worker.lock().ok().and_then(|mut w| w.take());
        if let Some((tx, handle)) = taken {
            self.shared.stopping.store(true, Ordering::Relaxed);
            drop(tx);
            let _ = tokio::task::spawn_blocking(move || handle.join()).await;
        }
    }
}

impl Shared {
    fn caps(&self) -> Caps {
        Caps {
            agents: self.cfg.max_agents,
        }
    }

    fn run(&self, rx: mpsc::Receiver<()>) {
        let refresh = Duration::from_secs(self.cfg.refresh_secs);
        let caps = self.caps();
        let mut built: Option<(u64, Instant)> = None;
        loop {
            let generation = self.store.writer_stats().commits.load(Ordering::SeqCst);
            let stale = built.is_none_or(|(g, at)| g != generation || at.elapsed() >= MAX_AGE);
            if stale {
                match build(&self.store, generation, caps, &self.stopping, true) {
                    Ok(s) => {
                        tracing::debug!(
                            build_ms = s.build_ms,
                            bytes = s.bytes,
                            "analytics snapshot built"
                        );
                        self.metrics.analytics_built(s.build_ms, s.bytes);
                        let old = match self.current.write() {
                            Ok(mut current) => current.replace(Arc::new(s)),
                            Err(_) => None,
                        };
                        // The old snapshot (many small allocations) is freed after the lock
                        // is released, so readers never wait on it.
                        drop(old);
                        built = Some((generation, Instant::now()));
                    }
                    Err(Error::ShuttingDown) => return,
                    Err(e) => {
                        tracing::warn!(error = %crate::error::Chain(&e), "analytics snapshot failed")
                    }
                }
            }
            match rx.recv_timeout(refresh) {
                Ok(()) | Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    }
}

/// Puts the calling thread in the idle scheduling class (`SCHED_IDLE`): any request thread that
/// wakes takes the core from it at once, so a build never delays a request by a time slice. A
/// server kept fully busy leaves the build waiting, and the snapshot grows older instead; where
/// the class cannot be set, the thread falls back to nice 19. Linux only; elsewhere a no-op.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: system calls on the calling thread (pid 0 and our own tid); `param` outlives
        // the call and nothing else is shared.
        let idle = unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) } == 0;
        if !idle {
            // SAFETY: as above.
            let r =
                unsafe { libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, 19) };
            if r != 0 {
                tracing::debug!("could not lower the analytics worker's priority");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn there_is_no_snapshot_before_the_first_build() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("store");
        let metrics = Arc::new(crate::metrics::Metrics::new(dir.path()));
        let analytics = Analytics::new(store.clone(), config::Analytics::default(), metrics);
        // Not started: nothing built yet, and the endpoints say so.
        assert!(matches!(
            analytics.snapshot(),
            Err(Error::AnalyticsNotReady)
        ));
        assert_eq!(Error::AnalyticsNotReady.retry_after(), Some(2));
        let built = tokio::task::spawn_blocking(move || analytics.build_now(false))
            .await
            .expect("joined")
            .expect("built");
        assert_eq!(built.network.health.agents, 0);
        store.close().await;
    }
}
