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
        address: Address {
            desa: "Sokanegara".into(),
            ..Address::default()
        },
        triage: Triage::Merah,
        category: Category::Accident,
        patients: 2,
        notes: "tabrakan motor".into(),
    }
}

#[test]
fn commands_are_journaled_broadcast_in_order_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual(1_790_000_000_000);
    let engine = Engine::start(
        options(dir.path()),
        Box::new(StraightLine::default()),
        clock.clone(),
    )
    .unwrap();
    let mut sub = engine.subscribe();
    let mut first = engine.subscribe_first();
    let mut pos = engine.subscribe_positions();
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
        // The frame subscribers forward is the event with its stream and seq.
        let frame: serde_json::Value = serde_json::from_slice(p.frame()).unwrap();
        assert_eq!(frame["type"], "event");
        assert_eq!(frame["stream"], "region:banyumas");
        assert_eq!(frame["seq"], expected.1);
        assert_eq!(frame["event"], serde_json::to_value(&p.event).unwrap());
        // Those who hear first hear the same events, in the same order.
        assert_eq!(recv(&mut first), p);
    }
    let p = recv(&mut pos);
    assert_eq!((p.stream.as_str(), p.seq), ("positions", 1));
    assert!(
        sub.try_recv().is_err(),
        "positions are not on the region channel"
    );
    assert!(first.try_recv().is_err(), "nor on the first-heard one");

    // The acknowledgement deadline passes: a tick times the assignment out.
    clock.set_ms(1_790_000_000_000 + 61_000);
    engine.tick();
    let p = recv(&mut sub);
    assert_eq!((p.event.kind(), p.seq), ("assignment_timed_out", 24));
    let p = recv(&mut sub);
    assert_eq!(p.event.kind(), "next_unit_proposed");
    // A merah call is never left without a unit: the next one is sent at once.
    let p = recv(&mut sub);
    assert_eq!((p.event.kind(), p.seq), ("unit_assigned", 26));

    let before = engine.snapshot();
    engine.shutdown();
    let engine = Engine::start(
        options(dir.path()),
        Box::new(StraightLine::default()),
        clock.clone(),
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
        out[0].seq, 27,
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
            Clock::system(),
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

fn referral_to_margono(unit: UnitId) -> Command {
    Command::SendReferral {
        incident: IncidentId(1),
        to: HospitalId("3302026".into()),
        unit: Some(unit),
        form: ReferralForm {
            from: "PSC 119 Banyumas".into(),
            referral_type: ReferralType::Emergency,
            reason: "cedera kepala, perlu CT scan".into(),
            diagnosis_icd10: "S06.0".into(),
            officer: "dr. Rina".into(),
            condition: GeneralCondition {
                history_exam: "kecelakaan motor".into(),
                consciousness: Consciousness::Voice,
                gcs: Some(13),
                bp_systolic_mmhg: Some(110),
                bp_diastolic_mmhg: Some(70),
                pulse_per_min: Some(104),
                temperature_c: Some(36.8),
                breathing_per_min: Some(22),
                pain_score: Some(6),
                allergies: "tidak ada".into(),
            },
            findings: "luka robek di pelipis".into(),
        },
        patient: PatientData {
            nik: "3302011505900001".into(),
            name: "Slamet".into(),
            sex: Sex::Male,
            date_of_birth: "1990-05-15".into(),
            address: "Sokanegara RT 02/03".into(),
            contact: "081234567891".into(),
        },
    }
}

#[test]
fn the_hospital_gets_a_fresh_eta_every_minute_while_the_patient_is_carried() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual(0);
    let t0 = 1_790_000_000_000;
    clock.set_ms(t0);
    let engine = Engine::start(
        options(dir.path()),
        Box::new(StraightLine::default()),
        clock.clone(),
    )
    .unwrap();
    let out = engine.submit_blocking(merah()).unwrap();
    let Event::UnitAssigned { unit, .. } = &out[1].event else {
        panic!("{out:?}")
    };
    let unit = unit.clone();
    let step = |cmd: Command| engine.submit_blocking(cmd).unwrap();
    step(Command::AcknowledgeAssignment {
        incident: IncidentId(1),
        unit: unit.clone(),
        device_at: None,
    });
    for s in [UnitStatus::OnScene, UnitStatus::AtPatient] {
        step(Command::ReportStatus {
            unit: unit.clone(),
            status: s,
            device_at: None,
        });
    }
    step(referral_to_margono(unit.clone()));
    step(Command::AcceptReferral {
        referral: ReferralId(1),
        officer: "dr. Agus (IGD)".into(),
    });
    // Subscribers hear a command's events just after its caller is answered
    // (the acceptance may still be on its way): read up to the status change.
    let mut sub = engine.subscribe();
    let mut pos = engine.subscribe_positions();
    step(Command::ReportStatus {
        unit: unit.clone(),
        status: UnitStatus::Transporting,
        device_at: None,
    });
    loop {
        let p = recv(&mut sub);
        if let Event::UnitStatusChanged { status, .. } = &p.event {
            assert_eq!(*status, UnitStatus::Transporting);
            break;
        }
        assert_eq!(p.event.kind(), "referral_accepted", "{p:?}");
    }

    // The first tick while transporting sends a notice at once, the next only a minute later.
    engine.tick();
    let p = recv(&mut sub);
    assert_eq!(p.event.kind(), "pre_arrival_notice_sent");
    let Event::PreArrivalNoticeSent { .. } = &p.event else {
        panic!()
    };
    clock.set_ms(t0 + 30_000);
    engine.tick();
    // A position report is published after the tick, so nothing came in between.
    step(Command::UpdatePosition {
        unit: unit.clone(),
        at: LatLon {
            lat: -7.44,
            lon: 109.26,
        },
        device_at: None,
    });
    assert_eq!(recv(&mut pos).stream, "positions");
    assert!(sub.try_recv().is_err(), "no region event came in between");
    clock.set_ms(t0 + 61_000);
    engine.tick();
    assert_eq!(recv(&mut sub).event.kind(), "pre_arrival_notice_sent");

    // Once the unit is at the hospital, no more notices.
    step(Command::ReportStatus {
        unit: unit.clone(),
        status: UnitStatus::AtDestination,
        device_at: None,
    });
    assert_eq!(recv(&mut sub).event.kind(), "unit_status_changed");
    clock.set_ms(t0 + 200_000);
    engine.tick();
    step(Command::UpdatePosition {
        unit: unit.clone(),
        at: LatLon {
            lat: -7.43,
            lon: 109.25,
        },
        device_at: None,
    });
    assert_eq!(recv(&mut pos).stream, "positions");
    assert!(sub.try_recv().is_err(), "no region event came in between");
    engine.shutdown();
}

