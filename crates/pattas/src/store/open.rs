//! Opening the database: the schema migrations (counted by
//! `PRAGMA user_version`, applied by the shared opener `satria_sqlite`), and
//! the schema version of an open file.

use std::path::Path;
use std::sync::Mutex;

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
];

/// `PRAGMA user_version` of the schema this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

impl Pattas {
    /// Opens (creating if needed) the database at `path`, applying the
    /// migrations it lacks. Refuses a database written by a newer build.
    pub fn open(path: &Path, config: PattasConfig) -> Result<Pattas, PattasError> {
        if config.verify_within_ms <= 0 || config.first_assistance_within_ms <= 0 {
            return Err(PattasError::invalid(
                "invalid_config",
                "deadlines must be positive",
                "tenggat waktu harus positif",
            ));
        }
        let conn = satria_sqlite::open(path, "pattas", SCHEMA_VERSION, |tx, from| {
            for sql in &MIGRATIONS[from as usize..] {
                tx.execute_batch(sql)?;
            }
            Ok::<(), PattasError>(())
        })?;
        let desa = satria_region::Region::banyumas()
            .desa
            .into_iter()
            .map(|d| (d.name, d.kecamatan, d.centroid.lat, d.centroid.lon))
            .collect();
        Ok(Pattas {
            conn: Mutex::new(conn),
            config,
            desa,
        })
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64, PattasError> {
        Ok(satria_sqlite::user_version(&self.conn())?)
    }
}
