//! [`AuditSink`]: the access log's writer thread, with group commit and fail-closed
//! answers.
//!
//! Every read or delivery of personal data is written to the hash-chained access
//! log of `auth.sqlite` by one thread, in batches (one transaction, one fsync,
//! however many records queued meanwhile). Two ways in:
//!
//! - [`AuditSink::record`] / [`AuditSink::record_all`] (HTTP answers): the caller
//!   awaits the commit of the batch that holds its records and answers only then;
//!   if the batch fails it answers 503 `access_log_unavailable` instead.
//! - [`AuditSink::record_delivered`] (WebSocket frames): queued without waiting,
//!   so a thousand consoles never wait on an fsync. Sockets check
//!   [`AuditSink::is_healthy`] before every personal frame and close (1013) while
//!   the log is failing. A delivery record whose batch failed is kept and written
//!   again (the delivery did happen); the thread retries, or probes, once a second
//!   while failing, so the flag clears by itself when the disk has room again.

use crate::error::HttpError;
use axum::http::StatusCode;
use satria_auth::{AccessLogError, AccessRecord, AuthStore, Principal};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::oneshot;

/// The most records written in one transaction.
const AUDIT_BATCH: usize = 4096;
/// How often a failing log is tried again.
const RETRY_EVERY: Duration = Duration::from_secs(1);
/// Delivery records kept for another try while the log fails; beyond that the
/// oldest are given up (and counted), so a long outage cannot exhaust memory.
const MAX_RETAINED: usize = 100_000;

type Waiter = oneshot::Sender<Result<(), AccessLogError>>;

/// Records queued together, with whoever awaits their commit.
struct Job {
    records: Vec<AccessRecord>,
    waiter: Option<Waiter>,
}

/// What the writer thread and the rest of the server share.
#[derive(Debug, Default)]
struct Health {
    /// False from a failed write until a write (or probe) succeeds.
    failing: AtomicBool,
    /// Batches that could not be written.
    failures: AtomicU64,
    /// Delivery records given up after [`MAX_RETAINED`].
    lost: AtomicU64,
}

/// Records reads of personal data through one writer thread; see the module docs.
pub struct AuditSink {
    // A read lock to send (many senders at once), the write lock only to close.
    tx: std::sync::RwLock<Option<std::sync::mpsc::Sender<Job>>>,
    thread: std::sync::Mutex<Option<std::thread::JoinHandle<()>>>,
    health: Arc<Health>,
}

impl std::fmt::Debug for AuditSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditSink")
            .field("health", &self.health)
            .finish_non_exhaustive()
    }
}

/// The 503 every fail-closed answer gives.
pub fn unavailable() -> HttpError {
    let e = AccessLogError(String::new());
    HttpError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        AccessLogError::CODE,
        e.message(),
        e.message_id(),
    )
}

impl AuditSink {
    pub(crate) fn start(store: Arc<AuthStore>) -> AuditSink {
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        let health = Arc::new(Health::default());
        let h = Arc::clone(&health);
        let thread = std::thread::Builder::new()
            .name("access-log".into())
            .spawn(move || writer(&store, &rx, &h))
            .ok();
        if thread.is_none() {
            // Without its thread nothing can be recorded: fail closed.
            health.failing.store(true, Ordering::SeqCst);
            tracing::error!("could not start the access-log thread: personal data is refused");
        }
        AuditSink {
            tx: std::sync::RwLock::new(thread.as_ref().map(|_| tx)),
            thread: std::sync::Mutex::new(thread),
            health,
        }
    }

    /// Records one access and waits until it is durable. `Err` is the 503 to
    /// answer instead of the personal data.
    pub async fn record(
        &self,
        who: &Principal,
        action: &str,
        subject: String,
        purpose: &str,
    ) -> Result<(), HttpError> {
        self.record_each(who, action, vec![subject], purpose).await
    }

    /// Records an access to many records at once (a listing), one row per
    /// subject, and waits until they are durable. `Err` is the 503 to answer.
    pub async fn record_each(
        &self,
        who: &Principal,
        action: &str,
        subjects: Vec<String>,
        purpose: &str,
    ) -> Result<(), HttpError> {
        let at_ms = crate::now_ms();
        self.record_all(AccessRecord::each(who, action, subjects, purpose, at_ms))
            .await
            .map_err(|_| unavailable())
    }

    /// Records accesses (all or none) and waits until they are durable.
    pub async fn record_all(&self, records: Vec<AccessRecord>) -> Result<(), AccessLogError> {
        if records.is_empty() {
            return Ok(());
        }
        let (done, wait) = oneshot::channel();
        let sent = {
            let tx = self.tx.read().unwrap_or_else(|p| p.into_inner());
            tx.as_ref().is_some_and(|tx| {
                tx.send(Job {
                    records,
                    waiter: Some(done),
                })
                .is_ok()
            })
        };
        if !sent {
            return Err(AccessLogError("the access log is closed".into()));
        }
        match wait.await {
            Ok(r) => r,
            Err(_) => Err(AccessLogError("the access-log thread stopped".into())),
        }
    }

    /// Queues the record of a delivery that is about to happen (a WebSocket
    /// frame), without waiting. Check [`is_healthy`](Self::is_healthy) first.
    pub fn record_delivered(&self, who: &Principal, action: &str, subject: String, purpose: &str) {
        self.record_delivered_each(who, action, vec![subject], purpose);
    }

