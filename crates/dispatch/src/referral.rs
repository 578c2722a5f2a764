//! Referrals (rujukan) in the shape of SISRUTE, the national referral system: the
//! patient, the referral itself, the general condition and the supporting findings;
//! the hospital's answer, the escalation when it does not answer, the pre-arrival
//! notice and the handover.
//!
//! The patient block is personal data under UU PDP 27/2022, so it is its own type
//! ([`PatientData`]): the server can strip or mask it per role without touching the rest
//! of the referral.

use crate::ids::{HospitalId, IncidentId, ReferralId, Timestamp, UnitId};
use crate::rejection::Rejection;
use serde::{Deserialize, Serialize};

/// Plausible ranges of the general condition (inclusive), checked by
/// [`ReferralForm::validate`] and published in the OpenAPI schema.
pub const GCS: (u8, u8) = (3, 15);
/// Systolic blood pressure, mmHg.
pub const BP_SYSTOLIC_MMHG: (u16, u16) = (40, 300);
/// Diastolic blood pressure, mmHg.
pub const BP_DIASTOLIC_MMHG: (u16, u16) = (20, 200);
/// Pulse per minute.
pub const PULSE_PER_MIN: (u16, u16) = (20, 250);
/// Breaths per minute.
pub const BREATHING_PER_MIN: (u16, u16) = (4, 80);
/// Body temperature, °C.
pub const TEMPERATURE_C: (f64, f64) = (25.0, 45.0);
/// Pain score.
pub const PAIN_SCORE: (u8, u8) = (0, 10);

/// Sex as recorded on the referral.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    /// Laki-laki.
    Male,
    /// Perempuan.
    Female,
}

/// The patient: personal data (UU PDP 27/2022). Kept apart so the server can filter it
/// by role; never logged in reason texts.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct PatientData {
    /// NIK: 16 digits, the first 6 are the region code; empty while the patient is
    /// not identified (unconscious, alone): "identitas belum diketahui".
    pub nik: String,
    /// Full name.
    pub name: String,
    /// Sex.
    pub sex: Sex,
    /// Date of birth, `YYYY-MM-DD`.
    pub date_of_birth: String,
    /// Home address.
    pub address: String,
    /// A phone number of the patient or the family.
    pub contact: String,
}

// Debug prints no personal data: Debug output ends up in logs and panics.
impl std::fmt::Debug for PatientData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PatientData { .. }")
    }
}

/// SISRUTE referral type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferralType {
    /// Emergency referral (rujukan gawat darurat).
    Emergency,
    /// Planned, non-emergency referral.
    NonEmergency,
    /// Partial referral: for an examination only, the patient comes back.
    Partial,
}

/// Level of consciousness (AVPU).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Consciousness {
    /// Alert (compos mentis).
    Alert,
    /// Responds to voice.
    Voice,
    /// Responds to pain.
    Pain,
    /// Unresponsive.
    Unresponsive,
}

/// General condition (keadaan umum) and vital signs. Every vital sign is optional: the
/// crew may not have measured it; a value given must be plausible.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GeneralCondition {
    /// History and examination (anamnesis, pemeriksaan fisik).
    pub history_exam: String,
    /// AVPU.
    pub consciousness: Consciousness,
    /// Glasgow Coma Scale, 3 to 15.
    pub gcs: Option<u8>,
    /// Systolic blood pressure, 40 to 300 mmHg.
    pub bp_systolic_mmhg: Option<u16>,
    /// Diastolic blood pressure, 20 to 200 mmHg, below the systolic.
    pub bp_diastolic_mmhg: Option<u16>,
    /// Pulse, 20 to 250 per minute.
    pub pulse_per_min: Option<u16>,
    /// Body temperature, 25 to 45 °C.
    pub temperature_c: Option<f64>,
    /// Breathing rate, 4 to 80 per minute.
    pub breathing_per_min: Option<u16>,
    /// Pain score, 0 to 10.
    pub pain_score: Option<u8>,
    /// Known allergies.
    pub allergies: String,
}

