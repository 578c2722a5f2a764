//! One small interface over the two databases the CRUD stores run on (the
//! accounts store, Pattas, Salinmas): a transaction that runs SQL with
//! positional parameters (`$1`, `$2`, …, the PostgreSQL spelling; rewritten to
//! `?1`, `?2` for SQLite) and returns rows of [`V`]alues. Every query of a
//! store is written once, for both.
//!
//! - **SQLite** (one file, the embedded default): a write transaction is
//!   `IMMEDIATE`, which takes the file's write lock at its start, so a read
//!   and the write that depends on it are atomic across processes.
//! - **PostgreSQL** (shared by the nodes of a cluster): a write transaction
//!   takes the store's advisory transaction lock first, so the same
//!   read-then-write sequences (a lockout's count, a chain's head, a balance)
//!   are serialised across nodes exactly as SQLite serialises processes.
//!   Reads run in one repeatable-read, read-only transaction.
//!
//! Invariants: a transaction whose closure fails rolls back; a kept
//! PostgreSQL connection is checked before each call and replaced when dead;
//! a schema is migrated on PostgreSQL in one transaction under an advisory
//! lock, versioned in a table of its own, and a newer schema is refused.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// A parameter or a column value. Nulls carry their type (PostgreSQL
/// checks a parameter's type even when it is null).
#[derive(Clone, Debug, PartialEq)]
pub enum V {
    I(i64),
    F(f64),
    T(String),
    B(Vec<u8>),
    NullI,
    NullF,
    NullT,
}

impl From<f64> for V {
    fn from(v: f64) -> V {
        V::F(v)
    }
}
impl From<Option<f64>> for V {
    fn from(v: Option<f64>) -> V {
        v.map_or(V::NullF, V::F)
    }
}
impl From<bool> for V {
    fn from(v: bool) -> V {
        V::I(i64::from(v))
    }
}
impl From<&Option<&str>> for V {
    fn from(v: &Option<&str>) -> V {
        (*v).into()
    }
}

impl From<i64> for V {
    fn from(v: i64) -> V {
        V::I(v)
    }
}
impl From<&str> for V {
    fn from(v: &str) -> V {
        V::T(v.to_string())
    }
}
impl From<String> for V {
    fn from(v: String) -> V {
        V::T(v)
    }
}
impl From<&String> for V {
    fn from(v: &String) -> V {
        V::T(v.clone())
    }
}
impl From<&[u8]> for V {
    fn from(v: &[u8]) -> V {
        V::B(v.to_vec())
    }
}
impl From<Option<i64>> for V {
    fn from(v: Option<i64>) -> V {
        v.map_or(V::NullI, V::I)
    }
}
impl From<Option<&str>> for V {
    fn from(v: Option<&str>) -> V {
        v.map_or(V::NullT, |s| V::T(s.to_string()))
    }
}
impl From<Option<String>> for V {
    fn from(v: Option<String>) -> V {
        v.map_or(V::NullT, V::T)
    }
}
impl From<&Option<String>> for V {
    fn from(v: &Option<String>) -> V {
        v.clone().into()
    }
}

/// One result row.
#[derive(Debug)]
pub struct Row(Vec<V>);

fn is_null(v: &V) -> bool {
    matches!(v, V::NullI | V::NullF | V::NullT)
}

impl Row {
    /// How many columns the row has.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// True for a row of no columns.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// Column `i` as a float (an integer column is converted).
    pub fn f64(&self, i: usize) -> Result<f64, DbError> {
        match self.0.get(i) {
            Some(V::F(v)) => Ok(*v),
            Some(V::I(v)) => Ok(*v as f64),
            other => Err(DbError::new(format!(
                "column {i}: expected a number, found {other:?}"
            ))),
        }
    }
    /// Column `i` as a float, or `None` for NULL.
    pub fn opt_f64(&self, i: usize) -> Result<Option<f64>, DbError> {
        match self.0.get(i) {
            Some(v) if is_null(v) => Ok(None),
            _ => self.f64(i).map(Some),
        }
    }
    /// Column `i`, an integer 0 or 1 (SQLite has no booleans), as a bool.
    pub fn bool(&self, i: usize) -> Result<bool, DbError> {
        Ok(self.i64(i)? != 0)
    }
    /// Column `i` as bytes.
    pub fn bytes(&self, i: usize) -> Result<Vec<u8>, DbError> {
        match self.0.get(i) {
            Some(V::B(v)) => Ok(v.clone()),
            other => Err(DbError::new(format!(
                "column {i}: expected bytes, found {other:?}"
            ))),
        }
    }
    /// Column `i` as it was read.
    pub fn value(&self, i: usize) -> V {
        self.0.get(i).cloned().unwrap_or(V::NullT)
    }

