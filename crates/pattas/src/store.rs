//! [`Pattas`]: the SQLite database of the module and every rule that keeps
//! it consistent. Methods are blocking; from async code call them inside
//! `tokio::task::spawn_blocking` (the router does).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, Row, Transaction, TransactionBehavior, params};
use satria_auth::{Principal, Role};
use serde_json::{Value, json};

use crate::desk::{TransportRequest, TransportTicket};
use crate::model::*;
use crate::valid::{self, Date};
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

/// The username [`Pattas::seed_demo`] reports its mitra cases as: a demo
/// `pattas_mitra` account of this name sees them.
pub const DEMO_MITRA_USERNAME: &str = "mitra";
/// The officer [`Pattas::seed_demo`] acts as.
const DEMO_OFFICER_USERNAME: &str = "pattas";

const B_COLS: &str =
    "id, nik, name, date_of_birth, sex, desa, kecamatan, rt, rw, phone, dtks, bpjs,
    conditions, family_contact, banyumas_resident, registered_by, created_at_ms, updated_at_ms";

const C_COLS: &str = "c.id, c.beneficiary_id, b.name, b.desa, b.kecamatan, c.needs, c.description,
    c.reported_via, c.status, c.reported_by, c.reported_by_role, c.reported_at_ms, c.verify_due_ms,
    c.verified_at_ms, c.verified_by, c.assistance_due_ms, c.assistance_started_at_ms,
    c.closed_at_ms, c.closed_by, c.closing_summary, c.rejected_at_ms, c.rejected_by,
    c.rejection_reason, c.updated_at_ms";

const T_COLS: &str = "transport_id, case_id, scheduled_for_ms, purpose, notes, pickup_lat,
    pickup_lon, pickup_address, destination_hospital_id, destination_name, destination_lat,
    destination_lon, booked_by, booked_at_ms, cancelled_at_ms, cancelled_by, cancel_reason";

/// Beneficiaries, cases, assistance and transports in one SQLite file.
///
/// `Send + Sync`; share it in an `Arc`. Give it a file of its own (e.g.
/// `pattas.sqlite`): it owns the file's `PRAGMA user_version`.
pub struct Pattas {
    conn: Mutex<Connection>,
    config: PattasConfig,
    /// (desa, kecamatan, latitude, longitude of its centre) of Kabupaten Banyumas.
    desa: Vec<(String, String, f64, f64)>,
}

impl std::fmt::Debug for Pattas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pattas")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// A beneficiary's values, checked and normalised.
struct CleanBeneficiary {
    nik: String,
    name: String,
    date_of_birth: String,
    sex: &'static str,
    desa: String,
    kecamatan: String,
    rt: String,
    rw: String,
    phone: Option<String>,
    dtks: bool,
    bpjs: String,
    conditions: Vec<String>,
    family_contact: Option<FamilyContact>,
    banyumas_resident: bool,
}

/// The mitra username a caller is limited to, if it is a mitra.
fn mitra_of(who: &Principal) -> Option<&str> {
    (who.role == Role::PattasMitra).then_some(who.username.as_str())
}

fn json_col<T: serde::de::DeserializeOwned>(row: &Row<'_>, idx: usize) -> rusqlite::Result<T> {
    let s: String = row.get(idx)?;
    serde_json::from_str(&s).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn beneficiary_row(row: &Row<'_>) -> rusqlite::Result<Beneficiary> {
    let family: Option<String> = row.get(13)?;
    let family_contact = match family {
        Some(s) => Some(serde_json::from_str(&s).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(13, rusqlite::types::Type::Text, Box::new(e))
        })?),
        None => None,
    };
    Ok(Beneficiary {
        id: row.get(0)?,
        nik: row.get(1)?,
        name: row.get(2)?,
        date_of_birth: row.get(3)?,
        sex: row.get(4)?,
        desa: row.get(5)?,
        kecamatan: row.get(6)?,
        rt: row.get(7)?,
        rw: row.get(8)?,
        phone: row.get(9)?,
        dtks: row.get(10)?,
        bpjs: row.get(11)?,
        conditions: json_col(row, 12)?,
        family_contact,
        banyumas_resident: row.get(14)?,
        registered_by: row.get(15)?,
        created_at_ms: row.get(16)?,
        updated_at_ms: row.get(17)?,
    })
}

fn case_row(row: &Row<'_>) -> rusqlite::Result<Case> {
    Ok(Case {
        id: row.get(0)?,
        beneficiary_id: row.get(1)?,
        beneficiary_name: row.get(2)?,
        desa: row.get(3)?,
        kecamatan: row.get(4)?,
        needs: json_col(row, 5)?,
        description: row.get(6)?,
        reported_via: row.get(7)?,
        status: row.get(8)?,
        reported_by: row.get(9)?,
        reported_by_role: row.get(10)?,
        reported_at_ms: row.get(11)?,
        verify_due_ms: row.get(12)?,
        verified_at_ms: row.get(13)?,
        verified_by: row.get(14)?,
        assistance_due_ms: row.get(15)?,
        assistance_started_at_ms: row.get(16)?,
        closed_at_ms: row.get(17)?,
        closed_by: row.get(18)?,
        closing_summary: row.get(19)?,
        rejected_at_ms: row.get(20)?,
        rejected_by: row.get(21)?,
        rejection_reason: row.get(22)?,
        updated_at_ms: row.get(23)?,
        overdue: None,
    })
}

fn transport_row(row: &Row<'_>) -> rusqlite::Result<Transport> {
    let cancelled_at_ms: Option<i64> = row.get(14)?;
    Ok(Transport {
        transport_id: row.get(0)?,
        case_id: row.get(1)?,
        scheduled_for_ms: row.get(2)?,
        purpose: row.get(3)?,
        notes: row.get(4)?,
        pickup: Pickup {
            lat: row.get(5)?,
            lon: row.get(6)?,
            address: row.get(7)?,
        },
        destination: Destination {
            hospital_id: row.get(8)?,
            name: row.get(9)?,
            lat: row.get(10)?,
            lon: row.get(11)?,
        },
        booked_by: row.get(12)?,
        booked_at_ms: row.get(13)?,
        cancelled_at_ms,
        cancelled_by: row.get(15)?,
        cancel_reason: row.get(16)?,
        state: if cancelled_at_ms.is_some() {
            "cancelled".into()
        } else {
            "booked".into()
        },
        live: None,
    })
}

fn assistance_row(row: &Row<'_>) -> rusqlite::Result<Assistance> {
    Ok(Assistance {
        id: row.get(0)?,
        case_id: row.get(1)?,
        date: row.get(2)?,
        kind: row.get(3)?,
        amount_rp: row.get(4)?,
        notes: row.get(5)?,
        officer: row.get(6)?,
        recorded_at_ms: row.get(7)?,
    })
}

/// Appends one row to the change history, inside the change's transaction.
fn history(
    tx: &Transaction<'_>,
    entity: &str,
    entity_id: i64,
    action: &str,
    who: &Principal,
    at_ms: i64,
    details: Value,
) -> Result<(), PattasError> {
    debug_assert!(
        crate::model::ACTION_LABELS
            .iter()
            .any(|(a, _, _)| *a == action),
        "history action {action:?} has no label in ACTION_LABELS"
    );
    tx.execute(
        "INSERT INTO pattas_history (entity, entity_id, action, actor, role, at_ms, details)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            entity,
            entity_id,
            action,
            who.username,
            who.role.as_str(),
            at_ms,
            details.to_string()
        ],
    )?;
    Ok(())
}

