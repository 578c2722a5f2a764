//! What the API takes and gives: request bodies (strict: unknown fields are
//! refused) and the records it answers with. Every instant in a record is a
//! [`Timestamp`] (RFC 3339, UTC, on the wire; integer ms in the database);
//! durations are integer milliseconds named `..._ms`.

use std::collections::BTreeMap;

use satria_calendar::Timestamp;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::desk::TransportStatus;

/// The needs a case can name, in the order the forms list them.
pub const NEEDS: [&str; 7] = [
    "civil_registration",
    "insurance",
    "transport",
    "waiting_costs",
    "shelter",
    "family_food",
    "post_discharge",
];

/// What the forms show for each need: (value, English, Bahasa Indonesia).
pub const NEED_LABELS: [(&str, &str, &str); 7] = [
    (
        "civil_registration",
        "Civil registration papers",
        "Administrasi kependudukan",
    ),
    (
        "insurance",
        "Health insurance (BPJS) papers",
        "Pengurusan BPJS Kesehatan",
    ),
    (
        "transport",
        "Transport to hospital",
        "Transportasi ke rumah sakit",
    ),
    (
        "waiting_costs",
        "Costs while waiting",
        "Biaya selama menunggu",
    ),
    (
        "shelter",
        "Shelter near the hospital",
        "Rumah singgah dekat rumah sakit",
    ),
    (
        "family_food",
        "Food for the family at home",
        "Makan keluarga di rumah",
    ),
    (
        "post_discharge",
        "Support after discharge",
        "Pendampingan setelah pulang",
    ),
];

/// What the screens show for each status: (value, English, Bahasa Indonesia).
pub const STATUS_LABELS: [(&str, &str, &str); 5] = [
    ("reported", "Reported", "Dilaporkan"),
    ("verified", "Verified", "Terverifikasi"),
    ("in_assistance", "In assistance", "Dalam pendampingan"),
    ("closed", "Closed (tuntas)", "Tuntas"),
    ("rejected", "Rejected", "Ditolak"),
];

/// Every action the change history records (`pattas_history.action`), labelled
/// in English and Bahasa Indonesia, so no page shows a raw key.
pub const ACTION_LABELS: [(&str, &str, &str); 10] = [
    (
        "registered",
        "Beneficiary registered",
        "Penerima manfaat didaftarkan",
    ),
    (
        "updated",
        "Beneficiary data changed",
        "Data penerima manfaat diubah",
    ),
    ("reported", "Reported", "Dilaporkan"),
    ("verified", "Verified", "Terverifikasi"),
    ("rejected", "Rejected", "Ditolak"),
    (
        "assistance_started",
        "Assistance started",
        "Pendampingan dimulai",
    ),
    (
        "assistance_recorded",
        "Assistance recorded",
        "Bantuan dicatat",
    ),
    (
        "transport_booked",
        "Transport booked",
        "Transportasi dipesan",
    ),
    (
        "transport_cancelled",
        "Transport cancelled",
        "Transportasi dibatalkan",
    ),
    ("closed", "Closed (tuntas)", "Tuntas"),
];

/// Case statuses.
pub const STATUSES: [&str; 5] = [
    "reported",
    "verified",
    "in_assistance",
    "closed",
    "rejected",
];

/// BPJS Kesehatan membership: PBI (premium paid by the state), mandiri
/// (self-paid), none.
pub const BPJS: [&str; 3] = ["pbi", "mandiri", "none"];

/// Longest texts accepted, in characters.
pub mod limits {
    pub const NAME: usize = 100;
    pub const DESA: usize = 80;
    pub const CONDITION: usize = 100;
    pub const CONDITIONS: usize = 20;
    pub const RELATION: usize = 40;
    pub const DESCRIPTION: usize = 2000;
    pub const SUMMARY: usize = 2000;
    pub const REASON: usize = 500;
    pub const NOTES: usize = 1000;
    pub const PURPOSE: usize = 200;
    pub const ADDRESS: usize = 300;
    pub const REPORTED_VIA: usize = 40;
    pub const HOSPITAL_ID: usize = 64;
    pub const SEARCH: usize = 100;
    /// Largest single assistance amount, in rupiah (Rp 1 billion).
    pub const AMOUNT_RP: i64 = 1_000_000_000;
    /// How far ahead a transport can be booked.
    pub const TRANSPORT_AHEAD_MS: i64 = 30 * 24 * 60 * 60 * 1000;
    pub const PAGE_DEFAULT: u32 = 100;
    pub const PAGE_MAX: u32 = 500;
}

/// `null` → `Some(None)`, absent → `None` (with `#[serde(default)]`).
fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Someone in the family to call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FamilyContact {
    pub name: String,
    pub phone: String,
    /// e.g. `anak`, `istri`, `suami`, `tetangga`.
    pub relation: String,
}

