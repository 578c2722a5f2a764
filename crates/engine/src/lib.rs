//! The dispatch engine: the one owner of a region's dispatch state.
//!
//! One OS thread (the actor) owns the [`Dispatch`] state, the journal and a road search;
//! everyone else talks to it through a bounded channel. That single writer is what makes
//! "choose the best ambulance and mark it assigned" race-free by construction. For each
//! command the actor decides the events, writes them to the journal (durable: fsynced)
//! and only then replies and broadcasts them, each with its per-region sequence number.
//! Commands that arrive together are journaled in one transaction (group commit).
//!
//! Position reports are volatile: applied and broadcast on the `positions` stream, but
//! not journaled (a position is stale within minutes; journaling 100,000 a second would
//! cost fsyncs that the incidents need). After a restart, units rank from their bases
//! until they report again.
//!
//! Invariants: the state changes only on the actor thread; an event is broadcast only
//! after it is durable, and just after its caller is answered (a subscriber who
//! subscribes after an answer may still receive that command's events: the seq says
//! so); replaying the journal rebuilds the state of every non-volatile event; a
//! journal write that fails is never acknowledged and the state is rebuilt from the
//! journal.

mod roads_adapter;

pub use roads_adapter::RoadDriveTimes;

use satria_dispatch::{
    Command, Config, Dispatch, DriveTimes, Event, Hospital, HospitalRecommendation, IncidentId,
    ReferralStatus, Rejection, Timestamp, Unit, UnitRecommendation, UnitStatus,
};
use satria_store::{CheckpointSigner, Journal, NewEntry, StartOptions, StartReport, StoreError};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::{broadcast, mpsc, oneshot, watch};

/// Where time comes from: the system clock in service, a hand-held one in
/// tests, drills and simulations (the one `Clock` of every crate).
pub use satria_calendar::Clock;

/// An event as published to subscribers: its stream and its sequence number there.
#[derive(Debug, Clone, PartialEq)]
pub struct Published {
    /// The region stream (journaled) or `positions` (volatile).
    pub stream: String,
    pub seq: u64,
    pub event: Event,
    /// [`Published::frame`], made once for however many subscribers send it on.
    frame: std::sync::OnceLock<bytes::Bytes>,
}

impl Published {
    pub fn new(stream: String, seq: u64, event: Event) -> Published {
        Published {
            stream,
            seq,
            event,
            frame: std::sync::OnceLock::new(),
        }
    }

    /// The published event as one JSON object,
    /// `{"type":"event","stream":..,"seq":..,"event":{..}}`: the frame the
    /// server forwards (serialised on first use, then shared, so a thousand
    /// subscribers cost one serialisation and no copies).
    pub fn frame(&self) -> &bytes::Bytes {
        self.frame.get_or_init(|| {
            bytes::Bytes::from(
                serde_json::to_string(&Frame {
                    r#type: "event",
                    stream: &self.stream,
                    seq: self.seq,
                    event: &self.event,
                })
                .unwrap_or_default(),
            )
        })
    }
}

/// The shape of [`Published::frame`].
#[derive(serde::Serialize)]
struct Frame<'a> {
    r#type: &'static str,
    stream: &'a str,
    seq: u64,
    event: &'a Event,
}