    pub fn i64(&self, i: usize) -> Result<i64, DbError> {
        match self.0.get(i) {
            Some(V::I(v)) => Ok(*v),
            other => Err(DbError::new(format!(
                "column {i}: expected an integer, found {other:?}"
            ))),
        }
    }
    pub fn opt_i64(&self, i: usize) -> Result<Option<i64>, DbError> {
        match self.0.get(i) {
            Some(V::I(v)) => Ok(Some(*v)),
            Some(v) if is_null(v) => Ok(None),
            other => Err(DbError::new(format!(
                "column {i}: expected an integer, found {other:?}"
            ))),
        }
    }
    pub fn text(&self, i: usize) -> Result<String, DbError> {
        match self.0.get(i) {
            Some(V::T(v)) => Ok(v.clone()),
            other => Err(DbError::new(format!(
                "column {i}: expected text, found {other:?}"
            ))),
        }
    }
    pub fn opt_text(&self, i: usize) -> Result<Option<String>, DbError> {
        match self.0.get(i) {
            Some(V::T(v)) => Ok(Some(v.clone())),
            Some(v) if is_null(v) => Ok(None),
            other => Err(DbError::new(format!(
                "column {i}: expected text, found {other:?}"
            ))),
        }
    }
}

/// A database failure: its text, and whether it was a uniqueness violation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbError {
    pub message: String,
    pub unique_violation: bool,
}

impl DbError {
    pub fn new(message: impl Into<String>) -> DbError {
        DbError {
            message: message.into(),
            unique_violation: false,
        }
    }
}

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> DbError {
        let unique_violation = matches!(
            &e,
            rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation
        );
        DbError {
            message: e.to_string(),
            unique_violation,
        }
    }
}

impl From<postgres::Error> for DbError {
    fn from(e: postgres::Error) -> DbError {
        let unique_violation = e.code() == Some(&postgres::error::SqlState::UNIQUE_VIOLATION);
        let mut message = e.to_string();
        if let Some(db) = e.as_db_error() {
            message = format!("{message}: {}", db.message());
        }
        DbError {
            message,
            unique_violation,
        }
    }
}

/// What the store's queries run in.
pub trait Tx {
    /// Every row of `sql`.
    fn query(&mut self, sql: &str, params: &[V]) -> Result<Vec<Row>, DbError>;
    /// Rows changed by `sql`.
    fn execute(&mut self, sql: &str, params: &[V]) -> Result<u64, DbError>;
    /// The first row of `sql`, if any.
    fn query_opt(&mut self, sql: &str, params: &[V]) -> Result<Option<Row>, DbError> {
        Ok(self.query(sql, params)?.into_iter().next())
    }
    /// The one row `sql` returns (an error when it returns none).
    fn query_one(&mut self, sql: &str, params: &[V]) -> Result<Row, DbError> {
        self.query_opt(sql, params)?
            .ok_or_else(|| DbError::new(format!("no row returned by: {}", sql.trim())))
    }
    /// Which database this is, for the few statements spelled differently.
    fn dialect(&self) -> Dialect;
}

/// The database a transaction runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// `$1` … `$n` as SQLite's `?1` … `?n`.
fn sqlite_sql(sql: &str) -> String {
    sql.replace('$', "?")
}

fn to_sqlite(v: &V) -> rusqlite::types::Value {
    use rusqlite::types::Value;
    match v {
        V::I(i) => Value::Integer(*i),
        V::F(f) => Value::Real(*f),
        V::T(t) => Value::Text(t.clone()),
        V::B(b) => Value::Blob(b.clone()),
        V::NullI | V::NullF | V::NullT => Value::Null,
    }
}

