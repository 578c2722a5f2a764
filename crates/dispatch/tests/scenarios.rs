//! Data-driven scenarios of the dispatch lifecycle. Each case is a list of timed steps
//! and the event kinds each step must give (` | ` between steps, `rejected:<code>` for a
//! refused command), on a hand-held clock. After every step `Run` checks the
//! invariants, that a rejection changed nothing, and that replaying the journal through
//! JSON rebuilds the same state.

mod common;

use Step::{Do, Tick};
use UnitStatus::*;
use common::*;
use satria_dispatch::*;
use std::cell::Cell;

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

// ----- units: out of service, positions, recommendation reasons -----

#[test]
fn out_of_service_and_back() {
    let run = check(
        vec![
            Do(
                0,
                Command::SetOutOfService {
                    unit: u("A1"),
                    reason: "ganti oli".into(),
                    device_at: None,
                },
            ),
            Do(1, create(Triage::Kuning, Category::Medical)),
            Do(2, assign(1, &["A1"])),
            Do(
                3,
                Command::ReturnToService {
                    unit: u("A1"),
                    device_at: Some(at(3)),
                },
            ),
            Do(4, assign(1, &["A1"])),
        ],
        "unit_out_of_service | incident_created | rejected:unit_not_available \
         | unit_back_in_service | unit_assigned",
    );
    assert_eq!(run.d.unit(&u("A1")).unwrap().out_of_service_reason, None);
}

#[test]
fn recommendation_gives_a_reason_for_every_unit() {
    let mut run = Run::new(world(Config::default()));
    run.ok(
        0,
        Command::SetOutOfService {
            unit: u("B2"),
            reason: "servis".into(),
            device_at: None,
        },
    );
    // A1 reports a fresh position right at the scene; B1's report will be stale.
    run.ok(0, moved("B1", -7.43, 109.24));
    run.ok(290, moved("A1", SCENE.lat, SCENE.lon + 0.0005));
    run.ok(300, create(Triage::Kuning, Category::Accident));
    let rec = run
        .d
        .recommend_units(at(300), IncidentId(1), &run.roads)
        .unwrap();
    let reason = |x: &str| {
        rec.excluded
            .iter()
            .find(|e| e.unit == u(x))
            .map(|e| e.reason)
    };
    assert_eq!(reason("B2"), Some(UnitExclusion::OutOfService));
    assert_eq!(reason("M1"), Some(UnitExclusion::WrongType));
    assert_eq!(reason("T1"), Some(UnitExclusion::WrongType));
    assert_eq!(reason("X1"), Some(UnitExclusion::Unreachable));
    let ids: Vec<&str> = rec.candidates.iter().map(|c| c.unit.0.as_str()).collect();
    assert_eq!(ids, ["A1", "B1"]);
    assert!(rec.candidates[0].eta_s < 10, "from the live position");
    assert!(!rec.candidates[0].from_base);
    assert!(rec.candidates[1].from_base);
    assert_eq!(
        rec.candidates[1].notes,
        [CandidateNote::PositionStaleRankedFromBase]
    );
    assert_eq!(
        CandidateNote::PositionStaleRankedFromBase.message(),
        "position stale, ranked from base"
    );
    assert_eq!(rec.excluded.len() + rec.candidates.len(), 6);
    // A1 assigned: now busy.
    run.ok(301, assign(1, &["A1"]));
    let rec = run
        .d
        .recommend_units(at(301), IncidentId(1), &run.roads)
        .unwrap();
    assert!(
        rec.excluded
            .iter()
            .any(|e| e.unit == u("A1") && e.reason == UnitExclusion::Busy)
    );
}

#[test]
fn maternal_calls_prefer_the_obstetric_kit() {
    let mut run = Run::new(world(Config::default()));
    run.ok(0, create(Triage::Kuning, Category::Maternal));
    let rec = run
        .d
        .recommend_units(at(0), IncidentId(1), &run.roads)
        .unwrap();
    // A1 is nearer by less than the preference margin.
    assert_eq!(rec.candidates[0].unit, u("B1"));
    assert!(
        rec.candidates[0]
            .notes
            .contains(&CandidateNote::PreferredCapability)
    );
    assert!(rec.candidates[1].eta_s < rec.candidates[0].eta_s);
    // Without the margin, drive time alone.
    let mut run = Run::new(world(Config {
        preference_margin_s: 0,
        ..Config::default()
    }));
    run.ok(0, create(Triage::Kuning, Category::Maternal));
    let rec = run
        .d
        .recommend_units(at(0), IncidentId(1), &run.roads)
        .unwrap();
    assert_eq!(rec.candidates[0].unit, u("A1"));
}

