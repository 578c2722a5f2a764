//! Fan-out between the nodes of a cluster, through Redis. Redis is never the
//! truth: the journal in PostgreSQL is.
//!
//! - **Region events.** After each commit the leader adds every journaled
//!   event to the Redis Stream `{prefix}{stream}:events`, under the entry ID
//!   `{seq}-0`. A follower reads that stream (blocking, a second at a time)
//!   and hands the events to its actor, which applies those that follow its
//!   last seq and, on a gap, reads what is missing from the journal first. A
//!   follower also reads the journal on every tick, so that a Redis that is
//!   down, flushed or restarted costs latency and never an event. The
//!   explicit IDs make a re-publication harmless: Redis refuses an ID it has
//!   passed.
//! - **Positions** (volatile, never journaled) go out on the channel
//!   `{prefix}{stream}:positions`, and each unit's last one is kept in the
//!   hash `{prefix}{stream}:last-positions`, which expires `positions_ttl`
//!   after its last write; a new leader starts with them.
//!
//! The leader's writes go through a bounded queue to a thread of their own:
//! the actor never waits for Redis, and when Redis is slow or gone what does
//! not fit is dropped (followers fill the gap from the journal).

use crate::actor::Request;
use crate::{NodeRole, Published};
use satria_dispatch::Event;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};

/// How to reach Redis, and the names of the keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisOptions {
    /// `redis://host:port/db`.
    pub url: String,
    /// Put before every key and channel (default `satria:`): several clusters,
    /// or tests, may share one Redis.
    pub prefix: String,
    /// How long the last positions are kept after the last write (default 10 min).
    pub positions_ttl: Duration,
}

impl RedisOptions {
    pub fn new(url: impl Into<String>) -> RedisOptions {
        RedisOptions {
            url: url.into(),
            prefix: "satria:".into(),
            positions_ttl: Duration::from_secs(600),
        }
    }
}

/// Entries kept in a region's event stream (approximately): a follower
/// further behind reads the journal anyway.
const STREAM_KEPT: u64 = 100_000;
/// What the publisher thread may have queued before it drops.
const QUEUE: usize = 65_536;
/// Connects and each call give up after this long.
const TIMEOUT: Duration = Duration::from_secs(1);

/// What this node last learnt of Redis, from its own use of it: the
/// publisher's writes on a leader, the event reader's on a follower.
#[derive(Debug, Clone, Default)]
pub(crate) struct Health(Arc<AtomicU8>);

// 0 (the default): not used yet.
const UP: u8 = 1;
const DOWN: u8 = 2;

impl Health {
    fn set(&self, up: bool) {
        self.0.store(if up { UP } else { DOWN }, Ordering::Relaxed);
    }

    /// `Some(true)` when the last use of Redis worked, `Some(false)` when it
    /// failed, `None` before the first.
    pub(crate) fn get(&self) -> Option<bool> {
        match self.0.load(Ordering::Relaxed) {
            UP => Some(true),
            DOWN => Some(false),
            _ => None,
        }
    }
}

/// The keys of one region.
#[derive(Debug, Clone)]
pub(crate) struct Keys {
    events: String,
    positions: String,
    last_positions: String,
}

impl Keys {
    pub(crate) fn new(o: &RedisOptions, stream: &str) -> Keys {
        Keys {
            events: format!("{}{stream}:events", o.prefix),
            positions: format!("{}{stream}:positions", o.prefix),
            last_positions: format!("{}{stream}:last-positions", o.prefix),
        }
    }
}

fn connect(url: &str) -> redis::RedisResult<redis::Connection> {
    let c = redis::Client::open(url)?.get_connection_with_timeout(TIMEOUT)?;
    c.set_read_timeout(Some(TIMEOUT))?;
    c.set_write_timeout(Some(TIMEOUT))?;
    Ok(c)
}

/// Something the leader hands the publisher.
enum Out {
    Event(Arc<Published>),
    Position(Arc<Published>),
}

/// The leader's side: a queue to the thread that writes to Redis.
pub(crate) struct Publisher {
    tx: std::sync::mpsc::SyncSender<Out>,
}