/// Why the engine could not do what was asked.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EngineError {
    #[error("{0}")]
    Rejected(Rejection),
    #[error("the journal could not be written, nothing was done: {0}")]
    Journal(String),
    /// The journal could not be opened (or reopened after a failed write).
    #[error("the journal could not be opened: {0}")]
    Open(String),
    /// A journaled event could not be read back into the state.
    #[error("the journal could not be replayed: {0}")]
    Replay(String),
    /// The first start's fleet (`EngineOptions::initial_units`) was refused.
    #[error("the initial fleet was refused: {0}")]
    InitialFleet(String),
    /// The engine's threads could not be started.
    #[error("the engine's threads could not be started: {0}")]
    Threads(String),
    /// The journal's hash chain (or a signed checkpoint of it) does not check out
    /// at `row`: the engine does not start on it.
    #[error(
        "the journal's hash chain is broken at row {row}, refusing to start: {detail} (see `satria audit verify`; --accept-broken-chain {row} starts anyway and records it)"
    )]
    ChainBroken { row: u64, detail: String },
    /// `--accept-broken-chain` named a row that is not the first broken one.
    #[error(
        "--accept-broken-chain {asked} refused: the first broken row is {first_broken}: {detail}"
    )]
    WrongBreakAccepted {
        asked: u64,
        first_broken: u64,
        detail: String,
    },
    /// `--accept-broken-chain` named a row, but the chain is intact there.
    #[error("--accept-broken-chain {row} refused: the journal's hash chain is intact")]
    NothingToAccept { row: u64 },
    #[error("the engine has stopped")]
    Stopped,
    #[error("the engine is overloaded, try again")]
    Busy,
}

/// How to start an engine.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    pub data_dir: PathBuf,
    /// The region's journal stream, e.g. `region:banyumas`.
    pub stream: String,
    pub config: Config,
    /// Bounded inbox: when full, callers wait (or get [`EngineError::Busy`] from `try_submit`).
    pub inbox: usize,
    /// The region's hospitals (facts: capabilities and beds); their live capacity is
    /// journaled and replayed over these.
    pub hospitals: Vec<Hospital>,
    /// The fleet registered once, when the journal is empty; after that the journal
    /// holds the fleet.
    pub initial_units: Vec<Unit>,
    /// How often the actor checks acknowledgement deadlines.
    pub tick_ms: u64,
    /// How often the hospital gets a fresh pre-arrival ETA while the patient is carried
    /// to it (default 60 s).
    pub pre_arrival_every_s: u32,
    /// Start even though the journal's chain is broken, when this is exactly the
    /// first broken row (the acceptance is recorded; see `satria_store::integrity`).
    pub accept_broken_row: Option<u64>,
    /// Who starts the engine, recorded with an accepted break.
    pub operator: String,
    /// Sign the chain head into checkpoints with this key (every N rows, and on a
    /// tick once the interval passed with rows unsigned).
    pub checkpoints: Option<CheckpointSigner>,
}

impl EngineOptions {
    pub fn new(data_dir: impl Into<PathBuf>) -> EngineOptions {
        EngineOptions {
            data_dir: data_dir.into(),
            stream: "region:banyumas".into(),
            config: Config::default(),
            inbox: 4096,
            hospitals: Vec::new(),
            initial_units: Vec::new(),
            tick_ms: 500,
            pre_arrival_every_s: 60,
            accept_broken_row: None,
            operator: "operator".into(),
            checkpoints: None,
        }
    }
}

/// Where the actor sends one request's answer.
type Reply<T> = oneshot::Sender<Result<T, EngineError>>;

// One request is alive per caller; boxing the command would cost an allocation on the
// position hot path to save a few hundred bytes of channel slot.
#[allow(clippy::large_enum_variant)]
enum Request {
    Command(Command, Reply<Vec<Published>>),
    Recommend(IncidentId, Reply<UnitRecommendation>),
    RecommendHospitals(IncidentId, Reply<HospitalRecommendation>),
    Tick,
}

/// A running engine. Cheap to share behind an `Arc`.
pub struct Engine {
    tx: mpsc::Sender<Request>,
    stream: String,
    last_seq: Arc<AtomicU64>,
    events: broadcast::Sender<Arc<Published>>,
    events_first: broadcast::Sender<Arc<Published>>,
    positions: broadcast::Sender<Arc<Published>>,
    snapshot: watch::Receiver<(u64, Arc<Dispatch>)>,
    stop: std::sync::mpsc::Sender<()>,
    threads: std::sync::Mutex<Vec<std::thread::JoinHandle<()>>>,
    start_report: StartReport,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").finish_non_exhaustive()
    }
}

