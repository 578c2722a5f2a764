//! The journal: every accepted command's events, written durably before the command is
//! acknowledged, in an embedded SQLite database (WAL mode, `synchronous=FULL`), each row
//! hash-chained to the one before so that no one can rewrite history unnoticed.
//!
//! Invariants: append-only (there is no update or delete); per-stream sequence numbers
//! start at 1 and have no gaps; `append` returns only after the transaction is committed
//! and synced to disk; row hashes chain over the global row order. The public API uses
//! plain types only, so a PostgreSQL backend can sit behind the same shape when one
//! machine is outgrown.

use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// An entry to append.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEntry {
    /// Event type, e.g. `unit_assigned`.
    pub kind: String,
    /// The event as JSON text.
    pub payload: String,
    /// Server time of the event, ms since the Unix epoch.
    pub recorded_at_ms: i64,
}

/// A journaled entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Global order of the row.
    pub row: u64,
    pub stream: String,
    /// Order within the stream, from 1, without gaps.
    pub seq: u64,
    pub kind: String,
    pub payload: String,
    pub recorded_at_ms: i64,
    /// SHA-256 of the previous row's hash and this row, hex.
    pub hash: String,
}

/// A problem with the journal file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {source}")]
    Sqlite {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error("{path}: {why}")]
    Invalid { path: String, why: String },
    #[error("{path}: cannot create the data folder: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// The first row of the chain that does not verify.
#[derive(Debug, Clone, PartialEq)]
pub struct BrokenRow {
    pub row: u64,
    pub stream: String,
    pub seq: u64,
    pub why: String,
}

/// The result of [`Journal::verify`].
#[derive(Debug, Clone, PartialEq)]
pub struct VerifyReport {
    pub rows: u64,
    pub first_broken: Option<BrokenRow>,
}

/// `PRAGMA application_id` of a Satria journal ("SATR").
const APPLICATION_ID: i64 = 0x5341_5452;
/// Schema migrations, applied in order; `PRAGMA user_version` says how many ran.
const MIGRATIONS: &[&str] = &["CREATE TABLE journal (
        row INTEGER PRIMARY KEY,
        stream TEXT NOT NULL,
        seq INTEGER NOT NULL,
        kind TEXT NOT NULL,
        payload TEXT NOT NULL,
        recorded_at_ms INTEGER NOT NULL,
        hash TEXT NOT NULL,
        UNIQUE (stream, seq)
    );
    CREATE TABLE snapshot (
        stream TEXT NOT NULL,
        seq INTEGER NOT NULL,
        data BLOB NOT NULL,
        PRIMARY KEY (stream, seq)
    );"];

/// The journal of one data folder.
#[derive(Debug)]
pub struct Journal {
    conn: Connection,
    path: PathBuf,
    last_hash: [u8; 32],
    last_seq: HashMap<String, u64>,
}

fn chain(
    prev: &[u8; 32],
    stream: &str,
    seq: u64,
    kind: &str,
    at_ms: i64,
    payload: &str,
) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(prev);
    // Length-prefixed fields, so no two different rows hash the same bytes.
    for field in [stream.as_bytes(), kind.as_bytes(), payload.as_bytes()] {
        h.update((field.len() as u64).to_le_bytes());
        h.update(field);
    }
    h.update(seq.to_le_bytes());
    h.update(at_ms.to_le_bytes());
    h.finalize().into()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