/// Counts the calls into the road network.
struct Counting {
    inner: StraightLine,
    many_to_one: Cell<usize>,
    one_to_many: Cell<usize>,
}

impl DriveTimes for Counting {
    fn many_to_one(&self, origins: &[LatLon], target: LatLon) -> Vec<Option<Eta>> {
        self.many_to_one.set(self.many_to_one.get() + 1);
        self.inner.many_to_one(origins, target)
    }
    fn one_to_many(&self, origin: LatLon, targets: &[LatLon]) -> Vec<Option<Eta>> {
        self.one_to_many.set(self.one_to_many.get() + 1);
        self.inner.one_to_many(origin, targets)
    }
}

#[test]
fn one_road_search_per_recommendation() {
    let mut d = world(Config::default());
    let roads = Counting {
        inner: roads(),
        many_to_one: Cell::new(0),
        one_to_many: Cell::new(0),
    };
    d.handle(at(0), create(Triage::Merah, Category::Accident), &roads)
        .unwrap();
    assert_eq!(
        roads.many_to_one.get(),
        1,
        "auto-assign ranks with one search"
    );
    d.recommend_units(at(1), IncidentId(1), &roads).unwrap();
    assert_eq!(roads.many_to_one.get(), 2);
    d.recommend_hospitals(at(1), IncidentId(1), &roads).unwrap();
    assert_eq!(roads.one_to_many.get(), 1);
}

#[test]
fn units_near_uses_live_positions() {
    let mut run = Run::new(world(Config::default()));
    run.ok(0, moved("A1", SCENE.lat, SCENE.lon));
    run.ok(0, moved("B1", SCENE.lat + 0.001, SCENE.lon));
    run.ok(1, moved("A1", -7.5, 109.3));
    let near: Vec<&str> = run
        .d
        .units_near(SCENE, 500.0)
        .iter()
        .map(|x| x.id.0.as_str())
        .collect();
    assert_eq!(near, ["B1"]);
}

#[test]
fn a_hundred_thousand_position_updates_keep_the_unit_index_exact() {
    // 100,000 fixes for 500 units, each a few metres from the last: every unit is
    // found at its last position and nowhere else. How fast this runs is the
    // benchmark's business (`cargo bench -p satria-engine --bench engine -- positions`).
    let n_units = 500;
    let start_at = |k: usize| LatLon {
        lat: -7.6 + (k % 41) as f64 * 0.01,
        lon: 109.0 + (k % 37) as f64 * 0.01,
    };
    let units: Vec<Unit> = (0..n_units)
        .map(|k| {
            Unit::new(
                &format!("U{k}"),
                "x",
                UnitType::Bls,
                Owner::Psc,
                "b",
                start_at(k),
                &[],
            )
        })
        .collect();
    // Commands built up front, each moving one unit a few metres.
    let n = 100_000;
    let mut pos: Vec<LatLon> = (0..n_units).map(start_at).collect();
    let cmds: Vec<Command> = (0..n)
        .map(|k| {
            let i = (k * 7919) % n_units;
            // A vehicle moves a few metres to tens of metres between two fixes.
            pos[i].lat += ((k % 7) as f64 - 3.0) * 1e-4;
            pos[i].lon += ((k % 5) as f64 - 2.0) * 1e-4;
            Command::UpdatePosition {
                unit: units[i].id.clone(),
                at: pos[i],
                device_at: None,
            }
        })
        .collect();
    let ids: Vec<String> = units.iter().map(|u| u.id.0.clone()).collect();
    let mut d = Dispatch::new(Config::default(), units, vec![]);
    let roads = roads();
    for (k, cmd) in cmds.into_iter().enumerate() {
        d.handle(Timestamp(k as i64), cmd, &roads).unwrap();
    }
    assert!(d.check_invariants().is_ok());
    for (i, p) in pos.iter().enumerate() {
        let near: Vec<&str> = d
            .units_near(*p, 1.0)
            .iter()
            .map(|u| u.id.0.as_str())
            .collect();
        assert!(
            near.contains(&ids[i].as_str()),
            "unit {} is not found at its last fix ({near:?})",
            ids[i]
        );
    }
}

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

// ----- hospitals -----

