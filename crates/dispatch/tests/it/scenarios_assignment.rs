//! Scenarios: automatic assignment of a unit to a call, and what follows it:
//! acknowledgement, timeout, decline, cancel and reassignment.

use crate::common::*;
use Step::{Do, Tick};
use UnitStatus::*;
use satria_dispatch::*;

// ----- automatic assignment -----

#[test]
fn merah_is_auto_assigned_to_the_nearest_ambulance_not_the_motorbike() {
    let run = check(
        vec![Do(0, create(Triage::Merah, Category::Medical))],
        "incident_created unit_assigned",
    );
    // M1 is nearer, but a motorbike cannot transport.
    assert_eq!(run.d.unit(&u("A1")).unwrap().status, Notified);
    assert_eq!(run.d.next_deadline(), Some(at(60)));
}

#[test]
fn kuning_and_information_calls_are_not_auto_assigned() {
    check(
        vec![Do(0, create(Triage::Kuning, Category::Accident))],
        "incident_created",
    );
    check(
        vec![Do(0, create(Triage::Merah, Category::Information))],
        "incident_created",
    );
}

#[test]
fn auto_assign_can_be_switched_off() {
    let config = Config {
        auto_assign_merah: false,
        ..Config::default()
    };
    check_with(
        config,
        vec![Do(0, create(Triage::Merah, Category::Accident))],
        "incident_created",
    );
}

#[test]
fn merah_with_only_a_motorbike_free_gets_the_motorbike() {
    let mut run = Run::new(world(Config::default()));
    for x in ["A1", "B1", "B2", "T1", "X1"] {
        run.ok(
            0,
            Command::SetOutOfService {
                unit: u(x),
                reason: "servis".into(),
                device_at: None,
            },
        );
    }
    let ev = run.ok(1, create(Triage::Merah, Category::Accident));
    assert!(matches!(&ev[1], Event::UnitAssigned { unit, automatic: true, .. } if unit.0 == "M1"));
}

#[test]
fn merah_with_no_unit_free_is_an_outcome_not_an_error() {
    let mut run = Run::new(Dispatch::new(Config::default(), vec![], demo_hospitals()));
    let ev = run.ok(0, create(Triage::Merah, Category::Accident));
    assert_eq!(ev.len(), 1);
    let rec = run
        .d
        .recommend_units(at(1), IncidentId(1), &run.roads)
        .unwrap();
    assert!(rec.candidates.is_empty());
}

// ----- acknowledgement: timeout, decline, cancel, reassign -----

#[test]
fn ack_timeout_frees_the_unit_and_proposes_the_next() {
    // A kuning call: the dispatcher decides on the proposal.
    let run = check(
        vec![
            Do(0, create(Triage::Kuning, Category::Accident)),
            Do(0, assign(1, &["A1"])),
            Tick(59),
            Tick(60),
            Tick(61),
        ],
        "incident_created | unit_assigned | | assignment_timed_out next_unit_proposed | ",
    );
    let Event::NextUnitProposed {
        after, candidates, ..
    } = &run.journal[3]
    else {
        panic!()
    };
    assert_eq!(after, &u("A1"));
    assert!(!candidates.iter().any(|c| c.unit == u("A1")));
    // A kuning accident calls for a BLS ambulance: the two that are left.
    assert_eq!(candidates.len(), 2, "{candidates:?}");
    assert_eq!(run.d.unit(&u("A1")).unwrap().status, Available);
    assert_eq!(
        run.d.incident(IncidentId(1)).unwrap().status,
        IncidentStatus::Open
    );
}

#[test]
fn the_ack_timeout_is_configurable() {
    let config = Config {
        ack_timeout_s: 10,
        ..Config::default()
    };
    check_with(
        config,
        vec![
            Do(0, create(Triage::Kuning, Category::Accident)),
            Do(0, assign(1, &["A1"])),
            Tick(10),
        ],
        "incident_created | unit_assigned | assignment_timed_out next_unit_proposed",
    );
}

#[test]
fn a_merah_call_whose_crew_does_not_answer_gets_the_next_unit_at_once() {
    let run = check(
        vec![Do(0, create(Triage::Merah, Category::Accident)), Tick(60)],
        "incident_created unit_assigned | assignment_timed_out next_unit_proposed unit_assigned",
    );
    let Event::UnitAssigned {
        unit, automatic, ..
    } = &run.journal[4]
    else {
        panic!("{:?}", run.journal[4])
    };
    assert!(*automatic);
    let unit = unit.clone();
    assert_ne!(unit, u("A1"), "never the unit that did not answer");
    assert_eq!(run.d.unit(&unit).unwrap().status, Notified);
    assert_eq!(run.d.unit(&u("A1")).unwrap().status, Available);
    // And again when the second one does not answer either.
    let mut run = run;
    let ev = run.tick(120);
    assert!(
        matches!(ev.last(), Some(Event::UnitAssigned { unit: third, .. }) if third != &unit && third != &u("A1")),
        "{ev:?}"
    );
}

