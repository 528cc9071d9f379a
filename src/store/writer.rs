//! The single writer: group commit over the engine's one-writer-at-a-time transactions.
//!
//! Every write request becomes an operation on a bounded queue. One thread takes everything that
//! is queued (up to [`MAX_BATCH`]), applies it in one transaction, commits once (one durable,
//! two-phase commit) and only then answers each caller. A failing operation is answered with its
//! own error and the batch is re-run without it, because the engine cannot roll back part of a
//! transaction; operations are therefore pure functions of the transaction they are given.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use tokio::sync::{mpsc, oneshot};

use super::engine::{Db, WriteTx};
use crate::error::{Chain, Error, Result};

/// Upper bound of operations in one transaction, so one commit never grows without end.
const MAX_BATCH: usize = 1024;
/// Operations waiting beyond this are refused with 503 rather than queued without end.
const QUEUE_DEPTH: usize = 16 * 1024;

trait BatchOp: Send {
    /// Applies the operation, keeping its output until the batch commits.
    fn apply(&mut self, tx: &WriteTx) -> Result<()>;
    /// Answers the caller: with the kept output if `committed` is Ok, else with the error.
    fn finish(self: Box<Self>, committed: Result<()>);
}

struct Op<F, T> {
    f: F,
    out: Option<T>,
    reply: oneshot::Sender<Result<T>>,
}

impl<F, T> BatchOp for Op<F, T>
where
    F: FnMut(&WriteTx) -> Result<T> + Send,
    T: Send,
{
    fn apply(&mut self, tx: &WriteTx) -> Result<()> {
        self.out = Some((self.f)(tx)?);
        Ok(())
    }

    fn finish(self: Box<Self>, committed: Result<()>) {
        let Op { out, reply, .. } = *self;
        let answer = committed.and_then(|()| {
            out.ok_or_else(|| Error::internal("operation committed without output"))
        });
        // The caller may have gone away (client disconnected); the write stands regardless.
        let _ = reply.send(answer);
    }
}

enum Msg {
    Op(Box<dyn BatchOp>),
    Stop,
}

/// Running totals of the writer, for metrics and benchmarks.
#[derive(Debug, Default)]
pub struct WriterStats {
    /// Durable commits made.
    pub commits: AtomicU64,
    /// Operations acknowledged by those commits.
    pub ops: AtomicU64,
}

#[derive(Clone)]
pub(super) struct Writer {
    tx: mpsc::Sender<Msg>,
    thread: Arc<Mutex<Option<JoinHandle<()>>>>,
    pub(super) stats: Arc<WriterStats>,
}

impl Writer {
    pub(super) fn start(db: Arc<Db>) -> Writer {
        let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
        let stats = Arc::new(WriterStats::default());
        let thread_stats = stats.clone();
        let thread = std::thread::Builder::new()
            .name("aistagram-writer".into())
            .spawn(move || run(&db, rx, &thread_stats))
            .expect("spawning a thread at start-up only fails when the OS is out of threads");
        Writer {
            tx,
            thread: Arc::new(Mutex::new(Some(thread))),
            stats,
        }
    }

    pub(super) async fn submit<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnMut(&WriteTx) -> Result<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let op = Box::new(Op {
            f,
            out: None,
            reply,
        });
        self.tx.try_send(Msg::Op(op)).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => Error::Overloaded,
            mpsc::error::TrySendError::Closed(_) => Error::ShuttingDown,
        })?;
        answer.await.map_err(|_| Error::ShuttingDown)?
    }

    /// Everything queued before this call is still applied; then the thread exits.
    pub(super) async fn shutdown(&self) {
        let _ = self.tx.send(Msg::Stop).await;
        let handle = self.thread.lock().ok().and_then(|mut h| h.take());
        if let Some(h) = handle {
            let _ = tokio::task::spawn_blocking(move || h.join()).await;
        }
    }
}

fn run(db: &Db, mut rx: mpsc::Receiver<Msg>, stats: &WriterStats) {
    let mut stopping = false;
    while !stopping {
        let Some(first) = rx.blocking_recv() else {
            break;
        };
        let mut batch = Vec::new();
        match first {
            Msg::Op(op) => batch.push(op),
            Msg::Stop => stopping = true,
        }
        while batch.len() < MAX_BATCH && !stopping {
            match rx.try_recv() {
                Ok(Msg::Op(op)) => batch.push(op),
                Ok(Msg::Stop) => stopping = true,
                Err(_) => break,
            }
        }
        if !batch.is_empty() {
            commit_batch(db, batch, stats);
        }
    }
    rx.close();
    // Anything that raced in after Stop is answered, not dropped silently.
    while let Ok(Msg::Op(op)) = rx.try_recv() {
        op.finish(Err(Error::ShuttingDown));
    }
    tracing::debug!("writer stopped");
}

fn commit_batch(db: &Db, mut batch: Vec<Box<dyn BatchOp>>, stats: &WriterStats) {
    let started = std::time::Instant::now();
    let size = batch.len();
    while !batch.is_empty() {
        let tx = match db.begin_write() {
            Ok(tx) => tx,
            Err(e) => return fail_all(batch, &e),
        };
        let failed = batch
            .iter_mut()
            .enumerate()
            .find_map(|(i, op)| op.apply(&tx).err().map(|e| (i, e)));
        match failed {
            Some((i, e)) => {
                if let Err(abort) = tx.abort() {
                    return fail_all(batch, &abort);
                }
                batch.remove(i).finish(Err(e));
            }
            None => {
                match tx.commit() {
                    Ok(()) => {
                        stats.commits.fetch_add(1, Ordering::SeqCst);
                        stats.ops.fetch_add(batch.len() as u64, Ordering::Relaxed);
                        batch.into_iter().for_each(|op| op.finish(Ok(())));
                    }
                    Err(e) => fail_all(batch, &e),
                }
                break;
            }
        }
    }
    tracing::trace!(
        size,
        elapsed_us = started.elapsed().as_micros() as u64,
        "group commit"
    );
}

fn fail_all(batch: Vec<Box<dyn BatchOp>>, cause: &Error) {
    tracing::error!(%cause, ops = batch.len(), "write batch failed");
    for op in batch {
        op.finish(Err(Error::internal(format!(
            "write batch failed: {}",
            Chain(cause)
        ))));
    }
}
