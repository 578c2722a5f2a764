//! Satria on the network.
//!
//! One axum router serves the JSON API under `/api`, the WebSocket protocol at
//! `/ws` (see `docs/protocol.md`), health at `/livez` and `/readyz`, and Prometheus
//! metrics at `/metrics`. Every request and every socket is bound to a
//! [`Principal`] by a bearer token; what each role may see is decided in
//! [`view`], in one place for HTTP and WebSocket alike.
//!
//! Invariants:
//! - The server never changes dispatch state itself: every change is a
//!   [`Command`](satria_dispatch::Command) submitted to the engine, which journals it
//!   before the server answers.
//! - Every response that carries personal data (caller, patient) is recorded in the
//!   access log before it is sent.
//! - No client input reaches a `panic!`/`unwrap`; a bad request is a 4xx with
//!   `{"code","message","message_id"}` and changes nothing.

pub mod api;
pub mod error;
pub mod integrity;
pub mod metrics;
pub mod modules;
pub mod openapi;
pub mod trace;
pub mod view;
pub mod web;
pub mod ws;

use axum::Router;
use satria_auth::{AccessRecord, AccessRecorder, AuthStore, Principal};
use satria_engine::Engine;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

pub use error::ApiError;
pub use metrics::Metrics;

/// Tunables of the server (the engine has its own).
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Largest JSON body accepted, in bytes.
    pub max_body: usize,
    /// Server ping period on WebSockets; a client that misses two is dropped.
    pub ping_every: std::time::Duration,
    /// A reconnecting client further behind than this many events gets a fresh
    /// snapshot instead of a replay.
    pub max_replay: u64,
    /// Fastest plausible ground speed for a position report, in km/h.
    pub max_speed_kmh: f64,
    /// How far in the future a device time may be (clock skew), in ms.
    pub max_clock_skew_ms: i64,
}

impl Default for ServerOptions {
    fn default() -> ServerOptions {
        ServerOptions {
            max_body: 64 * 1024,
            ping_every: std::time::Duration::from_secs(15),
            max_replay: 20_000,
            max_speed_kmh: 250.0,
            max_clock_skew_ms: 60_000,
        }
    }
}

/// Everything a request handler needs.
pub struct AppState {
    pub engine: Arc<Engine>,
    pub auth: Arc<AuthStore>,
    pub data_dir: PathBuf,
    pub opts: ServerOptions,
    pub metrics: Metrics,
    pub audit: AuditSink,
    pub dedup: ws::Dedup,
    pub last_fixes: ws::LastFixes,
    /// Set while shutting down: `/readyz` fails so a balancer stops sending work.
    pub draining: AtomicBool,
    /// True when drive times come from the road graph (not a stand-in).
    pub graph_loaded: bool,
    /// The road network, when the server runs on one: the map layers of the
    /// consoles and the drive-time matrices of the modules read it. Set once at
    /// start-up, before serving.
    pub roads: std::sync::OnceLock<Arc<satria_roads::RoadNetwork>>,
    /// Pattas and Salinmas, once [`AppState::open_modules`] opened their
    /// databases; their routes are served only then.
    pub modules: std::sync::OnceLock<modules::Modules>,
    /// Flips to true when the server shuts down: WebSockets say goodbye and close.
    pub closing: tokio::sync::watch::Sender<bool>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

impl AppState {
    pub fn new(
        engine: Arc<Engine>,
        auth: Arc<AuthStore>,
        data_dir: PathBuf,
        opts: ServerOptions,
        graph_loaded: bool,
    ) -> Arc<AppState> {
        let audit = AuditSink::start(Arc::clone(&auth) as Arc<dyn AccessRecorder>);
        Arc::new(AppState {
            engine,
            auth,
            data_dir,
            opts,
            metrics: Metrics::default(),
            audit,
            dedup: ws::Dedup::new(512, 4096),
            last_fixes: ws::LastFixes::default(),
            draining: AtomicBool::new(false),
            graph_loaded,
            roads: std::sync::OnceLock::new(),
            modules: std::sync::OnceLock::new(),
            closing: tokio::sync::watch::channel(false).0,
        })
    }