impl Publisher {
    pub(crate) fn spawn(
        o: &RedisOptions,
        keys: Keys,
        health: Health,
    ) -> std::io::Result<Publisher> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Out>(QUEUE);
        let o = o.clone();
        std::thread::Builder::new()
            .name("redis-publisher".into())
            .spawn(move || publish_loop(&o, &keys, &rx, &health))?;
        Ok(Publisher { tx })
    }

    /// Queues a journaled event (`Event`) or a position for Redis; dropped
    /// when the queue is full.
    pub(crate) fn send(&self, p: &Arc<Published>, volatile: bool) {
        let out = if volatile {
            Out::Position(Arc::clone(p))
        } else {
            Out::Event(Arc::clone(p))
        };
        let _ = self.tx.try_send(out);
    }
}

fn publish_loop(
    o: &RedisOptions,
    keys: &Keys,
    rx: &std::sync::mpsc::Receiver<Out>,
    health: &Health,
) {
    let ttl_s = o.positions_ttl.as_secs().max(1);
    let mut con: Option<redis::Connection> = None;
    let mut retry_at = Instant::now();
    let mut warned = false;
    // Ends when the actor (the only sender) is gone.
    while let Ok(out) = rx.recv() {
        if con.is_none() {
            if Instant::now() < retry_at {
                continue; // Redis is down: drop, the journal has it.
            }
            match connect(&o.url) {
                Ok(c) => {
                    con = Some(c);
                    warned = false;
                }
                Err(e) => {
                    health.set(false);
                    if !warned {
                        tracing::warn!("redis: cannot publish, followers read the journal: {e}");
                        warned = true;
                    }
                    retry_at = Instant::now() + TIMEOUT;
                    continue;
                }
            }
        }
        let Some(c) = con.as_mut() else { continue };
        let sent = match &out {
            Out::Event(p) => redis::cmd("XADD")
                .arg(&keys.events)
                .arg("MAXLEN")
                .arg("~")
                .arg(STREAM_KEPT)
                .arg(format!("{}-0", p.seq))
                .arg("e")
                .arg(serde_json::to_string(&p.event).expect("events serialise"))
                .query::<redis::Value>(c)
                .map(|_| ()),
            Out::Position(p) => {
                let Event::UnitMoved { unit, .. } = &p.event else {
                    continue;
                };
                let json = serde_json::to_string(&p.event).expect("events serialise");
                redis::pipe()
                    .atomic()
                    .cmd("PUBLISH")
                    .arg(&keys.positions)
                    .arg(&json)
                    .ignore()
                    .cmd("HSET")
                    .arg(&keys.last_positions)
                    .arg(&unit.0)
                    .arg(&json)
                    .ignore()
                    .cmd("EXPIRE")
                    .arg(&keys.last_positions)
                    .arg(ttl_s)
                    .ignore()
                    .query::<()>(c)
            }
        };
        match sent {
            Ok(()) => health.set(true),
            // An ID Redis has passed: published before (by an earlier leader).
            Err(e) if e.to_string().contains("equal or smaller") => health.set(true),
            Err(e) => {
                health.set(false);
                tracing::warn!("redis: publishing failed, reconnecting: {e}");
                con = None;
                retry_at = Instant::now() + TIMEOUT;
            }
        }
    }
}

/// Each unit's last position kept in Redis (empty when Redis is not there):
/// what a new leader starts with.
pub(crate) fn last_positions(o: &RedisOptions, keys: &Keys) -> Vec<Event> {
    let read = connect(&o.url).and_then(|mut c| {
        redis::cmd("HVALS")
            .arg(&keys.last_positions)
            .query::<Vec<String>>(&mut c)
    });
    match read {
        Ok(values) => values
            .iter()
            .filter_map(|v| serde_json::from_str::<Event>(v).ok())
            .filter(|e| matches!(e, Event::UnitMoved { .. }))
            .collect(),
        Err(e) => {
            tracing::warn!("redis: no last positions, units rank from their bases: {e}");
            Vec::new()
        }
    }
}

