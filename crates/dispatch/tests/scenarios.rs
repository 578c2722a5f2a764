//! Data-driven scenarios of the dispatch lifecycle: each case is a list of timed
//! commands and the event kinds (or the rejection) each must give, driven by a
//! hand-held clock. After every step the invariants hold and a replay of all events
//! rebuilds the same state.

use satria_dispatch::*;

/// Drive times on straight lines at 10 m/s; origins west of 108.9 E are unreachable.
struct Straight;

impl DriveTimes for Straight {
    fn many_to_one(&mut self, origins: &[LatLon], target: LatLon) -> Vec<Option<Eta>> {
        origins
            .iter()
            .map(|o| {
                (o.lon >= 108.9).then(|| {
                    let d = o.distance_m(&target);
                    Eta {
                        eta_s: (d / 10.0).round() as u32,
                        distance_m: d.round() as u32,
                    }
                })
            })
            .collect()
    }
}

const T0: i64 = 1_790_000_000_000;

fn at(s: i64) -> Timestamp {
    Timestamp(T0 + s * 1000)
}

fn u(id: &str) -> UnitId {
    UnitId(id.into())
}

fn register(id: &str, t: UnitType, lat: f64, lon: f64, caps: &[&str]) -> Command {
    Command::RegisterUnit {
        id: u(id),
        call_sign: format!("Satria {id}"),
        unit_type: t,
        owner: Owner::Psc,
        base_name: "Dinkes Banyumas".into(),
        base: LatLon { lat, lon },
        capabilities: caps.iter().map(|c| c.to_string()).collect(),
    }
}

fn incident(triage: Triage, category: Category, lat: f64, lon: f64) -> Command {
    Command::CreateIncident {
        caller_name: "Budi".into(),
        caller_phone: "081234567890".into(),
        location: LatLon { lat, lon },
        address: Address {
            desa: "Sokanegara".into(),
            rt_rw: "02/03".into(),
            landmark: "dekat masjid".into(),
            text: String::new(),
        },
        triage,
        category,
        patients: 1,
        notes: String::new(),
    }
}

/// The fleet of every scenario: two ALS near Purwokerto (A1 nearer the incidents), a
/// BLS with an obstetric kit, a motorbike, and a BLS that no road reaches.
fn fleet() -> Vec<(i64, Command)> {
    vec![
        (0, register("A1", UnitType::Als, -7.4265, 109.2360, &[])),
        (0, register("A2", UnitType::Als, -7.4500, 109.2900, &[])),
        (
            0,
            register("B1", UnitType::Bls, -7.4300, 109.2400, &["obstetric"]),
        ),
        (
            0,
            register("M1", UnitType::Motorbike, -7.4250, 109.2350, &[]),
        ),
        (0, register("X1", UnitType::Bls, -7.4000, 108.8000, &[])),
    ]
}

/// Runs a scenario. `steps`: (second, command, expected event kinds or `Err(prefix)`);
/// a tick is written as `None` and expects the kinds of the events it produced.
/// One step: the second it happens, the command (`None` = a tick), what it must give.
type Step = (
    i64,
    Option<Command>,
    Result<Vec<&'static str>, &'static str>,
);

fn check(config: Config, steps: Vec<Step>) -> Dispatch {
    let mut d = Dispatch::new(config.clone());
    let mut journal = Vec::new();
    for (s, c) in fleet() {
        journal.extend(d.handle(at(s), c, &mut Straight).unwrap());
    }
    for (n, (s, cmd, expected)) in steps.into_iter().enumerate() {
        let before = d.clone();
        let got = match cmd {
            Some(c) => d.handle(at(s), c, &mut Straight),
            None => Ok(d.tick(at(s), &mut Straight)),
        };
        match (got, expected) {
            (Ok(events), Ok(kinds)) => {
                let got_kinds: Vec<&str> = events.iter().map(|e| e.kind()).collect();
                assert_eq!(got_kinds, kinds, "step {n}");
                journal.extend(events);
            }
            (Err(r), Err(prefix)) => {
                assert!(r.to_string().starts_with(prefix), "step {n}: {r}");
                assert!(!r.message_id().is_empty());
                assert_eq!(d, before, "step {n}: a rejected command changed the state");
            }
            (got, want) => panic!("step {n}: got {got:?}, want {want:?}"),
        }
        d.check_invariants()
            .unwrap_or_else(|e| panic!("step {n}: {e}"));
        let mut replayed = Dispatch::new(config.clone());
        for e in &journal {
            replayed.apply(e);
        }
        assert_eq!(replayed, d, "step {n}: replay differs");
    }
    d
}

