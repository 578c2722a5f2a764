//! Scenarios: a call from creation to handover and back in service, on the test
//! fleet and on the demo region, and the JSON wire format of events and commands.

use crate::common::*;
use Step::Do;
use UnitStatus::*;
use satria_dispatch::*;

// ----- the whole lifecycle -----

#[test]
fn call_to_handover_and_back_in_service() {
    let run = check(
        vec![
            Do(0, create(Triage::Merah, Category::Accident)),
            Do(20, ack(1, "A1")),
            Do(300, status("A1", OnScene)),
            Do(360, status("A1", AtPatient)),
            Do(900, referral(1, MARGONO, Some("A1"))),
            Do(
                960,
                Command::AcceptReferral {
                    referral: ReferralId(1),
                    officer: "dr. Agus (IGD)".into(),
                },
            ),
            Do(1000, status("A1", Transporting)),
            Do(
                1010,
                Command::SendPreArrivalNotice {
                    referral: ReferralId(1),
                },
            ),
            Do(1500, status("A1", AtDestination)),
            Do(1560, status("A1", TransferOfCare)),
            Do(1800, status("A1", Available)),
            Do(
                1900,
                Command::CloseIncident {
                    incident: IncidentId(1),
                    outcome: "dirawat di IGD".into(),
                },
            ),
        ],
        "incident_created unit_assigned | assignment_acknowledged | unit_status_changed \
         | unit_status_changed | referral_sent | referral_accepted | unit_status_changed \
         | pre_arrival_notice_sent | unit_status_changed \
         | unit_status_changed handover_recorded | assignment_completed | incident_closed",
    );
    let a1 = run.d.unit(&u("A1")).unwrap();
    assert_eq!(a1.status, Available);
    assert_eq!(a1.incident, None);
    let r = run.d.referral(ReferralId(1)).unwrap();
    assert_eq!(r.status, ReferralStatus::HandedOver);
    assert_eq!(r.handover_at, Some(at(1560)));
    assert_eq!(r.handover_device_at, Some(Timestamp(T0)));
    assert_eq!(r.answered_at, Some(at(960)));
    assert!(r.pre_arrival.unwrap().eta_s.is_some());
    let i = run.d.incident(IncidentId(1)).unwrap();
    assert_eq!(i.status, IncidentStatus::Closed);
    assert!(i.assignments[0].automatic);
    assert_eq!(i.assignments[0].state, AssignmentState::Completed);
    let tl = run.d.timeline(IncidentId(1)).unwrap();
    assert_eq!(tl.first().unwrap().kind, "incident_created");
    assert_eq!(tl.last().unwrap().kind, "incident_closed");
    assert!(tl.windows(2).all(|w| w[0].at <= w[1].at));
    assert_eq!(run.d.next_deadline(), None);
}

#[test]
fn treated_on_scene_without_transport() {
    check(
        vec![
            Do(0, create(Triage::Kuning, Category::Medical)),
            Do(10, assign(1, &["B1"])),
            Do(20, ack(1, "B1")),
            Do(400, status("B1", OnScene)),
            Do(900, status("B1", Available)),
            Do(
                901,
                Command::CloseIncident {
                    incident: IncidentId(1),
                    outcome: "ditangani di tempat".into(),
                },
            ),
        ],
        "incident_created | unit_assigned | assignment_acknowledged | unit_status_changed \
         | assignment_completed | incident_closed",
    );
}

// ----- the wire format -----

#[test]
fn events_and_commands_are_tagged_json() {
    let mut run = Run::new(world(Config::default()));
    let ev = run.ok(0, create(Triage::Merah, Category::Accident));
    let v = serde_json::to_value(&ev[1]).unwrap();
    assert_eq!(v["type"], "unit_assigned");
    assert_eq!(v["unit"], "A1");
    assert_eq!(v["incident"], 1);
    let cmd: Command = serde_json::from_str(
        r#"{"type":"update_position","unit":"A1","at":{"lat":-7.42,"lon":109.23},"device_at":null}"#,
    )
    .unwrap();
    assert_eq!(kinds(&run.handle(1, cmd)), "unit_moved");
}

// ----- the demo region -----

#[test]
fn demo_region_sends_the_nearest_ambulance_and_recommends_a_general_hospital() {
    let mut run = Run::new(Dispatch::new(
        Config::default(),
        demo_fleet(),
        demo_hospitals(),
    ));
    // A merah road accident on the main road just east of RSUD Ajibarang.
    let ajibarang = LatLon {
        lat: -7.4130,
        lon: 109.0850,
    };
    let ev = run.ok(0, create_at(Triage::Merah, Category::Accident, ajibarang));
    assert!(
        matches!(&ev[1], Event::UnitAssigned { unit, automatic: true, .. } if unit.0 == "RS-03"),
        "{ev:?}"
    );
    let rec = run
        .d
        .recommend_hospitals(at(1), IncidentId(1), &run.roads)
        .unwrap();
    assert_eq!(rec.ranked[0].hospital.0, "3302191", "RSUD Ajibarang");
    let rec = run
        .d
        .recommend_units(at(1), IncidentId(1), &run.roads)
        .unwrap();
    assert!(
        rec.candidates.iter().all(|c| c.from_base),
        "no unit has reported a position yet"
    );
    assert!(
        rec.candidates
            .iter()
            .all(|c| c.notes.contains(&CandidateNote::NoPositionRankedFromBase))
    );
}