/// The referral part that is not the patient: what the sender fills in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferralForm {
    /// The sending facility or team (e.g. `PSC 119 Banyumas`, a puskesmas).
    pub from: String,
    /// Emergency, non-emergency, partial.
    pub referral_type: ReferralType,
    /// Why the patient is referred.
    pub reason: String,
    /// ICD-10 code of the working diagnosis, e.g. `S06.0`.
    pub diagnosis_icd10: String,
    /// The doctor or officer responsible.
    pub officer: String,
    /// General condition and vital signs.
    pub condition: GeneralCondition,
    /// Supporting findings (lab, ECG, ...), free text.
    pub findings: String,
}

/// Where a referral stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum ReferralStatus {
    /// Sent, waiting for the hospital until `deadline`.
    Pending,
    /// The hospital will take the patient.
    Accepted,
    /// The hospital said no.
    Declined {
        /// The hospital's reason (most often: no room).
        reason: String,
    },
    /// No answer before the deadline; escalated to the next hospital.
    Expired,
    /// Withdrawn by the dispatcher, or its incident ended.
    Cancelled {
        /// Why.
        reason: String,
    },
    /// The patient was handed over at the IGD.
    HandedOver,
}

impl ReferralStatus {
    /// Pending or accepted: the hospital's answer can still matter.
    pub fn is_live(&self) -> bool {
        matches!(self, ReferralStatus::Pending | ReferralStatus::Accepted)
    }
}

/// The last pre-arrival notice sent to the hospital.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreArrival {
    /// Server time of the notice.
    pub at: Timestamp,
    /// Drive time left, if the route is known.
    pub eta_s: Option<u32>,
    /// Road distance left, if known.
    pub distance_m: Option<u32>,
}

/// One referral of one patient to one hospital.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Referral {
    /// Allocated by the state, in order.
    pub id: ReferralId,
    /// Referral number shown on paper and to SISRUTE, derived from the id.
    pub number: String,
    /// The incident of the patient.
    pub incident: IncidentId,
    /// Destination hospital.
    pub to: HospitalId,
    /// The unit carrying the patient, if known.
    pub unit: Option<UnitId>,
    /// What the sender filled in.
    pub form: ReferralForm,
    /// The patient (personal data).
    pub patient: PatientData,
    /// Where it stands.
    pub status: ReferralStatus,
    /// Server time sent.
    pub sent_at: Timestamp,
    /// The hospital must answer before this, else the referral escalates.
    pub deadline: Timestamp,
    /// Server time of the hospital's answer.
    pub answered_at: Option<Timestamp>,
    /// The referral this one replaces after its deadline passed.
    pub escalated_from: Option<ReferralId>,
    /// The last pre-arrival notice.
    pub pre_arrival: Option<PreArrival>,
    /// Server time of the handover at the IGD.
    pub handover_at: Option<Timestamp>,
    /// Device time of the handover, if the crew's phone sent one.
    pub handover_device_at: Option<Timestamp>,
    /// The call's triage colour when the referral was sent: the IGD prepares by it.
    #[serde(default)]
    pub triage: Option<crate::incident::Triage>,
    /// The carrying unit's call sign, as the IGD hears it on the radio.
    #[serde(default)]
    pub unit_call_sign: Option<String>,
}

fn invalid(field: &str, why: &str, why_id: &str) -> Rejection {
    Rejection::InvalidField {
        field: field.to_string(),
        why: why.to_string(),
        why_id: why_id.to_string(),
    }
}