/// The command that registers `u` (validated like any dispatcher's registration).
pub fn register_command(u: &Unit) -> Command {
    Command::RegisterUnit {
        id: u.id.clone(),
        call_sign: u.call_sign.clone(),
        unit_type: u.unit_type,
        owner: u.owner,
        base_name: u.base_name.clone(),
        base: u.base,
        capabilities: u.capabilities.clone(),
    }
}

fn replay(journal: &Journal, opts: &EngineOptions) -> Result<Dispatch, EngineError> {
    let stream = opts.stream.as_str();
    let mut d = Dispatch::new(opts.config.clone(), Vec::new(), opts.hospitals.clone());
    for e in journal
        .read_all(stream)
        .map_err(|e| EngineError::Replay(e.to_string()))?
    {
        let ev: Event = serde_json::from_str(&e.payload).map_err(|err| {
            EngineError::Replay(format!("row {} ({} seq {}): {err}", e.row, e.stream, e.seq))
        })?;
        d.apply(&ev);
    }
    Ok(d)
}

/// What one batch of requests produced, waiting for the journal.
struct Pending {
    reply: Option<Reply<Vec<Published>>>,
    events: Vec<Event>,
}

impl Engine {
    /// Opens the journal, rebuilds the state from it (or applies `initial` to an empty
    /// one) and starts the actor thread and its deadline ticker.
    pub fn start(
        opts: EngineOptions,
        roads: Box<dyn DriveTimes + Send>,
        clock: Clock,
    ) -> Result<Engine, EngineError> {
        let (mut journal, start_report) = Journal::open_verified(
            &opts.data_dir,
            &StartOptions {
                accept_broken_row: opts.accept_broken_row,
                operator: opts.operator.clone(),
                now_ms: clock.now_ms(),
                signer: opts.checkpoints.clone(),
            },
        )
        .map_err(start_error)?;
        let mut dispatch = replay(&journal, &opts)?;
        if journal.last_seq(&opts.stream) == 0 && !opts.initial_units.is_empty() {
            let now = Timestamp(clock.now_ms());
            let mut entries = Vec::new();
            for u in &opts.initial_units {
                let events = dispatch
                    .handle(now, register_command(u), roads.as_ref())
                    .map_err(|r| EngineError::InitialFleet(r.to_string()))?;
                entries.extend(events.iter().map(|e| entry(e, now)));
            }
            journal
                .append(&opts.stream, &entries)
                .map_err(|e| EngineError::Journal(e.to_string()))?;
        }
        let (tx, rx) = mpsc::channel(opts.inbox.max(1));
        let (events, _) = broadcast::channel(65_536);
        let (events_first, _) = broadcast::channel(65_536);
        let (positions, _) = broadcast::channel(16_384);
        let (snap_tx, snapshot) =
            watch::channel((journal.last_seq(&opts.stream), Arc::new(dispatch.clone())));
        let last_seq = Arc::new(AtomicU64::new(journal.last_seq(&opts.stream)));
        let actor = Actor {
            failed: None,
            last_seq: Arc::clone(&last_seq),
            opts: opts.clone(),
            dispatch,
            journal,
            roads,
            clock,
            events: events.clone(),
            events_first: events_first.clone(),
            positions: positions.clone(),
            snapshot: snap_tx,
            position_seq: 0,
            last_snapshot: std::time::Instant::now(),
        };
        let a = std::thread::Builder::new()
            .name("dispatch-actor".into())
            .spawn(move || actor.run(rx))
            .map_err(|e| EngineError::Threads(e.to_string()))?;
        let ticker_tx = tx.clone();
        // Dropping `stop` (at shutdown) wakes the ticker at once, whatever its period.
        let (stop, ticker_stop) = std::sync::mpsc::channel::<()>();
        let tick = std::time::Duration::from_millis(opts.tick_ms.max(10));
        let t = std::thread::Builder::new()
            .name("dispatch-ticker".into())
            .spawn(move || {
                while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                    ticker_stop.recv_timeout(tick)
                {
                    // A full inbox means the actor is busy; the next tick will do.
                    if let Err(mpsc::error::TrySendError::Closed(_)) =
                        ticker_tx.try_send(Request::Tick)
                    {
                        break;
                    }
                }
            })
            .map_err(|e| EngineError::Threads(e.to_string()))?;
        Ok(Engine {
            tx,
            stream: opts.stream.clone(),
            last_seq,
            events,
            events_first,
            positions,
            snapshot,
            stop,
            threads: std::sync::Mutex::new(vec![a, t]),
            start_report,
        })
    }