impl Tx for rusqlite::Transaction<'_> {
    fn query(&mut self, sql: &str, params: &[V]) -> Result<Vec<Row>, DbError> {
        let mut stmt = self.prepare_cached(&sqlite_sql(sql))?;
        let n = stmt.column_count();
        let values: Vec<_> = params.iter().map(to_sqlite).collect();
        let rows = stmt.query_map(rusqlite::params_from_iter(values), |r| {
            let mut out = Vec::with_capacity(n);
            for i in 0..n {
                use rusqlite::types::ValueRef;
                out.push(match r.get_ref(i)? {
                    ValueRef::Null => V::NullT,
                    ValueRef::Integer(v) => V::I(v),
                    ValueRef::Real(v) => V::F(v),
                    ValueRef::Text(t) => V::T(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(b) => V::B(b.to_vec()),
                });
            }
            Ok(Row(out))
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    fn execute(&mut self, sql: &str, params: &[V]) -> Result<u64, DbError> {
        let values: Vec<_> = params.iter().map(to_sqlite).collect();
        let n = self
            .prepare_cached(&sqlite_sql(sql))?
            .execute(rusqlite::params_from_iter(values))?;
        Ok(n as u64)
    }

    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }
}

/// A NULL of whatever type the parameter has (a value read from SQLite does
/// not know the type of its NULLs).
#[derive(Debug)]
struct AnyNull;

impl postgres::types::ToSql for AnyNull {
    fn to_sql(
        &self,
        _: &postgres::types::Type,
        _: &mut postgres::types::private::BytesMut,
    ) -> Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        Ok(postgres::types::IsNull::Yes)
    }
    fn accepts(_: &postgres::types::Type) -> bool {
        true
    }
    postgres::types::to_sql_checked!();
}

fn pg_params(params: &[V]) -> Vec<Box<dyn postgres::types::ToSql + Sync>> {
    params
        .iter()
        .map(|v| -> Box<dyn postgres::types::ToSql + Sync> {
            match v {
                V::I(i) => Box::new(*i),
                V::F(f) => Box::new(*f),
                V::T(t) => Box::new(t.clone()),
                V::B(b) => Box::new(b.clone()),
                V::NullI | V::NullF | V::NullT => Box::new(AnyNull),
            }
        })
        .collect()
}

impl Tx for postgres::Transaction<'_> {
    fn query(&mut self, sql: &str, params: &[V]) -> Result<Vec<Row>, DbError> {
        use postgres::types::Type;
        let boxed = pg_params(params);
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
            boxed.iter().map(|b| b.as_ref()).collect();
        let rows = postgres::Transaction::query(self, sql, &refs)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let mut vals = Vec::with_capacity(r.len());
            for (i, c) in r.columns().iter().enumerate() {
                let t = c.type_();
                vals.push(if *t == Type::INT8 {
                    r.get::<_, Option<i64>>(i).map_or(V::NullI, V::I)
                } else if *t == Type::INT4 {
                    r.get::<_, Option<i32>>(i)
                        .map_or(V::NullI, |v| V::I(i64::from(v)))
                } else if *t == Type::FLOAT8 {
                    r.get::<_, Option<f64>>(i).map_or(V::NullF, V::F)
                } else if *t == Type::FLOAT4 {
                    r.get::<_, Option<f32>>(i)
                        .map_or(V::NullF, |v| V::F(f64::from(v)))
                } else if *t == Type::BYTEA {
                    r.get::<_, Option<Vec<u8>>>(i).map_or(V::NullT, V::B)
                } else if *t == Type::BOOL {
                    r.get::<_, Option<bool>>(i)
                        .map_or(V::NullI, |v| V::I(i64::from(v)))
                } else {
                    r.try_get::<_, Option<String>>(i)?.map_or(V::NullT, V::T)
                });
            }
            out.push(Row(vals));
        }
        Ok(out)
    }

    fn execute(&mut self, sql: &str, params: &[V]) -> Result<u64, DbError> {
        let boxed = pg_params(params);
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
            boxed.iter().map(|b| b.as_ref()).collect();
        Ok(postgres::Transaction::execute(self, sql, &refs)?)
    }

    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }
}

/// A store's database.
pub enum Db {
    Sqlite(Mutex<rusqlite::Connection>),
    Postgres {
        /// `None` only while the store is dropped.
        client: Box<Mutex<Option<postgres::Client>>>,
        /// To connect again after the database restarted (kept in memory only).
        url: String,
        /// The advisory lock every write transaction of this store takes first.
        write_lock: i64,
    },
}

/// How a store's schema lives on PostgreSQL.
#[derive(Clone, Copy, Debug)]
pub struct PgSchema<'a> {
    /// The store's name in messages, e.g. `accounts`.
    pub name: &'a str,
    /// The one-row table holding the schema's version, e.g. `auth_schema`.
    pub version_table: &'a str,
    /// The migrations, in order: step `i` brings version `i` to `i + 1`.
    /// Append, never edit a released one.
    pub migrations: &'a [&'a str],
    /// The advisory lock migrations run under.
    pub migration_lock: i64,
    /// The advisory lock every write transaction takes first.
    pub write_lock: i64,
}

