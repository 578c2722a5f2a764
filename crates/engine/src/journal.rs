//! The engine's side of the journal: events to entries and back (replay), reopening
//! after a failed write, and the refusals of a start named for what failed.

use crate::options::{EngineError, EngineOptions};
use satria_dispatch::{Dispatch, Event, Timestamp};
use satria_store::{Journal, NewEntry, StoreError};

pub(crate) fn replay(journal: &Journal, opts: &EngineOptions) -> Result<Dispatch, EngineError> {
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

/// The journal reopened after a failed write, signing checkpoints as before.
pub(crate) fn reopen(opts: &EngineOptions) -> Result<Journal, EngineError> {
    let mut j = Journal::open(&opts.data_dir).map_err(|e| EngineError::Open(e.to_string()))?;
    if let Some(s) = &opts.checkpoints {
        j.set_signer(s.clone())
            .map_err(|e| EngineError::Open(e.to_string()))?;
    }
    Ok(j)
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