fn in_range<T: PartialOrd + Copy>(
    field: &str,
    v: Option<T>,
    lo: T,
    hi: T,
    unit: &str,
    show: impl Fn(T) -> String,
) -> Result<(), Rejection> {
    match v {
        Some(x) if !(lo <= x && x <= hi) => Err(invalid(
            field,
            &format!(
                "{} {unit} is not plausible ({} to {})",
                show(x),
                show(lo),
                show(hi)
            ),
            &format!(
                "{} {unit} tidak wajar ({} sampai {})",
                show(x),
                show(lo),
                show(hi)
            ),
        )),
        _ => Ok(()),
    }
}

impl PatientData {
    /// Whether the patient's identity is known (a NIK was given).
    pub fn is_identified(&self) -> bool {
        !self.nik.is_empty()
    }

    /// An identified patient: a NIK of 16 digits, a name and a real `YYYY-MM-DD`
    /// date of birth. A patient not yet identified (no NIK, "identitas belum
    /// diketahui") may be referred without a name or date of birth: care does not
    /// wait for papers. A date of birth, when given, is a real date.
    pub fn validate(&self) -> Result<(), Rejection> {
        if self.is_identified()
            && (self.nik.len() != 16 || !self.nik.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(invalid(
                "patient.nik",
                "a NIK has exactly 16 digits (leave it empty for a patient not yet identified)",
                "NIK harus 16 digit angka (kosongkan bila identitas pasien belum diketahui)",
            ));
        }
        if self.is_identified() && self.name.trim().is_empty() {
            return Err(invalid(
                "patient.name",
                "the patient's name is required",
                "nama pasien wajib diisi",
            ));
        }
        // An identified patient needs a real date; one not yet identified may
        // leave it empty, but a date given must be real.
        if (self.is_identified() || !self.date_of_birth.is_empty())
            && !valid_date(&self.date_of_birth)
        {
            return Err(invalid(
                "patient.date_of_birth",
                "not a date of the form YYYY-MM-DD",
                "bukan tanggal berformat YYYY-MM-DD",
            ));
        }
        Ok(())
    }
}

fn valid_date(s: &str) -> bool {
    let p: Vec<&str> = s.split('-').collect();
    if p.len() != 3 || p[0].len() != 4 || p[1].len() != 2 || p[2].len() != 2 {
        return false;
    }
    let (Ok(y), Ok(m), Ok(d)) = (
        p[0].parse::<u32>(),
        p[1].parse::<u32>(),
        p[2].parse::<u32>(),
    ) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1900..=2100).contains(&y) && (1..=days).contains(&d)
}

/// An ICD-10 code: a letter, two digits, optionally a dot and one to four characters.
fn valid_icd10(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 3 || !b[0].is_ascii_uppercase() || !b[1].is_ascii_digit() || !b[2].is_ascii_digit()
    {
        return false;
    }
    match &b[3..] {
        [] => true,
        [b'.', rest @ ..] => {
            (1..=4).contains(&rest.len()) && rest.iter().all(|c| c.is_ascii_alphanumeric())
        }
        _ => false,
    }
}