impl PgSchema<'_> {
    /// The version this build writes.
    pub fn newest(&self) -> i64 {
        self.migrations.len() as i64
    }
}

/// Brings the schema of `schema` in `client` to its newest version, in one
/// transaction under its migration lock (so two nodes starting together
/// migrate once). A newer schema is refused and left as it is. Messages name
/// `shown` (the URL without its password).
fn migrate_pg(
    client: &mut postgres::Client,
    shown: &str,
    schema: &PgSchema<'_>,
) -> Result<(), DbError> {
    let fail = |what: &str, e: postgres::Error| {
        let e = DbError::from(e);
        DbError {
            message: format!("{shown}: {what}: {e}"),
            unique_violation: e.unique_violation,
        }
    };
    let table = schema.version_table;
    let mut tx = client.transaction().map_err(|e| fail("begin", e))?;
    tx.execute(
        "SELECT pg_advisory_xact_lock($1)",
        &[&schema.migration_lock],
    )
    .map_err(|e| fail("take the migration lock", e))?;
    tx.batch_execute(&format!(
        "CREATE TABLE IF NOT EXISTS {table} (
             id INTEGER PRIMARY KEY CHECK (id = 1),
             version BIGINT NOT NULL
         );
         INSERT INTO {table} (id, version) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;"
    ))
    .map_err(|e| fail(&format!("create {table}"), e))?;
    let version: i64 = tx
        .query_one(&format!("SELECT version FROM {table} WHERE id = 1"), &[])
        .map_err(|e| fail("read the schema version", e))?
        .get(0);
    let newest = schema.newest();
    if version > newest {
        return Err(DbError::new(format!(
            "{shown}: its {} schema is version {version}, newer than this build's {newest}; run the newer satria",
            schema.name
        )));
    }
    for (i, step) in schema.migrations.iter().enumerate().skip(version as usize) {
        tx.batch_execute(step)
            .map_err(|e| fail(&format!("migrate the {} schema", schema.name), e))?;
        tx.execute(
            &format!("UPDATE {table} SET version = $1 WHERE id = 1"),
            &[&(i as i64 + 1)],
        )
        .map_err(|e| fail("record the schema version", e))?;
    }
    tx.commit().map_err(|e| fail("commit the migration", e))
}

/// The PostgreSQL connection, connected again first when the old one is
/// closed or does not answer (the database restarted, or cut the session):
/// the first call after an outage works without restarting the node. The
/// check is one empty query, a round trip on the database's network. A call
/// that fails midway is not retried (its outcome may be unknown); its caller
/// gets the error.
fn pg_client<'a>(
    client: &'a Mutex<Option<postgres::Client>>,
    url: &str,
) -> Result<MutexGuard<'a, Option<postgres::Client>>, DbError> {
    let mut c = lock(client);
    let alive = c
        .as_mut()
        .is_some_and(|c| !c.is_closed() && c.is_valid(PING_TIMEOUT).is_ok());
    if !alive {
        let old = c.take();
        *c = Some(satria_store::pg::connect(url).map_err(|e| DbError::new(e.to_string()))?);
        drop(old);
    }
    Ok(c)
}

/// How long the check of a kept connection may take.
const PING_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

