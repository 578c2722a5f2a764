//! The engine's side of the journal: which store it is (the data directory's
//! SQLite file, or a PostgreSQL database shared by a cluster), opening and
//! verifying it, events to entries and back (replay), reopening after a failed
//! write, the refusals of a start named for what failed, and the read
//! connections that replay missed events to consoles.

use crate::options::{EngineError, EngineOptions};
use crate::snapshots::Restored;
use satria_dispatch::{Dispatch, Event, Timestamp};
use satria_store::{
    Entry, EventStore, IntegrityStatus, Journal, JournalReader, NewEntry, PgJournal, StartOptions,
    StartReport, StoreError,
};
use std::path::PathBuf;
use std::sync::Mutex;

/// Entries read per round trip by a replay or a follower's tail.
pub(crate) const PAGE: usize = 10_000;

/// Opens the journal the options name and verifies its chain: on SQLite from
/// the last verified point (an accepted break and checkpoint signing as
/// configured), on PostgreSQL the whole chain (a cluster journal accepts no
/// break: `satria audit verify --database` finds it, an operator repairs it).
pub(crate) fn open(
    opts: &EngineOptions,
    now_ms: i64,
) -> Result<(Box<dyn EventStore>, StartReport), EngineError> {
    match &opts.cluster {
        None => {
            let (j, report) = Journal::open_verified(
                &opts.data_dir,
                &StartOptions {
                    accept_broken_row: opts.accept_broken_row,
                    operator: opts.operator.clone(),
                    now_ms,
                    signer: opts.checkpoints.clone(),
                },
            )
            .map_err(start_error)?;
            Ok((Box::new(j), report))
        }
        Some(c) => {
            let j = open_pg(opts, &c.database_url)?;
            let report = j.verify().map_err(|e| EngineError::Open(e.to_string()))?;
            if let Some(broken) = report.first_broken {
                return Err(EngineError::ChainBroken {
                    row: broken.row,
                    detail: broken.to_string(),
                });
            }
            let head_row = j.last_row();
            Ok((
                Box::new(j),
                StartReport {
                    verified_from_row: 0,
                    rows_checked: report.rows,
                    head_row,
                    accepted: None,
                },
            ))
        }
    }
}

/// The cluster's journal at `url`, signing checkpoints as configured.
fn open_pg(opts: &EngineOptions, url: &str) -> Result<PgJournal, EngineError> {
    let mut j = PgJournal::open(url).map_err(|e| EngineError::Open(e.to_string()))?;
    if let Some(s) = &opts.checkpoints {
        j.set_signer(s.clone())
            .map_err(|e| EngineError::Open(e.to_string()))?;
    }
    Ok(j)
}

/// The journal reopened after a failed write (a fresh handle: on PostgreSQL
/// it holds no lease, and the node takes it again once it is free).
pub(crate) fn reopen(opts: &EngineOptions) -> Result<Box<dyn EventStore>, EngineError> {
    match &opts.cluster {
        None => {
            let mut j =
                Journal::open(&opts.data_dir).map_err(|e| EngineError::Open(e.to_string()))?;
            if let Some(s) = &opts.checkpoints {
                j.set_signer(s.clone())
                    .map_err(|e| EngineError::Open(e.to_string()))?;
            }
            Ok(Box::new(j))
        }
        Some(c) => Ok(Box::new(open_pg(opts, &c.database_url)?)),
    }
}

/// The region's state rebuilt from the journaled events of its stream up to
/// and including seq `upto` (`u64::MAX`: all), with the last seq applied:
/// from the newest usable snapshot at or before `upto`, then the events after it.
pub(crate) fn replay(
    journal: &dyn EventStore,
    opts: &EngineOptions,
    upto: u64,
) -> Result<(Dispatch, u64), EngineError> {
    replay_counted(journal, opts, upto).map(|(d, seq, _)| (d, seq))
}

/// [`replay`], and what the state came from.
pub(crate) fn replay_counted(
    journal: &dyn EventStore,
    opts: &EngineOptions,
    upto: u64,
) -> Result<(Dispatch, u64, Restored), EngineError> {
    let (mut d, mut after, snapshot_seq) = match crate::snapshots::newest(journal, opts, upto) {
        Some((d, seq)) => (d, seq, Some(seq)),
        None => (
            Dispatch::new(opts.config.clone(), Vec::new(), opts.hospitals.clone()),
            0,
            None,
        ),
    };
    let mut replayed = 0;
    while after < upto {
        let rows = journal
            .entries_since(&opts.stream, after, PAGE)
            .map_err(|e| EngineError::Replay(e.to_string()))?;
        if rows.is_empty() {
            break;
        }
        for e in rows.iter().take_while(|e| e.seq <= upto) {
            d.apply(&event(e)?);
            after = e.seq;
            replayed += 1;
        }
        if rows.last().is_some_and(|l| l.seq > upto) {
            break;
        }
    }
    Ok((
        d,
        after,
        Restored {
            snapshot_seq,
            replayed,
        },
    ))
}

