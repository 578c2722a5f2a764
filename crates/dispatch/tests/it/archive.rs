//! Archiving: an incident that ended `archive_after_s` ago leaves the live state
//! with what was merged into it and their referrals; its record holds them as they
//! were, the state keeps only where it went, and replay and images agree (checked
//! after every step by `Run::verify`).

use crate::common::*;
use UnitStatus::*;
use satria_dispatch::*;

const DAY: i64 = 24 * 3600;

fn close(i: u64, s: i64, run: &mut Run) {
    run.ok(
        s,
        Command::CloseIncident {
            incident: IncidentId(i),
            outcome: "selesai".into(),
        },
    );
}

/// A merah call carried to Margono and closed at second 1,900.
fn handed_over() -> Run {
    let mut run = Run::new(world(Config::default()));
    run.ok(0, create(Triage::Merah, Category::Accident));
    run.ok(20, ack(1, "A1"));
    run.ok(300, status("A1", OnScene));
    run.ok(360, status("A1", AtPatient));
    run.ok(900, referral(1, MARGONO, Some("A1")));
    run.ok(
        960,
        Command::AcceptReferral {
            referral: ReferralId(1),
            officer: "dr. Agus (IGD)".into(),
        },
    );
    run.ok(1000, status("A1", Transporting));
    run.ok(1500, status("A1", AtDestination));
    run.ok(1560, status("A1", TransferOfCare));
    run.ok(1800, status("A1", Available));
    close(1, 1900, &mut run);
    run
}

#[test]
fn an_ended_incident_leaves_after_its_time_with_its_referrals_and_its_record() {
    let mut run = handed_over();
    let before = run.d.incident(IncidentId(1)).unwrap().clone();
    let referral = run.d.referral(ReferralId(1)).unwrap().clone();
    let timeline = run.d.timeline(IncidentId(1)).unwrap();
    // Not a second early.
    assert!(run.archive(1900 + DAY - 1, 10).is_empty());
    assert!(run.d.incident(IncidentId(1)).is_some());
    let out = run.archive(1900 + DAY, 10);
    assert_eq!(out.len(), 1);
    let (event, record) = &out[0];
    assert_eq!(
        event,
        &Event::IncidentArchived {
            incident: IncidentId(1),
            at: at(1900 + DAY),
            archive: 1,
            merged: vec![],
            referrals: vec![ReferralId(1)],
        }
    );
    assert_eq!(record.incidents, [before]);
    assert_eq!(record.referrals, [referral]);
    assert_eq!(record.timeline(IncidentId(1)).unwrap(), timeline);
    // Gone from the live state, remembered by where it went.
    assert!(run.d.incident(IncidentId(1)).is_none());
    assert!(run.d.referral(ReferralId(1)).is_none());
    assert_eq!(run.d.archived(IncidentId(1)), Some(1));
    assert_eq!(run.d.archived_count(), 1);
    // Nothing is archived twice, and a command naming it finds nothing.
    assert!(run.archive(1900 + 2 * DAY, 10).is_empty());
    assert_eq!(
        run.handle(1900 + DAY + 1, assign(1, &["A1"])).unwrap_err(),
        Rejection::UnknownIncident {
            incident: IncidentId(1)
        }
    );
    // The ids go on.
    let ev = run.ok(1900 + DAY + 2, create(Triage::Kuning, Category::Medical));
    assert!(matches!(&ev[0], Event::IncidentCreated { incident } if incident.id == IncidentId(2)));
}