impl Drop for Db {
    fn drop(&mut self) {
        // The synchronous client closes its connection by blocking on a
        // runtime of its own, which is refused inside an async runtime (where
        // the server drops its state): close it on a thread of its own.
        if let Db::Postgres { client, .. } = self {
            let c = lock(client).take();
            let _ = std::thread::spawn(move || drop(c)).join();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere while holding the lock leaves the database consistent
    // (transactions roll back on drop), so a poisoned lock is still usable.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How a transaction ends when its closure succeeds.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum End {
    Commit,
    Rollback,
}

impl Db {
    /// Runs `f` in a write transaction (serialised with every other writer of
    /// the store, in this process or another) and commits when it returns
    /// `Ok` (or rolls back, with `End::Rollback`); an `Err` rolls back.
    pub fn write<T, E: From<DbError>>(
        &self,
        end: End,
        f: impl FnOnce(&mut dyn Tx) -> Result<T, E>,
    ) -> Result<T, E> {
        match self {
            Db::Sqlite(c) => {
                let mut c = lock(c);
                let mut tx = c
                    .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                    .map_err(DbError::from)?;
                let out = f(&mut tx)?;
                match end {
                    End::Commit => tx.commit().map_err(DbError::from)?,
                    End::Rollback => tx.rollback().map_err(DbError::from)?,
                }
                Ok(out)
            }
            Db::Postgres {
                client,
                url,
                write_lock,
            } => {
                let mut g = pg_client(client, url)?;
                let c = g
                    .as_mut()
                    .ok_or_else(|| DbError::new("the store is closed"))?;
                let mut tx = c.transaction().map_err(DbError::from)?;
                tx.execute("SELECT pg_advisory_xact_lock($1)", &[write_lock])
                    .map_err(DbError::from)?;
                let out = f(&mut tx)?;
                match end {
                    End::Commit => tx.commit().map_err(DbError::from)?,
                    End::Rollback => tx.rollback().map_err(DbError::from)?,
                }
                Ok(out)
            }
        }
    }

    /// A store on an open SQLite connection (opened by `satria_sqlite`).
    pub fn sqlite(conn: rusqlite::Connection) -> Db {
        Db::Sqlite(Mutex::new(conn))
    }

    /// A store in the PostgreSQL database at `url`, its schema created or
    /// migrated first. The URL's password never shows in an error.
    pub fn postgres(url: &str, schema: &PgSchema<'_>) -> Result<Db, DbError> {
        let shown = satria_store::pg::redact(url);
        let mut client = satria_store::pg::connect(url).map_err(|e| DbError::new(e.to_string()))?;
        migrate_pg(&mut client, &shown, schema)?;
        Ok(Db::Postgres {
            client: Box::new(Mutex::new(Some(client))),
            url: url.to_string(),
            write_lock: schema.write_lock,
        })
    }

    /// The version of the store's schema: SQLite's `PRAGMA user_version`, or
    /// the row of `schema.version_table` on PostgreSQL.
    pub fn schema_version(&self, schema: &PgSchema<'_>) -> Result<i64, DbError> {
        let sql = match self {
            Db::Sqlite(_) => "PRAGMA user_version".to_string(),
            Db::Postgres { .. } => {
                format!("SELECT version FROM {} WHERE id = 1", schema.version_table)
            }
        };
        self.read(|tx| tx.query_one(&sql, &[])?.i64(0))
    }

    /// Which database this is.
    pub fn dialect(&self) -> Dialect {
        match self {
            Db::Sqlite(_) => Dialect::Sqlite,
            Db::Postgres { .. } => Dialect::Postgres,
        }
    }

    /// After rows were inserted with explicit ids into `tables` (each with an
    /// identity column `id`): PostgreSQL's identity sequences continue after
    /// the largest (SQLite's rowids always do).
    pub fn after_explicit_ids(&self, tx: &mut dyn Tx, tables: &[&str]) -> Result<(), DbError> {
        if let Db::Postgres { .. } = self {
            for table in tables {
                tx.query(
                    &format!(
                        "SELECT setval(pg_get_serial_sequence('{table}', 'id'),
                                       GREATEST((SELECT max(id) FROM {table}), 1),
                                       (SELECT max(id) FROM {table}) IS NOT NULL)"
                    ),
                    &[],
                )?;
            }
        }
        Ok(())
    }

    /// Runs `f` in a read transaction (one consistent view) that changes nothing.
    pub fn read<T, E: From<DbError>>(
        &self,
        f: impl FnOnce(&mut dyn Tx) -> Result<T, E>,
    ) -> Result<T, E> {
        match self {
            Db::Sqlite(c) => {
                let mut c = lock(c);
                let mut tx = c
                    .transaction_with_behavior(rusqlite::TransactionBehavior::Deferred)
                    .map_err(DbError::from)?;
                let out = f(&mut tx)?;
                tx.commit().map_err(DbError::from)?;
                Ok(out)
            }
            Db::Postgres { client, url, .. } => {
                let mut g = pg_client(client, url)?;
                let c = g
                    .as_mut()
                    .ok_or_else(|| DbError::new("the store is closed"))?;
                let mut tx = c
                    .build_transaction()
                    .isolation_level(postgres::IsolationLevel::RepeatableRead)
                    .read_only(true)
                    .start()
                    .map_err(DbError::from)?;
                let out = f(&mut tx)?;
                tx.commit().map_err(DbError::from)?;
                Ok(out)
            }
        }
    }
}

#[cfg(test)]
mod tests;