    /// What the start verified: from which row, how many rows, and the break
    /// accepted by this start, if any.
    pub fn start_report(&self) -> &StartReport {
        &self.start_report
    }

    /// Submits a command and waits until its events are durable.
    pub async fn submit(&self, cmd: Command) -> Result<Vec<Published>, EngineError> {
        self.ask(|reply| Request::Command(cmd, reply)).await
    }

    /// [`Engine::submit`] for callers outside an async runtime.
    pub fn submit_blocking(&self, cmd: Command) -> Result<Vec<Published>, EngineError> {
        self.ask_blocking(|reply| Request::Command(cmd, reply))
    }

    /// Submits without waiting for room: [`EngineError::Busy`] when the inbox is full.
    /// For position reports, which are better dropped than queued behind a backlog.
    pub fn try_submit(
        &self,
        cmd: Command,
    ) -> Result<oneshot::Receiver<Result<Vec<Published>, EngineError>>, EngineError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .try_send(Request::Command(cmd, reply))
            .map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => EngineError::Busy,
                mpsc::error::TrySendError::Closed(_) => EngineError::Stopped,
            })?;
        Ok(rx)
    }

    /// The units for an incident, ranked by exact drive time on the current state.
    pub async fn recommend(&self, incident: IncidentId) -> Result<UnitRecommendation, EngineError> {
        self.ask(|reply| Request::Recommend(incident, reply)).await
    }

    /// [`Engine::recommend`] outside an async runtime.
    pub fn recommend_blocking(
        &self,
        incident: IncidentId,
    ) -> Result<UnitRecommendation, EngineError> {
        self.ask_blocking(|reply| Request::Recommend(incident, reply))
    }

    /// The destination hospitals for an incident's patient, ranked, with reasons.
    pub async fn recommend_hospitals(
        &self,
        incident: IncidentId,
    ) -> Result<HospitalRecommendation, EngineError> {
        self.ask(|reply| Request::RecommendHospitals(incident, reply))
            .await
    }

    /// [`Engine::recommend_hospitals`] outside an async runtime.
    pub fn recommend_hospitals_blocking(
        &self,
        incident: IncidentId,
    ) -> Result<HospitalRecommendation, EngineError> {
        self.ask_blocking(|reply| Request::RecommendHospitals(incident, reply))
    }

    /// Sends the request `make` builds around a reply channel and waits for the answer.
    async fn ask<T>(&self, make: impl FnOnce(Reply<T>) -> Request) -> Result<T, EngineError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(make(reply))
            .await
            .map_err(|_| EngineError::Stopped)?;
        rx.await.map_err(|_| EngineError::Stopped)?
    }

    /// [`Engine::ask`] outside an async runtime.
    fn ask_blocking<T>(&self, make: impl FnOnce(Reply<T>) -> Request) -> Result<T, EngineError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .blocking_send(make(reply))
            .map_err(|_| EngineError::Stopped)?;
        rx.blocking_recv().map_err(|_| EngineError::Stopped)?
    }

    /// The region's journal stream, e.g. `region:banyumas`.
    pub fn stream(&self) -> &str {
        &self.stream
    }

    /// The sequence number of the last durable event of the region stream (0: none).
    pub fn last_seq(&self) -> u64 {
        self.last_seq.load(Ordering::SeqCst)
    }

    /// Requests waiting in the inbox (for metrics).
    pub fn queue_depth(&self) -> usize {
        self.tx.max_capacity() - self.tx.capacity()
    }

    /// Live region events (journaled, in `seq` order) from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Published>> {
        self.events.subscribe()
    }

    /// The same live region events as [`Engine::subscribe`], sent to these
    /// subscribers before the others: for the few who act on an event (the
    /// crew sent to a call, the hospital asked for a bed), so that they are not
    /// woken behind a thousand dispatcher consoles.
    pub fn subscribe_first(&self) -> broadcast::Receiver<Arc<Published>> {
        self.events_first.subscribe()
    }

    /// Live position reports (the volatile `positions` stream) from now on. Kept
    /// apart from the region events so that a subscriber who does not want
    /// every fix of every unit is never woken by them, and one who falls
    /// behind the fixes only skips fixes (the snapshot has each unit's last).
    pub fn subscribe_positions(&self) -> broadcast::Receiver<Arc<Published>> {
        self.positions.subscribe()
    }

    /// An immutable snapshot of the state (refreshed after every journaled batch, and
    /// at most every 200 ms for position-only batches).
    pub fn snapshot(&self) -> Arc<Dispatch> {
        Arc::clone(&self.snapshot.borrow().1)
    }

    /// The snapshot with the sequence number of the last region event it includes:
    /// a subscriber that takes it after [`Engine::subscribe`] and then skips events
    /// with `seq <=` that number has missed nothing and sees nothing twice.
    pub fn snapshot_at(&self) -> (u64, Arc<Dispatch>) {
        let s = self.snapshot.borrow();
        (s.0, Arc::clone(&s.1))
    }

    /// Asks the actor to check deadlines now (the ticker does this every `tick_ms`).
    pub fn tick(&self) {
        let _ = self.tx.try_send(Request::Tick);
    }

    /// Stops accepting work, lets the actor finish what is queued, and joins it.
    pub fn shutdown(self) {
        let Engine {
            tx, threads, stop, ..
        } = self;
        drop(stop);
        drop(tx);
        let threads = threads.into_inner().unwrap_or_default();
        for t in threads {
            let _ = t.join();
        }
    }
}