/// Issue 14 item 4: the engine does not start on a tampered journal.
mod integrity {
    use super::*;

    fn start(dir: &std::path::Path, accept: Option<u64>) -> Result<Engine, EngineError> {
        let clock = Clock::manual(1_790_000_000_000);
        let mut o = options(dir);
        o.accept_broken_row = accept;
        o.operator = "petugas".into();
        Engine::start(o, Box::new(StraightLine::default()), clock)
    }

    /// A journal with the demo fleet and one incident, the engine stopped.
    fn journal(dir: &std::path::Path) -> u64 {
        let e = start(dir, None).unwrap();
        e.submit_blocking(merah()).unwrap();
        let last = e.last_seq();
        e.shutdown();
        last
    }

    fn sql(dir: &std::path::Path, statement: &str) {
        let db = rusqlite::Connection::open(dir.join(satria_store::JOURNAL_FILE)).unwrap();
        db.execute_batch(statement).unwrap();
    }

    #[test]
    fn an_edited_payload_or_swapped_rows_stop_the_start_naming_the_row() {
        let dir = tempfile::tempdir().unwrap();
        journal(dir.path());
        sql(
            dir.path(),
            "UPDATE entries SET payload = payload || ' ' WHERE row = 7",
        );
        match start(dir.path(), None).unwrap_err() {
            EngineError::ChainBroken { row, detail } => {
                assert_eq!(row, 7, "{detail}");
                assert!(detail.contains("hash mismatch"), "{detail}");
            }
            other => panic!("{other}"),
        }

        let dir = tempfile::tempdir().unwrap();
        journal(dir.path());
        sql(
            dir.path(),
            "UPDATE entries SET row = -3 WHERE row = 3;
             UPDATE entries SET row = 3 WHERE row = 4;
             UPDATE entries SET row = 4 WHERE row = -3;",
        );
        let err = start(dir.path(), None).unwrap_err();
        assert!(
            matches!(err, EngineError::ChainBroken { row: 3, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("--accept-broken-chain 3"), "{err}");
    }

    #[test]
    fn only_the_first_broken_row_can_be_accepted_and_then_the_next_start_is_clean() {
        let dir = tempfile::tempdir().unwrap();
        let last = journal(dir.path());
        sql(
            dir.path(),
            "UPDATE entries SET payload = payload || ' ' WHERE row = 5",
        );
        let err = start(dir.path(), Some(6)).unwrap_err();
        assert!(
            matches!(
                err,
                EngineError::WrongBreakAccepted {
                    asked: 6,
                    first_broken: 5,
                    ..
                }
            ),
            "{err}"
        );
        let e = start(dir.path(), Some(5)).unwrap();
        let a = e.start_report().accepted.clone().unwrap();
        assert_eq!((a.row, a.accepted_by.as_str()), (5, "petugas"));
        // The region stream goes on where it was; new commands are journaled.
        assert_eq!(e.last_seq(), last);
        e.submit_blocking(merah()).unwrap();
        e.shutdown();
        let e = start(dir.path(), None).unwrap();
        assert!(e.start_report().accepted.is_none());
        e.shutdown();
        // An intact chain with nothing accepted at that row: nothing to accept.
        let clean = tempfile::tempdir().unwrap();
        journal(clean.path());
        assert_eq!(
            start(clean.path(), Some(2)).unwrap_err(),
            EngineError::NothingToAccept { row: 2 }
        );
    }

    #[test]
    fn a_restart_verifies_only_the_rows_journaled_since_the_last_start() {
        let dir = tempfile::tempdir().unwrap();
        journal(dir.path());
        let e = start(dir.path(), None).unwrap();
        let head = e.start_report().head_row;
        assert_eq!(e.start_report().verified_from_row, 0);
        let before = e.last_seq();
        e.submit_blocking(merah()).unwrap();
        let added = e.last_seq() - before;
        e.shutdown();
        let e = start(dir.path(), None).unwrap();
        let r = e.start_report();
        assert_eq!((r.verified_from_row, r.rows_checked), (head, added));
        e.shutdown();
    }
}

/// Every string that is an RFC 3339 instant, turned back into the integer
/// milliseconds journals held before instants were written as RFC 3339.
fn to_legacy_ms(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::String(s) => {
            if let Some(t) = satria_calendar::Timestamp::parse(s) {
                *v = serde_json::json!(t.ms());
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(to_legacy_ms),
        serde_json::Value::Object(o) => o.values_mut().for_each(to_legacy_ms),
        _ => {}
    }
}

#[test]
fn a_journal_written_with_integer_instants_replays_to_the_same_state() {
    let clock = Clock::manual(1_790_000_000_000);
    let new = tempfile::tempdir().unwrap();
    let engine = Engine::start(
        options(new.path()),
        Box::new(StraightLine::default()),
        clock.clone(),
    )
    .unwrap();
    let mut sub = engine.subscribe();
    engine.submit_blocking(merah()).unwrap();
    clock.set_ms(1_790_000_000_000 + 61_000);
    engine.tick();
    // The timeout, the proposal and the next unit: the journal holds them all.
    while recv(&mut sub).seq < 26 {}
    let before = engine.snapshot();
    assert_eq!(before.incidents().next().unwrap().assignments.len(), 2);
    engine.shutdown();

    // New rows hold their instants as RFC 3339 strings.
    let journal = satria_store::Journal::open(new.path()).unwrap();
    let rows = journal.read_all("region:banyumas").unwrap();
    let created = rows.iter().find(|e| e.kind == "incident_created");
    let created =
        created.unwrap_or_else(|| panic!("{:?}", rows.iter().map(|e| &e.kind).collect::<Vec<_>>()));
    assert!(
        created.payload.contains("\"received_at\":\"2026-09-21T"),
        "{}",
        created.payload
    );

    // The same rows as an older Satria wrote them: integer milliseconds.
    let old = tempfile::tempdir().unwrap();
    let mut legacy = satria_store::Journal::open(old.path()).unwrap();
    let mut converted = 0;
    for e in &rows {
        let mut v: serde_json::Value = serde_json::from_str(&e.payload).unwrap();
        to_legacy_ms(&mut v);
        let payload = v.to_string();
        converted += usize::from(payload != e.payload);
        legacy
            .append(
                &e.stream,
                &[satria_store::NewEntry::new(
                    e.kind.clone(),
                    payload,
                    e.recorded_at_ms,
                )],
            )
            .unwrap();
    }
    assert!(
        converted >= 3,
        "the rows with instants were rewritten: {converted}"
    );
    drop(legacy);
    let engine = Engine::start(
        options(old.path()),
        Box::new(StraightLine::default()),
        clock.clone(),
    )
    .unwrap();
    let after = engine.snapshot();
    assert_eq!(
        after.incidents().collect::<Vec<_>>(),
        before.incidents().collect::<Vec<_>>()
    );
    assert_eq!(
        after.units().collect::<Vec<_>>(),
        before.units().collect::<Vec<_>>()
    );
    // Rows appended now are RFC 3339 again; the old ones stay as written.
    engine.submit_blocking(merah()).unwrap();
    engine.shutdown();
    let journal = satria_store::Journal::open(old.path()).unwrap();
    assert_eq!(journal.verify().unwrap().first_broken, None);
    let rows = journal.read_all("region:banyumas").unwrap();
    let created: Vec<_> = rows
        .iter()
        .filter(|e| e.kind == "incident_created")
        .collect();
    assert_eq!(created.len(), 2);
    assert!(created[0].payload.contains("\"received_at\":1790000000000"));
    assert!(created[1].payload.contains("\"received_at\":\"2026-09-21T"));
}

#[test]
fn a_command_sent_again_with_its_client_id_is_applied_once_even_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual(1_790_000_000_000);
    let start = || {
        Engine::start(
            options(dir.path()),
            Box::new(StraightLine::default()),
            clock.clone(),
        )
        .unwrap()
    };
    let tag = ClientTag {
        user: 7,
        client_id: "c-1".into(),
    };
    let engine = start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let first = rt
        .block_on(engine.submit_tagged(merah(), tag.clone()))
        .unwrap();
    let seqs: Vec<u64> = first.iter().map(|p| p.seq).collect();
    assert_eq!(seqs, [22, 23]);
    let again = rt.block_on(engine.submit_tagged(merah(), tag.clone()));
    assert_eq!(
        again,
        Err(EngineError::Duplicate {
            stream: "region:banyumas".into(),
            seqs: seqs.clone()
        })
    );
    engine.shutdown();
    // After a restart the journal remembers the answer.
    let engine = start();
    let again = rt.block_on(engine.submit_tagged(merah(), tag.clone()));
    assert_eq!(
        again,
        Err(EngineError::Duplicate {
            stream: "region:banyumas".into(),
            seqs
        })
    );
    assert_eq!(engine.snapshot().incidents().count(), 1);
    // Another client id, or another account with the same id, is a new command.
    let other = ClientTag {
        user: 8,
        client_id: "c-1".into(),
    };
    assert!(rt.block_on(engine.submit_tagged(merah(), other)).is_ok());
    assert_eq!(engine.snapshot().incidents().count(), 2);
    engine.shutdown();
    let journal = satria_store::Journal::open(dir.path()).unwrap();
    assert_eq!(journal.last_seq("answers:region:banyumas"), 2);
    assert!(journal.verify().unwrap().is_ok());
}

/// The newest snapshot in the journal at `dir`, once the leader stored one at
/// or after `min_seq` (it is written between batches: ticks carry it).
fn stored_snapshot(engine: &Engine, dir: &std::path::Path, min_seq: u64) -> u64 {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        engine.tick();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let j = satria_store::Journal::open(dir).unwrap();
        if let Some((seq, _)) = j.latest_snapshot("region:banyumas").unwrap()
            && seq >= min_seq
        {
            return seq;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no snapshot at or after seq {min_seq}"
        );
    }
}

#[test]
fn a_start_reads_the_newest_snapshot_and_replays_only_the_events_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual(1_790_000_000_000);
    let start = |o: EngineOptions| {
        Engine::start(o, Box::new(StraightLine::default()), clock.clone()).unwrap()
    };
    let opts = || {
        let mut o = options(dir.path());
        o.snapshot_every = 40;
        o
    };
    let engine = start(opts());
    // A fresh journal replays nothing: the 21 units are registered after it.
    assert_eq!(engine.restored(), Restored::default());
    for k in 1..=30u64 {
        clock.advance_ms(1000);
        engine.submit_blocking(merah()).unwrap();
        if k % 3 == 0 {
            engine
                .submit_blocking(Command::CancelIncident {
                    incident: IncidentId(k),
                    reason: "uji".into(),
                })
                .unwrap();
        }
    }
    let snap_seq = stored_snapshot(&engine, dir.path(), 40);
    let before = engine.snapshot();
    let last = engine.last_seq();
    assert!(
        last > snap_seq,
        "events after the snapshot: {last} > {snap_seq}"
    );
    engine.shutdown();

