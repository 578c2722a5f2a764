//! Scenarios: a second call near an open one is a possible duplicate, and merging
//! moves the units and keeps both histories.

use crate::common::*;
use Step::Do;
use satria_dispatch::*;

// ----- duplicates and merges -----

#[test]
fn a_second_call_nearby_is_a_possible_duplicate() {
    let near = LatLon {
        lat: SCENE.lat + 0.001,
        lon: SCENE.lon,
    }; // ~110 m
    let far = LatLon {
        lat: SCENE.lat + 0.01,
        lon: SCENE.lon,
    }; // ~1.1 km
    let run = check(
        vec![
            Do(0, create(Triage::Kuning, Category::Accident)),
            Do(60, create_at(Triage::Kuning, Category::Accident, near)),
            Do(61, create_at(Triage::Kuning, Category::Accident, far)),
            Do(16 * 60, create_at(Triage::Kuning, Category::Accident, near)),
        ],
        "incident_created | incident_created | incident_created | incident_created",
    );
    let dup = |i| run.d.incident(IncidentId(i)).unwrap().possible_duplicate_of;
    assert_eq!(dup(2), Some(IncidentId(1)));
    assert_eq!(dup(3), None);
    // 16 minutes later incident 1 is out of the window, but 2 (60 s later) is not...
    // 2 was at 60 s: 15 min after it is 960 s = 16 min, inclusive.
    assert_eq!(dup(4), Some(IncidentId(2)));
}

#[test]
fn closed_incidents_are_not_duplicates() {
    let run = check(
        vec![
            Do(0, create(Triage::Kuning, Category::Accident)),
            Do(
                1,
                Command::CancelIncident {
                    incident: IncidentId(1),
                    reason: "batal".into(),
                },
            ),
            Do(2, create(Triage::Kuning, Category::Accident)),
        ],
        "incident_created | incident_cancelled | incident_created",
    );
    assert_eq!(
        run.d.incident(IncidentId(2)).unwrap().possible_duplicate_of,
        None
    );
}

#[test]
fn a_merah_duplicate_waits_for_the_dispatcher() {
    check(
        vec![
            Do(0, create(Triage::Merah, Category::Accident)),
            Do(30, create(Triage::Merah, Category::Accident)),
        ],
        "incident_created unit_assigned | incident_created",
    );
}

#[test]
fn merge_moves_the_units_and_keeps_both_histories() {
    let run = check(
        vec![
            Do(0, create(Triage::Merah, Category::Accident)),
            Do(30, create(Triage::Kuning, Category::Accident)),
            Do(31, assign(2, &["B1"])),
            Do(
                40,
                Command::MergeIncidents {
                    from: IncidentId(2),
                    into: IncidentId(1),
                },
            ),
            Do(41, ack(1, "B1")),
            Do(
                42,
                Command::MergeIncidents {
                    from: IncidentId(2),
                    into: IncidentId(1),
                },
            ),
        ],
        "incident_created unit_assigned | incident_created | unit_assigned | incident_merged \
         | assignment_acknowledged | rejected:incident_not_open",
    );
    let i1 = run.d.incident(IncidentId(1)).unwrap();
    let i2 = run.d.incident(IncidentId(2)).unwrap();
    assert_eq!(i2.status, IncidentStatus::Merged);
    assert_eq!(i2.merged_into, Some(IncidentId(1)));
    assert_eq!(i1.merged_from, [IncidentId(2)]);
    assert_eq!(i1.active_units().count(), 2);
    assert_eq!(run.d.unit(&u("B1")).unwrap().incident, Some(IncidentId(1)));
    let tl = run.d.timeline(IncidentId(1)).unwrap();
    let kinds: Vec<(u64, &str)> = tl.iter().map(|e| (e.incident.0, e.kind.as_str())).collect();
    assert_eq!(
        kinds,
        [
            (1, "incident_created"),
            (1, "unit_assigned"),
            (2, "incident_created"),
            (2, "unit_assigned"),
            // Same millisecond: the surviving incident's entries come first.
            (1, "incident_merged"),
            (2, "incident_merged"),
            (1, "assignment_acknowledged"),
        ]
    );
}