#[test]
fn a_merah_call_whose_crew_declines_gets_the_next_unit_at_once_unless_auto_assign_is_off() {
    let run = check(
        vec![
            Do(0, create(Triage::Merah, Category::Accident)),
            Do(10, decline(1, "A1")),
        ],
        "incident_created unit_assigned | assignment_declined next_unit_proposed unit_assigned",
    );
    assert_eq!(
        run.d.incident(IncidentId(1)).unwrap().status,
        IncidentStatus::Dispatched
    );
    let off = Config {
        auto_assign_merah: false,
        ..Config::default()
    };
    check_with(
        off,
        vec![
            Do(0, create(Triage::Merah, Category::Accident)),
            Do(0, assign(1, &["A1"])),
            Do(10, decline(1, "A1")),
        ],
        "incident_created | unit_assigned | assignment_declined next_unit_proposed",
    );
}

#[test]
fn a_merah_call_that_still_has_a_unit_is_not_given_another() {
    // Two units sent; one declines: the other is still coming, only a proposal.
    check(
        vec![
            Do(0, create(Triage::Merah, Category::Accident)),
            Do(1, assign(1, &["B1"])),
            Do(5, decline(1, "A1")),
        ],
        "incident_created unit_assigned | unit_assigned | assignment_declined next_unit_proposed",
    );
}

#[test]
fn an_acknowledged_assignment_never_times_out() {
    check(
        vec![
            Do(0, create(Triage::Merah, Category::Accident)),
            Do(5, ack(1, "A1")),
            Tick(3600),
        ],
        "incident_created unit_assigned | assignment_acknowledged | ",
    );
}

#[test]
fn decline_frees_the_unit_and_proposes_the_next() {
    let run = check(
        vec![
            Do(0, create(Triage::Kuning, Category::Accident)),
            Do(0, assign(1, &["A1"])),
            Do(10, decline(1, "A1")),
        ],
        "incident_created | unit_assigned | assignment_declined next_unit_proposed",
    );
    assert_eq!(run.d.unit(&u("A1")).unwrap().status, Available);
    // Declined units are not recommended again for this incident.
    let rec = run
        .d
        .recommend_units(at(11), IncidentId(1), &run.roads)
        .unwrap();
    assert!(
        rec.excluded
            .iter()
            .any(|x| x.unit == u("A1") && x.reason == UnitExclusion::AlreadyTried)
    );
}

#[test]
fn the_last_unit_declining_proposes_nobody() {
    let mut run = Run::new(Dispatch::new(
        Config::default(),
        fleet()[..1].to_vec(),
        vec![],
    ));
    run.ok(0, create(Triage::Merah, Category::Accident));
    let ev = run.ok(5, decline(1, "A1"));
    assert!(matches!(&ev[1], Event::NextUnitProposed { candidates, .. } if candidates.is_empty()));
}

#[test]
fn cancel_and_reassign() {
    let run = check(
        vec![
            Do(0, create(Triage::Hijau, Category::Medical)),
            Do(1, assign(1, &["T1"])),
            Do(2, ack(1, "T1")),
            Do(
                3,
                create_at(
                    Triage::Kuning,
                    Category::Accident,
                    LatLon {
                        lat: -7.45,
                        lon: 109.25,
                    },
                ),
            ),
            Do(
                4,
                Command::ReassignUnit {
                    unit: u("T1"),
                    to: IncidentId(2),
                    reason: "lebih mendesak".into(),
                },
            ),
            Do(
                5,
                Command::CancelAssignment {
                    incident: IncidentId(2),
                    unit: u("T1"),
                    reason: "salah unit".into(),
                },
            ),
            Do(
                6,
                Command::CancelAssignment {
                    incident: IncidentId(2),
                    unit: u("T1"),
                    reason: "lagi".into(),
                },
            ),
        ],
        "incident_created | unit_assigned | assignment_acknowledged | incident_created \
         | assignment_cancelled unit_assigned | assignment_cancelled | rejected:not_assigned",
    );
    assert_eq!(
        run.d.incident(IncidentId(1)).unwrap().status,
        IncidentStatus::Open
    );
    assert_eq!(run.d.unit(&u("T1")).unwrap().status, Available);
}

#[test]
fn a_unit_with_a_patient_aboard_cannot_be_reassigned() {
    check(
        vec![
            Do(0, create(Triage::Merah, Category::Accident)),
            Do(1, ack(1, "A1")),
            Do(2, status("A1", OnScene)),
            Do(3, status("A1", AtPatient)),
            Do(4, status("A1", Transporting)),
            Do(
                5,
                create_at(
                    Triage::Kuning,
                    Category::Medical,
                    LatLon {
                        lat: -7.5,
                        lon: 109.3,
                    },
                ),
            ),
            Do(
                6,
                Command::ReassignUnit {
                    unit: u("A1"),
                    to: IncidentId(2),
                    reason: "x".into(),
                },
            ),
        ],
        "incident_created unit_assigned | assignment_acknowledged | unit_status_changed \
         | unit_status_changed | unit_status_changed | incident_created | rejected:invalid_transition",
    );
}

#[test]
fn assigning_several_units_is_all_or_nothing() {
    let run = check(
        vec![
            Do(0, create(Triage::Kuning, Category::Accident)),
            Do(1, assign(1, &["B1", "M1"])),
            Do(2, assign(1, &["B2", "B1"])),
            Do(3, assign(1, &["B2", "B2"])),
            Do(4, assign(1, &[])),
        ],
        "incident_created | unit_assigned unit_assigned | rejected:unit_not_available \
         | rejected:invalid_field | rejected:invalid_field",
    );
    assert_eq!(run.d.unit(&u("B2")).unwrap().status, Available);
}