    /// [`record_delivered`](Self::record_delivered) for a frame that carries
    /// many records (a snapshot): one row per subject.
    pub fn record_delivered_each(
        &self,
        who: &Principal,
        action: &str,
        subjects: Vec<String>,
        purpose: &str,
    ) {
        let records = AccessRecord::each(who, action, subjects, purpose, crate::now_ms());
        if records.is_empty() {
            return;
        }
        let tx = self.tx.read().unwrap_or_else(|p| p.into_inner());
        if let Some(tx) = tx.as_ref() {
            let _ = tx.send(Job {
                records,
                waiter: None,
            });
        }
    }

    /// False while the access log cannot be written: personal frames must not
    /// be sent.
    pub fn is_healthy(&self) -> bool {
        !self.health.failing.load(Ordering::SeqCst)
    }

    /// Batches that could not be written, since start.
    pub fn failures(&self) -> u64 {
        self.health.failures.load(Ordering::Relaxed)
    }

    /// Delivery records given up during a long outage, since start.
    pub fn lost(&self) -> u64 {
        self.health.lost.load(Ordering::Relaxed)
    }

    /// Waits until every queued record is written (or given up).
    pub fn flush_and_stop(&self) {
        self.tx.write().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(t) = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = t.join();
        }
    }
}

/// One record of a batch: written once however many screens received it, and
/// kept for another try if any of its deliveries already happened.
struct Pending {
    record: AccessRecord,
    delivered: bool,
}

fn writer(store: &AuthStore, rx: &std::sync::mpsc::Receiver<Job>, health: &Health) {
    use std::sync::mpsc::RecvTimeoutError;
    let mut retained: Vec<AccessRecord> = Vec::new();
    let mut open = true;
    while open || !retained.is_empty() {
        let failing = health.failing.load(Ordering::SeqCst);
        let first = if !open {
            // Shutting down with records still unwritten: one last try.
            None
        } else if failing {
            match rx.recv_timeout(RETRY_EVERY) {
                Ok(j) => Some(j),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => {
                    open = false;
                    None
                }
            }
        } else {
            match rx.recv() {
                Ok(j) => Some(j),
                Err(_) => {
                    open = false;
                    None
                }
            }
        };
        // Whatever queued while the last batch was written goes in this one:
        // one fsync however many consoles received the event. The same account
        // receiving the same record on several screens in one batch is one
        // access: it is written once, at its first time.
        let mut batch: Vec<Pending> = retained
            .drain(..)
            .map(|record| Pending {
                record,
                delivered: true,
            })
            .collect();
        let mut seen: HashMap<(i64, String, String, String), usize> = HashMap::new();
        let mut waiters: Vec<Waiter> = Vec::new();
        let mut add = |job: Job, batch: &mut Vec<Pending>, waiters: &mut Vec<Waiter>| {
            let delivered = job.waiter.is_none();
            if let Some(w) = job.waiter {
                waiters.push(w);
            }
            for r in job.records {
                let key = (
                    r.who.user_id,
                    r.action.clone(),
                    r.subject.clone(),
                    r.purpose.clone(),
                );
                match seen.get(&key) {
                    Some(&i) => batch[i].delivered |= delivered,
                    None => {
                        seen.insert(key, batch.len());
                        batch.push(Pending {
                            record: r,
                            delivered,
                        });
                    }
                }
            }
        };
        let mut n = 0usize;
        if let Some(job) = first {
            n += job.records.len();
            add(job, &mut batch, &mut waiters);
        }
        if open {
            while n < AUDIT_BATCH {
                match rx.try_recv() {
                    Ok(job) => {
                        n += job.records.len();
                        add(job, &mut batch, &mut waiters);
                    }
                    Err(std::sync::mpsc::TryRecvError::Empty) => break,
                    Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                        open = false;
                        break;
                    }
                }
            }
        }
        if batch.is_empty() {
            if failing && open {
                // Nothing to write: is there room again?
                if store.probe_access_log().is_ok() {
                    health.failing.store(false, Ordering::SeqCst);
                    tracing::info!("the access log is writable again");
                }
            }
            continue;
        }
        let records: Vec<AccessRecord> = batch.iter().map(|p| p.record.clone()).collect();
        match store.write_access_batch(&records) {
            Ok(()) => {
                if failing {
                    tracing::info!("the access log is writable again");
                }
                health.failing.store(false, Ordering::SeqCst);
                for w in waiters {
                    let _ = w.send(Ok(()));
                }
            }
            Err(e) => {
                health.failing.store(true, Ordering::SeqCst);
                health.failures.fetch_add(1, Ordering::Relaxed);
                tracing::error!(
                    records = records.len(),
                    "could not record accesses: {e}; personal data is refused until it works"
                );
                for w in waiters {
                    let _ = w.send(Err(e.clone()));
                }
                // Deliveries that happened are written later; answers that were
                // refused instead were never delivered and are not.
                retained = batch
                    .into_iter()
                    .filter(|p| p.delivered)
                    .map(|p| p.record)
                    .collect();
                if retained.len() > MAX_RETAINED {
                    let extra = retained.len() - MAX_RETAINED;
                    retained.drain(..extra);
                    health.lost.fetch_add(extra as u64, Ordering::Relaxed);
                }
                if !open {
                    // Shutting down and still failing: give up, loudly.
                    health
                        .lost
                        .fetch_add(retained.len() as u64, Ordering::Relaxed);
                    tracing::error!(
                        records = retained.len(),
                        "access records given up at shutdown"
                    );
                    retained.clear();
                }
            }
        }
    }
}