#[test]
fn hospital_recommendation_by_capability_capacity_and_drive_time() {
    let mut run = Run::new(world(Config::default()));
    run.ok(0, create(Triage::Merah, Category::Accident));
    let cap = |h: &str, igd, icu, status| Command::UpdateHospitalCapacity {
        hospital: HospitalId(h.into()),
        free_igd_beds: igd,
        free_icu_beds: icu,
        status,
    };
    run.ok(1, cap(MARGONO, Some(0), Some(0), HospitalStatus::Full));
    run.ok(
        1,
        cap("3302030", Some(3), Some(1), HospitalStatus::Diversion),
    ); // Wijayakusuma
    run.ok(1, cap("3302041", Some(2), Some(1), HospitalStatus::Open)); // St Elisabeth
    let rec = run
        .d
        .recommend_hospitals(at(2), IncidentId(1), &run.roads)
        .unwrap();
    let why = |h: &str| {
        rec.excluded
            .iter()
            .find(|x| x.hospital.0 == h)
            .map(|x| x.reason)
    };
    assert_eq!(why("3302030"), Some(HospitalExclusion::Diversion));
    assert_eq!(
        why("3302121"),
        Some(HospitalExclusion::Lacks(Capability::SurgeryTrauma))
    ); // RSIA
    assert_eq!(
        why("3302228"),
        Some(HospitalExclusion::Lacks(Capability::SurgeryTrauma))
    ); // dental
    assert_eq!(
        rec.ranked[0].hospital.0, "3302041",
        "open, beds, all capabilities"
    );
    assert_eq!(rec.ranked[0].capacity_updated_at, Some(at(1)));
    let last = rec.ranked.last().unwrap();
    assert_eq!(last.hospital.0, MARGONO, "full ranks last");
    assert!(last.notes.contains(&HospitalNote::Full));
    // Surgical hospitals without a general IGD rank after the general hospitals that
    // have room.
    let bedah = rec
        .ranked
        .iter()
        .position(|h| h.hospital.0 == "3302063")
        .unwrap();
    assert!(
        rec.ranked[bedah]
            .notes
            .contains(&HospitalNote::LacksPreferred(Capability::Igd))
    );
    // Every hospital with room and all capabilities ranks before it.
    let perfect = |h: &HospitalOption| h.notes.iter().all(|n| *n == HospitalNote::CapacityUnknown);
    assert!(rec.ranked[bedah..].iter().all(|h| !perfect(h)));
    assert_eq!(rec.ranked.len() + rec.excluded.len(), 23);
    assert_eq!(HospitalNote::Full.message_id(), "IGD penuh");
}

#[test]
fn maternal_patients_go_where_there_is_obstetrics() {
    let mut run = Run::new(world(Config::default()));
    run.ok(0, create(Triage::Kuning, Category::Maternal));
    let rec = run
        .d
        .recommend_hospitals(at(0), IncidentId(1), &run.roads)
        .unwrap();
    assert!(
        rec.ranked.iter().any(|h| h.hospital.0 == "3302121"),
        "RSIA Amanah"
    );
    let why = rec
        .excluded
        .iter()
        .find(|x| x.hospital.0 == "3302063")
        .unwrap()
        .reason;
    assert_eq!(why, HospitalExclusion::Lacks(Capability::Obstetrics));
}

// ----- referrals -----

#[test]
fn referral_escalates_when_the_hospital_does_not_answer() {
    let run = check(
        vec![
            Do(0, create(Triage::Kuning, Category::Accident)),
            Do(1, referral(1, MARGONO, None)),
            Tick(300),
            Tick(301),
            Do(
                302,
                Command::AcceptReferral {
                    referral: ReferralId(1),
                    officer: "terlambat".into(),
                },
            ),
            Do(
                303,
                Command::DeclineReferral {
                    referral: ReferralId(2),
                    reason: "ICU penuh".into(),
                },
            ),
        ],
        "incident_created | referral_sent | | referral_expired referral_sent \
         | rejected:referral_closed | referral_declined",
    );
    let r2 = run.d.referral(ReferralId(2)).unwrap();
    assert_eq!(r2.escalated_from, Some(ReferralId(1)));
    assert_ne!(r2.to.0, MARGONO);
    assert_eq!(r2.patient, run.d.referral(ReferralId(1)).unwrap().patient);
    assert_eq!(r2.deadline, at(301 + 300));
    assert_eq!(
        run.d.referral(ReferralId(1)).unwrap().status,
        ReferralStatus::Expired
    );
    // The hospitals that expired or declined are not recommended again.
    let rec = run
        .d
        .recommend_hospitals(at(304), IncidentId(1), &run.roads)
        .unwrap();
    for h in [MARGONO, r2.to.0.as_str()] {
        assert!(
            rec.excluded
                .iter()
                .any(|x| x.hospital.0 == h && x.reason == HospitalExclusion::AlreadyTried)
        );
    }
}

