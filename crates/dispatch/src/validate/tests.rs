//! The checks through the door every command takes (`Dispatch::handle`): refusals by
//! code, and a refused command changes nothing.

use super::*;
use crate::commands::Command;
use crate::state::Dispatch;
use crate::{Config, DriveTimes, IncidentId, StraightLine, Triage, demo_fleet, demo_hospitals};

fn region() -> Dispatch {
    let config = Config {
        service_area: Some(ServiceArea::of_region(&satria_region::Region::banyumas())),
        auto_assign_merah: false,
        ..Config::default()
    };
    Dispatch::new(config, demo_fleet(), demo_hospitals())
}

fn incident(lat: f64, lon: f64, name: &str, patients: u32) -> Command {
    Command::CreateIncident {
        caller_name: name.into(),
        caller_phone: "0813".into(),
        location: LatLon { lat, lon },
        address: Address {
            desa: "Sokanegara".into(),
            rt_rw: String::new(),
            landmark: String::new(),
            text: String::new(),
        },
        triage: Triage::Kuning,
        category: Category::Medical,
        patients,
        notes: String::new(),
    }
}

fn code(r: Result<Vec<crate::Event>, Rejection>) -> String {
    match r {
        Ok(_) => "ok".into(),
        Err(e) => serde_json::to_value(&e).unwrap()["code"]
            .as_str()
            .unwrap()
            .to_string(),
    }
}

#[test]
fn positions_outside_the_service_area_are_refused_and_change_nothing() {
    let roads: &dyn DriveTimes = &StraightLine::default();
    let mut d = region();
    let before = d.clone();
    let now = Timestamp(1_000_000);
    for (lat, lon) in [(0.0, 0.0), (-75.0, 0.0), (-7.42, 110.5), (-6.0, 109.2)] {
        assert_eq!(
            code(d.handle(now, incident(lat, lon, "Siti", 1), roads)),
            "outside_service_area"
        );
    }
    let moved = Command::UpdatePosition {
        unit: UnitId("PSC-01".into()),
        at: LatLon { lat: 0.0, lon: 0.0 },
        device_at: None,
    };
    assert_eq!(code(d.handle(now, moved, roads)), "outside_service_area");
    assert_eq!(d, before);
    // Just inside the margin: 5 km south of the southernmost point.
    let area = d.config().service_area.unwrap();
    let south = area.min_lat - 5_000.0 / 111_195.0;
    assert_eq!(
        code(d.handle(now, incident(south, 109.2, "Siti", 1), roads)),
        "ok"
    );
    assert_eq!(
        code(d.handle(now, incident(south - 0.1, 109.2, "Siti", 1), roads)),
        "outside_service_area"
    );
}

#[test]
fn required_fields_patients_and_ids() {
    let roads: &dyn DriveTimes = &StraightLine::default();
    let mut d = region();
    let now = Timestamp(1_000_000);
    assert_eq!(
        code(d.handle(now, incident(-7.42, 109.23, " ", 1), roads)),
        "invalid_field"
    );
    assert_eq!(
        code(d.handle(now, incident(-7.42, 109.23, "Siti", 0), roads)),
        "invalid_field"
    );
    assert_eq!(
        code(d.handle(
            now,
            incident(-7.42, 109.23, "Siti", MAX_PATIENTS + 1),
            roads
        )),
        "invalid_field"
    );
    let mut info = incident(-7.42, 109.23, "Siti", 0);
    if let Command::CreateIncident { category, .. } = &mut info {
        *category = Category::Information;
    }
    assert_eq!(
        code(d.handle(now, info, roads)),
        "ok",
        "an information call has no patient"
    );
    let capacity = Command::UpdateHospitalCapacity {
        hospital: HospitalId("RS\u{0}X".into()),
        free_igd_beds: None,
        free_icu_beds: None,
        status: crate::HospitalStatus::Open,
    };
    assert_eq!(code(d.handle(now, capacity, roads)), "invalid_field");
}

#[test]
fn device_times_are_checked_against_the_clock_and_the_assignment_they_answer() {
    let roads: &dyn DriveTimes = &StraightLine::default();
    let mut d = region();
    let t0 = Timestamp(10_000_000);
    d.handle(t0, incident(-7.42, 109.23, "Siti", 1), roads)
        .unwrap();
    let unit = UnitId("PSC-01".into());
    let incident = IncidentId(1);
    d.handle(
        t0,
        Command::AssignUnits {
            incident,
            units: vec![unit.clone()],
        },
        roads,
    )
    .unwrap();
    let now = t0.plus_s(10);
    let ack = |t: i64| Command::AcknowledgeAssignment {
        incident,
        unit: unit.clone(),
        device_at: Some(Timestamp(t)),
    };
    let before = d.clone();
    assert_eq!(
        code(d.handle(now, ack(now.0 + 61_000), roads)),
        "device_time_in_future"
    );
    assert_eq!(
        code(d.handle(now, ack(t0.0 - 61_000), roads)),
        "device_time_too_early"
    );
    assert_eq!(code(d.handle(now, ack(-5), roads)), "device_time_too_early");
    assert_eq!(d, before);
    // Within the skew either side: a phone a little fast or slow.
    assert_eq!(code(d.handle(now, ack(t0.0 - 59_000), roads)), "ok");
    let status = |t: i64| Command::ReportStatus {
        unit: unit.clone(),
        status: crate::UnitStatus::OnScene,
        device_at: Some(Timestamp(t)),
    };
    assert_eq!(
        code(d.handle(now, status(-5), roads)),
        "device_time_too_early"
    );
    assert_eq!(
        code(d.handle(now, status(32_503_680_000_000), roads)),
        "device_time_in_future"
    );
    assert_eq!(code(d.handle(now, status(now.0 + 60_000), roads)), "ok");
}