/// The event a journal entry holds.
pub(crate) fn event(e: &Entry) -> Result<Event, EngineError> {
    serde_json::from_str(&e.payload).map_err(|err| {
        EngineError::Replay(format!("row {} ({} seq {}): {err}", e.row, e.stream, e.seq))
    })
}

/// A refused start, named for what failed.
pub(crate) fn start_error(e: StoreError) -> EngineError {
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

pub(crate) fn entry(e: &Event, now: Timestamp) -> NewEntry {
    NewEntry {
        kind: e.kind().to_string(),
        payload: serde_json::to_string(e).expect("events serialise"),
        recorded_at_ms: now.0,
    }
}

pub(crate) fn volatile(e: &Event) -> bool {
    matches!(e, Event::UnitMoved { .. })
}

/// Read connections to the journal, apart from the actor's: a console that
/// comes back after a gap gets the events it missed from here, without
/// queueing behind the actor's writes.
pub(crate) enum Readers {
    /// A read-only SQLite connection per read (cheap: a file open).
    Dir(PathBuf),
    /// A few idle PostgreSQL connections kept for the next read.
    Postgres {
        url: String,
        idle: Mutex<Vec<PgJournal>>,
    },
}

impl Drop for Readers {
    fn drop(&mut self) {
        // Closed on a thread of their own: the synchronous client blocks on a
        // runtime of its own to close, which is refused inside an async one.
        if let Readers::Postgres { idle, .. } = self {
            let idle = std::mem::take(idle.get_mut().unwrap_or_else(|p| p.into_inner()));
            if !idle.is_empty() {
                let _ = std::thread::spawn(move || drop(idle)).join();
            }
        }
    }
}

/// Idle PostgreSQL read connections kept open.
const IDLE_READERS: usize = 4;

/// Runs `read` on an idle connection (or a new one), keeps the connection
/// for the next read when it worked, and tries once more on a new connection
/// when an idle one failed (the database restarted since it was opened).
fn with_reader<T>(
    url: &str,
    idle: &Mutex<Vec<PgJournal>>,
    read: impl Fn(&PgJournal) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let taken = idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
    let (reader, result) = match taken {
        Some(r) => match read(&r) {
            Ok(v) => (r, Ok(v)),
            Err(_) => {
                let fresh = PgJournal::open_reader(url)?;
                let result = read(&fresh);
                (fresh, result)
            }
        },
        None => {
            let fresh = PgJournal::open_reader(url)?;
            let result = read(&fresh);
            (fresh, result)
        }
    };
    if result.is_ok() {
        let mut idle = idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < IDLE_READERS {
            idle.push(reader);
        }
    }
    result
}

impl Readers {
    pub(crate) fn new(opts: &EngineOptions) -> Readers {
        match &opts.cluster {
            None => Readers::Dir(opts.data_dir.clone()),
            Some(c) => Readers::Postgres {
                url: c.database_url.clone(),
                idle: Mutex::new(Vec::new()),
            },
        }
    }

    /// The last seq of `stream` in the journal now.
    pub(crate) fn head_seq(&self, stream: &str) -> Result<u64, StoreError> {
        match self {
            Readers::Dir(dir) => JournalReader::open(dir)?.stream_seq(stream),
            Readers::Postgres { url, idle } => with_reader(url, idle, |r| r.stream_head(stream)),
        }
    }

    /// Up to `limit` entries of `stream` with `seq > after`, in order.
    pub(crate) fn read_since(
        &self,
        stream: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        match self {
            Readers::Dir(dir) => JournalReader::open(dir)?.read_since(stream, after, limit),
            Readers::Postgres { url, idle } => {
                with_reader(url, idle, |r| r.read_since(stream, after, limit))
            }
        }
    }

    /// The accepted breaks, the newest checkpoint and the last verified row.
    /// A cluster journal accepts no break: it reports its newest checkpoint
    /// and the rows this node's start verified.
    pub(crate) fn integrity_status(
        &self,
        verified_row: u64,
    ) -> Result<IntegrityStatus, StoreError> {
        match self {
            Readers::Dir(dir) => satria_store::integrity_status(dir),
            Readers::Postgres { url, idle } => Ok(IntegrityStatus {
                accepted: Vec::new(),
                last_checkpoint: with_reader(url, idle, PgJournal::newest_checkpoint)?,
                verified_row,
            }),
        }
    }

    /// Marks the accepted breaks as acknowledged by `by`; how many.
    pub(crate) fn acknowledge_breaks(&self, by: &str, at_ms: i64) -> Result<usize, StoreError> {
        match self {
            Readers::Dir(dir) => satria_store::acknowledge_breaks(dir, by, at_ms),
            Readers::Postgres { .. } => Ok(0),
        }
    }
}