    /// Opens the Pattas and Salinmas databases in the data directory (call
    /// before [`router`]; the road network, if any, first).
    pub fn open_modules(&self) -> Result<&modules::Modules, String> {
        if let Some(m) = self.modules.get() {
            return Ok(m);
        }
        let m = modules::Modules::open(&self.data_dir)?;
        Ok(self.modules.get_or_init(|| m))
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    /// Starts a graceful shutdown: `/readyz` fails and WebSockets close.
    pub fn begin_shutdown(&self) {
        self.draining.store(true, Ordering::SeqCst);
        self.closing.send_replace(true);
    }
}

/// Records reads of personal data off the request path: one writer thread feeds
/// the access log, so a thousand consoles receiving the same incident never wait
/// on the database. Records are never dropped; the thread drains the queue
/// before the server exits.
pub struct AuditSink {
    // A read lock to send (many senders at once), the write lock only to close.
    tx: std::sync::RwLock<Option<std::sync::mpsc::Sender<AccessRecord>>>,
    thread: std::sync::Mutex<Option<std::thread::JoinHandle<()>>>,
}

/// The most records written in one transaction.
const AUDIT_BATCH: usize = 4096;

impl AuditSink {
    fn start(recorder: Arc<dyn AccessRecorder>) -> AuditSink {
        let (tx, rx) = std::sync::mpsc::channel::<AccessRecord>();
        let thread = std::thread::Builder::new()
            .name("access-log".into())
            .spawn(move || {
                // Whatever queued while the last batch was written goes in the
                // next one: one fsync however many consoles received the event.
                // The same account receiving the same record on several screens
                // in one batch is one access: it is written once, at its first time.
                let mut batch: Vec<AccessRecord> = Vec::with_capacity(AUDIT_BATCH);
                let mut seen = std::collections::HashSet::new();
                while let Ok(first) = rx.recv() {
                    for r in std::iter::once(first).chain(rx.try_iter().take(AUDIT_BATCH - 1)) {
                        let key = (
                            r.who.user_id,
                            r.action.clone(),
                            r.subject.clone(),
                            r.purpose.clone(),
                        );
                        if seen.insert(key) {
                            batch.push(r);
                        }
                    }
                    recorder.record_many(&batch);
                    batch.clear();
                    seen.clear();
                }
            })
            .expect("spawn the access-log thread");
        AuditSink {
            tx: std::sync::RwLock::new(Some(tx)),
            thread: std::sync::Mutex::new(Some(thread)),
        }
    }

    /// Queues one access record.
    pub fn record(&self, who: &Principal, action: &str, subject: String, purpose: &str) {
        let tx = self.tx.read().unwrap_or_else(|p| p.into_inner());
        if let Some(tx) = tx.as_ref() {
            let _ = tx.send(AccessRecord {
                who: who.clone(),
                action: action.to_string(),
                subject,
                purpose: purpose.to_string(),
                at_ms: now_ms(),
            });
        }
    }

    /// Waits until every queued record is written.
    pub fn flush_and_stop(&self) {
        self.tx.write().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(t) = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = t.join();
        }
    }
}

/// The whole HTTP surface.
pub fn router(state: Arc<AppState>) -> Router {
    let mut app: Router = api::routes(Arc::clone(&state))
        .merge(ws::routes())
        .merge(integrity::routes())
        .merge(metrics::routes())
        .merge(web::routes(&state))
        .with_state(Arc::clone(&state));
    if let Some(m) = modules::routes(&state) {
        app = app.merge(m);
    }
    app.layer(axum::extract::DefaultBodyLimit::max(state.opts.max_body))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            metrics::track,
        ))
        .fallback(|| async { ApiError::not_found("route") })
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Serves `router(state)` on `listener` until `stop` resolves, then stops
/// accepting, lets in-flight requests finish, closes the WebSockets and flushes
/// the access log. The caller shuts the engine down afterwards.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    let app = router(Arc::clone(&state));
    let s2 = Arc::clone(&state);
    // No Nagle: the server coalesces its own writes (one flush per batch of
    // events), and a small frame held back until the client's delayed ACK
    // arrives would add up to 40 ms to an assignment on a console.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!("cannot set TCP_NODELAY: {e}");
        }
    });
    let r = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        stop.await;
        s2.begin_shutdown();
    })
    .await;
    state.audit.flush_and_stop();
    r
}