/// A refused start, named for what failed.
fn start_error(e: StoreError) -> EngineError {
    match e {
        StoreError::ChainBroken { broken, .. } => EngineError::ChainBroken {
            row: broken.row,
            detail: broken.to_string(),
        },
        StoreError::WrongBreakAccepted { asked, broken, .. } => EngineError::WrongBreakAccepted {
            asked,
            first_broken: broken.row,
            detail: broken.to_string(),
        },
        StoreError::NothingToAccept { row, .. } => EngineError::NothingToAccept { row },
        other => EngineError::Open(other.to_string()),
    }
}

/// The journal reopened after a failed write, signing checkpoints as before.
fn reopen(opts: &EngineOptions) -> Result<Journal, EngineError> {
    let mut j = Journal::open(&opts.data_dir).map_err(|e| EngineError::Open(e.to_string()))?;
    if let Some(s) = &opts.checkpoints {
        j.set_signer(s.clone())
            .map_err(|e| EngineError::Open(e.to_string()))?;
    }
    Ok(j)
}

fn entry(e: &Event, now: Timestamp) -> NewEntry {
    NewEntry {
        kind: e.kind().to_string(),
        payload: serde_json::to_string(e).expect("events serialise"),
        recorded_at_ms: now.0,
    }
}

fn volatile(e: &Event) -> bool {
    matches!(e, Event::UnitMoved { .. })
}

