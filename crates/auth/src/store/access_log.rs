//! The access log: recording who read which personal data, when and why, in
//! a SHA-256 hash chain, and reading and verifying it.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{AuthStore, hex};
use crate::{AccessRecorder, AuthError, Principal, Role};
use satria_sql::{DbError, End, Row, Tx, V};

/// `prev_hash` of the first access-log row.
const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Which access-log rows to list. All conditions are ANDed; `None` matches all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccessFilter {
    /// Rows whose subject starts with this (`"incident:"`, `"incident:42"`).
    pub subject_prefix: Option<String>,
    /// Rows recorded for this username.
    pub username: Option<String>,
    /// Rows at or after this time.
    pub since_ms: Option<i64>,
}

/// One access-log row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessEntry {
    pub id: i64,
    pub at_ms: i64,
    /// `None` for a failed login of an unknown username.
    pub user_id: Option<i64>,
    pub username: String,
    pub role: Option<Role>,
    pub action: String,
    pub subject: String,
    pub purpose: String,
    /// Hex SHA-256 of this row chained to the one before.
    pub hash: String,
}

/// A row to append to the access log.
pub(super) struct LogRow<'a> {
    pub(super) at_ms: i64,
    pub(super) user_id: Option<i64>,
    pub(super) username: &'a str,
    pub(super) role: Option<Role>,
    pub(super) action: &'a str,
    pub(super) subject: &'a str,
    pub(super) purpose: &'a str,
}

impl AuthStore {
    /// Access-log rows matching `filter`, newest first, at most `limit`.
    pub fn access_log(
        &self,
        filter: &AccessFilter,
        limit: usize,
    ) -> Result<Vec<AccessEntry>, AuthError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.db.read(|tx| {
            tx.query(
                "SELECT id, at_ms, user_id, username, role, action, subject, purpose, hash
                 FROM access_log
                 WHERE (CAST($1 AS TEXT) IS NULL
                        OR substr(subject, 1, length(CAST($1 AS TEXT))) = CAST($1 AS TEXT))
                   AND (CAST($2 AS TEXT) IS NULL OR username = CAST($2 AS TEXT))
                   AND (CAST($3 AS BIGINT) IS NULL OR at_ms >= CAST($3 AS BIGINT))
                 ORDER BY id DESC LIMIT $4",
                &[
                    V::from(&filter.subject_prefix),
                    V::from(&filter.username),
                    V::from(filter.since_ms),
                    V::from(limit),
                ],
            )?
            .iter()
            .map(|r| -> Result<AccessEntry, AuthError> {
                Ok(AccessEntry {
                    id: r.i64(0)?,
                    at_ms: r.i64(1)?,
                    user_id: r.opt_i64(2)?,
                    username: r.text(3)?,
                    role: r.opt_text(4)?.as_deref().and_then(Role::parse),
                    action: r.text(5)?,
                    subject: r.text(6)?,
                    purpose: r.text(7)?,
                    hash: r.text(8)?,
                })
            })
            .collect()
        })
    }

    /// Walks the whole hash chain. `Ok(n)`: all `n` rows are intact.
    /// `Err` names the first row that does not fit: one whose contents no
    /// longer match its hash (altered), or whose `prev_hash` is not the hash
    /// of the row before it (a row before it was removed, inserted or had its
    /// hash rewritten). Removing the newest rows is not detectable from the
    /// chain alone: compare the count or last hash with an external copy.
    pub fn verify_access_log(&self) -> Result<u64, String> {
        let mut expected_prev = GENESIS_HASH.to_string();
        let mut prev_id: Option<i64> = None;
        let mut last_id = i64::MIN;
        let mut count = 0u64;
        loop {
            // In chunks, so recorders are not held up behind a long walk.
            let chunk = self
                .db
                .read(|tx| read_chunk(tx, last_id, 1000))
                .map_err(|e| format!("access_log could not be read: {e}"))?;
            if chunk.is_empty() {
                return Ok(count);
            }
            for (row, prev_hash, hash) in chunk {
                if prev_hash != expected_prev {
                    return Err(match prev_id {
                        Some(p) => format!(
                            "access_log row {}: prev_hash does not match the hash of row {p} \
                             (a row was removed, inserted or rewritten before it)",
                            row.0
                        ),
                        None => format!(
                            "access_log row {}: the first row does not start the chain \
                             (earlier rows were removed)",
                            row.0
                        ),
                    });
                }
                let role = row.4.as_deref().and_then(Role::parse);
                let computed = chain_hash(
                    &prev_hash,
                    row.0,
                    &LogRow {
                        at_ms: row.1,
                        user_id: row.2,
                        username: &row.3,
                        role,
                        action: &row.5,
                        subject: &row.6,
                        purpose: &row.7,
                    },
                );
                if computed != hash || (row.4.is_some() && role.is_none()) {
                    return Err(format!(
                        "access_log row {}: contents do not match its hash (row altered)",
                        row.0
                    ));
                }
                expected_prev = hash;
                prev_id = Some(row.0);
                last_id = row.0;
                count += 1;
            }
        }
    }
}

type ChunkRow = (
    (
        i64,
        i64,
        Option<i64>,
        String,
        Option<String>,
        String,
        String,
        String,
    ),
    String,
    String,
);

