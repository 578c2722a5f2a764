//! [`PgJournal`]: the journal on PostgreSQL, for a cluster of `satria serve`
//! nodes sharing one database.
//!
//! The rows, the chain and the checks are the SQLite journal's (same columns,
//! same [`crate::chain`] hash, same walk rules in `integrity::walk`), so a
//! journal copied from SQLite verifies unchanged. What differs, and why:
//! - **Durability:** every session runs with `synchronous_commit = on`, so
//!   `COMMIT` returns once the WAL record is flushed (and, with a synchronous
//!   standby configured on the server, replicated). An append is durable when
//!   it returns, as on SQLite.
//! - **Several writers:** nodes leading different regions write the same
//!   chain. Each append locks the chain head row (`FOR UPDATE`) and chains
//!   from what it reads there, not from a cached head, so appends of
//!   different nodes serialise into one chain instead of forking it.
//! - **Fencing:** a handle that holds a region's lease ([`PgJournal::try_acquire_lease`])
//!   checks, in the same transaction as every append, that the lease row
//!   still names it with its term (`FOR SHARE`, so a takeover waits for the
//!   append to commit, and the append sees any takeover that committed first).
//!   A writer that was paused past its lease and woke after a takeover gets
//!   [`StoreError::Fenced`] and writes nothing.
//! - **Times of leases** are the database's `clock_timestamp()`, never a
//!   node's clock, so clock skew between nodes cannot make two leaders.
//! - **Payloads are `text`, not `jsonb`:** `jsonb` re-orders keys and drops
//!   whitespace, and the hash covers the exact bytes.
//!
//! By concern: `connect` (URLs, timeouts, session settings), `schema`
//! (versioned migrations), `append`, `read` (entries, snapshots, the walk),
//! `lease`, and `testing` (a fresh database per test).

mod append;
mod connect;
mod import;
mod lease;
mod read;
mod schema;
mod signing;
#[cfg(feature = "test-support")]
pub mod testing;

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;

use postgres::Client;

use crate::StoreError;
use crate::chain::{self, ChainHash, GENESIS};

pub use connect::{connect, redact};
pub use lease::{Lease, LeaseHolder, NodeSeen};
pub use schema::LATEST_PG_VERSION;

/// The region lease this handle writes under (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fence {
    pub region: String,
    pub holder: String,
    pub term: u64,
    pub ttl_ms: i64,
}

/// An open PostgreSQL journal: one connection, used from one thread.
pub struct PgJournal {
    client: RefCell<Client>,
    /// The URL without its password: what every error names.
    url: String,
    last_row: u64,
    last_hash: ChainHash,
    last_seq: HashMap<String, u64>,
    poisoned: Option<String>,
    fence: Option<Fence>,
    /// Signs the chain head into checkpoints (see `signing.rs`).
    signer: Option<crate::CheckpointSigner>,
}

impl std::fmt::Debug for PgJournal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgJournal")
            .field("url", &self.url)
            .field("last_row", &self.last_row)
            .field("fence", &self.fence)
            .finish_non_exhaustive()
    }
}

impl PgJournal {
    /// A handle on `client`, knowing nothing of the journal yet.
    fn handle(client: Client, shown: String) -> PgJournal {
        PgJournal {
            client: RefCell::new(client),
            url: shown,
            last_row: 0,
            last_hash: GENESIS,
            last_seq: HashMap::new(),
            poisoned: None,
            fence: None,
            signer: None,
        }
    }

    /// Connects to `url` (refusing within a few seconds when nobody answers),
    /// checks that the database is a Satria database or empty, brings its
    /// schema up to date, and loads the chain head and the streams' seqs.
    /// Refuses a database whose recorded chain head disagrees with its last
    /// row, as [`crate::Journal::open`] does.
    pub fn open(url: &str) -> Result<PgJournal, StoreError> {
        let mut client = connect::connect(url)?;
        let shown = redact(url);
        schema::prepare(&mut client, &shown)?;
        let mut j = PgJournal::handle(client, shown);
        j.load_state()?;
        Ok(j)
    }

    /// Verifies the journal at `url` without creating or migrating anything:
    /// `satria audit verify --database URL`.
    pub fn verify_url(
        url: &str,
        key: Option<&crate::PublicKey>,
        exported: &[crate::Checkpoint],
    ) -> Result<crate::VerifyReport, StoreError> {
        let mut client = connect::connect(url)?;
        let shown = redact(url);
        schema::check_read_only(&mut client, &shown)?;
        PgJournal::handle(client, shown).verify_with(key, exported)
    }

