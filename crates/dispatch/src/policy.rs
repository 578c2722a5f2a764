//! The dispatch policy, written down as tables: which units may serve which incident,
//! which hospitals may receive which patient, and the reasons shown when a unit or a
//! hospital is left out (in English and Bahasa Indonesia).
//!
//! Kept apart from the state machine so that a medical director can read and change
//! the policy without reading the event handling.

use crate::fleet::UnitType;
use crate::hospital::Capability;
use crate::incident::{Category, Triage};
use serde::{Deserialize, Serialize};

/// Which units may serve an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct UnitPolicy {
    /// Unit types that may be sent; empty means no unit is needed.
    pub types: &'static [UnitType],
    /// A unit capability preferred for this call (ranked first unless another unit
    /// arrives more than `Config::preference_margin_s` sooner).
    pub preferred_capability: Option<&'static str>,
}

/// Which units may serve an incident of this triage and category.
///
/// | triage / category | unit types | preferred |
/// |---|---|---|
/// | any, information call | none (advice by phone) | |
/// | merah | ALS, BLS, motorbike (first responder only: cannot transport) | |
/// | kuning | ALS, BLS | |
/// | hijau | BLS, transport, ALS | |
/// | hitam | transport, BLS | |
/// | inter-facility transfer (not merah) | ALS, BLS, transport | |
/// | maternal (any colour) | as its colour | `obstetric` kit |
///
/// The automatic assignment of a merah incident takes the fastest unit that can
/// transport; a motorbike is only auto-assigned when no ambulance can come.
pub fn unit_policy(triage: Triage, category: Category) -> UnitPolicy {
    use UnitType::*;
    let types: &'static [UnitType] = match (triage, category) {
        (_, Category::Information) => &[],
        (Triage::Merah, _) => &[Als, Bls, Motorbike],
        (_, Category::InterFacilityTransfer) => &[Als, Bls, Transport],
        (Triage::Kuning, _) => &[Als, Bls],
        (Triage::Hijau, _) => &[Bls, Transport, Als],
        (Triage::Hitam, _) => &[Transport, Bls],
    };
    UnitPolicy {
        types,
        preferred_capability: (category == Category::Maternal).then_some("obstetric"),
    }
}

/// What a destination hospital must and should have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct HospitalNeeds {
    /// Every one of these, or the hospital is excluded.
    pub required: &'static [Capability],
    /// Each one missing ranks the hospital lower.
    pub preferred: &'static [Capability],
    /// A free ICU bed matters (merah): a hospital reporting none ranks lower.
    pub icu_bed: bool,
    /// No hospital is needed (information call).
    pub none: bool,
}

/// What the destination must have for an incident of this triage and category.
///
/// | category | required | preferred (+ `icu` and a free ICU bed when merah) |
/// |---|---|---|
/// | accident | `surgery_trauma` | `igd` (a general IGD takes the injuries a surgical hospital does not) |
/// | medical, inter-facility transfer | `igd` | |
/// | maternal | `obstetrics` | `igd` |
/// | information | no hospital | |
///
/// Hitam (dead) is treated like its category without the ICU preference.
pub fn hospital_needs(triage: Triage, category: Category) -> HospitalNeeds {
    use Capability::*;
    let merah = triage == Triage::Merah;
    let (required, preferred): (&'static [Capability], &'static [Capability]) =
        match (category, merah) {
            (Category::Information, _) => (&[], &[]),
            (Category::Accident, false) => (&[SurgeryTrauma], &[Igd]),
            (Category::Accident, true) => (&[SurgeryTrauma], &[Igd, Icu]),
            (Category::Medical | Category::InterFacilityTransfer, false) => (&[Igd], &[]),
            (Category::Medical | Category::InterFacilityTransfer, true) => (&[Igd], &[Icu]),
            (Category::Maternal, false) => (&[Obstetrics], &[Igd]),
            (Category::Maternal, true) => (&[Obstetrics], &[Igd, Icu]),
        };
    HospitalNeeds {
        required,
        preferred,
        icu_bed: merah,
        none: category == Category::Information,
    }
}

/// Why a unit is not among the candidates for an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitExclusion {
    /// Working another incident (or waiting to acknowledge one).
    Busy,
    /// Out of service.
    OutOfService,
    /// Its type may not serve this triage and category.
    WrongType,
    /// No road route from its position to the incident.
    Unreachable,
    /// It already declined or timed out on this incident.
    AlreadyTried,
    /// The call needs no unit (information only).
    NoUnitNeeded,
}

impl UnitExclusion {
    /// English reason.
    pub fn message(self) -> &'static str {
        match self {
            UnitExclusion::Busy => "busy on another incident",
            UnitExclusion::OutOfService => "out of service",
            UnitExclusion::WrongType => "wrong unit type for this triage and category",
            UnitExclusion::Unreachable => "unreachable by road",
            UnitExclusion::AlreadyTried => "already declined or timed out on this incident",
            UnitExclusion::NoUnitNeeded => "information call: no unit needed",
        }
    }

    /// Reason in Bahasa Indonesia.
    pub fn message_id(self) -> &'static str {
        match self {
            UnitExclusion::Busy => "sedang menangani kejadian lain",
            UnitExclusion::OutOfService => "tidak bertugas",
            UnitExclusion::WrongType => "jenis unit tidak sesuai triase dan kategori",
            UnitExclusion::Unreachable => "tidak terjangkau lewat jalan",
            UnitExclusion::AlreadyTried => "sudah menolak atau tidak menjawab untuk kejadian ini",
            UnitExclusion::NoUnitNeeded => "panggilan informasi: tidak perlu unit",
        }
    }
}

