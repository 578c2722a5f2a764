//! Scenarios: refused commands (out of order, unknown ids, bad values, closed
//! incidents) change nothing and say why in Indonesian.

use crate::common::*;
use Step::Do;
use UnitStatus::*;
use satria_dispatch::*;

// ----- rejected commands change nothing -----

#[test]
fn commands_out_of_order_are_rejected() {
    check(
        vec![
            Do(0, status("A1", OnScene)),
            Do(1, create(Triage::Merah, Category::Accident)),
            Do(2, status("A1", OnScene)),
            Do(3, ack(1, "B1")),
            Do(4, ack(1, "A1")),
            Do(5, ack(1, "A1")),
            Do(6, status("A1", Transporting)),
            Do(7, assign(1, &["A1"])),
            Do(
                8,
                Command::CloseIncident {
                    incident: IncidentId(1),
                    outcome: "x".into(),
                },
            ),
            Do(
                9,
                Command::SetOutOfService {
                    unit: u("A1"),
                    reason: "mogok".into(),
                    device_at: None,
                },
            ),
            Do(
                10,
                Command::ReturnToService {
                    unit: u("B1"),
                    device_at: None,
                },
            ),
            Do(11, decline(1, "A1")),
        ],
        "rejected:invalid_transition | incident_created unit_assigned | rejected:invalid_transition \
         | rejected:no_pending_assignment | assignment_acknowledged | rejected:no_pending_assignment \
         | rejected:invalid_transition | rejected:unit_not_available | rejected:units_still_assigned \
         | rejected:invalid_transition | rejected:invalid_transition | rejected:no_pending_assignment",
    );
}

#[test]
fn unknown_ids_and_bad_values_are_rejected() {
    check(
        vec![
            Do(0, moved("NOPE", -7.4, 109.2)),
            Do(0, moved("A1", -97.4, 109.2)),
            Do(0, moved("A1", f64::NAN, 109.2)),
            Do(
                0,
                create_at(
                    Triage::Kuning,
                    Category::Medical,
                    LatLon {
                        lat: 0.0,
                        lon: 200.0,
                    },
                ),
            ),
            Do(0, assign(7, &["A1"])),
            Do(0, create(Triage::Kuning, Category::Medical)),
            Do(0, assign(1, &["NOPE"])),
            Do(0, decline(1, "A1")),
            Do(
                0,
                Command::MergeIncidents {
                    from: IncidentId(1),
                    into: IncidentId(1),
                },
            ),
            Do(
                0,
                Command::UpdateHospitalCapacity {
                    hospital: HospitalId("0000000".into()),
                    free_igd_beds: Some(1),
                    free_icu_beds: None,
                    status: HospitalStatus::Open,
                },
            ),
            Do(
                0,
                Command::AcceptReferral {
                    referral: ReferralId(9),
                    officer: "x".into(),
                },
            ),
            Do(
                0,
                Command::RegisterUnit {
                    id: u("A1"),
                    call_sign: "dup".into(),
                    unit_type: UnitType::Als,
                    owner: Owner::Psc,
                    base_name: String::new(),
                    base: SCENE,
                    capabilities: vec![],
                },
            ),
            Do(
                0,
                Command::UpdateIncident {
                    incident: IncidentId(1),
                    triage: None,
                    category: None,
                    patients: Some(501),
                    notes: None,
                    address: None,
                },
            ),
            Do(
                0,
                Command::CancelIncident {
                    incident: IncidentId(1),
                    reason: " ".into(),
                },
            ),
        ],
        "rejected:unknown_unit | rejected:invalid_position | rejected:invalid_position \
         | rejected:invalid_position | rejected:unknown_incident | incident_created \
         | rejected:unknown_unit | rejected:no_pending_assignment | rejected:same_incident \
         | rejected:unknown_hospital | rejected:unknown_referral | rejected:duplicate_unit \
         | rejected:invalid_field | rejected:invalid_field",
    );
}

#[test]
fn closed_incidents_refuse_changes() {
    check(
        vec![
            Do(0, create(Triage::Hijau, Category::Medical)),
            Do(
                1,
                Command::CancelIncident {
                    incident: IncidentId(1),
                    reason: "penelpon iseng".into(),
                },
            ),
            Do(2, assign(1, &["B1"])),
            Do(
                3,
                Command::CloseIncident {
                    incident: IncidentId(1),
                    outcome: "x".into(),
                },
            ),
            Do(
                4,
                Command::UpdateIncident {
                    incident: IncidentId(1),
                    triage: Some(Triage::Merah),
                    category: None,
                    patients: None,
                    notes: None,
                    address: None,
                },
            ),
        ],
        "incident_created | incident_cancelled | rejected:incident_not_open \
         | rejected:incident_not_open | rejected:incident_not_open",
    );
}

#[test]
fn rejections_have_an_indonesian_message() {
    let mut run = Run::new(world(Config::default()));
    let e = run.handle(0, status("A1", OnScene)).unwrap_err();
    assert_eq!(e.to_string(), "unit A1 cannot go from Available to OnScene");
    assert_eq!(
        e.message_id(),
        "unit A1 tidak bisa berpindah dari \"siaga\" ke \"tiba di lokasi\""
    );
    let e = run.handle(0, assign(3, &["A1"])).unwrap_err();
    assert_eq!(e.message_id(), "kejadian INC-000003 tidak ada");
}