impl Journal {
    /// Opens (creating if needed) `dir/journal.sqlite`.
    pub fn open(dir: &Path) -> Result<Journal, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
            path: dir.display().to_string(),
            source,
        })?;
        let path = dir.join("journal.sqlite");
        let p = path.display().to_string();
        let sql = |source| StoreError::Sqlite {
            path: p.clone(),
            source,
        };
        let conn = Connection::open(&path).map_err(sql)?;
        // A file that is not a database fails here, on first read.
        let app_id: i64 = conn
            .query_row("PRAGMA application_id", [], |r| r.get(0))
            .map_err(|e| StoreError::Invalid {
                path: p.clone(),
                why: format!("not a journal database ({e})"),
            })?;
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(sql)?;
        let tables: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
            .map_err(sql)?;
        if app_id != APPLICATION_ID && !(app_id == 0 && tables == 0) {
            return Err(StoreError::Invalid {
                path: p,
                why: "an SQLite database that is not a Satria journal".into(),
            });
        }
        if version as usize > MIGRATIONS.len() {
            return Err(StoreError::Invalid {
                path: p,
                why: format!(
                    "written by a newer Satria (schema {version}, this build knows {}): upgrade Satria",
                    MIGRATIONS.len()
                ),
            });
        }
        // WAL lets readers work while the writer appends; synchronous=FULL makes every
        // commit durable (fsync of the WAL) before it returns: a command is acknowledged
        // only after that.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(sql)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(sql)?;
        for (i, m) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            conn.execute_batch(&format!(
                "BEGIN; {m}; PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {}; COMMIT;",
                i + 1
            ))
            .map_err(sql)?;
        }
        let last_hash = conn
            .query_row(
                "SELECT hash FROM journal ORDER BY row DESC LIMIT 1",
                [],
                |r| r.get::<_, String>(0),
            )
            .optional()
            .map_err(sql)?
            .map(|h| unhex(&h).unwrap_or([0xff; 32]))
            .unwrap_or([0; 32]);
        let mut last_seq = HashMap::new();
        {
            let mut st = conn
                .prepare("SELECT stream, max(seq) FROM journal GROUP BY stream")
                .map_err(sql)?;
            let rows = st
                .query_map([], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
                })
                .map_err(sql)?;
            for r in rows {
                let (s, q) = r.map_err(sql)?;
                last_seq.insert(s, q);
            }
        }
        Ok(Journal {
            conn,
            path,
            last_hash,
            last_seq,
        })
    }

    fn err(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.path.display().to_string(),
            source,
        }
    }

    /// Appends entries to one stream in one durable transaction.
    pub fn append(&mut self, stream: &str, entries: &[NewEntry]) -> Result<Vec<Entry>, StoreError> {
        self.append_batch(&[(stream, entries)])
    }

    /// Appends to several streams in ONE transaction: group commit, one fsync for many
    /// commands. All or nothing.
    pub fn append_batch(
        &mut self,
        batch: &[(&str, &[NewEntry])],
    ) -> Result<Vec<Entry>, StoreError> {
        let mut out = Vec::new();
        let mut hash = self.last_hash;
        let mut seqs: HashMap<String, u64> = HashMap::new();
        let tx = self
            .conn
            .transaction()
            .map_err(|source| StoreError::Sqlite {
                path: self.path.display().to_string(),
                source,
            })?;
        {
            let mut st = tx
                .prepare_cached(
                    "INSERT INTO journal (stream, seq, kind, payload, recorded_at_ms, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .map_err(|source| StoreError::Sqlite {
                    path: self.path.display().to_string(),
                    source,
                })?;
            for (stream, entries) in batch {
                for e in entries.iter() {
                    let seq = seqs
                        .entry(stream.to_string())
                        .or_insert_with(|| self.last_seq.get(*stream).copied().unwrap_or(0));
                    *seq += 1;
                    hash = chain(&hash, stream, *seq, &e.kind, e.recorded_at_ms, &e.payload);
                    let h = hex(&hash);
                    st.execute(params![
                        stream,
                        *seq as i64,
                        e.kind,
                        e.payload,
                        e.recorded_at_ms,
                        h
                    ])
                    .map_err(|source| StoreError::Sqlite {
                        path: self.path.display().to_string(),
                        source,
                    })?;
                    out.push(Entry {
                        row: 0,
                        stream: stream.to_string(),
                        seq: *seq,
                        kind: e.kind.clone(),
                        payload: e.payload.clone(),
                        recorded_at_ms: e.recorded_at_ms,
                        hash: h,
                    });
                }
            }
        }
        let first_row = tx
            .query_row("SELECT coalesce(max(row), 0) FROM journal", [], |r| {
                r.get::<_, i64>(0)
            })
            .map_err(|source| StoreError::Sqlite {
                path: self.path.display().to_string(),
                source,
            })? as u64
            + 1
            - out.len() as u64;
        tx.commit().map_err(|source| StoreError::Sqlite {
            path: self.path.display().to_string(),
            source,
        })?;
        // Only after the commit is durable does the in-memory head move.
        self.last_hash = hash;
        self.last_seq.extend(seqs);
        for (i, e) in out.iter_mut().enumerate() {
            e.row = first_row + i as u64;
        }
        Ok(out)
    }

    /// The last sequence number of a stream (0 when empty).
    pub fn last_seq(&self, stream: &str) -> u64 {
        self.last_seq.get(stream).copied().unwrap_or(0)
    }

    /// Up to `limit` entries of `stream` after `after_seq`, in order.
    pub fn read_since(
        &self,
        stream: &str,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT row, stream, seq, kind, payload, recorded_at_ms, hash FROM journal
                 WHERE stream = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map(
                params![
                    stream,
                    after_seq as i64,
                    limit.min(i64::MAX as usize) as i64
                ],
                |r| {
                    Ok(Entry {
                        row: r.get::<_, i64>(0)? as u64,
                        stream: r.get(1)?,
                        seq: r.get::<_, i64>(2)? as u64,
                        kind: r.get(3)?,
                        payload: r.get(4)?,
                        recorded_at_ms: r.get(5)?,
                        hash: r.get(6)?,
                    })
                },
            )
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))
    }

    /// Every entry of a stream, for replay on start.
    pub fn read_all(&self, stream: &str) -> Result<Vec<Entry>, StoreError> {
        self.read_since(stream, 0, usize::MAX)
    }

    /// Saves a snapshot of a stream's state as of `seq`.
    pub fn save_snapshot(&mut self, stream: &str, seq: u64, data: &[u8]) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO snapshot (stream, seq, data) VALUES (?1, ?2, ?3)",
                params![stream, seq as i64, data],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// The newest snapshot of a stream.
    pub fn latest_snapshot(&self, stream: &str) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        self.conn
            .query_row(
                "SELECT seq, data FROM snapshot WHERE stream = ?1 ORDER BY seq DESC LIMIT 1",
                params![stream],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Recomputes the whole chain and names the first row that does not verify: a
    /// changed row, a deleted row (a gap in its stream's sequence or a broken link), or
    /// rows reordered.
    pub fn verify(&self) -> Result<VerifyReport, StoreError> {
        let mut st = self
            .conn
            .prepare("SELECT row, stream, seq, kind, payload, recorded_at_ms, hash FROM journal ORDER BY row")
            .map_err(|e| self.err(e))?;
        let mut rows = st.query([]).map_err(|e| self.err(e))?;
        let mut prev = [0u8; 32];
        let mut seqs: HashMap<String, u64> = HashMap::new();
        let mut n = 0u64;
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            n += 1;
            let row: i64 = r.get(0).map_err(|e| self.err(e))?;
            let stream: String = r.get(1).map_err(|e| self.err(e))?;
            let seq = r.get::<_, i64>(2).map_err(|e| self.err(e))? as u64;
            let kind: String = r.get(3).map_err(|e| self.err(e))?;
            let payload: String = r.get(4).map_err(|e| self.err(e))?;
            let at: i64 = r.get(5).map_err(|e| self.err(e))?;
            let stored: String = r.get(6).map_err(|e| self.err(e))?;
            let broken = |why: String| {
                Ok(VerifyReport {
                    rows: n,
                    first_broken: Some(BrokenRow {
                        row: row as u64,
                        stream: stream.clone(),
                        seq,
                        why,
                    }),
                })
            };
            let expected_seq = seqs.get(&stream).copied().unwrap_or(0) + 1;
            if seq != expected_seq {
                return broken(format!(
                    "sequence {seq} where {expected_seq} was expected: a row is missing"
                ));
            }
            seqs.insert(stream.clone(), seq);
            let h = chain(&prev, &stream, seq, &kind, at, &payload);
            if hex(&h) != stored {
                return broken("hash does not match its content and the previous row: the row or one before it was changed or removed".into());
            }
            prev = h;
        }
        Ok(VerifyReport {
            rows: n,
            first_broken: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(i: u64) -> NewEntry {
        NewEntry {
            kind: "test".into(),
            payload: format!("{{\"n\":{i}}}"),
            recorded_at_ms: i as i64,
        }
    }

    #[test]
    fn append_read_and_continue_after_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(dir.path()).unwrap();
        let a = j.append("region:banyumas", &[e(1), e(2)]).unwrap();
        assert_eq!((a[0].seq, a[1].seq, a[0].row, a[1].row), (1, 2, 1, 2));
        j.append("access", &[e(3)]).unwrap();
        drop(j);
        let mut j = Journal::open(dir.path()).unwrap();
        assert_eq!(j.last_seq("region:banyumas"), 2);
        let b = j.append("region:banyumas", &[e(4)]).unwrap();
        assert_eq!((b[0].seq, b[0].row), (3, 4));
        let all = j.read_all("region:banyumas").unwrap();
        assert_eq!(
            all.iter().map(|x| x.payload.as_str()).collect::<Vec<_>>(),
            ["{\"n\":1}", "{\"n\":2}", "{\"n\":4}"]
        );
        assert_eq!(j.read_since("region:banyumas", 1, 1).unwrap()[0].seq, 2);
        assert_eq!(
            j.verify().unwrap(),
            VerifyReport {
                rows: 4,
                first_broken: None
            }
        );
    }

    #[test]
    fn batch_is_one_transaction_over_streams() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(dir.path()).unwrap();
        let out = j
            .append_batch(&[
                ("a", &[e(1)][..]),
                ("b", &[e(2), e(3)][..]),
                ("a", &[e(4)][..]),
            ])
            .unwrap();
        let seqs: Vec<(String, u64)> = out.iter().map(|x| (x.stream.clone(), x.seq)).collect();
        assert_eq!(
            seqs,
            [
                ("a".into(), 1),
                ("b".into(), 1),
                ("b".into(), 2),
                ("a".into(), 2)
            ]
        );
        assert_eq!(j.verify().unwrap().first_broken, None);
    }

    #[test]
    fn tampering_is_found_at_the_first_changed_row() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(dir.path()).unwrap();
        for i in 0..10 {
            j.append("s", &[e(i)]).unwrap();
        }
        drop(j);
        let raw = Connection::open(dir.path().join("journal.sqlite")).unwrap();
        raw.execute(
            "UPDATE journal SET payload = '{\"n\":99}' WHERE row = 6",
            [],
        )
        .unwrap();
        drop(raw);
        let r = Journal::open(dir.path()).unwrap().verify().unwrap();
        let b = r.first_broken.unwrap();
        assert_eq!((b.row, b.seq), (6, 6));
        assert!(b.why.contains("hash does not match"));

        let raw = Connection::open(dir.path().join("journal.sqlite")).unwrap();
        raw.execute("UPDATE journal SET payload = '{\"n\":5}' WHERE row = 6", [])
            .unwrap();
        raw.execute("DELETE FROM journal WHERE row = 3", [])
            .unwrap();
        drop(raw);
        let b = Journal::open(dir.path())
            .unwrap()
            .verify()
            .unwrap()
            .first_broken
            .unwrap();
        assert_eq!((b.row, b.seq), (4, 4));
        assert!(b.why.contains("a row is missing"), "{}", b.why);
    }

    #[test]
    fn snapshots_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(dir.path()).unwrap();
        assert_eq!(j.latest_snapshot("s").unwrap(), None);
        j.save_snapshot("s", 5, b"five").unwrap();
        j.save_snapshot("s", 9, b"nine").unwrap();
        assert_eq!(j.latest_snapshot("s").unwrap(), Some((9, b"nine".to_vec())));
    }

    #[test]
    fn refuses_files_that_are_not_journals() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("journal.sqlite"),
            b"this is not a database at all, it is plain text..",
        )
        .unwrap();
        let e = Journal::open(dir.path()).unwrap_err().to_string();
        assert!(e.contains("journal.sqlite"), "{e}");

        let dir = tempfile::tempdir().unwrap();
        let raw = Connection::open(dir.path().join("journal.sqlite")).unwrap();
        raw.execute_batch("CREATE TABLE other (x INTEGER)").unwrap();
        drop(raw);
        let e = Journal::open(dir.path()).unwrap_err().to_string();
        assert!(e.contains("not a Satria journal"), "{e}");

        let dir = tempfile::tempdir().unwrap();
        drop(Journal::open(dir.path()).unwrap());
        let raw = Connection::open(dir.path().join("journal.sqlite")).unwrap();
        raw.pragma_update(None, "user_version", 99).unwrap();
        drop(raw);
        let e = Journal::open(dir.path()).unwrap_err().to_string();
        assert!(e.contains("newer Satria"), "{e}");
    }
}
