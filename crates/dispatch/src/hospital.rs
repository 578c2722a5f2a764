//! Hospitals as destinations: what each can treat (from the capability file) and its
//! live capacity (free IGD and ICU beds, open/full/diversion, and when that was said).
//!
//! The static facts (type, class, beds, position) come from `satria_region`; this module
//! adds the capabilities and parses the capability file. It does no I/O.

use crate::ids::{HospitalId, LatLon, Timestamp};
use serde::{Deserialize, Serialize};

/// What a hospital can treat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    /// A general emergency department for every patient.
    Igd,
    /// Intensive care.
    Icu,
    /// Obstetrics (delivery, PONEK).
    Obstetrics,
    /// Surgery and trauma.
    SurgeryTrauma,
    /// Orthopaedics.
    Orthopaedics,
    /// Paediatrics.
    Paediatrics,
    /// Dental and oral only.
    Dental,
}

impl Capability {
    /// All capabilities, for parsing.
    pub const ALL: [Capability; 7] = [
        Capability::Igd,
        Capability::Icu,
        Capability::Obstetrics,
        Capability::SurgeryTrauma,
        Capability::Orthopaedics,
        Capability::Paediatrics,
        Capability::Dental,
    ];

    /// The name in files and JSON, e.g. `surgery_trauma`.
    pub fn code(self) -> &'static str {
        match self {
            Capability::Igd => "igd",
            Capability::Icu => "icu",
            Capability::Obstetrics => "obstetrics",
            Capability::SurgeryTrauma => "surgery_trauma",
            Capability::Orthopaedics => "orthopaedics",
            Capability::Paediatrics => "paediatrics",
            Capability::Dental => "dental",
        }
    }

    /// The name on the Indonesian consoles.
    pub fn label_id(self) -> &'static str {
        match self {
            Capability::Igd => "IGD umum",
            Capability::Icu => "ICU",
            Capability::Obstetrics => "kebidanan (PONEK)",
            Capability::SurgeryTrauma => "bedah/trauma",
            Capability::Orthopaedics => "ortopedi",
            Capability::Paediatrics => "anak",
            Capability::Dental => "gigi dan mulut",
        }
    }
}

/// The IGD's own word on whether it takes patients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HospitalStatus {
    /// Taking patients.
    Open,
    /// No room: still recommended last (a merah patient may have nowhere else).
    Full,
    /// Asks ambulances to go elsewhere: never recommended.
    Diversion,
}

/// Live capacity as last published by the hospital.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capacity {
    /// Free IGD beds; `None` until the hospital first reports.
    pub free_igd_beds: Option<u32>,
    /// Free ICU beds; `None` until the hospital first reports.
    pub free_icu_beds: Option<u32>,
    /// Open, full or diversion.
    pub status: HospitalStatus,
    /// Server time of the last report, so a reader can show its age.
    pub updated_at: Option<Timestamp>,
}

impl Default for Capacity {
    fn default() -> Capacity {
        Capacity {
            free_igd_beds: None,
            free_icu_beds: None,
            status: HospitalStatus::Open,
            updated_at: None,
        }
    }
}

/// A hospital as a destination.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hospital {
    /// Kemenkes code.
    pub id: HospitalId,
    /// Name.
    pub name: String,
    /// RSU, RSIA, RSK BEDAH, RSK Orthopedi, RSK GM.
    pub kind: String,
    /// Class A to D.
    pub class: String,
    /// Registered beds.
    pub beds: u32,
    /// Position of the IGD entrance (or the best known position).
    #[serde(with = "crate::ids::latlon")]
    pub position: LatLon,
    /// Kecamatan, for display.
    pub kecamatan: String,
    /// What it can treat, sorted.
    pub capabilities: Vec<Capability>,
    /// Live capacity.
    pub capacity: Capacity,
}

impl Hospital {
    /// Whether the hospital has capability `c`.
    pub fn has(&self, c: Capability) -> bool {
        self.capabilities.contains(&c)
    }
}

/// The demo capability file of the 23 Banyumas hospitals.
pub const DEMO_HOSPITAL_CAPABILITIES_CSV: &str =
    include_str!("../../../fixtures/dispatch/hospital-capabilities.csv");