#[test]
fn referral_escalation_with_nowhere_to_go_is_an_outcome() {
    let margono: Vec<Hospital> = demo_hospitals()
        .into_iter()
        .filter(|h| h.id.0 == MARGONO)
        .collect();
    let mut run = Run::new(Dispatch::new(Config::default(), fleet(), margono));
    run.ok(0, create(Triage::Kuning, Category::Accident));
    run.ok(1, referral(1, MARGONO, None));
    assert_eq!(run.d.next_deadline(), Some(at(301)));
    let ev = run.tick(301);
    assert_eq!(
        kinds(&Ok(ev)),
        "referral_expired referral_escalation_failed"
    );
    assert_eq!(run.d.next_deadline(), None);
}

#[test]
fn referral_validation() {
    let bad = |f: &dyn Fn(&mut ReferralForm, &mut PatientData)| {
        let Command::SendReferral {
            incident,
            to,
            unit,
            mut form,
            mut patient,
        } = referral(1, MARGONO, None)
        else {
            unreachable!()
        };
        f(&mut form, &mut patient);
        let mut run = Run::new(world(Config::default()));
        run.ok(0, create(Triage::Kuning, Category::Accident));
        match run.handle(
            1,
            Command::SendReferral {
                incident,
                to,
                unit,
                form,
                patient,
            },
        ) {
            Err(Rejection::InvalidField { field, .. }) => field,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(bad(&|_, p| p.nik = "33020115059000".into()), "patient.nik");
    assert_eq!(
        bad(&|_, p| p.nik = "33020115059000AB".into()),
        "patient.nik"
    );
    assert_eq!(
        bad(&|_, p| p.date_of_birth = "1990-02-30".into()),
        "patient.date_of_birth"
    );
    assert_eq!(bad(&|_, p| p.name = " ".into()), "patient.name");
    assert_eq!(
        bad(&|f, _| f.diagnosis_icd10 = "kepala".into()),
        "form.diagnosis_icd10"
    );
    assert_eq!(
        bad(&|f, _| f.condition.pulse_per_min = Some(400)),
        "condition.pulse_per_min"
    );
    assert_eq!(
        bad(&|f, _| f.condition.temperature_c = Some(52.0)),
        "condition.temperature_c"
    );
    assert_eq!(
        bad(&|f, _| f.condition.temperature_c = Some(f64::NAN)),
        "condition.temperature_c"
    );
    assert_eq!(
        bad(&|f, _| f.condition.bp_diastolic_mmhg = Some(120)),
        "condition.bp_diastolic_mmhg"
    );
    assert_eq!(bad(&|f, _| f.condition.gcs = Some(2)), "condition.gcs");
    assert_eq!(
        bad(&|f, _| f.condition.breathing_per_min = Some(0)),
        "condition.breathing_per_min"
    );
    assert_eq!(
        bad(&|f, _| f.condition.pain_score = Some(11)),
        "condition.pain_score"
    );
    assert_eq!(bad(&|f, _| f.officer = String::new()), "form.officer");
}

#[test]
fn referral_rules() {
    check(
        vec![
            Do(0, create(Triage::Kuning, Category::Accident)),
            Do(1, referral(1, "9999999", None)),
            Do(1, referral(1, MARGONO, Some("B1"))),
            Do(2, referral(1, MARGONO, None)),
            Do(3, referral(1, MARGONO, None)),
            Do(
                4,
                Command::SendPreArrivalNotice {
                    referral: ReferralId(1),
                },
            ),
            Do(
                5,
                Command::DeclineReferral {
                    referral: ReferralId(1),
                    reason: String::new(),
                },
            ),
            Do(
                6,
                Command::CancelReferral {
                    referral: ReferralId(1),
                    reason: "pasien menolak".into(),
                },
            ),
            Do(
                7,
                Command::CancelReferral {
                    referral: ReferralId(1),
                    reason: "lagi".into(),
                },
            ),
            Do(8, referral(1, MARGONO, None)),
            Do(
                9,
                Command::CancelIncident {
                    incident: IncidentId(1),
                    reason: "batal".into(),
                },
            ),
        ],
        "incident_created | rejected:unknown_hospital | rejected:not_assigned | referral_sent \
         | rejected:already_referred | rejected:referral_not_accepted | rejected:invalid_field \
         | referral_cancelled | rejected:referral_closed | referral_sent \
         | referral_cancelled incident_cancelled",
    );
}

#[test]
fn next_deadline_is_the_earliest_of_acks_and_referrals() {
    let mut run = Run::new(world(Config::default()));
    assert_eq!(run.d.next_deadline(), None);
    run.ok(0, create(Triage::Kuning, Category::Accident));
    run.ok(10, referral(1, MARGONO, None));
    assert_eq!(run.d.next_deadline(), Some(at(310)));
    run.ok(20, assign(1, &["B1"]));
    assert_eq!(run.d.next_deadline(), Some(at(80)));
    run.ok(21, ack(1, "B1"));
    assert_eq!(run.d.next_deadline(), Some(at(310)));
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
