//! Opening the database: on SQLite the schema migrations (counted by
//! `PRAGMA user_version`, applied by the shared opener `satria_sqlite`); on
//! PostgreSQL the same tables and indexes (BIGINT for INTEGER, DOUBLE
//! PRECISION for REAL, identity columns for AUTOINCREMENT), versioned in
//! `pattas_schema` and migrated under an advisory lock (`satria_sql`); and
//! the schema version of an open store.

use std::path::Path;

use satria_sql::{Db, PgSchema};

use super::Pattas;
use crate::{PattasConfig, PattasError};

/// The schema migrations, applied in order; `PRAGMA user_version` counts
/// those applied. Append, never edit a released one.
const MIGRATIONS: &[&str] = &[
    // 1: beneficiaries, cases, assistance, transports, history.
    "
CREATE TABLE pattas_beneficiaries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    nik TEXT NOT NULL UNIQUE CHECK (length(nik) = 16),
    name TEXT NOT NULL,
    date_of_birth TEXT NOT NULL,
    sex TEXT NOT NULL CHECK (sex IN ('L', 'P')),
    desa TEXT NOT NULL,
    kecamatan TEXT NOT NULL,
    rt TEXT NOT NULL,
    rw TEXT NOT NULL,
    phone TEXT,
    dtks INTEGER NOT NULL CHECK (dtks IN (0, 1)),
    bpjs TEXT NOT NULL CHECK (bpjs IN ('pbi', 'mandiri', 'none')),
    conditions TEXT NOT NULL,
    family_contact TEXT,
    banyumas_resident INTEGER NOT NULL,
    registered_by TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL
);
CREATE TABLE pattas_cases (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    beneficiary_id INTEGER NOT NULL REFERENCES pattas_beneficiaries(id),
    needs TEXT NOT NULL,
    description TEXT NOT NULL,
    reported_via TEXT,
    status TEXT NOT NULL
        CHECK (status IN ('reported', 'verified', 'in_assistance', 'closed', 'rejected')),
    reported_by TEXT NOT NULL,
    reported_by_role TEXT NOT NULL,
    reported_at_ms INTEGER NOT NULL,
    verify_due_ms INTEGER NOT NULL,
    verified_at_ms INTEGER,
    verified_by TEXT,
    assistance_due_ms INTEGER,
    assistance_started_at_ms INTEGER,
    closed_at_ms INTEGER,
    closed_by TEXT,
    closing_summary TEXT,
    rejected_at_ms INTEGER,
    rejected_by TEXT,
    rejection_reason TEXT,
    updated_at_ms INTEGER NOT NULL
);
CREATE TABLE pattas_assistance (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id INTEGER NOT NULL REFERENCES pattas_cases(id),
    date TEXT NOT NULL,
    kind TEXT NOT NULL,
    amount_rp INTEGER NOT NULL CHECK (amount_rp >= 0),
    notes TEXT NOT NULL,
    officer TEXT NOT NULL,
    recorded_at_ms INTEGER NOT NULL
);
CREATE TABLE pattas_transports (
    transport_id TEXT PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES pattas_cases(id),
    scheduled_for_ms INTEGER NOT NULL,
    purpose TEXT NOT NULL,
    notes TEXT NOT NULL,
    pickup_lat REAL NOT NULL,
    pickup_lon REAL NOT NULL,
    pickup_address TEXT NOT NULL,
    destination_hospital_id TEXT,
    destination_name TEXT NOT NULL,
    destination_lat REAL NOT NULL,
    destination_lon REAL NOT NULL,
    booked_by TEXT NOT NULL,
    booked_at_ms INTEGER NOT NULL,
    cancelled_at_ms INTEGER,
    cancelled_by TEXT,
    cancel_reason TEXT
);
CREATE TABLE pattas_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    entity TEXT NOT NULL,
    entity_id INTEGER NOT NULL,
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    details TEXT NOT NULL
);
",
    // 2: the indexes the lists, the overdue list and the reports use.
    "