fn manual() -> Config {
    Config {
        auto_assign_merah: false,
        ..Config::default()
    }
}

fn ack(i: u64, unit: &str) -> Option<Command> {
    Some(Command::AcknowledgeAssignment {
        incident: IncidentId(i),
        unit: u(unit),
        device_at: None,
    })
}

fn status(unit: &str, s: UnitStatus) -> Option<Command> {
    Some(Command::ReportStatus {
        unit: u(unit),
        status: s,
        device_at: None,
    })
}

#[test]
fn whole_life_of_an_incident() {
    use UnitStatus::*;
    let d = check(
        manual(),
        vec![
            (
                1,
                Some(incident(
                    Triage::Merah,
                    Category::Accident,
                    -7.4260,
                    109.2370,
                )),
                Ok(vec!["incident_created"]),
            ),
            (
                2,
                Some(Command::AssignUnit {
                    incident: IncidentId(1),
                    unit: u("A1"),
                }),
                Ok(vec!["unit_assigned"]),
            ),
            (20, ack(1, "A1"), Ok(vec!["assignment_acknowledged"])),
            (
                30,
                Some(Command::UpdatePosition {
                    unit: u("A1"),
                    at: LatLon {
                        lat: -7.4262,
                        lon: 109.2365,
                    },
                }),
                Ok(vec!["unit_moved"]),
            ),
            (300, status("A1", OnScene), Ok(vec!["unit_status_changed"])),
            (
                360,
                status("A1", AtPatient),
                Ok(vec!["unit_status_changed"]),
            ),
            (
                900,
                status("A1", Transporting),
                Ok(vec!["unit_status_changed"]),
            ),
            (
                1500,
                status("A1", AtDestination),
                Ok(vec!["unit_status_changed"]),
            ),
            (
                1600,
                status("A1", TransferOfCare),
                Ok(vec!["unit_status_changed"]),
            ),
            (
                1700,
                Some(Command::CloseIncident {
                    incident: IncidentId(1),
                    outcome: "handed over".into(),
                }),
                Err("incident INC-000001 still has 1 unit"),
            ),
            (
                1800,
                status("A1", Available),
                Ok(vec!["assignment_completed"]),
            ),
            (
                1900,
                Some(Command::CloseIncident {
                    incident: IncidentId(1),
                    outcome: "handed over at IGD".into(),
                }),
                Ok(vec!["incident_closed"]),
            ),
            (
                1901,
                Some(Command::AssignUnit {
                    incident: IncidentId(1),
                    unit: u("A2"),
                }),
                Err("incident INC-000001 is Closed"),
            ),
        ],
    );
    let i = d.incident(IncidentId(1)).unwrap();
    assert_eq!(i.status, IncidentStatus::Closed);
    assert_eq!(i.assignments[0].state, AssignmentState::Completed);
    assert_eq!(d.unit(&u("A1")).unwrap().status, UnitStatus::Available);
}

