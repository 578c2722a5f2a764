//! The one write path on PostgreSQL: validated entries, the fence checked and
//! the chain head locked in the same transaction, the rows chained from the
//! head found there and inserted in one statement.

use std::collections::HashMap;

use postgres::Transaction;

use super::{PgJournal, pg};
use crate::chain;
use crate::journal::{validate_entry, validate_stream};
use crate::{Entry, NewEntry, StoreError};

impl PgJournal {
    /// Appends `entries` to `stream` in one transaction (see [`PgJournal::append_batch`]).
    pub fn append(&mut self, stream: &str, entries: &[NewEntry]) -> Result<Vec<Entry>, StoreError> {
        self.append_batch(&[(stream, entries)])
    }

    /// Appends several groups in ONE transaction: all durable (committed with
    /// `synchronous_commit = on`) or none. When this handle holds a lease, the
    /// lease must still be its own in the same transaction, or nothing is
    /// written ([`StoreError::Fenced`]).
    pub fn append_batch<E: AsRef<[NewEntry]>>(
        &mut self,
        batch: &[(&str, E)],
    ) -> Result<Vec<Entry>, StoreError> {
        self.check_usable()?;
        for (stream, entries) in batch {
            validate_stream(stream)?;
            for (i, e) in entries.as_ref().iter().enumerate() {
                validate_entry(stream, i, e)?;
            }
        }
        let total: usize = batch.iter().map(|(_, e)| e.as_ref().len()).sum();
        if total == 0 {
            return Ok(Vec::new());
        }
        let path = self.location();
        let fence = self.fence.clone();
        let client = self.client.get_mut();
        let mut tx = client.transaction().map_err(pg(&path, "begin append"))?;
        if let Some(f) = &fence {
            let holder = tx
                .query_opt(
                    "SELECT holder, term FROM leases WHERE region = $1 FOR SHARE",
                    &[&f.region],
                )
                .map_err(pg(&path, "check the lease"))?
                .map(|r| (r.get::<_, String>(0), r.get::<_, i64>(1) as u64));
            if holder.as_ref() != Some(&(f.holder.clone(), f.term)) {
                return Err(StoreError::Fenced {
                    region: f.region.clone(),
                    holder: f.holder.clone(),
                    term: f.term,
                    detail: match holder {
                        Some((h, t)) => format!("{h:?} holds it in term {t}"),
                        None => "no lease row".into(),
                    },
                });
            }
        }
        // The head as committed, locked until this transaction ends: another
        // node's append waits here and then chains after this one.
        let head = tx
            .query_opt(
                "SELECT row, hash FROM chain_head WHERE id = 1 FOR UPDATE",
                &[],
            )
            .map_err(pg(&path, "lock the chain head"))?
            .map(|r| (r.get::<_, i64>(0) as u64, r.get::<_, String>(1)));
        let (mut row, mut hash) = match &head {
            None => (0, chain::GENESIS),
            Some((row, hex)) => (
                *row,
                chain::from_hex(hex).ok_or_else(|| StoreError::Corrupt {
                    path: path.clone(),
                    detail: format!("the chain head has a malformed hash {hex:?}"),
                })?,
            ),
        };
        // Streams' seqs: ours are exact unless somebody else wrote since.
        let mut seqs: HashMap<&str, u64> = HashMap::new();
        if row != self.last_row || hash != self.last_hash {
            let names: Vec<&str> = batch.iter().map(|(s, _)| *s).collect();
            for r in tx
                .query(
                    "SELECT stream, max(seq) FROM entries WHERE stream = ANY($1) GROUP BY stream",
                    &[&names],
                )
                .map_err(pg(&path, "read streams"))?
            {
                let name: String = r.get(0);
                let seq = r.get::<_, i64>(1) as u64;
                if let Some(n) = names.iter().find(|n| **n == name) {
                    seqs.insert(n, seq);
                }
            }
            for n in names {
                seqs.entry(n).or_insert(0);
            }
        }
        let mut out = Vec::with_capacity(total);
        for (stream, entries) in batch {
            for e in entries.as_ref() {
                let seq = seqs
                    .entry(stream)
                    .or_insert_with(|| self.last_seq.get(*stream).copied().unwrap_or(0));
                *seq += 1;
                row += 1;
                hash = chain::row_hash(&hash, stream, *seq, &e.kind, e.recorded_at_ms, &e.payload);
                out.push(Entry {
                    row,
                    stream: (*stream).to_owned(),
                    seq: *seq,
                    kind: e.kind.clone(),
                    payload: e.payload.clone(),
                    recorded_at_ms: e.recorded_at_ms,
                    hash: chain::to_hex(&hash),
                });
            }
        }
        insert_rows(&mut tx, &path, &out, row, &hash)?;
        commit_or_poison(tx, &mut self.poisoned, &path, "commit append")?;
        self.last_row = row;
        self.last_hash = hash;
        for (stream, seq) in seqs {
            self.last_seq.insert(stream.to_owned(), seq);
        }
        Ok(out)
    }
}

/// Inserts `rows` (chained, numbered) in one statement and moves the chain
/// head to `head_row`/`head_hash`, inside the caller's transaction: the one
/// write of rows that appends and imports share.
pub(super) fn insert_rows(
    tx: &mut Transaction<'_>,
    path: &std::path::Path,
    rows: &[Entry],
    head_row: u64,
    head_hash: &[u8; 32],
) -> Result<(), StoreError> {
    let col = |f: fn(&Entry) -> i64| rows.iter().map(f).collect::<Vec<i64>>();
    let text = |f: fn(&Entry) -> &str| rows.iter().map(f).collect::<Vec<&str>>();
    tx.execute(
        "INSERT INTO entries (row, stream, seq, kind, payload, recorded_at_ms, hash)
         SELECT * FROM unnest($1::int8[], $2::text[], $3::int8[], $4::text[], $5::text[], $6::int8[], $7::text[])",
        &[
            &col(|e| e.row as i64),
            &text(|e| &e.stream),
            &col(|e| e.seq as i64),
            &text(|e| &e.kind),
            &text(|e| &e.payload),
            &col(|e| e.recorded_at_ms),
            &text(|e| &e.hash),
        ],
    )
    .map_err(pg(path, "insert rows"))?;
    tx.execute(
        "INSERT INTO chain_head (id, row, hash) VALUES (1, $1, $2)
         ON CONFLICT (id) DO UPDATE SET row = excluded.row, hash = excluded.hash",
        &[&(head_row as i64), &chain::to_hex(head_hash)],
    )
    .map_err(pg(path, "update chain head"))?;
    Ok(())
}

/// Commits `tx`. Errors before COMMIT roll back and leave database and memory
/// as they were; a failed COMMIT has an unknown outcome, so it poisons the
/// handle (`poisoned`), which must be reopened.
pub(super) fn commit_or_poison(
    tx: Transaction<'_>,
    poisoned: &mut Option<String>,
    path: &std::path::Path,
    what: &'static str,
) -> Result<(), StoreError> {
    tx.commit().map_err(|e| {
        let err = pg(path, what)(e);
        *poisoned = Some(err.to_string());
        err
    })
}
