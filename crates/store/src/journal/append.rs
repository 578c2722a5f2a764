//! The one write path: validated entries, hash-chained against the in-memory
//! head, written in one IMMEDIATE transaction that first checks the file's head
//! is still this handle's, with a due checkpoint in the same commit.

use std::collections::HashMap;

use rusqlite::{OptionalExtension, TransactionBehavior, params};

use super::{Entry, Journal, NewEntry, db};
use crate::StoreError;
use crate::chain;

impl Journal {
    /// Appends `entries` to `stream` in one transaction. Their sequence numbers
    /// continue the stream (1, 2, 3, ...). When this returns `Ok`, the entries
    /// are on disk (fsynced). An empty slice is a no-op.
    pub fn append(&mut self, stream: &str, entries: &[NewEntry]) -> Result<Vec<Entry>, StoreError> {
        self.append_groups(&[(stream, entries)])
    }

    /// Appends several streams' (or several commands') entries in ONE
    /// transaction and so ONE fsync: either all of them are durable or none.
    /// The same stream may appear more than once; its sequence numbers keep
    /// counting in batch order. Returns the stored entries in append order.
    ///
    /// Takes `Vec<NewEntry>`, slices or arrays per stream alike.
    pub fn append_batch<E: AsRef<[NewEntry]>>(
        &mut self,
        batch: &[(&str, E)],
    ) -> Result<Vec<Entry>, StoreError> {
        let groups: Vec<(&str, &[NewEntry])> =
            batch.iter().map(|(s, e)| (*s, e.as_ref())).collect();
        self.append_groups(&groups)
    }

    fn append_groups(&mut self, groups: &[(&str, &[NewEntry])]) -> Result<Vec<Entry>, StoreError> {
        self.check_usable()?;
        // Validate everything before touching the file so a bad entry cannot
        // leave half a batch behind (the transaction would roll back anyway,
        // but this gives a clear error naming the entry).
        for (stream, entries) in groups {
            validate_stream(stream)?;
            for (i, e) in entries.iter().enumerate() {
                validate_entry(stream, i, e)?;
            }
        }
        let total: usize = groups.iter().map(|(_, e)| e.len()).sum();
        if total == 0 {
            return Ok(Vec::new());
        }

        // Compute the new rows against a copy of the head; the in-memory state
        // is only advanced after COMMIT succeeded.
        let mut row = self.last_row;
        let mut hash = self.last_hash;
        let mut seqs: HashMap<&str, u64> = HashMap::new();
        let mut out = Vec::with_capacity(total);
        for (stream, entries) in groups {
            for e in entries.iter() {
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
        let newest_at = out.iter().map(|e| e.recorded_at_ms).max().unwrap_or(0);
        let checkpoint = self.due_checkpoint(row, &hash, newest_at);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db(&self.path, "begin append"))?;
        {
            // Another handle may have appended since we last wrote; writing on
            // top of our stale head would fork the chain. The IMMEDIATE
            // transaction holds the write lock, so this check cannot race.
            let head: Option<(u64, String)> = tx
                .prepare_cached("SELECT row, hash FROM chain_head WHERE id = 1")
                .and_then(|mut st| st.query_row([], |r| Ok((r.get(0)?, r.get(1)?))).optional())
                .map_err(db(&self.path, "read chain head"))?;
            let ours = (self.last_row > 0).then(|| (self.last_row, chain::to_hex(&self.last_hash)));
            if head != ours {
                return Err(StoreError::Conflict {
                    path: self.path.clone(),
                    detail: format!(
                        "this handle's last row is {}, the file's is {}",
                        self.last_row,
                        head.map_or(0, |h| h.0)
                    ),
                });
            }
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO entries (row, stream, seq, kind, payload, recorded_at_ms, hash)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .map_err(db(&self.path, "prepare append"))?;
            for e in &out {
                insert
                    .execute(params![
                        e.row,
                        e.stream,
                        e.seq,
                        e.kind,
                        e.payload,
                        e.recorded_at_ms,
                        e.hash
                    ])
                    .map_err(db(&self.path, "append"))?;
            }
            tx.prepare_cached(
                "INSERT INTO chain_head (id, row, hash) VALUES (1, ?1, ?2)
                 ON CONFLICT (id) DO UPDATE SET row = excluded.row, hash = excluded.hash",
            )
            .and_then(|mut s| s.execute(params![row, chain::to_hex(&hash)]))
            .map_err(db(&self.path, "update chain head"))?;
            if let Some(cp) = &checkpoint {
                crate::integrity::insert_checkpoint(&tx, &self.path, cp)?;
            }
        }
        // Errors before this point roll the transaction back (on drop) and
        // leave both file and memory as they were. A failed COMMIT is
        // different: the fsync may or may not have happened, so poison.
        if let Err(e) = tx.commit() {
            let err = StoreError::sqlite(&self.path, "commit append", e);
            self.poisoned = Some(err.to_string());
            return Err(err);
        }

        self.last_row = row;
        self.last_hash = hash;
        if let Some(cp) = checkpoint {
            self.last_checkpoint = (cp.row, cp.at_ms);
        }
        for (stream, seq) in seqs {
            self.last_seq.insert(stream.to_owned(), seq);
        }
        Ok(out)
    }
}

pub(crate) fn validate_stream(stream: &str) -> Result<(), StoreError> {
    if stream.is_empty() {
        return Err(StoreError::InvalidInput {
            detail: "stream name is empty".into(),
        });
    }
    Ok(())
}

pub(crate) fn validate_entry(stream: &str, index: usize, e: &NewEntry) -> Result<(), StoreError> {
    if e.kind.is_empty() {
        return Err(StoreError::InvalidInput {
            detail: format!("entry {index} for stream {stream:?} has an empty kind"),
        });
    }
    // Checked here so the embedded and a future PostgreSQL (jsonb) backend
    // accept exactly the same input. IgnoredAny parses without building a tree.
    if let Err(err) = serde_json::from_str::<serde::de::IgnoredAny>(&e.payload) {
        return Err(StoreError::InvalidInput {
            detail: format!(
                "entry {index} ({:?}) for stream {stream:?}: payload is not JSON: {err}",
                e.kind
            ),
        });
    }
    Ok(())
}
