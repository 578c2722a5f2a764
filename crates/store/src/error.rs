//! Errors of the journal: one enum, each variant naming the journal file and
//! what is wrong, with no backend (SQLite) type in its public shape so that a
//! PostgreSQL backend can report through the same enum later.

use std::path::PathBuf;

/// Everything that can go wrong while opening, writing or reading a journal.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A filesystem operation outside the database engine failed (creating the
    /// directory, syncing the directory).
    #[error("journal {path}: {action}: {source}")]
    Io {
        /// The file or directory the operation was on.
        path: PathBuf,
        /// What was being done, e.g. "create directory".
        action: &'static str,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },

    /// Another `Journal` handle (in this or another process) appended to the
    /// file since this handle last wrote. Appending on top of a stale chain
    /// head would fork the chain, so this is refused: reopen to continue.
    #[error("journal {path} was written by another handle; reopen it before appending ({detail})")]
    Conflict {
        /// The journal file.
        path: PathBuf,
        /// The rows each side believes are last.
        detail: String,
    },

    /// The file exists but is not an SQLite database at all.
    #[error("{path} is not a Satria journal: the file is not an SQLite database")]
    NotADatabase {
        /// The journal file.
        path: PathBuf,
    },

    /// The file is an SQLite database that belongs to something else.
    #[error(
        "{path} is not a Satria journal: SQLite application_id is {application_id:#010x}, expected {expected:#010x}"
    )]
    ForeignDatabase {
        /// The journal file.
        path: PathBuf,
        /// The application id found in the file header.
        application_id: i32,
        /// The Satria journal's application id.
        expected: i32,
    },

    /// The journal was written by a newer Satria with a schema this build does
    /// not know; opening it could misread or damage it.
    #[error(
        "journal {path} has schema version {found}, newer than the {supported} this build supports; upgrade Satria"
    )]
    NewerSchema {
        /// The journal file.
        path: PathBuf,
        /// The schema version in the file.
        found: i64,
        /// The newest schema version this build knows.
        supported: i64,
    },

    /// The file is damaged or its contents contradict themselves.
    #[error("journal {path} is corrupt: {detail}")]
    Corrupt {
        /// The journal file.
        path: PathBuf,
        /// What was found to be wrong.
        detail: String,
    },

    /// The hash chain (or an anchor of it) does not check out: the engine must
    /// not start on it unless an operator accepts exactly this row.
    #[error("journal {path}: the hash chain is broken at {broken}")]
    ChainBroken {
        /// The journal file.
        path: PathBuf,
        /// The first row that does not check out.
        broken: Box<crate::BrokenRow>,
    },

    /// `--accept-broken-chain` named another row than the first broken one.
    #[error(
        "journal {path}: asked to accept a break at row {asked}, but the first broken row is {}: {broken}",
        broken.row
    )]
    WrongBreakAccepted {
        /// The journal file.
        path: PathBuf,
        /// The row the operator named.
        asked: u64,
        /// The first row that does not check out.
        broken: Box<crate::BrokenRow>,
    },

    /// `--accept-broken-chain` named a row, but the chain is intact and no
    /// break was accepted at that row before.
    #[error("journal {path}: asked to accept a break at row {row}, but the hash chain is intact")]
    NothingToAccept {
        /// The journal file.
        path: PathBuf,
        /// The row the operator named.
        row: u64,
    },

    /// The caller passed something the journal does not accept.
    #[error("invalid journal input: {detail}")]
    InvalidInput {
        /// What is wrong with the input.
        detail: String,
    },

    /// A commit failed in a way that leaves it unknown whether it reached the
    /// disk (e.g. fsync failed). The in-memory chain head can no longer be
    /// trusted, so every further call fails until the journal is reopened.
    #[error("journal {path} is unusable after a failed commit; reopen it: {detail}")]
    Poisoned {
        /// The journal file.
        path: PathBuf,
        /// The failure that poisoned it.
        detail: String,
    },

    /// The PostgreSQL server could not be reached or refused the connection.
    /// `url` is the address with its password removed.
    #[error("cannot reach the PostgreSQL journal at {url}: {detail}")]
    Unreachable {
        /// The database URL, without its password.
        url: String,
        /// What the connection attempt met.
        detail: String,
    },

    /// The PostgreSQL database holds tables that are not a Satria journal's.
    #[error("{path} is not a Satria database: {detail}")]
    ForeignSchema {
        /// The database URL, without its password.
        path: PathBuf,
        /// What was found instead.
        detail: String,
    },

    /// This writer's lease on the region was taken over (a higher term) or is
    /// gone: it must not write, and steps down.
    #[error(
        "the lease on region {region:?} is no longer held by {holder:?} in term {term} ({detail}); this node must not write"
    )]
    Fenced {
        /// The region whose stream was to be written.
        region: String,
        /// Who tried to write.
        holder: String,
        /// The term it believed it held.
        term: u64,
        /// Who holds it now, if anyone.
        detail: String,
    },

    /// An operation was refused before it changed anything (e.g. `satria
    /// migrate` into a database that holds other data).
    #[error("refused: {detail}")]
    Refused {
        /// Why.
        detail: String,
    },

    /// The storage backend reported an error not covered above.
    #[error("journal {path}: {action}: {source}")]
    Backend {
        /// The journal file.
        path: PathBuf,
        /// What was being done, e.g. "append".
        action: &'static str,
        /// The backend's own error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
}

impl StoreError {
    /// True when the failure says nothing about the data, only that the
    /// database could not be reached or answered: the command may be retried
    /// once it is back (a refusal the client should see as 503).
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Unreachable { .. } => true,
            StoreError::Backend { source, .. } => source
                .downcast_ref::<postgres::Error>()
                .is_some_and(|e| e.is_closed() || e.code().is_none()),
            _ => false,
        }
    }

    /// Wraps a SQLite error, recognising the codes that mean "not a database"
    /// or "corrupt" so the caller sees those plainly rather than as a generic
    /// backend failure.
    pub(crate) fn sqlite(path: &std::path::Path, action: &'static str, e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        if let rusqlite::Error::SqliteFailure(code, msg) = &e {
            match code.code {
                ErrorCode::NotADatabase => {
                    return StoreError::NotADatabase {
                        path: path.to_path_buf(),
                    };
                }
                ErrorCode::DatabaseCorrupt => {
                    return StoreError::Corrupt {
                        path: path.to_path_buf(),
                        detail: format!(
                            "{action}: SQLite reports corruption{}",
                            msg.as_deref().map(|m| format!(": {m}")).unwrap_or_default()
                        ),
                    };
                }
                _ => {}
            }
        }
        StoreError::Backend {
            path: path.to_path_buf(),
            action,
            source: Box::new(e),
        }
    }
}