fn read_chunk(tx: &mut dyn Tx, after_id: i64, n: i64) -> Result<Vec<ChunkRow>, DbError> {
    let chunk_row = |r: &Row| -> Result<ChunkRow, DbError> {
        Ok((
            (
                r.i64(0)?,
                r.i64(1)?,
                r.opt_i64(2)?,
                r.text(3)?,
                r.opt_text(4)?,
                r.text(5)?,
                r.text(6)?,
                r.text(7)?,
            ),
            r.text(8)?,
            r.text(9)?,
        ))
    };
    tx.query(
        "SELECT id, at_ms, user_id, username, role, action, subject, purpose, prev_hash, hash
         FROM access_log WHERE id > $1 ORDER BY id LIMIT $2",
        &[V::from(after_id), V::from(n)],
    )?
    .iter()
    .map(chunk_row)
    .collect()
}

impl AccessRecorder for AuthStore {
    /// Writes the batch at once, on the caller's thread (an IMMEDIATE
    /// transaction and an fsync): the returned future is already resolved.
    /// The server queues records to a writer thread instead.
    fn record_many(&self, batch: Vec<crate::AccessRecord>) -> crate::Recording {
        let r = self.write_access_batch(&batch);
        Box::pin(std::future::ready(r))
    }
}

impl AuthStore {
    /// Appends the batch to the access log in one IMMEDIATE transaction,
    /// chained in order: all of it is durable, or none of it and an error.
    pub fn write_access_batch(
        &self,
        batch: &[crate::AccessRecord],
    ) -> Result<(), crate::AccessLogError> {
        if batch.is_empty() {
            return Ok(());
        }
        self.db
            .write(End::Commit, |tx| {
                // The chain's end is read once: the batch holds the write lock.
                let mut link = last_link(tx)?;
                for r in batch {
                    link = insert_link(
                        tx,
                        link,
                        &LogRow {
                            at_ms: r.at_ms,
                            user_id: Some(r.who.user_id),
                            username: &r.who.username,
                            role: Some(r.who.role),
                            action: &r.action,
                            subject: &r.subject,
                            purpose: &r.purpose,
                        },
                    )?;
                }
                Ok::<(), DbError>(())
            })
            .map_err(crate::AccessLogError::from)
    }

    /// Whether a row could be appended to the access log now: appends one in
    /// a transaction that is rolled back, so nothing is written. For a caller
    /// that refuses work while the log is failing and must learn when it
    /// works again.
    pub fn probe_access_log(&self) -> Result<(), crate::AccessLogError> {
        self.db
            .write(End::Rollback, |tx| {
                append_log(
                    tx,
                    &LogRow {
                        at_ms: 0,
                        user_id: None,
                        username: "<probe>",
                        role: None,
                        action: "probe",
                        subject: "access_log",
                        purpose: "is the access log writable",
                    },
                )
            })
            .map_err(crate::AccessLogError::from)
    }

    /// Records an access at an explicit time (for callers with their own
    /// clock, and tests): durable when it returns `Ok`.
    pub fn record_at(
        &self,
        who: &Principal,
        action: &str,
        subject: &str,
        purpose: &str,
        at_ms: i64,
    ) -> Result<(), crate::AccessLogError> {
        self.write_access_batch(&[crate::AccessRecord {
            who: who.clone(),
            action: action.to_string(),
            subject: subject.to_string(),
            purpose: purpose.to_string(),
            at_ms,
        }])
    }
}

/// Appends one chained row; the caller holds a write transaction (see
/// `db.rs`) so the read of the last hash and the insert are atomic across
/// processes and nodes.
pub(super) fn append_log(tx: &mut dyn Tx, row: &LogRow<'_>) -> Result<(), DbError> {
    let link = last_link(tx)?;
    insert_link(tx, link, row).map(drop)
}

/// The id and hash of the chain's newest row (0 and the genesis hash when
/// it is empty).
fn last_link(tx: &mut dyn Tx) -> Result<(i64, String), DbError> {
    match tx.query_opt(
        "SELECT id, hash FROM access_log ORDER BY id DESC LIMIT 1",
        &[],
    )? {
        Some(r) => Ok((r.i64(0)?, r.text(1)?)),
        None => Ok((0, GENESIS_HASH.to_string())),
    }
}

/// Appends `row` after the row `(id, hash)`; the new row's id and hash.
fn insert_link(
    tx: &mut dyn Tx,
    (last_id, prev_hash): (i64, String),
    row: &LogRow<'_>,
) -> Result<(i64, String), DbError> {
    let id = last_id + 1;
    let hash = chain_hash(&prev_hash, id, row);
    tx.execute(
        "INSERT INTO access_log (id, at_ms, user_id, username, role, action, subject, purpose,
                                 prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &[
            V::from(id),
            V::from(row.at_ms),
            V::from(row.user_id),
            V::from(row.username),
            V::from(row.role.map(Role::as_str)),
            V::from(row.action),
            V::from(row.subject),
            V::from(row.purpose),
            V::from(prev_hash),
            V::from(hash.as_str()),
        ],
    )?;
    Ok((id, hash))
}

/// `hex(sha256(prev_hash_hex || canonical(row)))`. The canonical form is a
/// version tag followed by every field, length-prefixed, so no two rows share
/// an encoding.
fn chain_hash(prev_hash: &str, id: i64, row: &LogRow<'_>) -> String {
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(b"satria-access-log-v1");
    h.update(id.to_be_bytes());
    h.update(row.at_ms.to_be_bytes());
    match row.user_id {
        Some(u) => {
            h.update([1]);
            h.update(u.to_be_bytes());
        }
        None => h.update([0]),
    }
    let role = row.role.map(Role::as_str);
    for field in [
        Some(row.username),
        role,
        Some(row.action),
        Some(row.subject),
        Some(row.purpose),
    ] {
        match field {
            Some(s) => {
                h.update([1]);
                h.update((s.len() as u64).to_be_bytes());
                h.update(s.as_bytes());
            }
            None => h.update([0]),
        }
    }
    hex(&h.finalize())
}