/// The 23 hospitals of Banyumas with the demo capabilities, capacity unknown.
pub fn demo_hospitals() -> Vec<Hospital> {
    hospitals_from_region(
        &satria_region::Region::banyumas(),
        DEMO_HOSPITAL_CAPABILITIES_CSV,
    )
    .expect("the embedded capability file matches the region (tested)")
}

/// A capability file that does not fit the region.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HospitalFileError {
    /// A line could not be read.
    #[error("hospital capabilities line {line}: {why}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        why: String,
    },
    /// A hospital of the region has no line.
    #[error("hospital {code} ({name}) has no line in the capability file")]
    Missing {
        /// Kemenkes code.
        code: String,
        /// Name, to find it.
        name: String,
    },
}

/// Joins the region's hospitals with a capability file (`code,name,capabilities`, format
/// in `fixtures/dispatch/README.md`). Every hospital must appear exactly once and every
/// code must exist: a hospital silently without capabilities would never be recommended.
pub fn hospitals_from_region(
    region: &satria_region::Region,
    capabilities_csv: &str,
) -> Result<Vec<Hospital>, HospitalFileError> {
    let mut caps: std::collections::BTreeMap<String, Vec<Capability>> = Default::default();
    for (i, raw) in capabilities_csv.lines().enumerate() {
        let line = i + 1;
        let l = raw.trim();
        if l.is_empty() || l.starts_with('#') || (line == 1 && l.starts_with("code,")) {
            continue;
        }
        let err = |why: String| HospitalFileError::Line { line, why };
        let f: Vec<&str> = l.split(',').map(str::trim).collect();
        if f.len() != 3 {
            return Err(err(format!(
                "expected 3 fields (code,name,capabilities), found {}",
                f.len()
            )));
        }
        if !region.hospitals.iter().any(|h| h.code == f[0]) {
            return Err(err(format!("no hospital with code {} in the region", f[0])));
        }
        let mut list = Vec::new();
        for c in f[2].split(';').filter(|c| !c.is_empty()) {
            match Capability::ALL.iter().find(|k| k.code() == c) {
                Some(k) => list.push(*k),
                None => return Err(err(format!("unknown capability {c:?}"))),
            }
        }
        list.sort();
        list.dedup();
        if caps.insert(f[0].to_string(), list).is_some() {
            return Err(err(format!("hospital {} appears twice", f[0])));
        }
    }
    region
        .hospitals
        .iter()
        .map(|h| {
            let capabilities =
                caps.get(&h.code)
                    .cloned()
                    .ok_or_else(|| HospitalFileError::Missing {
                        code: h.code.clone(),
                        name: h.name.clone(),
                    })?;
            Ok(Hospital {
                id: HospitalId(h.code.clone()),
                name: h.name.clone(),
                kind: h.kind.clone(),
                class: h.class.clone(),
                beds: h.beds,
                position: h.position,
                kecamatan: h.kecamatan.clone(),
                capabilities,
                capacity: Capacity::default(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_capabilities_follow_type_and_class() {
        let hs = demo_hospitals();
        assert_eq!(hs.len(), 23);
        for h in &hs {
            assert_eq!(h.has(Capability::Igd), h.kind == "RSU", "{}", h.name);
            if h.kind == "RSIA" {
                assert!(h.has(Capability::Obstetrics) && h.has(Capability::Paediatrics));
            }
            if h.kind.starts_with("RSK B") || h.kind == "RSK Orthopedi" {
                assert!(h.has(Capability::SurgeryTrauma));
            }
            if h.kind == "RSK GM" {
                assert_eq!(h.capabilities, vec![Capability::Dental]);
            } else {
                assert_eq!(
                    h.has(Capability::Icu),
                    h.class == "B" || h.class == "C",
                    "{}",
                    h.name
                );
            }
        }
    }

    #[test]
    fn capability_file_errors_are_named() {
        let region = satria_region::Region::banyumas();
        let e = hospitals_from_region(&region, "code,name,capabilities\n9999,X,igd\n").unwrap_err();
        assert!(matches!(e, HospitalFileError::Line { line: 2, .. }), "{e}");
        let e = hospitals_from_region(&region, "3302015,X,igd;teleport\n").unwrap_err();
        assert!(e.to_string().contains("teleport"));
        let e = hospitals_from_region(&region, "3302015,X,igd\n").unwrap_err();
        assert!(matches!(e, HospitalFileError::Missing { .. }));
    }
}