impl ReferralForm {
    /// Required fields present, ICD-10 well formed, vital signs plausible.
    pub fn validate(&self) -> Result<(), Rejection> {
        if self.from.trim().is_empty() {
            return Err(invalid(
                "form.from",
                "the sending facility is required",
                "asal rujukan wajib diisi",
            ));
        }
        if self.reason.trim().is_empty() {
            return Err(invalid(
                "form.reason",
                "the reason for referral is required",
                "alasan rujukan wajib diisi",
            ));
        }
        if self.officer.trim().is_empty() {
            return Err(invalid(
                "form.officer",
                "the responsible doctor or officer is required",
                "dokter/petugas perujuk wajib diisi",
            ));
        }
        if !valid_icd10(&self.diagnosis_icd10) {
            return Err(invalid(
                "form.diagnosis_icd10",
                "not an ICD-10 code (e.g. S06.0)",
                "bukan kode ICD-10 (misalnya S06.0)",
            ));
        }
        let c = &self.condition;
        let int = |x: u16| x.to_string();
        in_range("condition.gcs", c.gcs, GCS.0, GCS.1, "", |x: u8| {
            x.to_string()
        })?;
        in_range(
            "condition.bp_systolic_mmhg",
            c.bp_systolic_mmhg,
            BP_SYSTOLIC_MMHG.0,
            BP_SYSTOLIC_MMHG.1,
            "mmHg",
            int,
        )?;
        in_range(
            "condition.bp_diastolic_mmhg",
            c.bp_diastolic_mmhg,
            BP_DIASTOLIC_MMHG.0,
            BP_DIASTOLIC_MMHG.1,
            "mmHg",
            int,
        )?;
        if let (Some(s), Some(d)) = (c.bp_systolic_mmhg, c.bp_diastolic_mmhg)
            && d >= s
        {
            return Err(invalid(
                "condition.bp_diastolic_mmhg",
                "the diastolic pressure must be below the systolic",
                "tekanan diastolik harus di bawah sistolik",
            ));
        }
        in_range(
            "condition.pulse_per_min",
            c.pulse_per_min,
            PULSE_PER_MIN.0,
            PULSE_PER_MIN.1,
            "/min",
            int,
        )?;
        in_range(
            "condition.breathing_per_min",
            c.breathing_per_min,
            BREATHING_PER_MIN.0,
            BREATHING_PER_MIN.1,
            "/min",
            int,
        )?;
        in_range(
            "condition.temperature_c",
            c.temperature_c,
            TEMPERATURE_C.0,
            TEMPERATURE_C.1,
            "°C",
            |x: f64| format!("{x:.1}"),
        )?;
        in_range(
            "condition.pain_score",
            c.pain_score,
            PAIN_SCORE.0,
            PAIN_SCORE.1,
            "",
            |x: u8| x.to_string(),
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_icd10() {
        assert!(valid_date("1990-02-28"));
        assert!(valid_date("2000-02-29"));
        assert!(!valid_date("1900-02-29"));
        assert!(!valid_date("1990-13-01"));
        assert!(!valid_date("90-01-01"));
        assert!(valid_icd10("S06.0"));
        assert!(valid_icd10("O72"));
        assert!(valid_icd10("I21.4"));
        assert!(!valid_icd10("s06"));
        assert!(!valid_icd10("S6"));
        assert!(!valid_icd10("S06."));
        assert!(!valid_icd10("S06x1"));
    }

    #[test]
    fn patient_debug_hides_personal_data() {
        let p = PatientData {
            nik: "3302011234567890".into(),
            name: "Siti".into(),
            sex: Sex::Female,
            date_of_birth: "1990-01-01".into(),
            address: "Ajibarang".into(),
            contact: "0812".into(),
        };
        assert!(!format!("{p:?}").contains("Siti"));
    }

    #[test]
    fn a_patient_not_yet_identified_is_referred_without_papers() {
        let known = PatientData {
            nik: "3302011234567890".into(),
            name: "Siti".into(),
            sex: Sex::Female,
            date_of_birth: "1990-01-01".into(),
            address: String::new(),
            contact: String::new(),
        };
        assert!(known.validate().is_ok() && known.is_identified());
        // No NIK: no name or date of birth needed, but a date given must be real.
        let unknown = PatientData {
            nik: String::new(),
            name: String::new(),
            date_of_birth: String::new(),
            ..known.clone()
        };
        assert!(!unknown.is_identified());
        assert!(unknown.validate().is_ok());
        let bad_date = PatientData {
            date_of_birth: "1990-13-01".into(),
            ..unknown.clone()
        };
        assert!(bad_date.validate().is_err());
        // A NIK given must be a NIK, and then the name is required.
        for p in [
            PatientData {
                nik: "12345".into(),
                ..known.clone()
            },
            PatientData {
                name: " ".into(),
                ..known.clone()
            },
            PatientData {
                date_of_birth: String::new(),
                ..known.clone()
            },
        ] {
            assert!(p.validate().is_err());
        }
    }
}
