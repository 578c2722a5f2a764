//! The engine end to end: commands in, durable events out with sequence numbers,
//! subscribers see the same sequence, deadlines fire on the clock, and a restart
//! rebuilds the state from the journal.

use satria_dispatch::*;
use satria_engine::*;

/// The next published event; fails the test after 10 s rather than hanging.
fn recv(
    sub: &mut tokio::sync::broadcast::Receiver<std::sync::Arc<Published>>,
) -> std::sync::Arc<Published> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match sub.try_recv() {
            Ok(p) => return p,
            Err(tokio::sync::broadcast::error::TryRecvError::Empty)
                if std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(5))
            }
            Err(e) => panic!("no event: {e:?}"),
        }
    }
}

fn options(dir: &std::path::Path) -> EngineOptions {
    let mut o = EngineOptions::new(dir);
    o.initial_units = demo_fleet();
    o.hospitals = demo_hospitals();
    o.tick_ms = 3_600_000; // ticks are driven by hand in these tests
    o
}

fn merah() -> Command {
    Command::CreateIncident {
        caller_name: "Ani".into(),
        caller_phone: "0812".into(),
        location: LatLon {
            lat: -7.4575,
            lon: 109.2870,
        },
        address: Address::default(),
        triage: Triage::Merah,
        category: Category::Accident,
        patients: 2,
        notes: "tabrakan motor".into(),
    }
}

#[test]
fn commands_are_journaled_broadcast_in_order_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::default();
    clock.set(Timestamp(1_790_000_000_000));
    let engine = Engine::start(
        options(dir.path()),
        Box::new(StraightLine::default()),
        Box::new(clock.clone()),
    )
    .unwrap();
    let mut sub = engine.subscribe();
    let out = engine.submit_blocking(merah()).unwrap();
    // 21 units were registered first (seq 1..=21).
    let kinds: Vec<(&str, u64)> = out.iter().map(|p| (p.event.kind(), p.seq)).collect();
    assert_eq!(kinds, [("incident_created", 22), ("unit_assigned", 23)]);
    let Event::UnitAssigned { unit, .. } = &out[1].event else {
        panic!()
    };
    // Nearest ALS/BLS to Sokaraja by straight line: the Sokaraja-side bases.
    let assigned = unit.clone();
    let e = engine.submit_blocking(Command::AssignUnits {
        incident: IncidentId(1),
        units: vec![assigned.clone()],
    });
    assert!(matches!(
        e,
        Err(EngineError::Rejected(Rejection::UnitNotAvailable { .. }))
    ));
    engine
        .submit_blocking(Command::UpdatePosition {
            unit: assigned.clone(),
            at: LatLon {
                lat: -7.45,
                lon: 109.28,
            },
            device_at: None,
        })
        .unwrap();
    for expected in [("incident_created", 22), ("unit_assigned", 23)] {
        let p = recv(&mut sub);
        assert_eq!(
            (p.event.kind(), p.seq, p.stream.as_str()),
            (expected.0, expected.1, "region:banyumas")
        );
    }
    let p = recv(&mut sub);
    assert_eq!((p.stream.as_str(), p.seq), ("positions", 1));

    // The acknowledgement deadline passes: a tick times the assignment out.
    clock.set(Timestamp(1_790_000_000_000 + 61_000));
    engine.tick();
    let p = recv(&mut sub);
    assert_eq!((p.event.kind(), p.seq), ("assignment_timed_out", 24));
    let p = recv(&mut sub);
    assert_eq!(p.event.kind(), "next_unit_proposed");

    let before = engine.snapshot();
    engine.shutdown();
    let engine = Engine::start(
        options(dir.path()),
        Box::new(StraightLine::default()),
        Box::new(clock.clone()),
    )
    .unwrap();
    let after = engine.snapshot();
    assert_eq!(
        after.incidents().collect::<Vec<_>>(),
        before.incidents().collect::<Vec<_>>()
    );
    assert_eq!(
        after.units().count(),
        21,
        "the fleet is not registered twice"
    );
    // Positions are volatile: after a restart the unit ranks from its base.
    assert!(after.unit(&assigned).unwrap().last_fix.is_none());
    let out = engine.submit_blocking(merah()).unwrap();
    assert_eq!(
        out[0].seq, 26,
        "sequence numbers continue after the restart"
    );
    let journal = satria_store::Journal::open(dir.path()).unwrap();
    assert_eq!(journal.verify().unwrap().first_broken, None);
    engine.shutdown();
}

#[test]
fn concurrent_dispatchers_never_assign_one_unit_twice() {
    let dir = tempfile::tempdir().unwrap();
    let engine = std::sync::Arc::new(
        Engine::start(
            options(dir.path()),
            Box::new(StraightLine::default()),
            Box::new(SystemClock),
        )
        .unwrap(),
    );
    // 40 merah incidents from 4 threads at once: each auto-assigns the best free unit.
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let e = std::sync::Arc::clone(&engine);
            std::thread::spawn(move || {
                (0..10)
                    .map(|_| e.submit_blocking(merah()).unwrap())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut assigned = Vec::new();
    for h in handles {
        for out in h.join().unwrap() {
            for p in out {
                if let Event::UnitAssigned { unit, .. } = p.event {
                    assigned.push(unit);
                }
            }
        }
    }
    let n = assigned.len();
    assigned.sort();
    assigned.dedup();
    assert_eq!(assigned.len(), n, "a unit was assigned twice");
    // Only the first incident is not a duplicate (same place): one unit goes.
    assert_eq!(n, 1);
    engine.snapshot().check_invariants().unwrap();
}
