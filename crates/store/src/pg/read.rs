//! Reading entries back, snapshots, and the chain walk (with the SQLite
//! journal's rules, `integrity::check_row` and `integrity::head_problem`).

use std::collections::HashMap;

use postgres::Row;

use super::{PgJournal, pg};
use crate::checkpoint::Checkpoint;
use crate::integrity::{Cursor, check_against, check_row, head_problem};
use crate::journal::validate_stream;
use crate::{BrokenRow, Entry, StoreError, VerifyReport};
use ed25519_dalek::VerifyingKey;

/// How many snapshots per stream are kept (as on SQLite).
const SNAPSHOTS_KEPT: i64 = 2;

/// Rows read per round trip by the walk.
const WALK_PAGE: i64 = 10_000;

fn entry(r: &Row) -> Entry {
    Entry {
        row: r.get::<_, i64>(0) as u64,
        stream: r.get(1),
        seq: r.get::<_, i64>(2) as u64,
        kind: r.get(3),
        payload: r.get(4),
        recorded_at_ms: r.get(5),
        hash: r.get(6),
    }
}

fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl PgJournal {
    /// Up to `limit` entries of `stream` with `seq > after_seq`, in order.
    pub fn read_since(
        &self,
        stream: &str,
        after_seq: u64,
        limit_n: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        self.check_usable()?;
        let path = self.location();
        let rows = self
            .client
            .borrow_mut()
            .query(
                "SELECT row, stream, seq, kind, payload, recorded_at_ms, hash FROM entries
                 WHERE stream = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                &[
                    &stream,
                    &(after_seq.min(i64::MAX as u64) as i64),
                    &limit(limit_n),
                ],
            )
            .map_err(pg(&path, "read"))?;
        Ok(rows.iter().map(entry).collect())
    }

    /// Every entry of `stream`, in order.
    pub fn read_all(&self, stream: &str) -> Result<Vec<Entry>, StoreError> {
        self.read_since(stream, 0, usize::MAX)
    }

    /// Up to `limit` entries of all streams with `row > after_row`, in order.
    pub fn read_rows(&self, after_row: u64, limit_n: usize) -> Result<Vec<Entry>, StoreError> {
        self.check_usable()?;
        let path = self.location();
        let rows = self
            .client
            .borrow_mut()
            .query(
                "SELECT row, stream, seq, kind, payload, recorded_at_ms, hash FROM entries
                 WHERE row > $1 ORDER BY row LIMIT $2",
                &[&(after_row.min(i64::MAX as u64) as i64), &limit(limit_n)],
            )
            .map_err(pg(&path, "read"))?;
        Ok(rows.iter().map(entry).collect())
    }

    /// Stores a snapshot of `stream` as of `seq` (already in the journal);
    /// keeps the newest two per stream.
    pub fn save_snapshot(&mut self, stream: &str, seq: u64, data: &[u8]) -> Result<(), StoreError> {
        self.check_usable()?;
        validate_stream(stream)?;
        let last = self.last_seq(stream);
        if seq == 0 || seq > last {
            return Err(StoreError::InvalidInput {
                detail: format!(
                    "snapshot of stream {stream:?} at seq {seq}, but the stream's entries are 1..={last}"
                ),
            });
        }
        let path = self.location();
        let mut client = self.client.borrow_mut();
        let mut tx = client.transaction().map_err(pg(&path, "begin snapshot"))?;
        tx.execute(
            "INSERT INTO snapshots (stream, seq, data) VALUES ($1, $2, $3)
             ON CONFLICT (stream, seq) DO UPDATE SET data = excluded.data",
            &[&stream, &(seq as i64), &data],
        )
        .map_err(pg(&path, "save snapshot"))?;
        tx.execute(
            "DELETE FROM snapshots WHERE stream = $1 AND seq NOT IN
               (SELECT seq FROM snapshots WHERE stream = $1 ORDER BY seq DESC LIMIT $2)",
            &[&stream, &SNAPSHOTS_KEPT],
        )
        .map_err(pg(&path, "prune snapshots"))?;
        tx.commit().map_err(pg(&path, "commit snapshot"))
    }

    /// The newest snapshot of `stream` as `(seq, data)`, if any.
    pub fn latest_snapshot(&self, stream: &str) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        self.check_usable()?;
        let path = self.location();
        Ok(self
            .client
            .borrow_mut()
            .query_opt(
                "SELECT seq, data FROM snapshots WHERE stream = $1 ORDER BY seq DESC LIMIT 1",
                &[&stream],
            )
            .map_err(pg(&path, "read snapshot"))?
            .map(|r| (r.get::<_, i64>(0) as u64, r.get(1))))
    }

    /// Walks the whole journal in global order with the same rules as the
    /// SQLite journal's walk (row and seq contiguity, the hash chain, the
    /// recorded head), reading the database, not this handle's memory, and
    /// checks the signed checkpoints stored with it.
    pub fn verify(&self) -> Result<VerifyReport, StoreError> {
        self.verify_with(None, &[])
    }

    /// [`PgJournal::verify`], requiring every checkpoint to be signed by `key`
    /// when given, and checking `exported` checkpoints against the rows too.
    pub fn verify_with(
        &self,
        key: Option<&VerifyingKey>,
        exported: &[Checkpoint],
    ) -> Result<VerifyReport, StoreError> {
        self.check_usable()?;
        let path = self.location();
        let mut client = self.client.borrow_mut();
        // One snapshot of the database for the whole walk, so rows appended by
        // a running node meanwhile cannot look like a head mismatch.
        let mut tx = client
            .build_transaction()
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .map_err(pg(&path, "begin verify"))?;
        let walked = walk(&mut tx, &path)?;
        let stored: Vec<Checkpoint> = tx
            .query(
                "SELECT row, hash, at_ms, public_key, signature FROM checkpoints ORDER BY row",
                &[],
            )
            .map_err(pg(&path, "read checkpoints"))?
            .iter()
            .map(super::signing::checkpoint)
            .collect();
        let last: i64 = tx
            .query_one("SELECT coalesce(max(row), 0) FROM entries", &[])
            .map_err(pg(&path, "read last row"))?
            .get(0);
        let mut first = walked.1;
        for (list, source) in [(&stored[..], "journal"), (exported, "exported")] {
            let found = check_against(
                list,
                source,
                key,
                &mut |row| {
                    Ok(tx
                        .query_opt(
                            "SELECT stream, seq, hash FROM entries WHERE row = $1",
                            &[&(row.min(i64::MAX as u64) as i64)],
                        )
                        .map_err(pg(&path, "read row"))?
                        .map(|r| (r.get(0), r.get::<_, i64>(1) as u64, r.get(2))))
                },
                &mut || Ok(last as u64),
            )?;
            if let Some(b) = found
                && first.as_ref().is_none_or(|f| b.row < f.row)
            {
                first = Some(b);
            }
        }
        Ok(VerifyReport {
            rows: walked.0,
            first_broken: first,
            checkpoints: (stored.len() + exported.len()) as u64,
            accepted: Vec::new(),
        })
    }
}

