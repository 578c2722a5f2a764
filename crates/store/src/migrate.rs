//! Copying a centre's SQLite journal into PostgreSQL (`satria migrate`): the
//! source chain verified first, the rows copied in batches (each its own
//! transaction, so a stopped copy resumes at the target's head), the signed
//! checkpoints after them, and the target verified again at the end. A target
//! that holds anything but a prefix of this source is refused.

use std::path::Path;

use crate::{Journal, JournalReader, PgJournal, StoreError};

/// What a copy did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrateReport {
    /// Rows in the source (and now in the target).
    pub rows: u64,
    /// Rows the target already held (copied by an earlier run).
    pub resumed_from: u64,
    /// Signed checkpoints in the target after the copy.
    pub checkpoints: u64,
    /// The chain head, the same on both sides.
    pub head: String,
}

/// Copies the journal in `dir` into the PostgreSQL database at `url`, `batch`
/// rows per transaction; `progress(copied, total)` after each batch.
pub fn sqlite_to_postgres(
    dir: &Path,
    url: &str,
    batch: usize,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<MigrateReport, StoreError> {
    let refused = |detail: String| StoreError::Refused { detail };
    let before = Journal::verify_dir(dir)?;
    if let Some(broken) = before.first_broken {
        return Err(StoreError::ChainBroken {
            path: dir.join(crate::JOURNAL_FILE),
            broken: Box::new(broken),
        });
    }
    if let Some(a) = before.accepted.first() {
        return Err(refused(format!(
            "the source journal carries a break accepted at row {} ({}); a copy would not verify on its own. Keep this journal on SQLite",
            a.row, a.problem
        )));
    }
    let reader = JournalReader::open(dir)?;
    let total = reader.last_row()?;
    let mut target = PgJournal::open(url)?;
    let resumed_from = target.last_row();
    if resumed_from > total {
        return Err(refused(format!(
            "the target {} holds {resumed_from} journal rows, the source only {total}: it holds other data",
            target.url()
        )));
    }
    // The source's hash at `row` (row 0: the genesis).
    let hash_at = |row: u64| -> Result<String, StoreError> {
        Ok(reader
            .read_rows(row.saturating_sub(1), 1)?
            .into_iter()
            .find(|e| e.row == row)
            .map_or_else(|| "0".repeat(64), |e| e.hash))
    };
    if resumed_from > 0 && hash_at(resumed_from)? != target.head_hash() {
        return Err(refused(format!(
            "the target {} holds other data: its row {resumed_from} (hash {}) is not this journal's",
            target.url(),
            target.head_hash()
        )));
    }
    let mut copied = resumed_from;
    progress(copied, total);
    while copied < total {
        let rows = reader.read_rows(copied, batch.max(1))?;
        let Some(last) = rows.last() else { break };
        let last = last.row;
        target.import_rows(&rows)?;
        copied = last;
        progress(copied, total);
    }
    let checkpoints = crate::read_checkpoints(dir)?;
    target.import_checkpoints(&checkpoints)?;
    let after = target.verify_with(None, &checkpoints)?;
    if let Some(broken) = after.first_broken {
        return Err(StoreError::ChainBroken {
            path: target.url().into(),
            broken: Box::new(broken),
        });
    }
    let source_head = hash_at(total)?;
    if after.rows != total || target.head_hash() != source_head {
        return Err(refused(format!(
            "after the copy the target holds {} rows with head {}, the source {total} with head {source_head}",
            after.rows,
            target.head_hash()
        )));
    }
    Ok(MigrateReport {
        rows: total,
        resumed_from,
        checkpoints: after.checkpoints,
        head: source_head,
    })
}
