//! Scheduled non-emergency transports: booked ahead, dispatched at their lead time,
//! served only by a unit no emergency needs. Every step is checked by the common
//! harness (invariants, a rejection changes nothing, replay through JSON).

use crate::common::*;
use Step::{Do, Tick};
use satria_dispatch::*;

/// Pickup two hours after T0 (second 7,200); default lead 45 min = second 4,500.
const PICKUP_S: i64 = 7_200;
const DUE_S: i64 = PICKUP_S - 45 * 60;

fn book(scheduled_s: i64, destination: Option<&str>) -> Command {
    Command::BookTransport {
        reference: "pattas:case:12".into(),
        patient_name: "Pasien Uji".into(),
        patient_phone: "081200000000".into(),
        pickup: LatLon {
            lat: -7.4300,
            lon: 109.2350,
        },
        pickup_address: "Jl. Uji 1, Sokanegara".into(),
        destination: destination.map(|h| HospitalId(h.into())),
        destination_name: "RSUD Prof. Dr. Margono Soekarjo".into(),
        destination_location: LatLon {
            lat: -7.4242,
            lon: 109.2308,
        },
        scheduled_for: at(scheduled_s),
        purpose: "hemodialisis".into(),
        notes: "kursi roda".into(),
    }
}

fn out_of_service(unit: &str) -> Command {
    Command::SetOutOfService {
        unit: u(unit),
        reason: "servis".into(),
        device_at: None,
    }
}

fn assigned_unit(run: &Run) -> Option<UnitId> {
    let b = run.d.booking(BookingId(1)).unwrap();
    let BookingStatus::Dispatched { incident, .. } = b.status else {
        return None;
    };
    run.d
        .incident(incident)
        .unwrap()
        .active_units()
        .next()
        .cloned()
}

#[test]
fn a_booking_waits_for_its_lead_time_then_takes_the_transport_unit() {
    let run = check(
        vec![
            Do(0, book(PICKUP_S, Some(MARGONO))),
            Tick(DUE_S - 1),
            Tick(DUE_S),
            Tick(DUE_S + 1),
        ],
        "transport_booked | | incident_created transport_dispatched unit_assigned |",
    );
    // T1 is the transport-type unit; the nearer ALS unit and motorbike never go.
    assert_eq!(assigned_unit(&run), Some(u("T1")));
    let BookingStatus::Dispatched { incident, .. } = run.d.booking(BookingId(1)).unwrap().status
    else {
        panic!("not dispatched");
    };
    let i = run.d.incident(incident).unwrap();
    assert_eq!(i.triage, Triage::Hijau);
    assert_eq!(i.category, Category::InterFacilityTransfer);
    assert!(i.notes.contains("TRX-000001") && i.notes.contains("hemodialisis"));
    assert_eq!(i.possible_duplicate_of, None);
}

#[test]
fn without_a_transport_unit_it_takes_bls_only_while_the_reserve_holds() {
    // T1 out: the available merah-capable ambulances are A1, B1, B2, X1 (four).
    let mut config = Config {
        transport_reserve: 4,
        ..Config::default()
    };
    let run = check_with(
        config.clone(),
        vec![
            Do(0, out_of_service("T1")),
            Do(1, book(PICKUP_S, None)),
            Tick(DUE_S),
            Tick(DUE_S + 10),
        ],
        "unit_out_of_service | transport_booked | incident_created transport_dispatched |",
    );
    assert_eq!(
        assigned_unit(&run),
        None,
        "taking a BLS would break the reserve"
    );
    // With a reserve of three, one of the four may go: a BLS, never the ALS A1.
    config.transport_reserve = 3;
    let run = check_with(
        config,
        vec![
            Do(0, out_of_service("T1")),
            Do(1, book(PICKUP_S, None)),
            Tick(DUE_S),
        ],
        "unit_out_of_service | transport_booked | incident_created transport_dispatched unit_assigned",
    );
    let unit = assigned_unit(&run).unwrap();
    let t = run.d.unit(&unit).unwrap().unit_type;
    assert_eq!(t, UnitType::Bls, "{unit} is {t:?}");
}