#[test]
fn merged_incidents_go_with_the_one_they_were_merged_into_and_numbers_follow() {
    let mut run = Run::new(world(Config {
        archive_after_s: 3600,
        ..Config::default()
    }));
    run.ok(0, create(Triage::Kuning, Category::Medical));
    run.ok(30, create(Triage::Kuning, Category::Medical));
    run.ok(
        40,
        Command::MergeIncidents {
            from: IncidentId(2),
            into: IncidentId(1),
        },
    );
    run.ok(50, create(Triage::Hijau, Category::Medical));
    // The merged one ended at 40 but waits for the incident it went into.
    assert!(run.archive(40 + 3600, 10).is_empty());
    close(3, 60, &mut run);
    close(1, 100, &mut run);
    // An open incident never leaves; both ended ones do, one per call here.
    run.ok(200, create(Triage::Hijau, Category::Medical));
    let first = run.archive(100 + 3600, 1);
    assert_eq!(first.len(), 1);
    let second = run.archive(100 + 3600, 1);
    let (e1, r1) = &first[0];
    let (e2, r2) = &second[0];
    assert!(
        matches!(e1, Event::IncidentArchived { incident: IncidentId(1), archive: 1, merged, .. } if merged == &[IncidentId(2)])
    );
    assert!(matches!(
        e2,
        Event::IncidentArchived {
            incident: IncidentId(3),
            archive: 2,
            ..
        }
    ));
    assert_eq!(
        r1.incidents.iter().map(|i| i.id.0).collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(r2.incidents.len(), 1);
    assert_eq!(run.d.archived(IncidentId(2)), Some(1));
    assert_eq!(run.d.archived(IncidentId(3)), Some(2));
    assert_eq!(run.d.incidents().map(|i| i.id.0).collect::<Vec<_>>(), [4]);
    // The merged incident's history is in its target's timeline, as when live.
    let kinds: Vec<(u64, String)> = r1
        .timeline(IncidentId(1))
        .unwrap()
        .into_iter()
        .map(|e| (e.incident.0, e.kind))
        .collect();
    assert!(
        kinds.contains(&(2, "incident_created".to_string())),
        "{kinds:?}"
    );
}

#[test]
fn zero_keeps_every_incident_live() {
    let mut run = Run::new(world(Config {
        archive_after_s: 0,
        ..Config::default()
    }));
    run.ok(0, create(Triage::Hijau, Category::Medical));
    close(1, 10, &mut run);
    assert!(run.archive(10 + 365 * DAY, 10).is_empty());
    assert!(run.d.incident(IncidentId(1)).is_some());
}

#[test]
fn a_booking_keeps_how_its_archived_incident_ended() {
    let mut run = Run::new(world(Config::default()));
    run.ok(
        0,
        Command::BookTransport {
            reference: "pattas:case:12".into(),
            patient_name: "Pasien Uji".into(),
            patient_phone: "081200000000".into(),
            pickup: LatLon {
                lat: -7.4300,
                lon: 109.2350,
            },
            pickup_address: "Jl. Uji 1, Sokanegara".into(),
            destination: Some(HospitalId(MARGONO.into())),
            destination_name: "RSUD Prof. Dr. Margono Soekarjo".into(),
            destination_location: LatLon {
                lat: -7.4242,
                lon: 109.2308,
            },
            scheduled_for: at(7200),
            purpose: "hemodialisis".into(),
            notes: String::new(),
        },
    );
    run.tick(7200 - 45 * 60);
    let BookingStatus::Dispatched { incident, .. } = run.d.booking(BookingId(1)).unwrap().status
    else {
        panic!("not dispatched");
    };
    let unit = run
        .d
        .incident(incident)
        .unwrap()
        .active_units()
        .next()
        .cloned()
        .unwrap();
    let report = |s: UnitStatus| Command::ReportStatus {
        unit: unit.clone(),
        status: s,
        device_at: None,
    };
    run.ok(5000, ack(incident.0, &unit.0));
    for (t, s) in [
        (5600, OnScene),
        (5700, AtPatient),
        (6000, Transporting),
        (6600, AtDestination),
        (6700, TransferOfCare),
        (7000, Available),
    ] {
        run.ok(t, report(s));
    }
    close(incident.0, 7100, &mut run);
    assert_eq!(run.d.booking(BookingId(1)).unwrap().ended, None);
    assert_eq!(run.archive(7100 + DAY, 10).len(), 1);
    let b = run.d.booking(BookingId(1)).unwrap();
    assert_eq!(
        b.ended,
        Some(BookingEnd {
            cancelled: false,
            unit: Some(unit),
            at: at(7100),
        })
    );
    // Its time comes and goes without a deadline for the archived incident.
    assert_eq!(run.d.next_deadline(), None);
    assert!(run.tick(7200 + DAY).is_empty());
}