/// `POST /api/pattas/beneficiaries`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewBeneficiary {
    pub nik: String,
    pub name: String,
    /// `YYYY-MM-DD`, not in the future.
    pub date_of_birth: String,
    /// `L` / `P` (also `male` / `female`).
    pub sex: String,
    /// A desa/kelurahan of Kabupaten Banyumas.
    pub desa: String,
    /// Needed only where the desa name is used in more than one kecamatan.
    #[serde(default)]
    pub kecamatan: Option<String>,
    pub rt: String,
    pub rw: String,
    #[serde(default)]
    pub phone: Option<String>,
    /// Registered in DTKS (Data Terpadu Kesejahteraan Sosial).
    pub dtks: bool,
    /// `pbi` | `mandiri` | `none`.
    pub bpjs: String,
    /// Chronic conditions, at least one.
    pub conditions: Vec<String>,
    #[serde(default)]
    pub family_contact: Option<FamilyContact>,
}

/// `PATCH /api/pattas/beneficiaries/{id}`: the fields to change; `null`
/// clears `phone`, `family_contact` and `kecamatan`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BeneficiaryPatch {
    pub nik: Option<String>,
    pub name: Option<String>,
    pub date_of_birth: Option<String>,
    pub sex: Option<String>,
    pub desa: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    pub kecamatan: Option<Option<String>>,
    pub rt: Option<String>,
    pub rw: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    pub phone: Option<Option<String>>,
    pub dtks: Option<bool>,
    pub bpjs: Option<String>,
    pub conditions: Option<Vec<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub family_contact: Option<Option<FamilyContact>>,
}

/// A registered beneficiary.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Beneficiary {
    pub id: i64,
    pub nik: String,
    pub name: String,
    pub date_of_birth: String,
    /// `L` | `P`.
    pub sex: String,
    pub desa: String,
    pub kecamatan: String,
    pub rt: String,
    pub rw: String,
    pub phone: Option<String>,
    pub dtks: bool,
    pub bpjs: String,
    pub conditions: Vec<String>,
    pub family_contact: Option<FamilyContact>,
    /// The NIK starts with 3302 (Kabupaten Banyumas).
    pub banyumas_resident: bool,
    pub registered_by: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// `POST /api/pattas/cases`: one of `beneficiary_id` and `nik`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCase {
    #[serde(default)]
    pub beneficiary_id: Option<i64>,
    /// The beneficiary's NIK, for a mitra reporting a resident someone else
    /// registered.
    #[serde(default)]
    pub nik: Option<String>,
    pub needs: Vec<String>,
    pub description: String,
    /// How the report came in (`kunjungan`, `telepon`, `whatsapp`, …).
    #[serde(default)]
    pub reported_via: Option<String>,
}

/// `POST .../verify` and `.../assist`: an optional note.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    #[serde(default)]
    pub note: Option<String>,
}

/// `POST .../reject`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RejectBody {
    pub reason: String,
}

/// `POST .../close`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloseBody {
    pub summary: String,
}

/// `POST .../transports/{tid}/cancel`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancelBody {
    pub reason: String,
}

/// `POST /api/pattas/cases/{id}/assistance`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAssistance {
    /// `YYYY-MM-DD` (WIB), not in the future nor before the case was reported.
    pub date: String,
    /// One of [`NEEDS`].
    pub kind: String,
    /// Whole rupiah, 0 for help in kind.
    pub amount_rp: i64,
    #[serde(default)]
    pub notes: Option<String>,
}

/// The pickup of a transport.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pickup {
    pub lat: f64,
    pub lon: f64,
    pub address: String,
}

/// The destination of a transport.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Destination {
    #[serde(default)]
    pub hospital_id: Option<String>,
    pub name: String,
    pub lat: f64,
    pub lon: f64,
}

/// `POST /api/pattas/cases/{id}/transports`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTransport {
    pub pickup: Pickup,
    pub destination: Destination,
    /// A time as people type it (`YYYY-MM-DD[T| ]HH:MM[:SS[.f]]`, optional
    /// offset; no offset = WIB; RFC 3339 is one such form), or integer ms since
    /// the epoch: read by `Timestamp::parse_local`.
    pub scheduled_for: Value,
    pub purpose: String,
    #[serde(default)]
    pub notes: Option<String>,
}

/// A step that is late.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overdue {
    /// `verify` | `first_assistance`.
    pub step: String,
    /// When the step was due.
    pub due_at: Timestamp,
    /// How late it is, as of the request (a duration).
    pub late_by_ms: i64,
}

