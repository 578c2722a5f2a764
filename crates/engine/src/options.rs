//! How an engine is started ([`EngineOptions`]) and why it refuses ([`EngineError`]).

use satria_dispatch::{Config, Hospital, Rejection, Unit};
use satria_store::CheckpointSigner;
use std::path::PathBuf;
use std::time::Duration;

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
    /// This node does not lead the region (another does, or none is known
    /// yet): the command was not applied. Try again, here once a leader is
    /// known, or on the leader.
    #[error(
        "this node does not lead the region{}; nothing was done, try again",
        match leader { Some(l) => format!(" (its leader is {l})"), None => " (no leader is known yet)".to_string() }
    )]
    NotLeader { leader: Option<String> },
    /// The command was sent before with the same client id, and applied
    /// then: these are the region-stream seqs of its events. Nothing was done now.
    #[error("this command was applied before (its client_id was seen); nothing was done again")]
    Duplicate { stream: String, seqs: Vec<u64> },
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
    /// The leader stores a snapshot of the state every this many journaled
    /// events (default 10,000), so a start replays at most about as many; 0:
    /// never (and a start replays the whole journal).
    pub snapshot_every: u64,
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
    /// The journal in a PostgreSQL database shared by several nodes, written
    /// by whichever holds the region's lease (`None`: the data directory's
    /// SQLite file, one node).
    pub cluster: Option<ClusterOptions>,
}

/// How a node of a cluster reaches the shared journal and leads its region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterOptions {
    /// `postgres://…` (its password is never printed).
    pub database_url: String,
    /// This node's name, unique in the cluster: the lease holder.
    pub node_id: String,
    /// How long a lease lives without renewal (default 3 s): how long a
    /// region waits for a new leader after its leader died.
    pub lease_ttl: Duration,
    /// How often the leader renews it, and a follower tries to take it
    /// (default 1 s).
    pub renew_every: Duration,
    /// Fan-out through Redis (`None`: followers read the journal on every tick).
    pub redis: Option<crate::RedisOptions>,
    /// Where this node answers HTTP (`http://host:port`), recorded with the
    /// lease while it leads, so that followers forward commands to it.
    pub advertise: Option<String>,
}

impl ClusterOptions {
    pub fn new(database_url: impl Into<String>, node_id: impl Into<String>) -> ClusterOptions {
        ClusterOptions {
            database_url: database_url.into(),
            node_id: node_id.into(),
            lease_ttl: Duration::from_secs(3),
            renew_every: Duration::from_secs(1),
            redis: None,
            advertise: None,
        }
    }
}

/// What this node is to its region, as it last knew.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NodeRole {
    /// This node's name (`"local"` for a single node on its data directory).
    pub node_id: String,
    /// True while it holds the region's lease and accepts commands.
    pub leader: bool,
    /// The lease term it leads in, or the last it saw (0 on a single node).
    pub term: u64,
    /// Who leads, as far as this node knows.
    pub leader_id: Option<String>,
    /// Where the leader answers HTTP, as it advertised (`None`: not known,
    /// or it did not say).
    pub leader_addr: Option<String>,
    /// The nodes serving the region, this one included, as they announced
    /// themselves within the last three lease TTLs (on a single node: itself).
    /// Clients are given their addresses to fail over to.
    pub nodes: Vec<ClusterNode>,
}

/// A node serving the region.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ClusterNode {
    /// Its node id.
    pub node_id: String,
    /// Where it answers HTTP, as it advertised (`None`: it did not say).
    pub addr: Option<String>,
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
            snapshot_every: 10_000,
            pre_arrival_every_s: 60,
            accept_broken_row: None,
            operator: "operator".into(),
            checkpoints: None,
            cluster: None,
        }
    }
}