#[test]
fn recommendation_ranks_by_drive_time_and_explains_exclusions() {
    let mut d = check(
        manual(),
        vec![(
            1,
            Some(incident(
                Triage::Kuning,
                Category::Medical,
                -7.4270,
                109.2380,
            )),
            Ok(vec!["incident_created"]),
        )],
    );
    let r = d
        .recommend_units(at(2), IncidentId(1), &mut Straight)
        .unwrap();
    let ranked: Vec<&str> = r.candidates.iter().map(|c| c.unit.0.as_str()).collect();
    // Kuning takes ALS/BLS: A1 (250 m) before A2 (6 km); B1 is BLS, near.
    assert_eq!(ranked, ["A1", "B1", "A2"]);
    assert!(
        r.candidates.iter().all(|c| c.from_base),
        "no positions reported yet"
    );
    assert_eq!(
        r.excluded,
        vec![
            (u("M1"), Exclusion::WrongType),
            (u("X1"), Exclusion::Unreachable)
        ]
    );
    // A fresh position is used instead of the base; an old one is not.
    d.handle(
        at(3),
        Command::UpdatePosition {
            unit: u("A2"),
            at: LatLon {
                lat: -7.4271,
                lon: 109.2381,
            },
        },
        &mut Straight,
    )
    .unwrap();
    let r = d
        .recommend_units(at(4), IncidentId(1), &mut Straight)
        .unwrap();
    assert_eq!(r.candidates[0].unit, u("A2"));
    assert!(!r.candidates[0].from_base);
    let r = d
        .recommend_units(at(4 + 301), IncidentId(1), &mut Straight)
        .unwrap();
    assert_eq!(
        r.candidates[0].unit,
        u("A1"),
        "A2's position went stale: ranked from its base"
    );
}

#[test]
fn maternal_calls_prefer_an_obstetric_kit_among_equals_and_information_needs_no_unit() {
    let mut d = check(manual(), vec![]);
    d.handle(
        at(1),
        register("B2", UnitType::Bls, -7.4300, 109.2400, &[]),
        &mut Straight,
    )
    .unwrap();
    d.handle(
        at(1),
        incident(Triage::Kuning, Category::Maternal, -7.4350, 109.2450),
        &mut Straight,
    )
    .unwrap();
    let r = d
        .recommend_units(at(2), IncidentId(1), &mut Straight)
        .unwrap();
    assert_eq!(r.candidates[0].unit, u("B1"), "same base, B1 has the kit");
    assert_eq!(r.candidates[1].unit, u("B2"));
    d.handle(
        at(3),
        incident(Triage::Hijau, Category::Information, -7.4, 109.2),
        &mut Straight,
    )
    .unwrap();
    let r = d
        .recommend_units(at(4), IncidentId(2), &mut Straight)
        .unwrap();
    assert!(r.candidates.is_empty());
}

#[test]
fn merah_is_assigned_automatically_to_the_nearest_ambulance_not_the_motorbike() {
    let d = check(
        Config::default(),
        vec![(
            1,
            Some(incident(
                Triage::Merah,
                Category::Accident,
                -7.4251,
                109.2351,
            )),
            Ok(vec!["incident_created", "unit_assigned"]),
        )],
    );
    // M1 is nearest but cannot transport.
    assert_eq!(d.unit(&u("A1")).unwrap().status, UnitStatus::Notified);
    assert_eq!(d.unit(&u("M1")).unwrap().status, UnitStatus::Available);
}

#[test]
fn decline_and_timeout_free_the_unit_and_propose_the_next() {
    let d = check(
        Config::default(),
        vec![
            (
                1,
                Some(incident(
                    Triage::Merah,
                    Category::Accident,
                    -7.4260,
                    109.2370,
                )),
                Ok(vec!["incident_created", "unit_assigned"]),
            ),
            (
                10,
                Some(Command::DeclineAssignment {
                    incident: IncidentId(1),
                    unit: u("A1"),
                    reason: "".into(),
                }),
                Err("reason: a decline needs a reason"),
            ),
            (
                11,
                Some(Command::DeclineAssignment {
                    incident: IncidentId(1),
                    unit: u("A1"),
                    reason: "ban bocor".into(),
                }),
                Ok(vec!["assignment_declined", "next_unit_proposed"]),
            ),
            (
                12,
                Some(Command::AssignUnit {
                    incident: IncidentId(1),
                    unit: u("B1"),
                }),
                Ok(vec!["unit_assigned"]),
            ),
            (71, None, Ok(vec![])),
            (
                72,
                None,
                Ok(vec!["assignment_timed_out", "next_unit_proposed"]),
            ),
            (73, None, Ok(vec![])),
            (
                74,
                ack(1, "B1"),
                Err("unit B1 has no assignment to incident INC-000001 waiting"),
            ),
        ],
    );
    let i = d.incident(IncidentId(1)).unwrap();
    assert_eq!(i.status, IncidentStatus::Open);
    assert_eq!(i.assignments.len(), 2);
    assert_eq!(i.assignments[1].state, AssignmentState::TimedOut);
    assert_eq!(d.next_deadline(), None);
}

