//! Property test: random interleavings of commands from dispatchers, crews and the
//! clock (seeded, so every run is the same). After every command the invariants hold,
//! a refused command changed nothing, and the events replayed into a fresh state
//! rebuild it exactly. In particular, no unit is ever on two incidents at once.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use satria_dispatch::*;

struct Straight;

impl DriveTimes for Straight {
    fn many_to_one(&mut self, origins: &[LatLon], target: LatLon) -> Vec<Option<Eta>> {
        origins
            .iter()
            .map(|o| {
                (o.lat > -7.58).then(|| {
                    let d = o.distance_m(&target);
                    Eta {
                        eta_s: (d / 12.0) as u32,
                        distance_m: d as u32,
                    }
                })
            })
            .collect()
    }
}

const UNITS: usize = 6;

fn random_command(rng: &mut ChaCha8Rng, d: &Dispatch) -> Command {
    let unit = UnitId(format!("U{}", rng.gen_range(0..UNITS + 1))); // one unknown id
    let incidents = d.incidents().count() as u64;
    let incident = IncidentId(rng.gen_range(1..incidents + 3)); // sometimes unknown
    let pos = LatLon {
        lat: rng.gen_range(-7.60..-7.35),
        lon: rng.gen_range(109.0..109.4),
    };
    let statuses = [
        UnitStatus::Available,
        UnitStatus::EnRoute,
        UnitStatus::OnScene,
        UnitStatus::AtPatient,
        UnitStatus::Transporting,
        UnitStatus::AtDestination,
        UnitStatus::TransferOfCare,
        UnitStatus::OutOfService,
    ];
    match rng.gen_range(0..12) {
        0 => Command::CreateIncident {
            caller_name: "Siti".into(),
            caller_phone: "0812".into(),
            location: if rng.gen_bool(0.3) {
                LatLon {
                    lat: -7.43,
                    lon: 109.24,
                }
            } else {
                pos
            },
            address: Address::default(),
            triage: [Triage::Merah, Triage::Kuning, Triage::Hijau, Triage::Hitam]
                [rng.gen_range(0..4)],
            category: [
                Category::Accident,
                Category::Medical,
                Category::Maternal,
                Category::Information,
            ][rng.gen_range(0..4)],
            patients: rng.gen_range(0..3),
            notes: String::new(),
        },
        1 | 2 => Command::AssignUnit { incident, unit },
        3 => Command::AcknowledgeAssignment {
            incident,
            unit,
            device_at: None,
        },
        4 => Command::DeclineAssignment {
            incident,
            unit,
            reason: "sedang isi bensin".into(),
        },
        5 | 6 => Command::ReportStatus {
            unit,
            status: statuses[rng.gen_range(0..statuses.len())],
            device_at: None,
        },
        7 => Command::UpdatePosition { unit, at: pos },
        8 => Command::CancelAssignment {
            incident,
            unit,
            reason: "reassign".into(),
        },
        9 => Command::MergeIncidents {
            from: incident,
            into: IncidentId(rng.gen_range(1..incidents + 2)),
        },
        10 => Command::CancelIncident {
            incident,
            reason: "false call".into(),
        },
        _ => Command::CloseIncident {
            incident,
            outcome: "done".into(),
        },
    }
}

#[test]
fn no_interleaving_breaks_the_invariants() {
    let mut total_events = 0;
    let mut total_rejections = 0;
    for seed in 0..150u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let config = Config {
            auto_assign_merah: seed % 2 == 0,
            ..Config::default()
        };
        let mut d = Dispatch::new(config.clone());
        let mut journal = Vec::new();
        for i in 0..UNITS {
            let t = [
                UnitType::Als,
                UnitType::Bls,
                UnitType::Transport,
                UnitType::Motorbike,
            ][i % 4];
            let cmd = Command::RegisterUnit {
                id: UnitId(format!("U{i}")),
                call_sign: format!("Satria {i}"),
                unit_type: t,
                owner: Owner::Puskesmas,
                base_name: format!("Puskesmas {i}"),
                base: LatLon {
                    lat: -7.40 - 0.04 * i as f64,
                    lon: 109.1 + 0.05 * i as f64,
                },
                capabilities: vec![],
            };
            journal.extend(d.handle(Timestamp(0), cmd, &mut Straight).unwrap());
        }
        let mut now = 0i64;
        for step in 0..400 {
            now += rng.gen_range(0..40_000);
            let before = d.clone();
            if rng.gen_bool(0.1) {
                journal.extend(d.tick(Timestamp(now), &mut Straight));
                // After a tick at `now` nothing due at `now` is left pending.
                if let Some(dl) = d.next_deadline() {
                    assert!(
                        dl.0 > now,
                        "seed {seed} step {step}: deadline {dl:?} survived a tick at {now}"
                    );
                }
            } else {
                let cmd = random_command(&mut rng, &d);
                match d.handle(Timestamp(now), cmd.clone(), &mut Straight) {
                    Ok(events) => {
                        total_events += events.len();
                        journal.extend(events);
                    }
                    Err(r) => {
                        total_rejections += 1;
                        assert_eq!(
                            d, before,
                            "seed {seed} step {step}: {cmd:?} was refused ({r}) but changed the state"
                        );
                    }
                }
            }
            if let Err(e) = d.check_invariants() {
                panic!("seed {seed} step {step}: {e}");
            }
        }
        // Events survive the journal's JSON, and replay rebuilds the state.
        let mut replayed = Dispatch::new(config);
        for e in &journal {
            let json = serde_json::to_string(e).unwrap();
            let back: Event = serde_json::from_str(&json).unwrap();
            assert_eq!(&back, e);
            replayed.apply(&back);
        }
        assert_eq!(replayed, d, "seed {seed}: replay differs");
    }
    // The generator exercises both paths a lot.
    assert!(
        total_events > 10_000 && total_rejections > 10_000,
        "{total_events} events, {total_rejections} rejections"
    );
}
