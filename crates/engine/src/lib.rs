//! The dispatch engine: the one owner of a region's dispatch state.
//!
//! One OS thread (the actor) owns the [`Dispatch`](satria_dispatch::Dispatch) state, the
//! journal and a road search; everyone else talks to it through a bounded channel. That
//! single writer is what makes "choose the best ambulance and mark it assigned"
//! race-free by construction. For each command the actor decides the events, writes
//! them to the journal (durable: fsynced) and only then replies and broadcasts them,
//! each with its per-region sequence number. Commands that arrive together are
//! journaled in one transaction (group commit).
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
//!
//! The parts: [`Engine`] (`handle.rs`) is what callers hold; `actor.rs` is the thread
//! that owns the state, its batches and group commit; `ticker.rs` wakes it for
//! deadlines; `journal.rs` turns events into journal entries and back; `options.rs`
//! says how to start an engine and why it refuses; `published.rs` is what subscribers
//! receive.

mod actor;
mod answers;
mod fanout;
mod handle;
mod journal;
mod lead;
mod options;
mod published;
mod roads_adapter;
mod snapshots;
mod stats;
mod ticker;

pub use actor::archive_stream_of;
pub use answers::ClientTag;
pub use fanout::RedisOptions;
pub use handle::{Engine, register_command};
pub use options::{ClusterNode, ClusterOptions, EngineError, EngineOptions, NodeRole};
pub use published::Published;
pub use roads_adapter::RoadDriveTimes;
pub use snapshots::Restored;
pub use stats::ClusterStats;

/// Where time comes from: the system clock in service, a hand-held one in
/// tests, drills and simulations (the one `Clock` of every crate).
pub use satria_calendar::Clock;