    /// A read-only handle on the journal at `url` (a console's replay reads):
    /// connects and checks the schema, but creates and migrates nothing, and
    /// loads no head (its reads go to the database each time; a scan of every
    /// stream's last seq would cost a full pass over a large journal).
    pub fn open_reader(url: &str) -> Result<PgJournal, StoreError> {
        let mut client = connect::connect(url)?;
        let shown = redact(url);
        schema::check_read_only(&mut client, &shown)?;
        Ok(PgJournal::handle(client, shown))
    }

    /// The database URL without its password.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Number of rows in the journal, as of this handle's last read or write.
    pub fn last_row(&self) -> u64 {
        self.last_row
    }

    /// Hex chain hash of the last row this handle knows.
    pub fn head_hash(&self) -> String {
        chain::to_hex(&self.last_hash)
    }

    /// Last sequence number of `stream` this handle knows (0 if none).
    pub fn last_seq(&self, stream: &str) -> u64 {
        self.last_seq.get(stream).copied().unwrap_or(0)
    }

    /// The last seq of `stream` in the database now (one index lookup),
    /// whatever this handle wrote or read.
    pub fn stream_head(&self, stream: &str) -> Result<u64, StoreError> {
        let path = self.location();
        let row = self
            .client
            .borrow_mut()
            .query_one(
                "SELECT coalesce(max(seq), 0) FROM entries WHERE stream = $1",
                &[&stream],
            )
            .map_err(pg(&path, "read a stream's last seq"))?;
        Ok(row.get::<_, i64>(0) as u64)
    }

    /// Names of all streams that have entries, sorted.
    pub fn streams(&self) -> Vec<String> {
        let mut v: Vec<String> = self.last_seq.keys().cloned().collect();
        v.sort();
        v
    }

    fn location(&self) -> PathBuf {
        PathBuf::from(&self.url)
    }

    fn check_usable(&self) -> Result<(), StoreError> {
        match &self.poisoned {
            Some(detail) => Err(StoreError::Poisoned {
                path: self.location(),
                detail: detail.clone(),
            }),
            None => Ok(()),
        }
    }

    /// Re-reads the chain head and every stream's last seq from the database
    /// (after another node wrote, or at open), cross-checking the recorded
    /// head against the last row.
    pub fn load_state(&mut self) -> Result<(), StoreError> {
        self.check_usable()?;
        let path = self.location();
        // One snapshot for the three reads: another node appending between
        // them would otherwise show a head past the last row read, a
        // corruption that is not there.
        let mut client = self
            .client
            .get_mut()
            .build_transaction()
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .map_err(pg(&path, "begin reading the chain head"))?;
        let last = client
            .query_opt(
                "SELECT row, hash FROM entries ORDER BY row DESC LIMIT 1",
                &[],
            )
            .map_err(pg(&path, "read last row"))?
            .map(|r| (r.get::<_, i64>(0) as u64, r.get::<_, String>(1)));
        let head = client
            .query_opt("SELECT row, hash FROM chain_head WHERE id = 1", &[])
            .map_err(pg(&path, "read chain head"))?
            .map(|r| (r.get::<_, i64>(0) as u64, r.get::<_, String>(1)));
        if last != head {
            return Err(StoreError::Corrupt {
                path,
                detail: format!(
                    "recorded chain head {:?} does not match the last row {:?}; run audit verify",
                    head.as_ref().map(|h| h.0),
                    last.as_ref().map(|l| l.0)
                ),
            });
        }
        let mut seqs = HashMap::new();
        for r in client
            .query("SELECT stream, max(seq) FROM entries GROUP BY stream", &[])
            .map_err(pg(&path, "read streams"))?
        {
            seqs.insert(r.get::<_, String>(0), r.get::<_, i64>(1) as u64);
        }
        client
            .commit()
            .map_err(pg(&path, "end reading the chain head"))?;
        match last {
            Some((row, hash)) => {
                self.last_hash = chain::from_hex(&hash).ok_or_else(|| StoreError::Corrupt {
                    path: path.clone(),
                    detail: format!("row {row} has a malformed hash {hash:?}"),
                })?;
                self.last_row = row;
            }
            None => {
                self.last_row = 0;
                self.last_hash = GENESIS;
            }
        }
        self.last_seq = seqs;
        Ok(())
    }
}

/// Maps a PostgreSQL error to a [`StoreError`] naming the database and the action.
pub(crate) fn pg<'a>(
    path: &'a std::path::Path,
    action: &'static str,
) -> impl FnOnce(postgres::Error) -> StoreError + 'a {
    move |e| StoreError::Backend {
        path: path.to_path_buf(),
        action,
        source: Box::new(e),
    }
}
