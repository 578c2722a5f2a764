//! The fleet: units, their types, owners and statuses, and the fleet file.
//!
//! The fleet file (format in `fixtures/dispatch/README.md`) is read by the engine; this
//! module only parses text, it never opens a file. The demo fleet of Banyumas is
//! embedded with `include_str!` so binaries and tests work from any directory.

use crate::ids::{IncidentId, LatLon, Timestamp, UnitId, valid_position};
use serde::{Deserialize, Serialize};

/// Kind of unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitType {
    /// Patient transport ambulance, no life-support crew.
    Transport,
    /// Basic life support ambulance.
    Bls,
    /// Advanced life support ambulance.
    Als,
    /// Motorbike first responder: arrives first, cannot transport.
    Motorbike,
}

impl UnitType {
    /// Whether the unit can carry a patient to hospital.
    pub fn can_transport(self) -> bool {
        self != UnitType::Motorbike
    }
}

/// Who owns and crews a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Owner {
    /// The regency's PSC 119.
    Psc,
    /// A puskesmas (community health centre).
    Puskesmas,
    /// A hospital (RSUD or private).
    Hospital,
    /// Palang Merah Indonesia (Red Cross).
    Pmi,
    /// A volunteer group.
    Volunteer,
}

/// Unit status, matching the NEMSIS eTimes set of the domain primer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitStatus {
    /// In service, free.
    Available,
    /// Assigned, waiting for the crew to acknowledge.
    Notified,
    /// Acknowledged, driving to the scene.
    EnRoute,
    /// Arrived at the address.
    OnScene,
    /// With the patient.
    AtPatient,
    /// Left the scene with the patient.
    Transporting,
    /// Arrived at the destination hospital.
    AtDestination,
    /// Patient handed over to the IGD.
    TransferOfCare,
    /// Not in service (maintenance, no crew, ...).
    OutOfService,
}

impl UnitStatus {
    /// Whether the unit is working an incident.
    pub fn is_committed(self) -> bool {
        !matches!(self, UnitStatus::Available | UnitStatus::OutOfService)
    }

    /// The statuses a crew may report next from this one. `Available` means "back in
    /// service": the assignment is complete. Leaving the scene without a patient
    /// (treated on scene, refused transport) is allowed from on-scene and at-patient.
    pub fn crew_next(self) -> &'static [UnitStatus] {
        use UnitStatus::*;
        match self {
            EnRoute => &[OnScene],
            OnScene => &[AtPatient, Available],
            AtPatient => &[Transporting, Available],
            Transporting => &[AtDestination],
            AtDestination => &[TransferOfCare],
            TransferOfCare => &[Available],
            Available | Notified | OutOfService => &[],
        }
    }

    /// The name shown on the Indonesian consoles.
    pub fn label_id(self) -> &'static str {
        use UnitStatus::*;
        match self {
            Available => "siaga",
            Notified => "ditugaskan, menunggu konfirmasi",
            EnRoute => "menuju lokasi",
            OnScene => "tiba di lokasi",
            AtPatient => "bersama pasien",
            Transporting => "mengantar pasien",
            AtDestination => "tiba di rumah sakit",
            TransferOfCare => "serah terima pasien",
            OutOfService => "tidak bertugas",
        }
    }
}

/// A position report.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Fix {
    /// Where the unit was.
    #[serde(with = "crate::ids::latlon")]
    pub at: LatLon,
    /// Server time of the report: staleness is judged on this, never on phone clocks.
    pub received: Timestamp,
    /// The phone's own time of the fix, if it sent one.
    pub device_at: Option<Timestamp>,
}

/// An ambulance or responder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unit {
    /// Unique id.
    pub id: UnitId,
    /// Radio call sign shown on the consoles.
    pub call_sign: String,
    /// Kind of unit.
    pub unit_type: UnitType,
    /// Who owns and crews it.
    pub owner: Owner,
    /// Name of the home base.
    pub base_name: String,
    /// Home base: the fallback position when the live one is stale.
    #[serde(with = "crate::ids::latlon")]
    pub base: LatLon,
    /// Free-form capabilities, e.g. `obstetric`, `ventilator`, `paediatric`.
    pub capabilities: Vec<String>,
    /// Current status.
    pub status: UnitStatus,
    /// Server time of the last status change.
    pub status_at: Timestamp,
    /// Device (phone) time of the last status change, if the crew sent one.
    pub status_device_at: Option<Timestamp>,
    /// Why the unit is out of service, while it is.
    pub out_of_service_reason: Option<String>,
    /// The incident the unit is committed to, if any.
    pub incident: Option<IncidentId>,
    /// The last position report.
    pub last_fix: Option<Fix>,
}

impl Unit {
    /// A new unit, available at its base, never seen on the road yet.
    pub fn new(
        id: &str,
        call_sign: &str,
        unit_type: UnitType,
        owner: Owner,
        base_name: &str,
        base: LatLon,
        capabilities: &[&str],
    ) -> Unit {
        Unit {
            id: UnitId(id.to_string()),
            call_sign: call_sign.to_string(),
            unit_type,
            owner,
            base_name: base_name.to_string(),
            base,
            capabilities: capabilities.iter().map(|c| c.to_string()).collect(),
            status: UnitStatus::Available,
            status_at: Timestamp(0),
            status_device_at: None,
            out_of_service_reason: None,
            incident: None,
            last_fix: None,
        }
    }

