//! Scenarios: units going out of service and back, live positions and the unit
//! index, and the recommendation with a reason for every unit.

use crate::common::*;
use Step::Do;
use satria_dispatch::*;
use std::cell::Cell;

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