#[test]
fn invalid_commands_are_refused_and_change_nothing() {
    use UnitStatus::*;
    check(
        manual(),
        vec![
            (
                1,
                Some(incident(Triage::Kuning, Category::Medical, -7.43, 109.24)),
                Ok(vec!["incident_created"]),
            ),
            (
                2,
                Some(incident(Triage::Kuning, Category::Medical, 91.0, 109.24)),
                Err("position 91,109.24 is not a valid"),
            ),
            (
                3,
                Some(Command::AssignUnit {
                    incident: IncidentId(9),
                    unit: u("A1"),
                }),
                Err("incident INC-000009 does not exist"),
            ),
            (
                4,
                Some(Command::AssignUnit {
                    incident: IncidentId(1),
                    unit: u("Z9"),
                }),
                Err("unit Z9 does not exist"),
            ),
            (
                5,
                status("A1", OnScene),
                Err("unit A1 cannot go from Available to OnScene"),
            ),
            (
                6,
                Some(Command::AssignUnit {
                    incident: IncidentId(1),
                    unit: u("A1"),
                }),
                Ok(vec!["unit_assigned"]),
            ),
            (
                7,
                Some(Command::AssignUnit {
                    incident: IncidentId(1),
                    unit: u("A1"),
                }),
                Err("unit A1 is not available"),
            ),
            (
                8,
                status("A1", OnScene),
                Err("unit A1 cannot go from Notified to OnScene"),
            ),
            (
                9,
                status("A1", OutOfService),
                Err("unit A1 cannot go from Notified to OutOfService"),
            ),
            (
                10,
                Some(register("A1", UnitType::Als, -7.4, 109.2, &[])),
                Err("unit A1 is already registered"),
            ),
            (
                11,
                Some(Command::MergeIncidents {
                    from: IncidentId(1),
                    into: IncidentId(1),
                }),
                Err("an incident cannot be merged"),
            ),
            (
                12,
                status("B1", OutOfService),
                Ok(vec!["unit_status_changed"]),
            ),
            (
                13,
                Some(Command::AssignUnit {
                    incident: IncidentId(1),
                    unit: u("B1"),
                }),
                Err("unit B1 is not available"),
            ),
            (
                14,
                Some(Command::CancelIncident {
                    incident: IncidentId(1),
                    reason: "false call".into(),
                }),
                Ok(vec!["incident_cancelled"]),
            ),
            (15, ack(1, "A1"), Err("unit A1 has no assignment")),
        ],
    );
}