/// A remark on a unit that is a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CandidateNote {
    /// The live position is older than `Config::stale_position_s`: ranked from its base.
    PositionStaleRankedFromBase,
    /// No position ever received: ranked from its base.
    NoPositionRankedFromBase,
    /// A motorbike: first responder, cannot transport the patient.
    FirstResponderOnly,
    /// Has the capability the call prefers (e.g. an obstetric kit).
    PreferredCapability,
}

impl CandidateNote {
    /// English remark.
    pub fn message(self) -> &'static str {
        match self {
            CandidateNote::PositionStaleRankedFromBase => "position stale, ranked from base",
            CandidateNote::NoPositionRankedFromBase => "no position yet, ranked from base",
            CandidateNote::FirstResponderOnly => "first responder only, cannot transport",
            CandidateNote::PreferredCapability => "has the preferred equipment",
        }
    }

    /// Remark in Bahasa Indonesia.
    pub fn message_id(self) -> &'static str {
        match self {
            CandidateNote::PositionStaleRankedFromBase => {
                "posisi kedaluwarsa, dihitung dari markas"
            }
            CandidateNote::NoPositionRankedFromBase => "belum ada posisi, dihitung dari markas",
            CandidateNote::FirstResponderOnly => "hanya responder pertama, tidak bisa mengangkut",
            CandidateNote::PreferredCapability => "memiliki peralatan yang diutamakan",
        }
    }
}

/// Why a hospital is not recommended at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "reason", content = "capability")]
pub enum HospitalExclusion {
    /// The IGD asks ambulances to go elsewhere.
    Diversion,
    /// It lacks a required capability.
    Lacks(Capability),
    /// No road route from the incident.
    Unreachable,
    /// Already referred to for this incident and it declined or did not answer.
    AlreadyTried,
}

impl HospitalExclusion {
    /// English reason.
    pub fn message(self) -> String {
        match self {
            HospitalExclusion::Diversion => "on diversion".into(),
            HospitalExclusion::Lacks(c) => format!("no {}", c.code()),
            HospitalExclusion::Unreachable => "unreachable by road".into(),
            HospitalExclusion::AlreadyTried => {
                "already declined or did not answer for this incident".into()
            }
        }
    }

    /// Reason in Bahasa Indonesia.
    pub fn message_id(self) -> String {
        match self {
            HospitalExclusion::Diversion => "sedang dialihkan (diversi)".into(),
            HospitalExclusion::Lacks(c) => format!("tidak ada layanan {}", c.label_id()),
            HospitalExclusion::Unreachable => "tidak terjangkau lewat jalan".into(),
            HospitalExclusion::AlreadyTried => {
                "sudah menolak atau tidak menjawab untuk kejadian ini".into()
            }
        }
    }
}

/// A remark on a recommended hospital that explains its rank.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "note", content = "capability")]
pub enum HospitalNote {
    /// The IGD says it is full.
    Full,
    /// Reports no free IGD bed.
    NoFreeIgdBed,
    /// Reports no free ICU bed (and the patient is merah).
    NoFreeIcuBed,
    /// Has never reported its capacity.
    CapacityUnknown,
    /// Lacks a preferred capability.
    LacksPreferred(Capability),
}

impl HospitalNote {
    /// English remark.
    pub fn message(self) -> String {
        match self {
            HospitalNote::Full => "IGD full".into(),
            HospitalNote::NoFreeIgdBed => "no free IGD bed".into(),
            HospitalNote::NoFreeIcuBed => "no free ICU bed".into(),
            HospitalNote::CapacityUnknown => "capacity never reported".into(),
            HospitalNote::LacksPreferred(c) => format!("no {}", c.code()),
        }
    }

    /// Remark in Bahasa Indonesia.
    pub fn message_id(self) -> String {
        match self {
            HospitalNote::Full => "IGD penuh".into(),
            HospitalNote::NoFreeIgdBed => "tidak ada tempat tidur IGD kosong".into(),
            HospitalNote::NoFreeIcuBed => "tidak ada tempat tidur ICU kosong".into(),
            HospitalNote::CapacityUnknown => "kapasitas belum pernah dilaporkan".into(),
            HospitalNote::LacksPreferred(c) => format!("tidak ada layanan {}", c.label_id()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_holds() {
        use UnitType::*;
        assert!(
            unit_policy(Triage::Merah, Category::Medical)
                .types
                .contains(&Motorbike)
        );
        assert!(
            !unit_policy(Triage::Kuning, Category::Medical)
                .types
                .contains(&Motorbike)
        );
        assert!(
            unit_policy(Triage::Merah, Category::Information)
                .types
                .is_empty()
        );
        assert_eq!(
            unit_policy(Triage::Hijau, Category::Maternal).preferred_capability,
            Some("obstetric")
        );
        assert!(hospital_needs(Triage::Hijau, Category::Information).none);
        assert_eq!(
            hospital_needs(Triage::Merah, Category::Accident).required,
            &[Capability::SurgeryTrauma]
        );
    }
}