CREATE INDEX pattas_cases_status ON pattas_cases(status, verify_due_ms, assistance_due_ms);
CREATE INDEX pattas_cases_beneficiary ON pattas_cases(beneficiary_id);
CREATE INDEX pattas_cases_reporter ON pattas_cases(reported_by);
CREATE INDEX pattas_cases_reported_at ON pattas_cases(reported_at_ms);
CREATE INDEX pattas_beneficiaries_desa ON pattas_beneficiaries(desa COLLATE NOCASE);
CREATE INDEX pattas_beneficiaries_registrar ON pattas_beneficiaries(registered_by);
CREATE INDEX pattas_assistance_case ON pattas_assistance(case_id);
CREATE INDEX pattas_assistance_date ON pattas_assistance(date);
CREATE INDEX pattas_transports_case ON pattas_transports(case_id);
CREATE INDEX pattas_history_entity ON pattas_history(entity, entity_id, id);
",
    // 3: the desa filter is spelled `lower(desa) = lower(?)` (the same on
    // PostgreSQL, which has no NOCASE collation): its index follows.
    "
DROP INDEX pattas_beneficiaries_desa;
CREATE INDEX pattas_beneficiaries_desa ON pattas_beneficiaries(lower(desa));
",
];

/// `PRAGMA user_version` of the schema this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The Pattas schema on PostgreSQL.
pub(super) const PG_SCHEMA: PgSchema<'static> = PgSchema {
    name: "pattas",
    version_table: "pattas_schema",
    migrations: PG_MIGRATIONS,
    // 'satr', 'pmig'
    migration_lock: 0x7361_7472_706d_6967,
    // 'satr', 'patt': every write transaction of the store, so a check and
    // the change that depends on it (one open case per beneficiary, one
    // beneficiary per NIK, a case's state) serialise across nodes.
    write_lock: 0x7361_7472_7061_7474,
};

/// The version of the PostgreSQL schema this build writes.
pub const PG_SCHEMA_VERSION: i64 = PG_MIGRATIONS.len() as i64;