/// The chain walk from row 1: how many rows were read, and the first broken one.
fn walk(
    tx: &mut postgres::Transaction<'_>,
    path: &std::path::Path,
) -> Result<(u64, Option<BrokenRow>), StoreError> {
    let mut cur = Cursor::genesis();
    let mut seqs: HashMap<String, u64> = HashMap::new();
    let mut rows = 0u64;
    loop {
        let page = tx
            .query(
                "SELECT row, stream, seq, kind, payload, recorded_at_ms, hash FROM entries
                 WHERE row > $1 ORDER BY row LIMIT $2",
                &[&(cur.after as i64), &WALK_PAGE],
            )
            .map_err(pg(path, "verify"))?;
        if page.is_empty() {
            break;
        }
        for r in &page {
            let e = entry(r);
            rows += 1;
            let expected = seqs.get(&e.stream).map_or(1, |s| s + 1);
            if let Err(problem) = check_row(&mut cur, expected, &e) {
                let broken = BrokenRow {
                    row: e.row,
                    stream: e.stream,
                    seq: e.seq,
                    problem,
                };
                return Ok((rows, Some(broken)));
            }
            seqs.insert(e.stream, e.seq);
        }
    }
    let head = tx
        .query_opt("SELECT row, hash FROM chain_head WHERE id = 1", &[])
        .map_err(pg(path, "read chain head"))?
        .map(|r| (r.get::<_, i64>(0) as u64, r.get::<_, String>(1)));
    Ok((rows, head_problem(head, &cur)))
}
