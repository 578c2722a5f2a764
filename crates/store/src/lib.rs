//! `satria-store`: the durable event journal of the Satria dispatch engine.
//!
//! Every accepted dispatch command produces events; they are written here, and
//! fsynced, before the command is acknowledged, and the engine rebuilds its
//! state from this journal on restart. The default backend is an embedded
//! SQLite file (WAL, `synchronous=FULL`), so no database server is needed.
//! A cluster keeps the same journal in PostgreSQL ([`PgJournal`], module
//! [`pg`]); [`EventStore`] is what both backends offer, and one conformance
//! suite (`tests/conformance.rs`) holds them to the same behaviour.
//!
//! Every row is hash-chained to the one before it (see [`chain`]), so
//! [`Journal::verify`] can point at the first row that was edited, deleted or
//! cut off after the fact; [`Journal::open_verified`] refuses to start on a
//! broken chain (from the last verified point, so start stays fast), and
//! signed [`checkpoint`]s anchor the chain against a cut tail with a rewritten
//! head.
//!
//! ```no_run
//! use satria_store::{Journal, NewEntry};
//! # fn main() -> Result<(), satria_store::StoreError> {
//! let mut j = Journal::open(std::path::Path::new("/var/lib/satria/journal"))?;
//! let stored = j.append(
//!     "region:banyumas",
//!     &[NewEntry::new("IncidentCreated", r#"{"id":1}"#, 1_700_000_000_000)],
//! )?;
//! // Durable now: acknowledge the command.
//! assert_eq!(stored[0].seq, j.last_seq("region:banyumas"));
//! # Ok(()) }
//! ```

mod backend;
pub mod chain;
pub mod checkpoint;
mod error;
mod integrity;
mod journal;
pub mod migrate;
pub mod pg;
mod schema;

pub use backend::EventStore;
pub use checkpoint::{AuditKey, Checkpoint, CheckpointSigner, parse_public_key};
/// An ed25519 public key that checkpoints are checked against.
pub use ed25519_dalek::VerifyingKey as PublicKey;
pub use error::StoreError;
pub use integrity::{
    AcceptedBreak, INTEGRITY_STREAM, IntegrityStatus, StartOptions, StartReport,
    acknowledge_breaks, integrity_status, read_checkpoints,
};
pub use journal::{
    BrokenRow, Entry, JOURNAL_FILE, Journal, JournalReader, NewEntry, Problem, VerifyReport,
};
pub use pg::PgJournal;
pub use schema::{APPLICATION_ID, LATEST_VERSION};

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_integrity;