    // The restart reads the snapshot and replays the tail only.
    let engine = start(opts());
    assert_eq!(
        engine.restored(),
        Restored {
            snapshot_seq: Some(snap_seq),
            replayed: last - snap_seq,
        }
    );
    assert!(
        *engine.snapshot() == *before,
        "the state differs from before the restart"
    );
    engine.shutdown();

    // The same state as a replay of the whole journal.
    let mut whole = opts();
    whole.snapshot_every = 0;
    let engine = start(whole);
    assert_eq!(engine.restored().snapshot_seq, None);
    assert_eq!(engine.restored().replayed, last);
    assert!(*engine.snapshot() == *before, "the whole replay differs");
    engine.shutdown();

    // Another hospital list: a replay starts from it, so the snapshot cannot stand for it.
    let mut fewer = opts();
    fewer.hospitals.pop();
    let engine = start(fewer);
    assert_eq!(engine.restored().snapshot_seq, None);
    assert_eq!(engine.restored().replayed, last);
    engine.shutdown();

    // A damaged snapshot (its base line right, its image cut short) is passed
    // over for the whole journal, and nothing is lost.
    let mut j = satria_store::Journal::open(dir.path()).unwrap();
    let (_, bytes) = j.latest_snapshot("region:banyumas").unwrap().unwrap();
    j.save_snapshot("region:banyumas", last, &bytes[..bytes.len() - 40])
        .unwrap();
    drop(j);
    let engine = start(opts());
    assert_eq!(engine.restored().snapshot_seq, None);
    assert!(
        *engine.snapshot() == *before,
        "the replay after a damaged snapshot differs"
    );
    let out = engine.submit_blocking(merah()).unwrap();
    assert_eq!(out[0].seq, last + 1);
    engine.shutdown();
}