#[test]
fn a_waiting_transport_is_retried_when_a_unit_comes_back() {
    let config = Config {
        transport_reserve: 10,
        ..Config::default()
    };
    let run = check_with(
        config,
        vec![
            Do(0, out_of_service("T1")),
            Do(1, book(PICKUP_S, None)),
            Tick(DUE_S),
            Do(
                DUE_S + 60,
                Command::ReturnToService {
                    unit: u("T1"),
                    device_at: None,
                },
            ),
            Tick(DUE_S + 61),
        ],
        "unit_out_of_service | transport_booked | incident_created transport_dispatched \
         | unit_back_in_service | unit_assigned",
    );
    assert_eq!(assigned_unit(&run), Some(u("T1")));
    // Assigned: nothing left for the deadline clock but the acknowledgement.
    let i = run.d.incidents().next().unwrap();
    assert_eq!(
        run.d.next_deadline(),
        Some(i.assignments[0].ack_deadline),
        "an assigned transport is no longer retried"
    );
}

#[test]
fn the_next_deadline_is_the_lead_time() {
    let mut run = Run::new(world(Config::default()));
    run.ok(0, book(PICKUP_S, None));
    assert_eq!(run.d.next_deadline(), Some(at(DUE_S)));
}

#[test]
fn cancelling_before_and_after_dispatch() {
    let run = check(
        vec![
            Do(0, book(PICKUP_S, None)),
            Do(
                10,
                Command::CancelTransport {
                    booking: BookingId(1),
                    reason: "pasien dirawat inap".into(),
                },
            ),
            Do(
                11,
                Command::CancelTransport {
                    booking: BookingId(1),
                    reason: "lagi".into(),
                },
            ),
            Tick(DUE_S),
        ],
        "transport_booked | transport_cancelled | rejected:booking_closed |",
    );
    assert!(matches!(
        run.d.booking(BookingId(1)).unwrap().status,
        BookingStatus::Cancelled { .. }
    ));
    assert_eq!(run.d.incidents().count(), 0);

    let run = check(
        vec![
            Do(0, book(PICKUP_S, None)),
            Tick(DUE_S),
            Do(
                DUE_S + 5,
                Command::CancelTransport {
                    booking: BookingId(1),
                    reason: "jadwal diundur".into(),
                },
            ),
        ],
        "transport_booked | incident_created transport_dispatched unit_assigned \
         | transport_cancelled incident_cancelled",
    );
    assert_eq!(run.d.unit(&u("T1")).unwrap().status, UnitStatus::Available);
}

#[test]
fn bad_bookings_are_refused_and_change_nothing() {
    let mut far = book(PICKUP_S, None);
    if let Command::BookTransport { scheduled_for, .. } = &mut far {
        *scheduled_for = at(31 * 24 * 3600);
    }
    let mut nameless = book(PICKUP_S, None);
    if let Command::BookTransport { patient_name, .. } = &mut nameless {
        *patient_name = "  ".into();
    }
    let mut nowhere = book(PICKUP_S, None);
    if let Command::BookTransport { pickup, .. } = &mut nowhere {
        pickup.lat = 95.0;
    }
    check(
        vec![
            Do(100, book(50, None)),
            Do(100, far),
            Do(100, nameless),
            Do(100, nowhere),
            Do(100, book(PICKUP_S, Some("9999999"))),
            Do(
                100,
                Command::CancelTransport {
                    booking: BookingId(7),
                    reason: "x".into(),
                },
            ),
        ],
        "rejected:invalid_field | rejected:invalid_field | rejected:invalid_field \
         | rejected:invalid_position | rejected:unknown_hospital | rejected:unknown_booking",
    );
}
