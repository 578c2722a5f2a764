//! [`Engine`]: the handle everyone else holds. It starts the actor and the ticker,
//! sends requests into the bounded inbox and waits for their answers, and hands out
//! the subscriptions and the snapshot.

use crate::actor::{Actor, Reply, Request};
use crate::journal::{Readers, replay_counted};
use crate::{Clock, EngineError, EngineOptions, NodeRole, Published, ticker};
use satria_dispatch::{
    Command, Dispatch, DriveTimes, HospitalRecommendation, IncidentId, Timestamp, Unit,
    UnitRecommendation,
};
use satria_store::{Entry, IntegrityStatus, StartReport, StoreError};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::{broadcast, mpsc, oneshot, watch};

/// A running engine. Cheap to share behind an `Arc`.
pub struct Engine {
    tx: mpsc::Sender<Request>,
    stream: String,
    last_seq: Arc<AtomicU64>,
    events: broadcast::Sender<Arc<Published>>,
    events_first: broadcast::Sender<Arc<Published>>,
    positions: broadcast::Sender<Arc<Published>>,
    snapshot: watch::Receiver<(u64, Arc<Dispatch>)>,
    /// Dropped to wake the ticker and end it.
    stop: std::sync::Mutex<Option<std::sync::mpsc::Sender<()>>>,
    threads: std::sync::Mutex<Vec<std::thread::JoinHandle<()>>>,
    start_report: StartReport,
    role: watch::Receiver<NodeRole>,
    readers: Readers,
    /// Tells the Redis readers to end (within a second).
    redis_stop: Arc<std::sync::atomic::AtomicBool>,
    /// What the node last learnt of Redis; `None` without `--redis`.
    redis: Option<crate::fanout::Health>,
    /// A cluster's node (journal in PostgreSQL) rather than a single one.
    clustered: bool,
    stats: Arc<crate::ClusterStats>,
    /// What the state was rebuilt from at the start.
    restored: crate::Restored,
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

impl Engine {
    /// Opens the journal, rebuilds the state from it (or applies `initial` to an empty
    /// one) and starts the actor thread and its deadline ticker.
    pub fn start(
        opts: EngineOptions,
        roads: Box<dyn DriveTimes + Send>,
        clock: Clock,
    ) -> Result<Engine, EngineError> {
        let (mut journal, start_report) = crate::journal::open(&opts, clock.now_ms())?;
        // A cluster node leads its region if it can take the lease now, and
        // follows otherwise; a single node always leads.
        let node_id = opts
            .cluster
            .as_ref()
            .map_or_else(|| "local".to_string(), |c| c.node_id.clone());
        let role = match &opts.cluster {
            None => NodeRole {
                node_id: node_id.clone(),
                leader: true,
                term: 0,
                leader_id: Some(node_id.clone()),
                leader_addr: None,
                nodes: vec![crate::ClusterNode {
                    node_id: node_id.clone(),
                    addr: None,
                }],
            },
            Some(c) => {
                let taken = journal
                    .take_lease(
                        &opts.stream,
                        &c.node_id,
                        c.advertise.as_deref(),
                        c.lease_ttl,
                    )
                    .map_err(|e| EngineError::Open(e.to_string()))?;
                match taken {
                    Some(lease) => NodeRole {
                        node_id: node_id.clone(),
                        leader: true,
                        term: lease.term,
                        leader_id: Some(node_id.clone()),
                        leader_addr: c.advertise.clone(),
                        nodes: Vec::new(),
                    },
                    None => {
                        let holder = journal
                            .lease_holder(&opts.stream)
                            .map_err(|e| EngineError::Open(e.to_string()))?
                            .filter(|h| h.expires_in_ms >= 0);
                        NodeRole {
                            node_id: node_id.clone(),
                            leader: false,
                            term: holder.as_ref().map_or(0, |h| h.term),
                            leader_id: holder.as_ref().map(|h| h.holder.clone()),
                            leader_addr: holder.and_then(|h| h.addr),
                            nodes: Vec::new(),
                        }
                    }
                }
            }
        };
        let stats = Arc::new(crate::ClusterStats::default());
        if opts.cluster.is_some() && role.leader {
            stats.took_lease();
        }
        let mut role = role;
        if let Some(c) = &opts.cluster {
            role.nodes = crate::lead::announce(journal.as_mut(), &opts.stream, c)
                .map_err(|e| EngineError::Open(e.to_string()))?;
        }
        let (dispatch, seq, restored) = replay_counted(journal.as_ref(), &opts, u64::MAX)?;
        tracing::info!(
            snapshot_seq = restored.snapshot_seq,
            replayed = restored.replayed,
            "state rebuilt from the journal"
        );
        let (tx, rx) = mpsc::channel(opts.inbox.max(1));
        let (events, _) = broadcast::channel(65_536);
        let (events_first, _) = broadcast::channel(65_536);
        let (positions, _) = broadcast::channel(16_384);
        let (snap_tx, snapshot) = watch::channel((seq, Arc::new(dispatch.clone())));
        let last_seq = Arc::new(AtomicU64::new(seq));
        let leading = role.leader;
        let (role_tx, role_rx) = watch::channel(role);
        let mut actor = Actor {
            failed: None,
            last_seq: Arc::clone(&last_seq),
            stats: Arc::clone(&stats),
            opts: opts.clone(),
            dispatch,
            journal,
            leading,
            role: role_tx,
            lease_at: std::time::Instant::now(),
            announced_at: std::time::Instant::now(),
            reconnect: false,
            answers: crate::answers::Answers::default(),
            fanout: None,
            roads,
            clock,
            events: events.clone(),
            events_first: events_first.clone(),
            positions: positions.clone(),
            snapshot: snap_tx,
            position_seq: 0,
            last_snapshot: std::time::Instant::now(),
            snapshots: crate::snapshots::Maker::spawn(&opts, restored.snapshot_seq.unwrap_or(0))
                .map_err(|e| EngineError::Threads(e.to_string()))?,
        };
        let redis_stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let redis = opts.cluster.as_ref().and_then(|c| c.redis.clone());
        let redis_health = redis.as_ref().map(|_| crate::fanout::Health::default());
        if let (Some(r), Some(h)) = (&redis, &redis_health) {
            let keys = crate::fanout::Keys::new(r, &opts.stream);
            actor.fanout = Some(
                crate::fanout::Publisher::spawn(r, keys, h.clone())
                    .map_err(|e| EngineError::Threads(e.to_string()))?,
            );
        }
        actor
            .answers
            .load(actor.journal.as_ref(), &actor.opts.stream)?;
        if leading {
            actor.restore_positions();
            actor.register_initial_fleet(Timestamp(actor.clock.now_ms()))?;
            actor.snapshot.send_replace((
                last_seq.load(Ordering::SeqCst),
                Arc::new(actor.dispatch.clone()),
            ));
        }
        let a = std::thread::Builder::new()
            .name("dispatch-actor".into())
            .spawn(move || actor.run(rx))
            .map_err(|e| EngineError::Threads(e.to_string()))?;
        // Dropping `stop` (at shutdown) wakes the ticker at once, whatever its period.
        let (stop, t) = ticker::spawn(tx.clone(), opts.tick_ms)?;
        if let (Some(r), Some(h)) = (&redis, &redis_health) {
            let keys = crate::fanout::Keys::new(r, &opts.stream);
            crate::fanout::spawn_readers(
                r,
                &keys,
                &tx,
                Arc::clone(&last_seq),
                role_rx.clone(),
                Arc::clone(&redis_stop),
                h.clone(),
            )
            .map_err(|e| EngineError::Threads(e.to_string()))?;
        }
        Ok(Engine {
            tx,
            stream: opts.stream.clone(),
            last_seq,
            events,
            events_first,
            positions,
            snapshot,
            stop: std::sync::Mutex::new(Some(stop)),
            threads: std::sync::Mutex::new(vec![a, t]),
            start_report,
            role: role_rx,
            readers: Readers::new(&opts),
            redis_stop,
            redis: redis_health,
            clustered: opts.cluster.is_some(),
            stats,
            restored,
        })
    }