#[test]
fn stop_through_a_shared_handle_journals_what_was_queued_and_refuses_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual(1_790_000_000_000);
    let engine = std::sync::Arc::new(
        Engine::start(
            options(dir.path()),
            Box::new(StraightLine::default()),
            clock.clone(),
        )
        .unwrap(),
    );
    // Another holder, as a connection still open at the end of a server's grace period.
    let other = std::sync::Arc::clone(&engine);
    let queued: Vec<_> = (0..20)
        .map(|_| engine.try_submit(merah()).unwrap())
        .collect();
    engine.stop();
    let mut journaled = 0;
    for rx in queued {
        if rx.blocking_recv().unwrap().is_ok() {
            journaled += 1;
        }
    }
    assert_eq!(journaled, 20, "what was queued before the stop is done");
    assert_eq!(other.submit_blocking(merah()), Err(EngineError::Stopped));
    // A second stop finds nothing to wait for.
    other.stop();
    drop((engine, other));
    let engine = Engine::start(
        options(dir.path()),
        Box::new(StraightLine::default()),
        clock,
    )
    .unwrap();
    assert_eq!(engine.snapshot().incidents().count(), 20);
    engine.shutdown();
}

#[test]
fn ended_incidents_leave_the_live_state_for_the_archive_stream_and_a_restart_keeps_them_there() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual(1_790_000_000_000);
    let opts = || {
        let mut o = options(dir.path());
        o.config.archive_after_s = 600;
        o.snapshot_every = 45;
        o
    };
    let start = || Engine::start(opts(), Box::new(StraightLine::default()), clock.clone()).unwrap();
    let engine = start();
    let mut sub = engine.subscribe();
    for k in 1..=6u64 {
        clock.advance_ms(1000);
        engine.submit_blocking(merah()).unwrap();
        if k <= 4 {
            engine
                .submit_blocking(Command::CancelIncident {
                    incident: IncidentId(k),
                    reason: "uji".into(),
                })
                .unwrap();
        }
    }
    let records: Vec<Incident> = (1..=4)
        .map(|k| engine.snapshot().incident(IncidentId(k)).unwrap().clone())
        .collect();
    // Not yet: the tick finds nothing due.
    clock.advance_ms(590_000);
    engine.tick();
    engine.submit_blocking(merah()).unwrap();
    assert_eq!(engine.snapshot().archived_count(), 0);
    clock.advance_ms(20_000);
    engine.tick();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut archived = Vec::new();
    while archived.len() < 4 {
        assert!(
            std::time::Instant::now() < deadline,
            "archived {archived:?}"
        );
        let p = recv(&mut sub);
        if let Event::IncidentArchived {
            incident, archive, ..
        } = &p.event
        {
            archived.push((incident.0, *archive));
        }
    }
    assert_eq!(archived, [(1, 1), (2, 2), (3, 3), (4, 4)]);
    let snap = engine.snapshot();
    assert_eq!(
        snap.incidents().map(|i| i.id.0).collect::<Vec<_>>(),
        [5, 6, 7]
    );
    // Each record is in the archive stream, at the entry the state names.
    let stream = archive_stream_of(engine.stream());
    assert_eq!(stream, "archive:region:banyumas");
    let entries = engine.read_since(&stream, 0, 10).unwrap();
    assert_eq!(entries.len(), 4);
    for (k, want) in records.iter().enumerate() {
        let e = &entries[k];
        assert_eq!(snap.archived(want.id), Some(e.seq));
        let r: ArchivedIncident = serde_json::from_str(&e.payload).unwrap();
        assert_eq!(r.get(want.id), Some(want));
    }
    let before = engine.snapshot();
    let last = engine.last_seq();
    // More events, so that a snapshot after the archiving is stored.
    for _ in 0..3 {
        clock.advance_ms(1000);
        engine.submit_blocking(merah()).unwrap();
    }
    let snap_seq = stored_snapshot(&engine, dir.path(), last);
    let after = engine.snapshot();
    engine.shutdown();
    assert!(snap_seq >= last);

    // A restart from the snapshot, and a whole replay, hold the same index.
    let engine = start();
    assert_eq!(engine.restored().snapshot_seq, Some(snap_seq));
    assert!(*engine.snapshot() == *after);
    assert_eq!(engine.snapshot().archived(IncidentId(3)), Some(3));
    engine.shutdown();
    let mut whole = opts();
    whole.snapshot_every = 0;
    let engine = Engine::start(whole, Box::new(StraightLine::default()), clock.clone()).unwrap();
    assert!(*engine.snapshot() == *after);
    assert!(before.archived(IncidentId(4)) == engine.snapshot().archived(IncidentId(4)));
    // The chain holds the archive stream too.
    engine.shutdown();
    let report = satria_store::Journal::open(dir.path())
        .unwrap()
        .verify()
        .unwrap();
    assert!(report.is_ok(), "{report:?}");
}