/// A follower's readers: the event stream and the positions channel, each on
/// a thread of its own that hands what it reads to the actor. They hold the
/// inbox weakly and end within a second of `stop`.
pub(crate) fn spawn_readers(
    o: &RedisOptions,
    keys: &Keys,
    inbox: &mpsc::Sender<Request>,
    last_seq: Arc<AtomicU64>,
    leading: watch::Receiver<NodeRole>,
    stop: Arc<AtomicBool>,
    health: Health,
) -> std::io::Result<()> {
    let (url, k, weak, l, s) = (
        o.url.clone(),
        keys.events.clone(),
        inbox.downgrade(),
        leading.clone(),
        Arc::clone(&stop),
    );
    std::thread::Builder::new()
        .name("redis-events".into())
        .spawn(move || read_events(&url, &k, &weak, &last_seq, &l, &s, &health))?;
    let (url, k, weak) = (o.url.clone(), keys.positions.clone(), inbox.downgrade());
    std::thread::Builder::new()
        .name("redis-positions".into())
        .spawn(move || read_positions(&url, &k, &weak, &leading, &stop))?;
    Ok(())
}

fn read_events(
    url: &str,
    key: &str,
    inbox: &mpsc::WeakSender<Request>,
    last_seq: &AtomicU64,
    leading: &watch::Receiver<NodeRole>,
    stop: &AtomicBool,
    health: &Health,
) {
    let mut con: Option<redis::Connection> = None;
    let mut after = 0;
    while !stop.load(Ordering::Relaxed) {
        if leading.borrow().leader {
            con = None;
            std::thread::sleep(Duration::from_millis(100));
            continue;
        }
        let Some(c) = con.as_mut() else {
            match connect(url) {
                Ok(c) => {
                    con = Some(c);
                    health.set(true);
                    after = last_seq.load(Ordering::SeqCst);
                }
                Err(_) => {
                    health.set(false);
                    std::thread::sleep(TIMEOUT);
                }
            }
            continue;
        };
        // Never behind what the actor has (it may have read the journal).
        after = after.max(last_seq.load(Ordering::SeqCst));
        let read = redis::cmd("XREAD")
            .arg("COUNT")
            .arg(1000)
            .arg("BLOCK")
            .arg(500)
            .arg("STREAMS")
            .arg(key)
            .arg(format!("{after}-0"))
            .query::<Option<redis::streams::StreamReadReply>>(c);
        let reply = match read {
            Ok(Some(r)) => r,
            Ok(None) => continue,
            Err(e) if e.is_timeout() => continue,
            Err(_) => {
                health.set(false);
                con = None;
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        let mut events = Vec::new();
        for id in reply.keys.into_iter().flat_map(|k| k.ids) {
            let seq = id
                .id
                .split_once('-')
                .and_then(|(s, _)| s.parse::<u64>().ok());
            let event = id
                .get::<String>("e")
                .and_then(|e| serde_json::from_str::<Event>(&e).ok());
            if let (Some(seq), Some(event)) = (seq, event) {
                after = seq;
                events.push((seq, event));
            }
        }
        if events.is_empty() {
            continue;
        }
        let Some(tx) = inbox.upgrade() else { return };
        if tx.blocking_send(Request::Replicate(events)).is_err() {
            return;
        }
    }
}

fn read_positions(
    url: &str,
    channel: &str,
    inbox: &mpsc::WeakSender<Request>,
    leading: &watch::Receiver<NodeRole>,
    stop: &AtomicBool,
) {
    while !stop.load(Ordering::Relaxed) {
        let Ok(mut c) = connect(url) else {
            std::thread::sleep(TIMEOUT);
            continue;
        };
        let mut ps = c.as_pubsub();
        if ps.subscribe(channel).is_err() || ps.set_read_timeout(Some(TIMEOUT)).is_err() {
            std::thread::sleep(TIMEOUT);
            continue;
        }
        while !stop.load(Ordering::Relaxed) {
            let msg = match ps.get_message() {
                Ok(m) => m,
                Err(e) if e.is_timeout() => continue,
                Err(_) => break,
            };
            if leading.borrow().leader {
                continue;
            }
            let Ok(text) = msg.get_payload::<String>() else {
                continue;
            };
            let Ok(event @ Event::UnitMoved { .. }) = serde_json::from_str::<Event>(&text) else {
                continue;
            };
            let Some(tx) = inbox.upgrade() else { return };
            // A full inbox drops a fix: the next one comes within seconds.
            if let Err(mpsc::error::TrySendError::Closed(_)) =
                tx.try_send(Request::RemotePosition(event))
            {
                return;
            }
        }
    }
}
