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
//! - Every response that carries personal data (caller, patient) is recorded
//!   durably in the access log before it is sent; if it cannot be, the answer is
//!   503 `access_log_unavailable` (with `Retry-After`) and WebSockets close (1013).
//! - An open WebSocket does not outlive its session: logout, revocation (even by
//!   another process) and expiry close it ([`sessions`]).
//! - No client input reaches a `panic!`/`unwrap`; a bad request is a 4xx with
//!   `{"code","message","message_id"}` and changes nothing.

pub mod api;
pub mod audit;
pub mod checks;
pub mod cluster;
pub mod error;
pub mod forward;
pub mod integrity;
pub mod metrics;
pub mod modules;
pub mod openapi;
pub mod sessions;
pub mod subject;
pub mod trace;
pub mod view;
pub mod web;
pub mod ws;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use satria_auth::AuthStore;
use satria_engine::Engine;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

pub use audit::AuditSink;
pub use error::HttpError;
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
    /// A WebSocket client that has not confirmed reading the frames written to
    /// it this long ago is dropped (close 4408); it reconnects and resumes by
    /// replay. Measured with numbered pings: the client's pong says what it
    /// has read, however much the kernel buffers hold.
    pub max_ws_lag: std::time::Duration,
    /// What this server is for: a live centre, a training room, or the demo. The
    /// consoles offer practice tools (the crew app's simulated drive) only outside
    /// live service.
    pub service: ServiceMode,
}

/// What a server is for (`[server] mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceMode {
    /// Real calls: no practice tools.
    #[default]
    Live,
    /// Training of dispatchers and crews on real software.
    Training,
    /// The generated demo region.
    Demo,
}

impl ServiceMode {
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceMode::Live => "live",
            ServiceMode::Training => "training",
            ServiceMode::Demo => "demo",
        }
    }
}

impl Default for ServerOptions {
    fn default() -> ServerOptions {
        ServerOptions {
            max_body: satria_http::MAX_BODY_BYTES,
            ping_every: std::time::Duration::from_secs(15),
            max_replay: 20_000,
            max_speed_kmh: 250.0,
            max_ws_lag: std::time::Duration::from_secs(10),
            service: ServiceMode::Live,
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
    /// The sessions of the open WebSockets, to close them when a session ends.
    pub sessions: sessions::Sessions,
    pub dedup: ws::Dedup,
    pub last_fixes: checks::LastFixes,
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
    /// Upgraded WebSocket connections whose task is still running (authenticated
    /// or not): [`serve`] waits for it to reach 0 before it returns.
    pub live_sockets: tokio::sync::watch::Sender<usize>,
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
        let audit = AuditSink::start(Arc::clone(&auth));
        Arc::new(AppState {
            engine,
            auth,
            data_dir,
            opts,
            metrics: Metrics::default(),
            audit,
            sessions: sessions::Sessions::default(),
            dedup: ws::Dedup::new(512, 4096),
            last_fixes: checks::LastFixes::default(),
            draining: AtomicBool::new(false),
            graph_loaded,
            roads: std::sync::OnceLock::new(),
            modules: std::sync::OnceLock::new(),
            closing: tokio::sync::watch::channel(false).0,
            live_sockets: tokio::sync::watch::channel(0).0,
        })
    }

    /// Opens the Pattas and Salinmas databases in the data directory (call
    /// before [`router`]; the road network, if any, first).
    pub fn open_modules(&self) -> Result<&modules::Modules, String> {
        self.open_modules_on(None)
    }

    /// Opens Pattas and Salinmas in the cluster's PostgreSQL database at
    /// `database`, or in the data directory without one.
    pub fn open_modules_on(&self, database: Option<&str>) -> Result<&modules::Modules, String> {
        if let Some(m) = self.modules.get() {
            return Ok(m);
        }
        let m = match database {
            Some(url) => modules::Modules::open_postgres(url)?,
            None => modules::Modules::open(&self.data_dir)?,
        };
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

/// The whole HTTP surface.
pub fn router(state: Arc<AppState>) -> Router {
    let mut app: Router = api::routes(Arc::clone(&state))
        .merge(ws::routes())
        .merge(integrity::routes())
        .merge(metrics::routes())
        .merge(cluster::routes())
        .merge(web::routes(&state))
        .route(
            forward::COMMAND_PATH,
            axum::routing::post(forward::command_route),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            api::authorize,
        ))
        .with_state(Arc::clone(&state));
    if let Some(m) = modules::routes(&state) {
        app = app.merge(m);
    }
    let max_body = state.opts.max_body;
    app.layer(axum::middleware::from_fn_with_state(
        Arc::clone(&state),
        forward::forward,
    ))
    .layer(axum::extract::DefaultBodyLimit::max(max_body))
    .layer(axum::middleware::from_fn(move |req, next| {
        satria_http::limit_body(max_body, req, next)
    }))
    .layer(axum::middleware::from_fn(
        satria_http::json_method_not_allowed,
    ))
    .layer(axum::middleware::from_fn_with_state(
        Arc::clone(&state),
        metrics::track,
    ))
    .layer(axum::middleware::from_fn(retry_after))
    .layer(axum::middleware::from_fn_with_state(
        Arc::clone(&state),
        cluster::cors,
    ))
    .fallback(|| async { HttpError::not_found("route") })
}

/// Every 429 and 503 tells the client when to try again: `Retry-After` in
/// seconds, set by the handler where it knows better (the login lockout), else
/// [`RETRY_AFTER_S`].
async fn retry_after(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let mut res = next.run(req).await;
    let s = res.status();
    if (s == StatusCode::TOO_MANY_REQUESTS || s == StatusCode::SERVICE_UNAVAILABLE)
        && !res.headers().contains_key(header::RETRY_AFTER)
    {
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_S));
    }
    res
}

/// `Retry-After` of a 503 or 429 whose handler did not set one, in seconds.
pub const RETRY_AFTER_S: u64 = 2;

/// Milliseconds since the Unix epoch, now, by the system clock.
pub use satria_calendar::now_ms;

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
    // Sessions ended by another process (`satria user revoke`) close sockets too.
    let watcher = tokio::spawn(sessions::watch(Arc::clone(&state)));
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
    state.closing.send_replace(true);
    let _ = watcher.await;
    // HTTP connections are drained, but upgraded sockets run in tasks of their
    // own: each was told to close and is sending its goodbye. Wait until every
    // one of them has ended (bounded: a client that never reads is dropped at
    // its write deadline), so that every console hears why it was closed and
    // the caller can stop the engine they shared.
    let mut live = state.live_sockets.subscribe();
    let _ = tokio::time::timeout(
        ws::WRITE_DEADLINE + std::time::Duration::from_secs(1),
        live.wait_for(|n| *n == 0),
    )
    .await;
    state.audit.flush_and_stop();
    r
}
