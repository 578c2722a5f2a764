//! How an engine is started ([`EngineOptions`]) and why it refuses ([`EngineError`]).

use satria_dispatch::{Config, Hospital, Rejection, Unit};
use satria_store::CheckpointSigner;
use std::path::PathBuf;

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