/// A case as listed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Case {
    pub id: i64,
    pub beneficiary_id: i64,
    pub beneficiary_name: String,
    pub desa: String,
    pub kecamatan: String,
    pub needs: Vec<String>,
    pub description: String,
    pub reported_via: Option<String>,
    /// One of [`STATUSES`].
    pub status: String,
    pub reported_by: String,
    pub reported_by_role: String,
    pub reported_at: Timestamp,
    /// `reported_at + verify_within`.
    pub verify_due_at: Timestamp,
    pub verified_at: Option<Timestamp>,
    pub verified_by: Option<String>,
    /// `verified_at + first_assistance_within`.
    pub assistance_due_at: Option<Timestamp>,
    pub assistance_started_at: Option<Timestamp>,
    pub closed_at: Option<Timestamp>,
    pub closed_by: Option<String>,
    pub closing_summary: Option<String>,
    pub rejected_at: Option<Timestamp>,
    pub rejected_by: Option<String>,
    pub rejection_reason: Option<String>,
    pub updated_at: Timestamp,
    /// Set when the step the case waits for is past due, as of the request.
    pub overdue: Option<Overdue>,
}

impl Case {
    /// The step that is past due at `now_ms`, if any.
    pub fn overdue_at(&self, now_ms: i64) -> Option<Overdue> {
        let (step, due) = match self.status.as_str() {
            "reported" => ("verify", self.verify_due_at),
            "verified" => ("first_assistance", self.assistance_due_at?),
            _ => return None,
        };
        (now_ms > due.ms()).then(|| Overdue {
            step: step.into(),
            due_at: due,
            late_by_ms: now_ms - due.ms(),
        })
    }
}

/// One recorded assistance action.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assistance {
    pub id: i64,
    pub case_id: i64,
    pub date: String,
    pub kind: String,
    pub amount_rp: i64,
    pub notes: String,
    pub officer: String,
    pub recorded_at: Timestamp,
}

/// A transport booked for a case, with its live status when shown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Transport {
    pub transport_id: String,
    pub case_id: i64,
    pub scheduled_for: Timestamp,
    pub purpose: String,
    pub notes: String,
    pub pickup: Pickup,
    pub destination: Destination,
    pub booked_by: String,
    pub booked_at: Timestamp,
    pub cancelled_at: Option<Timestamp>,
    pub cancelled_by: Option<String>,
    pub cancel_reason: Option<String>,
    /// The desk's live state (`scheduled` … `completed`, `cancelled`), or
    /// `unknown` when the desk did not answer in time; `booked` where no live
    /// status was asked for.
    pub state: String,
    /// The desk's status as asked at the time of the request.
    pub live: Option<TransportStatus>,
}

/// One row of the change history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub id: i64,
    /// `beneficiary` | `case`.
    pub entity: String,
    pub entity_id: i64,
    pub action: String,
    pub actor: String,
    pub role: String,
    pub at: Timestamp,
    /// What changed. The instants it names are RFC 3339 strings
    /// (`verify_due_at`, `assistance_due_at`, `scheduled_for`).
    pub details: Value,
}

/// `GET /api/pattas/cases/{id}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CaseDetail {
    #[serde(flatten)]
    pub case: Case,
    pub beneficiary: Beneficiary,
    pub assistance: Vec<Assistance>,
    pub transports: Vec<Transport>,
    pub history: Vec<HistoryEntry>,
}

/// `GET /api/pattas/beneficiaries/{id}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BeneficiaryDetail {
    #[serde(flatten)]
    pub beneficiary: Beneficiary,
    pub history: Vec<HistoryEntry>,
}

/// Filters of `GET /api/pattas/beneficiaries`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BeneficiaryQuery {
    /// Name contains (case-insensitive) or NIK starts with.
    pub q: Option<String>,
    pub desa: Option<String>,
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

/// Filters of `GET /api/pattas/cases`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseQuery {
    pub status: Option<String>,
    pub desa: Option<String>,
    pub beneficiary_id: Option<i64>,
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

/// `from` / `to` of the reports: `YYYY-MM-DD` (WIB), both inclusive, both optional.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RangeQuery {
    pub from: Option<String>,
    pub to: Option<String>,
}

/// One desa's line of the case report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DesaCount {
    pub desa: String,
    pub kecamatan: String,
    pub total: i64,
    pub by_status: BTreeMap<String, i64>,
}

/// `GET /api/pattas/reports/cases`: cases reported in the range.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseReport {
    pub from: Option<String>,
    pub to: Option<String>,
    pub total: i64,
    /// Every status, zero included.
    pub by_status: BTreeMap<String, i64>,
    pub by_desa: Vec<DesaCount>,
    /// Of these cases, how many are past a due step now.
    pub overdue: i64,
    pub overdue_by_step: BTreeMap<String, i64>,
    /// The "now" the overdue counts are taken at.
    pub as_of: Timestamp,
}

/// Count and sum of a group of assistance actions.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub count: i64,
    pub amount_rp: i64,
}

/// One (month, kind) line of the assistance report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthKind {
    /// `YYYY-MM`.
    pub month: String,
    pub kind: String,
    pub count: i64,
    pub amount_rp: i64,
}

/// `GET /api/pattas/reports/assistance`: actions dated in the range.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssistanceReport {
    pub from: Option<String>,
    pub to: Option<String>,
    pub total: Totals,
    /// Every kind, zero included.
    pub by_kind: BTreeMap<String, Totals>,
    pub by_month: Vec<MonthKind>,
}