    /// What this engine's state was rebuilt from at its start: the snapshot's
    /// seq, if one was used, and the events replayed after it.
    pub fn restored(&self) -> crate::Restored {
        self.restored
    }

    /// The lease and replication counters (all zero on a single node).
    pub fn cluster_stats(&self) -> &crate::ClusterStats {
        &self.stats
    }

    /// Where this node's journal is: `postgresql` for a cluster's node,
    /// `sqlite` for a single one.
    pub fn backend(&self) -> &'static str {
        if self.clustered {
            "postgresql"
        } else {
            "sqlite"
        }
    }

    /// Redis as this node last used it: `Some(true)` when that worked,
    /// `Some(false)` when it failed (followers then hear the leader by reading
    /// the journal every tick), `None` without `--redis` or before first use.
    pub fn redis_up(&self) -> Option<bool> {
        self.redis.as_ref().and_then(crate::fanout::Health::get)
    }

    /// Whether the node was started with `--redis`.
    pub fn has_redis(&self) -> bool {
        self.redis.is_some()
    }

    /// What the start verified: from which row, how many rows, and the break
    /// accepted by this start, if any.
    pub fn start_report(&self) -> &StartReport {
        &self.start_report
    }

    /// Submits a command and waits until its events are durable.
    pub async fn submit(&self, cmd: Command) -> Result<Vec<Published>, EngineError> {
        self.ask(|reply| Request::Command(cmd, None, reply)).await
    }