fn parse_sex(v: &str) -> Result<&'static str, PattasError> {
    match v.trim().to_ascii_lowercase().as_str() {
        "l" | "male" | "laki-laki" => Ok("L"),
        "p" | "female" | "perempuan" => Ok("P"),
        _ => Err(PattasError::invalid(
            "invalid_sex",
            "sex must be L (male) or P (female)",
            "jenis kelamin harus L (laki-laki) atau P (perempuan)",
        )),
    }
}

fn parse_bpjs(v: &str) -> Result<String, PattasError> {
    let v = v.trim().to_ascii_lowercase();
    if BPJS.contains(&v.as_str()) {
        Ok(v)
    } else {
        Err(PattasError::invalid(
            "invalid_bpjs",
            "bpjs must be pbi, mandiri or none",
            "bpjs harus pbi, mandiri atau none",
        ))
    }
}

fn parse_need(field: &str, v: &str) -> Result<String, PattasError> {
    let v = v.trim();
    if NEEDS.contains(&v) {
        Ok(v.to_string())
    } else {
        Err(PattasError::invalid(
            "invalid_need",
            format!("{field} must be one of {}", NEEDS.join(", ")),
            format!("{field} harus salah satu dari {}", NEEDS.join(", ")),
        ))
    }
}

fn parse_status(v: &str) -> Result<&'static str, PattasError> {
    STATUSES
        .iter()
        .find(|s| **s == v.trim())
        .copied()
        .ok_or_else(|| {
            PattasError::invalid(
                "invalid_status",
                format!("status must be one of {}", STATUSES.join(", ")),
                format!("status harus salah satu dari {}", STATUSES.join(", ")),
            )
        })
}

fn page(limit: Option<u32>, offset: Option<u32>) -> Result<(i64, i64), PattasError> {
    let limit = limit.unwrap_or(limits::PAGE_DEFAULT);
    if limit == 0 || limit > limits::PAGE_MAX {
        return Err(PattasError::invalid(
            "invalid_limit",
            format!("limit must be 1 to {}", limits::PAGE_MAX),
            format!("limit harus 1 sampai {}", limits::PAGE_MAX),
        ));
    }
    Ok((i64::from(limit), i64::from(offset.unwrap_or(0))))
}

/// `from`/`to` dates (inclusive, WIB).
fn range(q: &RangeQuery) -> Result<(Option<Date>, Option<Date>), PattasError> {
    let one = |field: &str, v: &Option<String>| -> Result<Option<Date>, PattasError> {
        match v {
            None => Ok(None),
            Some(s) => Date::parse(s.trim()).map(Some).ok_or_else(|| {
                PattasError::invalid(
                    "invalid_date",
                    format!("{field} must be a date YYYY-MM-DD"),
                    format!("{field} harus tanggal YYYY-MM-DD"),
                )
            }),
        }
    };
    let from = one("from", &q.from)?;
    let to = one("to", &q.to)?;
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        return Err(PattasError::invalid(
            "invalid_range",
            "from must not be after to",
            "from tidak boleh setelah to",
        ));
    }
    Ok((from, to))
}

fn invalid_transition(case: &Case, action: &str, needs: &str) -> PattasError {
    PattasError::conflict(
        "invalid_transition",
        format!(
            "case {} is {}; {action} needs a case that is {needs}",
            case.id, case.status
        ),
        format!(
            "kasus {} berstatus {}; {action} hanya untuk kasus berstatus {needs}",
            case.id, case.status
        ),
    )
}