#[test]
fn duplicates_are_flagged_not_auto_assigned_and_merge_keeps_both_histories() {
    let d = check(
        Config::default(),
        vec![
            (
                1,
                Some(incident(
                    Triage::Merah,
                    Category::Accident,
                    -7.4260,
                    109.2370,
                )),
                Ok(vec!["incident_created", "unit_assigned"]),
            ),
            // 100 m away, 2 minutes later: a second caller about the same accident.
            (
                120,
                Some(incident(
                    Triage::Merah,
                    Category::Accident,
                    -7.4269,
                    109.2370,
                )),
                Ok(vec!["incident_created"]),
            ),
            (
                121,
                Some(Command::AssignUnit {
                    incident: IncidentId(2),
                    unit: u("B1"),
                }),
                Ok(vec!["unit_assigned"]),
            ),
            (
                130,
                Some(Command::MergeIncidents {
                    from: IncidentId(2),
                    into: IncidentId(1),
                }),
                Ok(vec!["incident_merged"]),
            ),
            (131, ack(1, "B1"), Ok(vec!["assignment_acknowledged"])),
            // Far away, or much later: not a duplicate.
            (
                140,
                Some(incident(Triage::Hijau, Category::Medical, -7.50, 109.30)),
                Ok(vec!["incident_created"]),
            ),
            (
                2000,
                Some(incident(
                    Triage::Hijau,
                    Category::Medical,
                    -7.4260,
                    109.2371,
                )),
                Ok(vec!["incident_created"]),
            ),
        ],
    );
    assert_eq!(
        d.incident(IncidentId(2)).unwrap().possible_duplicate_of,
        Some(IncidentId(1))
    );
    assert_eq!(
        d.incident(IncidentId(2)).unwrap().status,
        IncidentStatus::Merged
    );
    assert_eq!(
        d.incident(IncidentId(2)).unwrap().assignments.len(),
        1,
        "the source keeps its history"
    );
    assert_eq!(d.incident(IncidentId(1)).unwrap().assignments.len(), 2);
    assert_eq!(d.unit(&u("B1")).unwrap().incident, Some(IncidentId(1)));
    assert_eq!(
        d.incident(IncidentId(3)).unwrap().possible_duplicate_of,
        None
    );
    assert_eq!(
        d.incident(IncidentId(4)).unwrap().possible_duplicate_of,
        None
    );
}

#[test]
fn reassign_and_out_of_service() {
    use UnitStatus::*;
    let d = check(
        manual(),
        vec![
            (
                1,
                Some(incident(Triage::Kuning, Category::Medical, -7.43, 109.24)),
                Ok(vec!["incident_created"]),
            ),
            (
                2,
                Some(Command::AssignUnit {
                    incident: IncidentId(1),
                    unit: u("A2"),
                }),
                Ok(vec!["unit_assigned"]),
            ),
            (
                3,
                Some(Command::CancelAssignment {
                    incident: IncidentId(1),
                    unit: u("A2"),
                    reason: "A1 is closer".into(),
                }),
                Ok(vec!["assignment_cancelled"]),
            ),
            (
                4,
                Some(Command::AssignUnit {
                    incident: IncidentId(1),
                    unit: u("A1"),
                }),
                Ok(vec!["unit_assigned"]),
            ),
            (
                5,
                Some(Command::CancelAssignment {
                    incident: IncidentId(1),
                    unit: u("A2"),
                    reason: "again".into(),
                }),
                Err("unit A2 is not assigned"),
            ),
            (
                6,
                status("A2", OutOfService),
                Ok(vec!["unit_status_changed"]),
            ),
            (7, status("A2", Available), Ok(vec!["unit_status_changed"])),
        ],
    );
    assert_eq!(d.unit(&u("A1")).unwrap().incident, Some(IncidentId(1)));
}

#[test]
fn units_near_uses_live_positions() {
    let mut d = check(manual(), vec![]);
    d.handle(
        at(1),
        Command::UpdatePosition {
            unit: u("A1"),
            at: LatLon {
                lat: -7.43,
                lon: 109.24,
            },
        },
        &mut Straight,
    )
    .unwrap();
    d.handle(
        at(2),
        Command::UpdatePosition {
            unit: u("A2"),
            at: LatLon {
                lat: -7.431,
                lon: 109.24,
            },
        },
        &mut Straight,
    )
    .unwrap();
    d.handle(
        at(3),
        Command::UpdatePosition {
            unit: u("A1"),
            at: LatLon {
                lat: -7.50,
                lon: 109.30,
            },
        },
        &mut Straight,
    )
    .unwrap();
    assert_eq!(
        d.units_near(
            LatLon {
                lat: -7.43,
                lon: 109.24
            },
            500.0
        ),
        vec![u("A2")]
    );
    assert_eq!(
        d.units_near(
            LatLon {
                lat: -7.50,
                lon: 109.30
            },
            50.0
        ),
        vec![u("A1")]
    );
}