struct Actor {
    /// Set when the journal failed and could not be reopened: every request is refused.
    failed: Option<String>,
    last_seq: Arc<AtomicU64>,
    opts: EngineOptions,
    dispatch: Dispatch,
    journal: Journal,
    roads: Box<dyn DriveTimes + Send>,
    clock: Clock,
    events: broadcast::Sender<Arc<Published>>,
    events_first: broadcast::Sender<Arc<Published>>,
    positions: broadcast::Sender<Arc<Published>>,
    snapshot: watch::Sender<(u64, Arc<Dispatch>)>,
    position_seq: u64,
    last_snapshot: std::time::Instant,
}

impl Actor {
    /// Repeats the pre-arrival notice of every accepted referral whose unit is carrying
    /// the patient, every `pre_arrival_every_s`, so the hospital sees a live ETA.
    fn refresh_pre_arrival(&mut self, now: Timestamp, pending: &mut Vec<Pending>) {
        let every_ms = i64::from(self.opts.pre_arrival_every_s) * 1000;
        let due: Vec<_> = self
            .dispatch
            .referrals()
            .filter(|r| r.status == ReferralStatus::Accepted)
            .filter(|r| {
                r.unit
                    .as_ref()
                    .and_then(|u| self.dispatch.unit(u))
                    .is_some_and(|u| u.status == UnitStatus::Transporting)
            })
            .filter(|r| r.pre_arrival.is_none_or(|p| now.0 - p.at.0 >= every_ms))
            .map(|r| r.id)
            .collect();
        for referral in due {
            let cmd = Command::SendPreArrivalNotice { referral };
            // A refusal here only means the state moved on (e.g. the unit arrived).
            if let Ok(events) = self.dispatch.handle(now, cmd, self.roads.as_ref()) {
                pending.push(Pending {
                    reply: None,
                    events,
                });
            }
        }
    }

    fn run(mut self, mut rx: mpsc::Receiver<Request>) {
        while let Some(first) = rx.blocking_recv() {
            let mut batch = vec![first];
            // Group commit: everything already waiting goes into the same transaction.
            while batch.len() < 512 {
                match rx.try_recv() {
                    Ok(r) => batch.push(r),
                    Err(_) => break,
                }
            }
            self.process(batch);
        }
        // The senders are gone: every queued command was processed and journaled.
        // Sign the head so that the rows since the last checkpoint are anchored too
        // (a failure leaves them for the next start's checkpoints).
        if self.failed.is_none() {
            let _ = self.journal.checkpoint_head(self.clock.now_ms());
        }
    }