fn note(v: Option<String>) -> Result<Option<String>, PattasError> {
    match v {
        None => Ok(None),
        Some(s) => {
            let t = valid::optional_text("note", &s, limits::NOTES)?;
            Ok((!t.is_empty()).then_some(t))
        }
    }
}

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
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") && !mode.eq_ignore_ascii_case("memory") {
            return Err(PattasError::Storage(format!(
                "could not switch to WAL (journal_mode is {mode})"
            )));
        }
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(PattasError::Storage(format!(
                "pattas database schema version {version} is newer than this build ({SCHEMA_VERSION})"
            )));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        }
        tx.commit()?;
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

    /// The desa/kelurahan of Kabupaten Banyumas a beneficiary may live in,
    /// as (desa, kecamatan), by kecamatan then desa.
    pub fn desa_list(&self) -> Vec<(String, String)> {
        self.desa_places()
            .into_iter()
            .map(|(d, k, _, _)| (d, k))
            .collect()
    }

    /// The same desa with the position of their centre, to place a pickup by name.
    pub fn desa_places(&self) -> Vec<(String, String, f64, f64)> {
        let mut v = self.desa.clone();
        v.sort_by(|a, b| (&a.1, &a.0).cmp(&(&b.1, &b.0)));
        v
    }

    pub fn config(&self) -> &PattasConfig {
        &self.config
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64, PattasError> {
        Ok(self
            .conn()
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // Transactions roll back on drop, so a poisoned lock is still consistent.
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    // ---- beneficiaries ------------------------------------------------------

    fn find_desa(
        &self,
        desa: &str,
        kecamatan: Option<&str>,
    ) -> Result<(String, String), PattasError> {
        let desa = valid::text("desa", desa, limits::DESA)?;
        let matches: Vec<(String, String)> = self
            .desa
            .iter()
            .filter(|(d, k, _, _)| {
                d.eq_ignore_ascii_case(&desa)
                    && kecamatan.is_none_or(|want| k.eq_ignore_ascii_case(want.trim()))
            })
            .map(|(d, k, _, _)| (d.clone(), k.clone()))
            .collect();
        match matches.as_slice() {
            [one] => Ok(one.clone()),
            [] => Err(PattasError::invalid(
                "unknown_desa",
                format!(
                    "{desa:?}{} is not a desa/kelurahan of Kabupaten Banyumas",
                    kecamatan
                        .map(|k| format!(" in kecamatan {k:?}"))
                        .unwrap_or_default()
                ),
                format!(
                    "{desa:?}{} bukan desa/kelurahan di Kabupaten Banyumas",
                    kecamatan
                        .map(|k| format!(" di kecamatan {k:?}"))
                        .unwrap_or_default()
                ),
            )),
            many => {
                let ks: Vec<&str> = many.iter().map(|(_, k)| k.as_str()).collect();
                Err(PattasError::invalid(
                    "ambiguous_desa",
                    format!(
                        "there is a desa {desa:?} in kecamatan {}: give kecamatan too",
                        ks.join(" and ")
                    ),
                    format!(
                        "desa {desa:?} ada di kecamatan {}: isi juga kecamatan",
                        ks.join(" dan ")
                    ),
                ))
            }
        }
    }

    fn clean_beneficiary(
        &self,
        b: NewBeneficiary,
        now_ms: i64,
    ) -> Result<CleanBeneficiary, PattasError> {
        let nik = b.nik.trim().to_string();
        let form = valid::nik_form(&nik)?;
        let name = valid::text("name", &b.name, limits::NAME)?;
        let dob = Date::parse(b.date_of_birth.trim()).ok_or_else(|| {
            PattasError::invalid(
                "invalid_date_of_birth",
                "date_of_birth must be a date YYYY-MM-DD",
                "date_of_birth harus tanggal YYYY-MM-DD",
            )
        })?;
        let today = Date::wib_of_ms(now_ms);
        if dob > today || dob.y < 1900 {
            return Err(PattasError::invalid(
                "invalid_date_of_birth",
                "date_of_birth must not be in the future nor before 1900",
                "date_of_birth tidak boleh di masa depan atau sebelum 1900",
            ));
        }
        let sex = parse_sex(&b.sex)?;
        let mut mismatches_en = Vec::new();
        let mut mismatches_id = Vec::new();
        if form.day != dob.d || form.month != dob.m || i64::from(form.yy) != dob.y % 100 {
            mismatches_en.push(format!(
                "its birth date digits say {:02}-{:02}-..{:02} but date_of_birth is {dob}",
                form.day, form.month, form.yy
            ));
            mismatches_id.push(format!(
                "angka tanggal lahirnya {:02}-{:02}-..{:02} tetapi date_of_birth {dob}",
                form.day, form.month, form.yy
            ));
        }
        if form.female != (sex == "P") {
            let (en, id) = if form.female {
                (
                    "its day + 40 says female but sex is L",
                    "tanggalnya + 40 (perempuan) tetapi jenis kelamin L",
                )
            } else {
                (
                    "its day says male but sex is P (a woman's day has 40 added)",
                    "tanggalnya laki-laki tetapi jenis kelamin P (perempuan ditambah 40)",
                )
            };
            mismatches_en.push(en.to_string());
            mismatches_id.push(id.to_string());
        }
        if !mismatches_en.is_empty() {
            return Err(PattasError::invalid(
                "nik_mismatch",
                format!("the NIK does not match: {}", mismatches_en.join("; ")),
                format!("NIK tidak cocok: {}", mismatches_id.join("; ")),
            ));
        }
        let (desa, kecamatan) = self.find_desa(&b.desa, b.kecamatan.as_deref())?;
        let rt = valid::rt_rw("rt", &b.rt)?;
        let rw = valid::rt_rw("rw", &b.rw)?;
        let phone = match b.phone.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(p) => Some(valid::phone("phone", p)?),
        };
        let bpjs = parse_bpjs(&b.bpjs)?;
        if b.conditions.len() > limits::CONDITIONS {
            return Err(PattasError::invalid(
                "invalid_conditions",
                format!("at most {} conditions", limits::CONDITIONS),
                format!("paling banyak {} penyakit", limits::CONDITIONS),
            ));
        }
        let mut conditions: Vec<String> = Vec::new();
        for c in &b.conditions {
            let c = valid::text("conditions[]", c, limits::CONDITION)?;
            if !conditions.iter().any(|x| x.eq_ignore_ascii_case(&c)) {
                conditions.push(c);
            }
        }
        if conditions.is_empty() {
            return Err(PattasError::invalid(
                "invalid_conditions",
                "conditions must name at least one chronic condition",
                "conditions harus berisi paling sedikit satu penyakit kronis",
            ));
        }
        let family_contact = match b.family_contact {
            None => None,
            Some(f) => Some(FamilyContact {
                name: valid::text("family_contact.name", &f.name, limits::NAME)?,
                phone: valid::phone("family_contact.phone", &f.phone)?,
                relation: valid::text("family_contact.relation", &f.relation, limits::RELATION)?,
            }),
        };
        Ok(CleanBeneficiary {
            nik,
            name,
            date_of_birth: dob.to_string(),
            sex,
            desa,
            kecamatan,
            rt,
            rw,
            phone,
            dtks: b.dtks,
            bpjs,
            conditions,
            family_contact,
            banyumas_resident: form.banyumas,
        })
    }

    fn duplicate_nik(tx: &Transaction<'_>, nik: &str, except: i64) -> Result<(), PattasError> {
        let existing: Option<i64> = tx
            .query_row(
                "SELECT id FROM pattas_beneficiaries WHERE nik = ?1 AND id != ?2",
                params![nik, except],
                |r| r.get(0),
            )
            .optional()?;
        match existing {
            None => Ok(()),
            Some(_) => Err(PattasError::conflict(
                "duplicate_nik",
                "a beneficiary with this NIK is already registered; report the case with its NIK",
                "penerima manfaat dengan NIK ini sudah terdaftar; laporkan kasusnya dengan NIK tersebut",
            )),
        }
    }

    /// Registers a beneficiary. One per NIK.
    pub fn create_beneficiary(
        &self,
        who: &Principal,
        input: NewBeneficiary,
        now_ms: i64,
    ) -> Result<Beneficiary, PattasError> {
        let b = self.clean_beneficiary(input, now_ms)?;
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        Self::duplicate_nik(&tx, &b.nik, -1)?;
        tx.execute(
            "INSERT INTO pattas_beneficiaries (nik, name, date_of_birth, sex, desa, kecamatan, rt,
                rw, phone, dtks, bpjs, conditions, family_contact, banyumas_resident,
                registered_by, created_at_ms, updated_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?16)",
            params![
                b.nik,
                b.name,
                b.date_of_birth,
                b.sex,
                b.desa,
                b.kecamatan,
                b.rt,
                b.rw,
                b.phone,
                b.dtks,
                b.bpjs,
                serde_json::to_string(&b.conditions)?,
                b.family_contact
                    .as_ref()
                    .map(serde_json::to_string)
                    .transpose()?,
                b.banyumas_resident,
                who.username,
                now_ms
            ],
        )?;
        let id = tx.last_insert_rowid();
        history(
            &tx,
            "beneficiary",
            id,
            "registered",
            who,
            now_ms,
            json!({"banyumas_resident": b.banyumas_resident, "desa": b.desa, "kecamatan": b.kecamatan}),
        )?;
        let out = Self::beneficiary_in(&tx, id)?;
        tx.commit()?;
        Ok(out)
    }

    fn beneficiary_in(conn: &Connection, id: i64) -> Result<Beneficiary, PattasError> {
        conn.query_row(
            &format!("SELECT {B_COLS} FROM pattas_beneficiaries WHERE id = ?1"),
            [id],
            beneficiary_row,
        )
        .optional()?
        .ok_or(PattasError::NotFound("beneficiary", "penerima manfaat"))
    }

    /// The SQL condition (on `pattas_beneficiaries` aliased `b`) a mitra is
    /// limited to, the mitra's username bound to `?n`.
    fn mitra_beneficiary(n: usize) -> String {
        format!(
            "(b.registered_by = ?{n} OR EXISTS (SELECT 1 FROM pattas_cases c
              WHERE c.beneficiary_id = b.id AND c.reported_by = ?{n}))"
        )
    }

    fn visible_beneficiary(
        conn: &Connection,
        who: &Principal,
        id: i64,
    ) -> Result<bool, PattasError> {
        match mitra_of(who) {
            None => Ok(true),
            Some(m) => Ok(conn
                .query_row(
                    &format!(
                        "SELECT 1 FROM pattas_beneficiaries b WHERE b.id = ?2 AND {}",
                        Self::mitra_beneficiary(1)
                    ),
                    params![m, id],
                    |_| Ok(()),
                )
                .optional()?
                .is_some()),
        }
    }

    /// One beneficiary the caller may see, with its history.
    pub fn beneficiary(&self, who: &Principal, id: i64) -> Result<BeneficiaryDetail, PattasError> {
        let conn = self.conn();
        if !Self::visible_beneficiary(&conn, who, id)? {
            return Err(PattasError::NotFound("beneficiary", "penerima manfaat"));
        }
        let beneficiary = Self::beneficiary_in(&conn, id)?;
        let history = Self::history_of(&conn, "beneficiary", id)?;
        Ok(BeneficiaryDetail {
            beneficiary,
            history,
        })
    }

    /// The beneficiaries the caller may see, by name.
    pub fn list_beneficiaries(
        &self,
        who: &Principal,
        q: &BeneficiaryQuery,
    ) -> Result<Vec<Beneficiary>, PattasError> {
        let (limit, offset) = page(q.limit, q.offset)?;
        let mut sql = format!(
            "SELECT {} FROM pattas_beneficiaries b WHERE 1 = 1",
            B_COLS
                .split(',')
                .map(|c| format!("b.{}", c.trim()))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut args: Vec<SqlValue> = Vec::new();
        if let Some(m) = mitra_of(who) {
            args.push(SqlValue::Text(m.to_string()));
            sql.push_str(&format!(" AND {}", Self::mitra_beneficiary(args.len())));
        }
        if let Some(s) = &q.q {
            let s = valid::optional_text("q", s, limits::SEARCH)?;
            if !s.is_empty() {
                let escaped = s
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_");
                args.push(SqlValue::Text(format!("%{escaped}%")));
                let name_arg = args.len();
                args.push(SqlValue::Text(format!("{escaped}%")));
                sql.push_str(&format!(
                    " AND (b.name LIKE ?{name_arg} ESCAPE '\\' OR b.nik LIKE ?{} ESCAPE '\\')",
                    name_arg + 1
                ));
            }
        }
        if let Some(d) = &q.desa {
            let d = valid::text("desa", d, limits::DESA)?;
            args.push(SqlValue::Text(d));
            sql.push_str(&format!(" AND b.desa = ?{} COLLATE NOCASE", args.len()));
        }
        args.push(SqlValue::Integer(limit));
        args.push(SqlValue::Integer(offset));
        sql.push_str(&format!(
            " ORDER BY b.name COLLATE NOCASE, b.id LIMIT ?{} OFFSET ?{}",
            args.len() - 1,
            args.len()
        ));
        let conn = self.conn();
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(args), beneficiary_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Changes a beneficiary (officer). The whole record is checked again, so
    /// the NIK stays consistent with the birth date and sex.
    pub fn update_beneficiary(
        &self,
        who: &Principal,
        id: i64,
        patch: BeneficiaryPatch,
        now_ms: i64,
    ) -> Result<Beneficiary, PattasError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if !Self::visible_beneficiary(&tx, who, id)? {
            return Err(PattasError::NotFound("beneficiary", "penerima manfaat"));
        }
        let old = Self::beneficiary_in(&tx, id)?;
        let mut changed: Vec<&str> = Vec::new();
        let desa_changed = patch.desa.is_some();
        macro_rules! pick {
            ($field:ident) => {
                match patch.$field {
                    Some(v) => {
                        changed.push(stringify!($field));
                        v
                    }
                    None => old.$field.clone(),
                }
            };
        }
        let input = NewBeneficiary {
            nik: pick!(nik),
            name: pick!(name),
            date_of_birth: pick!(date_of_birth),
            sex: pick!(sex),
            desa: pick!(desa),
            kecamatan: match patch.kecamatan {
                Some(k) => {
                    changed.push("kecamatan");
                    k
                }
                // The stored kecamatan disambiguates the stored desa; a new
                // desa without a kecamatan is looked up on its own.
                None if !desa_changed => Some(old.kecamatan.clone()),
                None => None,
            },
            rt: pick!(rt),
            rw: pick!(rw),
            phone: match patch.phone {
                Some(p) => {
                    changed.push("phone");
                    p
                }
                None => old.phone.clone(),
            },
            dtks: pick!(dtks),
            bpjs: pick!(bpjs),
            conditions: pick!(conditions),
            family_contact: match patch.family_contact {
                Some(f) => {
                    changed.push("family_contact");
                    f
                }
                None => old.family_contact.clone(),
            },
        };
        if changed.is_empty() {
            return Err(PattasError::invalid(
                "empty_patch",
                "nothing to change: send at least one field",
                "tidak ada yang diubah: kirim paling sedikit satu isian",
            ));
        }
        let b = self.clean_beneficiary(input, now_ms)?;
        Self::duplicate_nik(&tx, &b.nik, id)?;
        tx.execute(
            "UPDATE pattas_beneficiaries SET nik = ?2, name = ?3, date_of_birth = ?4, sex = ?5,
                desa = ?6, kecamatan = ?7, rt = ?8, rw = ?9, phone = ?10, dtks = ?11, bpjs = ?12,
                conditions = ?13, family_contact = ?14, banyumas_resident = ?15,
                updated_at_ms = ?16
             WHERE id = ?1",
            params![
                id,
                b.nik,
                b.name,
                b.date_of_birth,
                b.sex,
                b.desa,
                b.kecamatan,
                b.rt,
                b.rw,
                b.phone,
                b.dtks,
                b.bpjs,
                serde_json::to_string(&b.conditions)?,
                b.family_contact
                    .as_ref()
                    .map(serde_json::to_string)
                    .transpose()?,
                b.banyumas_resident,
                now_ms
            ],
        )?;
        history(
            &tx,
            "beneficiary",
            id,
            "updated",
            who,
            now_ms,
            json!({ "fields": changed }),
        )?;
        let out = Self::beneficiary_in(&tx, id)?;
        tx.commit()?;
        Ok(out)
    }

    // ---- cases --------------------------------------------------------------

    fn case_in(conn: &Connection, who: &Principal, id: i64) -> Result<Case, PattasError> {
        let case = conn
            .query_row(
                &format!(
                    "SELECT {C_COLS} FROM pattas_cases c
                     JOIN pattas_beneficiaries b ON b.id = c.beneficiary_id WHERE c.id = ?1"
                ),
                [id],
                case_row,
            )
            .optional()?;
        match case {
            Some(c) if mitra_of(who).is_none_or(|m| m == c.reported_by) => Ok(c),
            _ => Err(PattasError::NotFound("case", "kasus")),
        }
    }

    /// Reports a case (mitra or officer).
    pub fn report_case(
        &self,
        who: &Principal,
        input: NewCase,
        now_ms: i64,
    ) -> Result<Case, PattasError> {
        let description = valid::text("description", &input.description, limits::DESCRIPTION)?;
        let reported_via = match input.reported_via.as_deref() {
            None => None,
            Some(v) => {
                let v = valid::optional_text("reported_via", v, limits::REPORTED_VIA)?;
                (!v.is_empty()).then_some(v)
            }
        };
        let mut needs: Vec<String> = Vec::new();
        for n in &input.needs {
            let n = parse_need("needs[]", n)?;
            if !needs.contains(&n) {
                needs.push(n);
            }
        }
        if needs.is_empty() {
            return Err(PattasError::invalid(
                "invalid_need",
                format!("needs must name at least one of {}", NEEDS.join(", ")),
                format!(
                    "needs harus berisi paling sedikit satu dari {}",
                    NEEDS.join(", ")
                ),
            ));
        }
        needs.sort_by_key(|n| NEEDS.iter().position(|x| x == n));
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let beneficiary_id = match (input.beneficiary_id, input.nik.as_deref()) {
            (Some(id), None) => {
                if !Self::visible_beneficiary(&tx, who, id)? {
                    return Err(PattasError::NotFound("beneficiary", "penerima manfaat"));
                }
                Self::beneficiary_in(&tx, id)?.id
            }
            (None, Some(nik)) => {
                let nik = nik.trim();
                valid::nik_form(nik)?;
                tx.query_row(
                    "SELECT id FROM pattas_beneficiaries WHERE nik = ?1",
                    [nik],
                    |r| r.get(0),
                )
                .optional()?
                .ok_or(PattasError::NotFound("beneficiary", "penerima manfaat"))?
            }
            _ => {
                return Err(PattasError::invalid(
                    "invalid_beneficiary",
                    "give exactly one of beneficiary_id and nik",
                    "isi tepat satu dari beneficiary_id dan nik",
                ));
            }
        };
        let open: Option<i64> = tx
            .query_row(
                "SELECT id FROM pattas_cases WHERE beneficiary_id = ?1
                   AND status IN ('reported', 'verified', 'in_assistance')",
                [beneficiary_id],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(open) = open {
            return Err(PattasError::conflict(
                "open_case_exists",
                format!(
                    "this beneficiary already has an open case ({open}); add to it instead of reporting another"
                ),
                format!(
                    "penerima manfaat ini sudah punya kasus yang masih berjalan ({open}); tambahkan ke kasus itu"
                ),
            ));
        }
        let verify_due = now_ms.saturating_add(self.config.verify_within_ms);
        tx.execute(
            "INSERT INTO pattas_cases (beneficiary_id, needs, description, reported_via, status,
                reported_by, reported_by_role, reported_at_ms, verify_due_ms, updated_at_ms)
             VALUES (?1, ?2, ?3, ?4, 'reported', ?5, ?6, ?7, ?8, ?7)",
            params![
                beneficiary_id,
                serde_json::to_string(&needs)?,
                description,
                reported_via,
                who.username,
                who.role.as_str(),
                now_ms,
                verify_due
            ],
        )?;
        let id = tx.last_insert_rowid();
        history(
            &tx,
            "case",
            id,
            "reported",
            who,
            now_ms,
            json!({"beneficiary_id": beneficiary_id, "needs": needs, "verify_due_ms": verify_due}),
        )?;
        let mut case = Self::case_in(&tx, who, id)?;
        tx.commit()?;
        case.overdue = case.overdue_at(now_ms);
        Ok(case)
    }

    /// `reported → verified`; fixes the first-assistance deadline.
    pub fn verify_case(
        &self,
        who: &Principal,
        id: i64,
        note_text: Option<String>,
        now_ms: i64,
    ) -> Result<Case, PattasError> {
        let note_text = note(note_text)?;
        self.transition(who, id, now_ms, |tx, case| {
            if case.status != "reported" {
                return Err(invalid_transition(case, "verify", "reported"));
            }
            let due = now_ms.saturating_add(self.config.first_assistance_within_ms);
            tx.execute(
                "UPDATE pattas_cases SET status = 'verified', verified_at_ms = ?2, verified_by = ?3,
                    assistance_due_ms = ?4, updated_at_ms = ?2 WHERE id = ?1",
                params![id, now_ms, who.username, due],
            )?;
            Ok((
                "verified",
                json!({"note": note_text, "assistance_due_ms": due}),
            ))
        })
    }

    /// `reported → rejected`, with a reason.
    pub fn reject_case(
        &self,
        who: &Principal,
        id: i64,
        reason: &str,
        now_ms: i64,
    ) -> Result<Case, PattasError> {
        let reason = valid::text("reason", reason, limits::REASON)?;
        self.transition(who, id, now_ms, |tx, case| {
            if case.status != "reported" {
                return Err(invalid_transition(case, "reject", "reported"));
            }
            tx.execute(
                "UPDATE pattas_cases SET status = 'rejected', rejected_at_ms = ?2, rejected_by = ?3,
                    rejection_reason = ?4, updated_at_ms = ?2 WHERE id = ?1",
                params![id, now_ms, who.username, reason],
            )?;
            Ok(("rejected", json!({"reason": reason})))
        })
    }

    /// `verified → in_assistance`: the first assistance has started.
    pub fn start_assistance(
        &self,
        who: &Principal,
        id: i64,
        note_text: Option<String>,
        now_ms: i64,
    ) -> Result<Case, PattasError> {
        let note_text = note(note_text)?;
        self.transition(who, id, now_ms, |tx, case| {
            if case.status != "verified" {
                return Err(invalid_transition(case, "assist", "verified"));
            }
            Self::begin_assistance(tx, id, now_ms)?;
            Ok(("assistance_started", json!({"note": note_text})))
        })
    }

    fn begin_assistance(tx: &Transaction<'_>, id: i64, now_ms: i64) -> Result<(), PattasError> {
        tx.execute(
            "UPDATE pattas_cases SET status = 'in_assistance', assistance_started_at_ms = ?2,
                updated_at_ms = ?2 WHERE id = ?1",
            params![id, now_ms],
        )?;
        Ok(())
    }

    /// `in_assistance → closed` (tuntas), with a closing summary.
    pub fn close_case(
        &self,
        who: &Principal,
        id: i64,
        summary: &str,
        now_ms: i64,
    ) -> Result<Case, PattasError> {
        let summary = valid::text("summary", summary, limits::SUMMARY)?;
        self.transition(who, id, now_ms, |tx, case| {
            if case.status != "in_assistance" {
                return Err(invalid_transition(case, "close", "in_assistance"));
            }
            tx.execute(
                "UPDATE pattas_cases SET status = 'closed', closed_at_ms = ?2, closed_by = ?3,
                    closing_summary = ?4, updated_at_ms = ?2 WHERE id = ?1",
                params![id, now_ms, who.username, summary],
            )?;
            Ok(("closed", json!({"summary": summary})))
        })
    }

    /// Runs one change of a case in a transaction with its history row.
    fn transition(
        &self,
        who: &Principal,
        id: i64,
        now_ms: i64,
        change: impl FnOnce(&Transaction<'_>, &Case) -> Result<(&'static str, Value), PattasError>,
    ) -> Result<Case, PattasError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let case = Self::case_in(&tx, who, id)?;
        let (action, mut details) = change(&tx, &case)?;
        if let Value::Object(m) = &mut details {
            m.insert("from".into(), json!(case.status));
        }
        history(&tx, "case", id, action, who, now_ms, details)?;
        let mut case = Self::case_in(&tx, who, id)?;
        tx.commit()?;
        case.overdue = case.overdue_at(now_ms);
        Ok(case)
    }

    /// Records an assistance action (officer). The first one on a verified
    /// case moves it to `in_assistance`.
    pub fn add_assistance(
        &self,
        who: &Principal,
        id: i64,
        input: NewAssistance,
        now_ms: i64,
    ) -> Result<Assistance, PattasError> {
        let date = Date::parse(input.date.trim()).ok_or_else(|| {
            PattasError::invalid(
                "invalid_date",
                "date must be a date YYYY-MM-DD",
                "date harus tanggal YYYY-MM-DD",
            )
        })?;
        let kind = parse_need("kind", &input.kind)?;
        if input.amount_rp < 0 || input.amount_rp > limits::AMOUNT_RP {
            return Err(PattasError::invalid(
                "invalid_amount",
                format!(
                    "amount_rp must be whole rupiah from 0 to {}",
                    limits::AMOUNT_RP
                ),
                format!(
                    "amount_rp harus rupiah bulat dari 0 sampai {}",
                    limits::AMOUNT_RP
                ),
            ));
        }
        let notes =
            valid::optional_text("notes", input.notes.as_deref().unwrap_or(""), limits::NOTES)?;
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let case = Self::case_in(&tx, who, id)?;
        if case.status != "verified" && case.status != "in_assistance" {
            return Err(invalid_transition(
                &case,
                "recording assistance",
                "verified or in_assistance",
            ));
        }
        let reported = Date::wib_of_ms(case.reported_at_ms);
        if date > Date::wib_of_ms(now_ms) || date < reported {
            return Err(PattasError::invalid(
                "invalid_date",
                format!(
                    "date must be between the day the case was reported ({reported}) and today"
                ),
                format!("date harus antara tanggal kasus dilaporkan ({reported}) dan hari ini"),
            ));
        }
        if case.status == "verified" {
            Self::begin_assistance(&tx, id, now_ms)?;
            history(
                &tx,
                "case",
                id,
                "assistance_started",
                who,
                now_ms,
                json!({"from": "verified", "by": "first assistance action"}),
            )?;
        }
        tx.execute(
            "INSERT INTO pattas_assistance (case_id, date, kind, amount_rp, notes, officer,
                recorded_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                id,
                date.to_string(),
                kind,
                input.amount_rp,
                notes,
                who.username,
                now_ms
            ],
        )?;
        let aid = tx.last_insert_rowid();
        history(
            &tx,
            "case",
            id,
            "assistance_recorded",
            who,
            now_ms,
            json!({"assistance_id": aid, "date": date.to_string(), "kind": kind, "amount_rp": input.amount_rp}),
        )?;
        tx.execute(
            "UPDATE pattas_cases SET updated_at_ms = ?2 WHERE id = ?1",
            params![id, now_ms],
        )?;
        let out = tx.query_row(
            "SELECT id, case_id, date, kind, amount_rp, notes, officer, recorded_at_ms
             FROM pattas_assistance WHERE id = ?1",
            [aid],
            assistance_row,
        )?;
        tx.commit()?;
        Ok(out)
    }

    /// One case the caller may see, with its beneficiary, assistance,
    /// transports (without live status) and history.
    pub fn case(&self, who: &Principal, id: i64, now_ms: i64) -> Result<CaseDetail, PattasError> {
        let conn = self.conn();
        let mut case = Self::case_in(&conn, who, id)?;
        case.overdue = case.overdue_at(now_ms);
        let beneficiary = Self::beneficiary_in(&conn, case.beneficiary_id)?;
        let mut stmt = conn.prepare(
            "SELECT id, case_id, date, kind, amount_rp, notes, officer, recorded_at_ms
             FROM pattas_assistance WHERE case_id = ?1 ORDER BY date, id",
        )?;
        let assistance = stmt
            .query_map([id], assistance_row)?
            .collect::<Result<_, _>>()?;
        let mut stmt = conn.prepare(&format!(
            "SELECT {T_COLS} FROM pattas_transports WHERE case_id = ?1 ORDER BY scheduled_for_ms, transport_id"
        ))?;
        let transports = stmt
            .query_map([id], transport_row)?
            .collect::<Result<_, _>>()?;
        let history = Self::history_of(&conn, "case", id)?;
        Ok(CaseDetail {
            case,
            beneficiary,
            assistance,
            transports,
            history,
        })
    }

    fn history_of(
        conn: &Connection,
        entity: &str,
        id: i64,
    ) -> Result<Vec<HistoryEntry>, PattasError> {
        let mut stmt = conn.prepare(
            "SELECT id, entity, entity_id, action, actor, role, at_ms, details
             FROM pattas_history WHERE entity = ?1 AND entity_id = ?2 ORDER BY id",
        )?;
        let rows = stmt.query_map(params![entity, id], |r| {
            Ok(HistoryEntry {
                id: r.get(0)?,
                entity: r.get(1)?,
                entity_id: r.get(2)?,
                action: r.get(3)?,
                actor: r.get(4)?,
                role: r.get(5)?,
                at_ms: r.get(6)?,
                details: json_col(r, 7)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The cases the caller may see, newest first.
    pub fn list_cases(
        &self,
        who: &Principal,
        q: &CaseQuery,
        now_ms: i64,
    ) -> Result<Vec<Case>, PattasError> {
        let (limit, offset) = page(q.limit, q.offset)?;
        let mut sql = format!(
            "SELECT {C_COLS} FROM pattas_cases c JOIN pattas_beneficiaries b ON b.id = c.beneficiary_id
             WHERE 1 = 1"
        );
        let mut args: Vec<SqlValue> = Vec::new();
        if let Some(m) = mitra_of(who) {
            args.push(SqlValue::Text(m.into()));
            sql.push_str(&format!(" AND c.reported_by = ?{}", args.len()));
        }
        if let Some(s) = &q.status {
            args.push(SqlValue::Text(parse_status(s)?.into()));
            sql.push_str(&format!(" AND c.status = ?{}", args.len()));
        }
        if let Some(d) = &q.desa {
            args.push(SqlValue::Text(valid::text("desa", d, limits::DESA)?));
            sql.push_str(&format!(" AND b.desa = ?{} COLLATE NOCASE", args.len()));
        }
        if let Some(b) = q.beneficiary_id {
            args.push(SqlValue::Integer(b));
            sql.push_str(&format!(" AND c.beneficiary_id = ?{}", args.len()));
        }
        args.push(SqlValue::Integer(limit));
        args.push(SqlValue::Integer(offset));
        sql.push_str(&format!(
            " ORDER BY c.reported_at_ms DESC, c.id DESC LIMIT ?{} OFFSET ?{}",
            args.len() - 1,
            args.len()
        ));
        let conn = self.conn();
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(args), case_row)?;
        let mut out: Vec<Case> = rows.collect::<Result<_, _>>()?;
        for c in &mut out {
            c.overdue = c.overdue_at(now_ms);
        }
        Ok(out)
    }

    /// The cases the caller may see that are past a due step at `now_ms`,
    /// most overdue first.
    pub fn overdue_cases(&self, who: &Principal, now_ms: i64) -> Result<Vec<Case>, PattasError> {
        let mut sql = format!(
            "SELECT {C_COLS} FROM pattas_cases c JOIN pattas_beneficiaries b ON b.id = c.beneficiary_id
             WHERE ((c.status = 'reported' AND c.verify_due_ms < ?1)
                 OR (c.status = 'verified' AND c.assistance_due_ms < ?1))"
        );
        let mut args = vec![SqlValue::Integer(now_ms)];
        if let Some(m) = mitra_of(who) {
            args.push(SqlValue::Text(m.into()));
            sql.push_str(" AND c.reported_by = ?2");
        }
        let conn = self.conn();
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(args), case_row)?;
        let mut out: Vec<Case> = rows.collect::<Result<_, _>>()?;
        for c in &mut out {
            c.overdue = c.overdue_at(now_ms);
        }
        out.retain(|c| c.overdue.is_some());
        out.sort_by_key(|c| (c.overdue.as_ref().map(|o| -o.late_by_ms), c.id));
        Ok(out)
    }

    // ---- transports ---------------------------------------------------------

    /// Checks a transport booking and builds the desk's request (and names
    /// the beneficiary whose data it carries). The case must be verified or
    /// in assistance.
    pub fn transport_request(
        &self,
        who: &Principal,
        case_id: i64,
        input: NewTransport,
        now_ms: i64,
    ) -> Result<(TransportRequest, i64), PattasError> {
        let address = valid::text("pickup.address", &input.pickup.address, limits::ADDRESS)?;
        valid::banyumas_latlon("pickup", input.pickup.lat, input.pickup.lon)?;
        let destination_name =
            valid::text("destination.name", &input.destination.name, limits::NAME)?;
        valid::banyumas_latlon("destination", input.destination.lat, input.destination.lon)?;
        let hospital_id = match input.destination.hospital_id.as_deref() {
            None => None,
            Some(h) => {
                let h = valid::optional_text("destination.hospital_id", h, limits::HOSPITAL_ID)?;
                (!h.is_empty()).then_some(h)
            }
        };
        let scheduled = valid::parse_time(&input.scheduled_for).ok_or_else(|| {
            PattasError::invalid(
                "invalid_time",
                "scheduled_for must be a time like 2026-12-01T08:00:00+07:00 (no offset = WIB) or integer ms since the epoch",
                "scheduled_for harus waktu seperti 2026-12-01T08:00:00+07:00 (tanpa zona = WIB) atau milidetik sejak epoch",
            )
        })?;
        if scheduled <= now_ms || scheduled > now_ms.saturating_add(limits::TRANSPORT_AHEAD_MS) {
            return Err(PattasError::invalid(
                "invalid_time",
                "scheduled_for must be in the future and within 30 days",
                "scheduled_for harus di masa depan dan paling lama 30 hari lagi",
            ));
        }
        let purpose = valid::text("purpose", &input.purpose, limits::PURPOSE)?;
        let notes =
            valid::optional_text("notes", input.notes.as_deref().unwrap_or(""), limits::NOTES)?;
        let conn = self.conn();
        let case = Self::case_in(&conn, who, case_id)?;
        if case.status != "verified" && case.status != "in_assistance" {
            return Err(invalid_transition(
                &case,
                "booking transport",
                "verified or in_assistance",
            ));
        }
        let b = Self::beneficiary_in(&conn, case.beneficiary_id)?;
        let beneficiary_id = b.id;
        let req = TransportRequest {
            case_id,
            patient_name: b.name,
            patient_phone: b.phone.or(b.family_contact.map(|f| f.phone)),
            pickup_lat: input.pickup.lat,
            pickup_lon: input.pickup.lon,
            pickup_address: address,
            destination_hospital_id: hospital_id,
            destination_name,
            destination_lat: input.destination.lat,
            destination_lon: input.destination.lon,
            scheduled_for_ms: scheduled,
            purpose,
            notes,
        };
        Ok((req, beneficiary_id))
    }

    /// Stores a transport the desk booked. Refuses (and the caller cancels the
    /// booking) if the case left the states that may book meanwhile.
    pub fn record_transport(
        &self,
        who: &Principal,
        req: &TransportRequest,
        ticket: &TransportTicket,
        now_ms: i64,
    ) -> Result<Transport, PattasError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let case = Self::case_in(&tx, who, req.case_id)?;
        if case.status != "verified" && case.status != "in_assistance" {
            return Err(invalid_transition(
                &case,
                "booking transport",
                "verified or in_assistance",
            ));
        }
        let exists: Option<i64> = tx
            .query_row(
                "SELECT 1 FROM pattas_transports WHERE transport_id = ?1",
                [&ticket.transport_id],
                |r| r.get(0),
            )
            .optional()?;
        if exists.is_some() {
            return Err(PattasError::conflict(
                "duplicate_transport",
                "the transport desk returned an id already used",
                "meja transportasi mengembalikan id yang sudah dipakai",
            ));
        }
        tx.execute(
            &format!(
                "INSERT INTO pattas_transports ({T_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,
                 ?9, ?10, ?11, ?12, ?13, ?14, NULL, NULL, NULL)"
            ),
            params![
                ticket.transport_id,
                req.case_id,
                req.scheduled_for_ms,
                req.purpose,
                req.notes,
                req.pickup_lat,
                req.pickup_lon,
                req.pickup_address,
                req.destination_hospital_id,
                req.destination_name,
                req.destination_lat,
                req.destination_lon,
                who.username,
                now_ms
            ],
        )?;
        history(
            &tx,
            "case",
            req.case_id,
            "transport_booked",
            who,
            now_ms,
            json!({"transport_id": ticket.transport_id, "scheduled_for_ms": req.scheduled_for_ms,
                   "purpose": req.purpose, "destination": req.destination_name}),
        )?;
        tx.execute(
            "UPDATE pattas_cases SET updated_at_ms = ?2 WHERE id = ?1",
            params![req.case_id, now_ms],
        )?;
        let out = Self::transport_in(&tx, req.case_id, &ticket.transport_id)?;
        tx.commit()?;
        Ok(out)
    }

    fn transport_in(conn: &Connection, case_id: i64, tid: &str) -> Result<Transport, PattasError> {
        conn.query_row(
            &format!(
                "SELECT {T_COLS} FROM pattas_transports WHERE case_id = ?1 AND transport_id = ?2"
            ),
            params![case_id, tid],
            transport_row,
        )
        .optional()?
        .ok_or(PattasError::NotFound("transport", "transportasi"))
    }

    /// A transport of a case the caller may see.
    pub fn transport(
        &self,
        who: &Principal,
        case_id: i64,
        tid: &str,
    ) -> Result<Transport, PattasError> {
        let conn = self.conn();
        Self::case_in(&conn, who, case_id)?;
        Self::transport_in(&conn, case_id, tid)
    }

    /// Marks a transport cancelled (after the desk cancelled it).
    pub fn mark_transport_cancelled(
        &self,
        who: &Principal,
        case_id: i64,
        tid: &str,
        reason: &str,
        now_ms: i64,
    ) -> Result<Transport, PattasError> {
        let reason = valid::text("reason", reason, limits::REASON)?;
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        Self::case_in(&tx, who, case_id)?;
        let t = Self::transport_in(&tx, case_id, tid)?;
        if t.cancelled_at_ms.is_some() {
            return Err(already_cancelled());
        }
        tx.execute(
            "UPDATE pattas_transports SET cancelled_at_ms = ?3, cancelled_by = ?4, cancel_reason = ?5
             WHERE case_id = ?1 AND transport_id = ?2",
            params![case_id, tid, now_ms, who.username, reason],
        )?;
        history(
            &tx,
            "case",
            case_id,
            "transport_cancelled",
            who,
            now_ms,
            json!({"transport_id": tid, "reason": reason}),
        )?;
        let out = Self::transport_in(&tx, case_id, tid)?;
        tx.commit()?;
        Ok(out)
    }

    // ---- reports ------------------------------------------------------------

    /// Cases reported between `from` and `to` (WIB dates, inclusive): by
    /// status, by desa, and how many are overdue at `now_ms`.
    pub fn case_report(&self, q: &RangeQuery, now_ms: i64) -> Result<CaseReport, PattasError> {
        let (from, to) = range(q)?;
        let lo = from.map_or(i64::MIN, Date::wib_start_ms);
        let hi = to.map_or(i64::MAX, |t| t.wib_start_ms() + valid::DAY_MS);
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {C_COLS} FROM pattas_cases c JOIN pattas_beneficiaries b ON b.id = c.beneficiary_id
             WHERE c.reported_at_ms >= ?1 AND c.reported_at_ms < ?2"
        ))?;
        let cases: Vec<Case> = stmt
            .query_map(params![lo, hi], case_row)?
            .collect::<Result<_, _>>()?;
        let zero: BTreeMap<String, i64> = STATUSES.iter().map(|s| (s.to_string(), 0)).collect();
        let mut by_status = zero.clone();
        let mut by_desa: BTreeMap<(String, String), DesaCount> = BTreeMap::new();
        let mut overdue_by_step: BTreeMap<String, i64> = [
            ("verify".to_string(), 0),
            ("first_assistance".to_string(), 0),
        ]
        .into();
        let mut overdue = 0;
        for c in &cases {
            *by_status.entry(c.status.clone()).or_default() += 1;
            let row = by_desa
                .entry((c.kecamatan.clone(), c.desa.clone()))
                .or_insert_with(|| DesaCount {
                    desa: c.desa.clone(),
                    kecamatan: c.kecamatan.clone(),
                    total: 0,
                    by_status: zero.clone(),
                });
            row.total += 1;
            *row.by_status.entry(c.status.clone()).or_default() += 1;
            if let Some(o) = c.overdue_at(now_ms) {
                overdue += 1;
                *overdue_by_step.entry(o.step).or_default() += 1;
            }
        }
        Ok(CaseReport {
            from: from.map(|d| d.to_string()),
            to: to.map(|d| d.to_string()),
            total: cases.len() as i64,
            by_status,
            by_desa: by_desa.into_values().collect(),
            overdue,
            overdue_by_step,
            as_of_ms: now_ms,
        })
    }

    /// Assistance dated between `from` and `to` (inclusive): totals by kind
    /// and by month and kind.
    pub fn assistance_report(&self, q: &RangeQuery) -> Result<AssistanceReport, PattasError> {
        let (from, to) = range(q)?;
        let lo = from.map_or_else(|| "0000-00-00".to_string(), |d| d.to_string());
        let hi = to.map_or_else(|| "9999-99-99".to_string(), |d| d.to_string());
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT substr(date, 1, 7), kind, count(*), sum(amount_rp) FROM pattas_assistance
             WHERE date >= ?1 AND date <= ?2 GROUP BY 1, 2 ORDER BY 1, 2",
        )?;
        let rows: Vec<MonthKind> = stmt
            .query_map(params![lo, hi], |r| {
                Ok(MonthKind {
                    month: r.get(0)?,
                    kind: r.get(1)?,
                    count: r.get(2)?,
                    amount_rp: r.get(3)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        let mut by_kind: BTreeMap<String, Totals> = NEEDS
            .iter()
            .map(|k| (k.to_string(), Totals::default()))
            .collect();
        let mut total = Totals::default();
        for r in &rows {
            let t = by_kind.entry(r.kind.clone()).or_default();
            t.count += r.count;
            t.amount_rp += r.amount_rp;
            total.count += r.count;
            total.amount_rp += r.amount_rp;
        }
        Ok(AssistanceReport {
            from: from.map(|d| d.to_string()),
            to: to.map(|d| d.to_string()),
            total,
            by_kind,
            by_month: rows,
        })
    }

    // ---- demo ---------------------------------------------------------------

    /// Synthetic demo data (no real people: names say "(contoh)", NIKs have a
    /// valid form with serials 99xx): beneficiaries in real Banyumas desa and
    /// cases in every state, reported by [`DEMO_MITRA_USERNAME`] or the demo
    /// officer. Idempotent: a beneficiary whose NIK exists is skipped with
    /// its cases.
    pub fn seed_demo(&self, now_ms: i64) -> Result<(), PattasError> {
        const H: i64 = 60 * 60 * 1000;
        let officer = Principal {
            user_id: 0,
            username: DEMO_OFFICER_USERNAME.into(),
            role: Role::PattasOfficer,
            unit: None,
            hospital: None,
            subject: None,
        };
        let mitra = Principal {
            username: DEMO_MITRA_USERNAME.into(),
            role: Role::PattasMitra,
            ..officer.clone()
        };
        let demo = [
            demo_resident(
                "Sukarti (contoh)",
                (1956, 3, 14),
                "P",
                ("Kedungwuluh", "Purwokerto Barat"),
            )
            .with(&["gagal ginjal kronis"], "pbi", true)
            .case(&["transport", "waiting_costs"], "in_assistance", 100),
            demo_resident(
                "Darsono (contoh)",
                (1961, 8, 12),
                "L",
                ("Sokanegara", "Purwokerto Timur"),
            )
            .with(&["diabetes melitus", "hipertensi"], "none", true)
            .case(&["insurance", "civil_registration"], "reported", 2),
            demo_resident(
                "Waginah (contoh)",
                (1949, 11, 2),
                "P",
                ("Purwokerto Lor", "Purwokerto Timur"),
            )
            .with(&["kanker payudara"], "mandiri", false)
            .case(&["shelter", "family_food", "transport"], "verified", 30),
            demo_resident(
                "Kusnadi (contoh)",
                (1970, 1, 25),
                "L",
                ("Ajibarang Kulon", "Ajibarang"),
            )
            .with(&["stroke"], "pbi", true)
            .case(&["post_discharge"], "closed", 400),
            demo_resident(
                "Rasem (contoh)",
                (1965, 6, 30),
                "P",
                ("Banjarsari", "Ajibarang"),
            )
            .with(&["TBC"], "none", false)
            .case(&["insurance"], "rejected", 60),
            demo_resident(
                "Tarsim (contoh)",
                (1958, 9, 9),
                "L",
                ("Ciberung", "Ajibarang"),
            )
            .with(&["gagal jantung"], "pbi", true)
            .case(&["transport"], "reported", 40),
        ];
        for (i, r) in demo.iter().enumerate() {
            let DemoResident {
                name,
                dob: (y, m, d),
                sex,
                place: (desa, kec),
                conditions: conds,
                bpjs,
                dtks,
                needs,
                state,
                hours_ago: ago,
            } = r;
            let dd = if *sex == "P" { d + 40 } else { *d };
            let nik = format!("330201{dd:02}{m:02}{:02}99{i:02}", y % 100);
            let exists: Option<i64> = self
                .conn()
                .query_row(
                    "SELECT id FROM pattas_beneficiaries WHERE nik = ?1",
                    [&nik],
                    |r| r.get(0),
                )
                .optional()?;
            if exists.is_some() {
                continue;
            }
            let t0 = now_ms - ago * H;
            let reporter = if i % 2 == 0 { &mitra } else { &officer };
            let b = self.create_beneficiary(
                reporter,
                NewBeneficiary {
                    nik,
                    name: name.to_string(),
                    date_of_birth: format!("{y:04}-{m:02}-{d:02}"),
                    sex: sex.to_string(),
                    desa: desa.to_string(),
                    kecamatan: Some(kec.to_string()),
                    rt: format!("{}", 1 + i),
                    rw: format!("{}", 2 + i % 3),
                    phone: Some(format!("0812000001{i:02}")),
                    dtks: *dtks,
                    bpjs: bpjs.to_string(),
                    conditions: conds.iter().map(|c| c.to_string()).collect(),
                    family_contact: Some(FamilyContact {
                        name: "Keluarga (contoh)".into(),
                        phone: format!("0813000002{i:02}"),
                        relation: "anak".into(),
                    }),
                },
                t0,
            )?;
            let case = self.report_case(
                reporter,
                NewCase {
                    beneficiary_id: Some(b.id),
                    nik: None,
                    needs: needs.iter().map(|n| n.to_string()).collect(),
                    description: format!(
                        "Data contoh: warga dengan {} membutuhkan bantuan.",
                        conds.join(", ")
                    ),
                    reported_via: Some("kunjungan".into()),
                },
                t0,
            )?;
            match *state {
                "rejected" => {
                    self.reject_case(
                        &officer,
                        case.id,
                        "Data contoh: sudah ditangani program lain.",
                        t0 + 5 * H,
                    )?;
                }
                "verified" | "in_assistance" | "closed" => {
                    self.verify_case(
                        &officer,
                        case.id,
                        Some("Data contoh: kunjungan rumah.".into()),
                        t0 + 6 * H,
                    )?;
                    if *state != "verified" {
                        self.add_assistance(
                            &officer,
                            case.id,
                            NewAssistance {
                                date: Date::wib_of_ms(t0 + 24 * H).to_string(),
                                kind: needs[0].to_string(),
                                amount_rp: 250_000,
                                notes: Some("Data contoh".into()),
                            },
                            t0 + 24 * H,
                        )?;
                    }
                    if *state == "closed" {
                        self.close_case(
                            &officer,
                            case.id,
                            "Data contoh: bantuan tuntas.",
                            t0 + 200 * H,
                        )?;
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// One synthetic resident of [`Pattas::seed_demo`] and the state its case is taken to.
struct DemoResident {
    name: &'static str,
    dob: (i64, u32, u32),
    sex: &'static str,
    place: (&'static str, &'static str),
    conditions: &'static [&'static str],
    bpjs: &'static str,
    dtks: bool,
    needs: &'static [&'static str],
    state: &'static str,
    hours_ago: i64,
}

fn demo_resident(
    name: &'static str,
    dob: (i64, u32, u32),
    sex: &'static str,
    place: (&'static str, &'static str),
) -> DemoResident {
    DemoResident {
        name,
        dob,
        sex,
        place,
        conditions: &[],
        bpjs: "none",
        dtks: false,
        needs: &[],
        state: "reported",
        hours_ago: 0,
    }
}

impl DemoResident {
    fn with(self, conditions: &'static [&'static str], bpjs: &'static str, dtks: bool) -> Self {
        DemoResident {
            conditions,
            bpjs,
            dtks,
            ..self
        }
    }

    fn case(self, needs: &'static [&'static str], state: &'static str, hours_ago: i64) -> Self {
        DemoResident {
            needs,
            state,
            hours_ago,
            ..self
        }
    }
}

pub(crate) fn already_cancelled() -> PattasError {
    PattasError::conflict(
        "already_cancelled",
        "this transport is already cancelled",
        "transportasi ini sudah dibatalkan",
    )
}