/// The PostgreSQL migrations, in order: step `i` brings version `i` to
/// `i + 1`. Append, never edit a released one. Step 1 is the SQLite schema
/// at its version 3.
const PG_MIGRATIONS: &[&str] = &["
CREATE TABLE pattas_beneficiaries (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    nik TEXT NOT NULL UNIQUE CHECK (length(nik) = 16),
    name TEXT NOT NULL,
    date_of_birth TEXT NOT NULL,
    sex TEXT NOT NULL CHECK (sex IN ('L', 'P')),
    desa TEXT NOT NULL,
    kecamatan TEXT NOT NULL,
    rt TEXT NOT NULL,
    rw TEXT NOT NULL,
    phone TEXT,
    dtks BIGINT NOT NULL CHECK (dtks IN (0, 1)),
    bpjs TEXT NOT NULL CHECK (bpjs IN ('pbi', 'mandiri', 'none')),
    conditions TEXT NOT NULL,
    family_contact TEXT,
    banyumas_resident BIGINT NOT NULL,
    registered_by TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
CREATE TABLE pattas_cases (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    beneficiary_id BIGINT NOT NULL REFERENCES pattas_beneficiaries(id),
    needs TEXT NOT NULL,
    description TEXT NOT NULL,
    reported_via TEXT,
    status TEXT NOT NULL
        CHECK (status IN ('reported', 'verified', 'in_assistance', 'closed', 'rejected')),
    reported_by TEXT NOT NULL,
    reported_by_role TEXT NOT NULL,
    reported_at_ms BIGINT NOT NULL,
    verify_due_ms BIGINT NOT NULL,
    verified_at_ms BIGINT,
    verified_by TEXT,
    assistance_due_ms BIGINT,
    assistance_started_at_ms BIGINT,
    closed_at_ms BIGINT,
    closed_by TEXT,
    closing_summary TEXT,
    rejected_at_ms BIGINT,
    rejected_by TEXT,
    rejection_reason TEXT,
    updated_at_ms BIGINT NOT NULL
);
CREATE TABLE pattas_assistance (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    case_id BIGINT NOT NULL REFERENCES pattas_cases(id),
    date TEXT NOT NULL,
    kind TEXT NOT NULL,
    amount_rp BIGINT NOT NULL CHECK (amount_rp >= 0),
    notes TEXT NOT NULL,
    officer TEXT NOT NULL,
    recorded_at_ms BIGINT NOT NULL
);
CREATE TABLE pattas_transports (
    transport_id TEXT PRIMARY KEY,
    case_id BIGINT NOT NULL REFERENCES pattas_cases(id),
    scheduled_for_ms BIGINT NOT NULL,
    purpose TEXT NOT NULL,
    notes TEXT NOT NULL,
    pickup_lat DOUBLE PRECISION NOT NULL,
    pickup_lon DOUBLE PRECISION NOT NULL,
    pickup_address TEXT NOT NULL,
    destination_hospital_id TEXT,
    destination_name TEXT NOT NULL,
    destination_lat DOUBLE PRECISION NOT NULL,
    destination_lon DOUBLE PRECISION NOT NULL,
    booked_by TEXT NOT NULL,
    booked_at_ms BIGINT NOT NULL,
    cancelled_at_ms BIGINT,
    cancelled_by TEXT,
    cancel_reason TEXT
);
CREATE TABLE pattas_history (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    entity TEXT NOT NULL,
    entity_id BIGINT NOT NULL,
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    details TEXT NOT NULL
);
CREATE INDEX pattas_cases_status ON pattas_cases(status, verify_due_ms, assistance_due_ms);
CREATE INDEX pattas_cases_beneficiary ON pattas_cases(beneficiary_id);
CREATE INDEX pattas_cases_reporter ON pattas_cases(reported_by);
CREATE INDEX pattas_cases_reported_at ON pattas_cases(reported_at_ms);
CREATE INDEX pattas_beneficiaries_desa ON pattas_beneficiaries(lower(desa));
CREATE INDEX pattas_beneficiaries_registrar ON pattas_beneficiaries(registered_by);
CREATE INDEX pattas_assistance_case ON pattas_assistance(case_id);
CREATE INDEX pattas_assistance_date ON pattas_assistance(date);
CREATE INDEX pattas_transports_case ON pattas_transports(case_id);
CREATE INDEX pattas_history_entity ON pattas_history(entity, entity_id, id);
"];

/// Refuses deadlines that are not positive.
fn check_config(config: &PattasConfig) -> Result<(), PattasError> {
    if config.verify_within_ms <= 0 || config.first_assistance_within_ms <= 0 {
        return Err(PattasError::invalid(
            "invalid_config",
            "deadlines must be positive",
            "tenggat waktu harus positif",
        ));
    }
    Ok(())
}

impl Pattas {
    /// Opens (creating if needed) the database at `path`, applying the
    /// migrations it lacks. Refuses a database written by a newer build.
    pub fn open(path: &Path, config: PattasConfig) -> Result<Pattas, PattasError> {
        check_config(&config)?;
        let conn = satria_sqlite::open(path, "pattas", SCHEMA_VERSION, |tx, from| {
            for sql in &MIGRATIONS[from as usize..] {
                tx.execute_batch(sql)?;
            }
            Ok::<(), PattasError>(())
        })?;
        Ok(Pattas::on(Db::sqlite(conn), config))
    }

    /// Opens the store in the PostgreSQL database at `url` (shared by the
    /// nodes of a cluster), creating or migrating its tables in one
    /// transaction under an advisory lock. Refuses a schema written by a
    /// newer build. The URL's password never shows in an error.
    pub fn open_postgres(url: &str, config: PattasConfig) -> Result<Pattas, PattasError> {
        check_config(&config)?;
        let db = Db::postgres(url, &PG_SCHEMA)?;
        Ok(Pattas::on(db, config))
    }

    /// The store on an opened database.
    fn on(db: Db, config: PattasConfig) -> Pattas {
        let desa = satria_region::Region::banyumas()
            .desa
            .into_iter()
            .map(|d| (d.name, d.kecamatan, d.centroid.lat, d.centroid.lon))
            .collect();
        Pattas { db, config, desa }
    }

    /// The schema version of the open store: `PRAGMA user_version` of a
    /// SQLite file ([`SCHEMA_VERSION`] once opened), the row of
    /// `pattas_schema` on PostgreSQL ([`PG_SCHEMA_VERSION`]).
    pub fn schema_version(&self) -> Result<i64, PattasError> {
        Ok(self.db.schema_version(&PG_SCHEMA)?)
    }
}