    /// [`Engine::submit`] for a command its client sent with an id: if a
    /// command with the same tag was applied before (even before a restart or
    /// a takeover), nothing is done and the answer is
    /// [`EngineError::Duplicate`] with the seqs of the events it produced.
    pub async fn submit_tagged(
        &self,
        cmd: Command,
        tag: crate::ClientTag,
    ) -> Result<Vec<Published>, EngineError> {
        self.ask(|reply| Request::Command(cmd, Some(tag), reply))
            .await
    }

    /// [`Engine::submit`] for callers outside an async runtime.
    pub fn submit_blocking(&self, cmd: Command) -> Result<Vec<Published>, EngineError> {
        self.ask_blocking(|reply| Request::Command(cmd, None, reply))
    }

    /// Submits without waiting for room: [`EngineError::Busy`] when the inbox is full.
    /// For position reports, which are better dropped than queued behind a backlog.
    pub fn try_submit(
        &self,
        cmd: Command,
    ) -> Result<oneshot::Receiver<Result<Vec<Published>, EngineError>>, EngineError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .try_send(Request::Command(cmd, None, reply))
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

    /// Waits until this node has applied the region stream up to `seq` (a
    /// follower a little behind its leader), at most `within`; true once it has.
    pub async fn caught_up(&self, seq: u64, within: std::time::Duration) -> bool {
        let mut rx = self.snapshot.clone();
        tokio::time::timeout(within, rx.wait_for(|s| s.0 >= seq))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// Returns once the region's lease has left `term` (another node took it,
    /// or this one did): a follower waiting on a leader that froze stops
    /// waiting then. Never returns on a single node.
    pub async fn term_left(&self, term: u64) {
        let mut rx = self.role.clone();
        if rx.wait_for(|r| r.term != term).await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// What this node is to its region now: leading it (always, on a single
    /// node) or following, and who leads.
    pub fn role(&self) -> NodeRole {
        self.role.borrow().clone()
    }

    /// Up to `limit` journaled entries of `stream` after `after`, read on a
    /// connection of their own (blocking: call it from a blocking task).
    pub fn read_since(
        &self,
        stream: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        self.readers.read_since(stream, after, limit)
    }

    /// How many journaled events of the region this node has not applied
    /// yet (0 on a leader; a follower's lag behind the journal). Blocking:
    /// one read of the journal, which also tells that it can be read.
    pub fn lag(&self) -> Result<u64, StoreError> {
        let head = self.readers.head_seq(&self.stream)?;
        if self.role().leader {
            return Ok(0);
        }
        Ok(head.saturating_sub(self.last_seq()))
    }

    /// The journal's integrity as the consoles show it (blocking).
    pub fn integrity_status(&self) -> Result<IntegrityStatus, StoreError> {
        self.readers.integrity_status(self.start_report.head_row)
    }

    /// Acknowledges the accepted chain breaks in `by`'s name; how many (blocking).
    pub fn acknowledge_breaks(&self, by: &str, at_ms: i64) -> Result<usize, StoreError> {
        self.readers.acknowledge_breaks(by, at_ms)
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
        self.stop();
    }

    /// [`Engine::shutdown`] through a shared handle: whoever else still holds
    /// the engine (a connection not yet gone at the end of a server's grace
    /// period) gets [`EngineError::Stopped`] from then on, while what was
    /// queued is journaled, the head signed and the lease released. Blocks
    /// until the engine's threads end.
    pub fn stop(&self) {
        self.redis_stop.store(true, Ordering::SeqCst);
        drop(self.stop.lock().ok().and_then(|mut s| s.take()));
        // Behind what is queued (never blocking inside a runtime); the actor
        // may be gone already (a second stop): then nothing waits.
        let mut req = Request::Stop;
        while let Err(mpsc::error::TrySendError::Full(r)) = self.tx.try_send(req) {
            req = r;
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let threads = self
            .threads
            .lock()
            .map(|mut t| std::mem::take(&mut *t))
            .unwrap_or_default();
        for t in threads {
            let _ = t.join();
        }
    }
}