    fn process(&mut self, batch: Vec<Request>) {
        if let Some(why) = &self.failed {
            for req in batch {
                let err = EngineError::Journal(why.clone());
                match req {
                    Request::Command(_, reply) => drop(reply.send(Err(err))),
                    Request::Recommend(_, reply) => drop(reply.send(Err(err))),
                    Request::RecommendHospitals(_, reply) => drop(reply.send(Err(err))),
                    Request::Tick => {}
                }
            }
            return;
        }
        let now = Timestamp(self.clock.now_ms());
        let mut pending: Vec<Pending> = Vec::with_capacity(batch.len());
        for req in batch {
            match req {
                Request::Command(cmd, reply) => {
                    match self.dispatch.handle(now, cmd, self.roads.as_ref()) {
                        Ok(events) => pending.push(Pending {
                            reply: Some(reply),
                            events,
                        }),
                        Err(r) => {
                            let _ = reply.send(Err(EngineError::Rejected(r)));
                        }
                    }
                }
                Request::Recommend(incident, reply) => {
                    let r = self
                        .dispatch
                        .recommend_units(now, incident, self.roads.as_ref())
                        .map_err(EngineError::Rejected);
                    let _ = reply.send(r);
                }
                Request::RecommendHospitals(incident, reply) => {
                    let r = self
                        .dispatch
                        .recommend_hospitals(now, incident, self.roads.as_ref())
                        .map_err(EngineError::Rejected);
                    let _ = reply.send(r);
                }
                Request::Tick => {
                    if self.dispatch.next_deadline().is_some_and(|d| d <= now) {
                        let events = self.dispatch.tick(now, self.roads.as_ref());
                        pending.push(Pending {
                            reply: None,
                            events,
                        });
                    }
                    self.refresh_pre_arrival(now, &mut pending);
                    // Rows waiting longer than the interval get their checkpoint. A
                    // failure here changes nothing; the next append meets the same disk.
                    let _ = self.journal.checkpoint_if_due(now.0);
                }
            }
        }
        let entries: Vec<NewEntry> = pending
            .iter()
            .flat_map(|p| p.events.iter())
            .filter(|e| !volatile(e))
            .map(|e| entry(e, now))
            .collect();
        let mut seqs = Vec::new();
        if !entries.is_empty() {
            match self.journal.append(&self.opts.stream, &entries) {
                Ok(written) => {
                    seqs = written.into_iter().map(|w| w.seq).collect();
                    if let Some(last) = seqs.last() {
                        self.last_seq.store(*last, Ordering::SeqCst);
                    }
                }
                Err(e) => {
                    // Not durable, so not done: refuse every command of the batch and
                    // go back to the state the journal holds.
                    let msg = e.to_string();
                    for p in pending {
                        if let Some(reply) = p.reply {
                            let _ = reply.send(Err(EngineError::Journal(msg.clone())));
                        }
                    }
                    // The failed handle is poisoned (nobody knows what reached the disk):
                    // reopen the file and rebuild the state from what it holds. If even
                    // that fails, refuse everything until an operator restarts the engine;
                    // a state that differs from the journal must never be acted on.
                    match reopen(&self.opts).and_then(|j| replay(&j, &self.opts).map(|d| (j, d))) {
                        Ok((j, d)) => {
                            self.journal = j;
                            self.dispatch = d;
                        }
                        Err(e) => self.failed = Some(format!("{msg}; recovery failed: {e}")),
                    }
                    return;
                }
            }
        }
        let mut seqs = seqs.into_iter();
        let mut journaled_any = false;
        let mut done = Vec::with_capacity(pending.len());
        for p in pending {
            let mut published = Vec::with_capacity(p.events.len());
            for event in p.events {
                let (stream, seq) = if volatile(&event) {
                    self.position_seq += 1;
                    ("positions".to_string(), self.position_seq)
                } else {
                    journaled_any = true;
                    (
                        self.opts.stream.clone(),
                        seqs.next().expect("one seq per journaled event"),
                    )
                };
                published.push(Published::new(stream, seq, event));
            }
            done.push((p.reply, published));
        }
        // The snapshot first: a caller that reads it after its acknowledgement sees its
        // own change.
        if journaled_any || self.last_snapshot.elapsed() >= std::time::Duration::from_millis(200) {
            self.snapshot.send_replace((
                self.last_seq.load(Ordering::SeqCst),
                Arc::new(self.dispatch.clone()),
            ));
            self.last_snapshot = std::time::Instant::now();
        }
        // The callers first, then the subscribers: a caller waits for its answer
        // (a call-taker's HTTP request), while waking a thousand consoles first
        // would put that answer behind all of them.
        let mut outgoing = Vec::new();
        for (reply, published) in done {
            outgoing.extend(published.iter().map(|p| Arc::new(p.clone())));
            if let Some(reply) = reply {
                let _ = reply.send(Ok(published));
            }
        }
        // No subscriber is fine: the journal is the record. Those who act on
        // region events are woken before those who watch them.
        for p in outgoing.iter().filter(|p| !volatile(&p.event)) {
            let _ = self.events_first.send(Arc::clone(p));
        }
        for p in outgoing {
            let channel = if volatile(&p.event) {
                &self.positions
            } else {
                &self.events
            };
            let _ = channel.send(p);
        }
    }
}