    /// Whether the unit lists capability `c`.
    pub fn has_capability(&self, c: &str) -> bool {
        self.capabilities.iter().any(|k| k == c)
    }
}

/// The demo fleet file: PSC 119, the 10 puskesmas ambulances, the three RSUD.
pub const DEMO_FLEET_CSV: &str = include_str!("../../../fixtures/dispatch/fleet-banyumas.csv");

/// The demo fleet of Banyumas, parsed from the embedded [`DEMO_FLEET_CSV`].
pub fn demo_fleet() -> Vec<Unit> {
    parse_fleet_csv(DEMO_FLEET_CSV).expect("the embedded demo fleet is valid (tested)")
}

/// A fleet file line that could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("fleet line {line}: {why}")]
pub struct FleetError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong with it.
    pub why: String,
}

/// Parses a fleet CSV (format in `fixtures/dispatch/README.md`). Refuses the whole file
/// at the first bad line, naming it: a half-loaded fleet is worse than none, because the
/// dispatcher would not know which ambulances are missing.
pub fn parse_fleet_csv(text: &str) -> Result<Vec<Unit>, FleetError> {
    let mut out: Vec<Unit> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let l = raw.trim();
        if l.is_empty() || l.starts_with('#') || (line == 1 && l.starts_with("id,")) {
            continue;
        }
        let err = |why: String| FleetError { line, why };
        let f: Vec<&str> = l.split(',').map(str::trim).collect();
        if f.len() != 8 {
            return Err(err(format!(
                "expected 8 fields (id,call_sign,type,owner,base_name,lat,lon,capabilities), found {}",
                f.len()
            )));
        }
        let unit_type = match f[2] {
            "transport" => UnitType::Transport,
            "bls" => UnitType::Bls,
            "als" => UnitType::Als,
            "motorbike" => UnitType::Motorbike,
            other => {
                return Err(err(format!(
                    "type {other:?} is not transport, bls, als or motorbike"
                )));
            }
        };
        let owner = match f[3] {
            "psc" => Owner::Psc,
            "puskesmas" => Owner::Puskesmas,
            "hospital" => Owner::Hospital,
            "pmi" => Owner::Pmi,
            "volunteer" => Owner::Volunteer,
            other => {
                return Err(err(format!(
                    "owner {other:?} is not psc, puskesmas, hospital, pmi or volunteer"
                )));
            }
        };
        let num = |s: &str, what: &str| {
            s.parse::<f64>()
                .map_err(|_| err(format!("{what} {s:?} is not a number")))
        };
        let base = LatLon {
            lat: num(f[5], "lat")?,
            lon: num(f[6], "lon")?,
        };
        if !valid_position(base) {
            return Err(err(format!("position {},{} is out of range", f[5], f[6])));
        }
        if f[0].is_empty() || f[0].len() > 64 {
            return Err(err("id must be 1 to 64 characters".into()));
        }
        if out.iter().any(|u| u.id.0 == f[0]) {
            return Err(err(format!("unit {} appears twice", f[0])));
        }
        let caps: Vec<&str> = f[7].split(';').filter(|c| !c.is_empty()).collect();
        out.push(Unit::new(f[0], f[1], unit_type, owner, f[4], base, &caps));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_fleet_has_psc_puskesmas_and_rsud_units() {
        let fleet = demo_fleet();
        assert_eq!(fleet.len(), 6 + 2 + 10 + 3);
        let psc = fleet.iter().filter(|u| u.owner == Owner::Psc);
        assert_eq!(psc.clone().count(), 8);
        assert_eq!(
            psc.filter(|u| u.unit_type == UnitType::Motorbike).count(),
            2
        );
        // Every puskesmas that received an ambulance has one, at its own position.
        let region = satria_region::Region::banyumas();
        for p in region.puskesmas.iter().filter(|p| p.has_ambulance) {
            assert!(
                fleet.iter().any(|u| u.owner == Owner::Puskesmas
                    && u.base_name == p.name
                    && crate::ids::distance_m(u.base, p.position) < 50.0),
                "no ambulance for {}",
                p.name
            );
        }
        let rsud = fleet.iter().filter(|u| u.owner == Owner::Hospital).count();
        assert_eq!(rsud, 3);
    }

    #[test]
    fn bad_lines_are_named() {
        let e = parse_fleet_csv(
            "id,call_sign,type,owner,base_name,lat,lon,capabilities\nA,B,tank,psc,X,1,2,\n",
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "fleet line 2: type \"tank\" is not transport, bls, als or motorbike"
        );
        let e = parse_fleet_csv("A,B,als,psc,X,1,2,\nA,B,als,psc,X,1,2,\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert_eq!(
            parse_fleet_csv("# c\nA,B,als,psc,X,100,2,\n")
                .unwrap_err()
                .line,
            2
        );
        assert!(parse_fleet_csv("A,B,als,psc,X\n").is_err());
        assert!(parse_fleet_csv("A,B,als,army,X,1,2,\n").is_err());
        assert!(parse_fleet_csv("A,B,als,psc,X,abc,2,\n").is_err());
    }
}
