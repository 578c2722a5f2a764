//! Property tests: on seeded random road graphs, every answer of Satria's search equals
//! the answer computed independently with petgraph's `dijkstra` on the same graph.

use petgraph::algo::dijkstra;
use petgraph::graph::NodeIndex;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use satria_roads::osm::{RawOsm, RawWay};
use satria_roads::search::{reference_time_ms, to_petgraph};
use satria_roads::tags::WayPolicy;
use satria_roads::{DriveTimeEngine, Graph, Outcome, RoadClass, RoadNetwork, Snap, Stop};

/// A jittered grid of streets with random one-ways, classes, missing links and shape
/// points, so contraction, SCC filtering and one-way ports all get exercised.
fn random_network(seed: u64) -> RoadNetwork {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let side = rng.gen_range(4..12);
    let mut raw = RawOsm::default();
    let id = |x: i64, y: i64| 1 + x * 100 + y;
    for x in 0..side {
        for y in 0..side {
            let lat = -74_200_000 + (y as i32) * 10_000 + rng.gen_range(-3_000..3_000);
            let lon = 1_092_300_000 + (x as i32) * 10_000 + rng.gen_range(-3_000..3_000);
            raw.nodes.push((id(x, y), lat, lon));
        }
    }
    // Shape points live at ids above 100_000, between their two grid nodes.
    let mut next_shape = 100_000i64;
    let mut way_id = 0;
    for x in 0..side {
        for y in 0..side {
            for (dx, dy) in [(1, 0), (0, 1)] {
                let (x2, y2) = (x + dx, y + dy);
                if x2 >= side || y2 >= side || rng.gen_bool(0.15) {
                    continue;
                }
                let mut refs = vec![id(x, y)];
                if rng.gen_bool(0.3) {
                    let a = raw.nodes.iter().find(|n| n.0 == id(x, y)).copied().unwrap();
                    let b = raw
                        .nodes
                        .iter()
                        .find(|n| n.0 == id(x2, y2))
                        .copied()
                        .unwrap();
                    next_shape += 1;
                    raw.nodes
                        .push((next_shape, a.1 / 2 + b.1 / 2 + 700, a.2 / 2 + b.2 / 2 - 700));
                    refs.push(next_shape);
                }
                refs.push(id(x2, y2));
                let oneway = rng.gen_range(0..10);
                let class = RoadClass::ALL[rng.gen_range(0..9)];
                way_id += 1;
                raw.ways.push(RawWay {
                    id: way_id,
                    refs,
                    policy: WayPolicy {
                        class,
                        forward: oneway != 0,
                        backward: oneway != 1 && oneway != 2,
                        speed_kmh: class.default_speed_kmh(),
                    },
                    name: None,
                });
            }
        }
    }
    raw.nodes.sort_unstable();
    let (g, _) = satria_roads::build::build(&raw).expect("some roads survive");
    RoadNetwork::new(g)
}

fn random_snap(rng: &mut ChaCha8Rng, net: &RoadNetwork) -> Snap {
    let (a, b, c, d) = net.graph.bounds();
    loop {
        if let Ok(s) = net.snap(rng.gen_range(a..=c), rng.gen_range(b..=d), 500.0) {
            return s;
        }
    }
}

/// Node-to-node times from petgraph, as a closure the reference helper can call.
fn petgraph_times(g: &Graph) -> impl Fn(u32) -> Vec<Option<u32>> + '_ {
    let pg = to_petgraph(g, false);
    move |s: u32| {
        let m = dijkstra(&pg, NodeIndex::new(s as usize), None, |e| *e.weight());
        (0..g.node_count())
            .map(|v| m.get(&NodeIndex::new(v)).copied())
            .collect()
    }
}

#[test]
fn node_to_node_times_equal_petgraph() {
    for seed in 0..30 {
        let net = random_network(seed);
        let times = petgraph_times(&net.graph);
        let mut router = net.router();
        for s in [
            0,
            net.graph.node_count() as u32 / 2,
            net.graph.node_count() as u32 - 1,
        ] {
            let ours = router.dijkstra.node_times_from(s);
            let theirs = times(s);
            for v in 0..net.graph.node_count() {
                assert_eq!(
                    Some(ours[v]).filter(|t| *t != u32::MAX),
                    theirs[v],
                    "seed {seed} from {s} to {v}"
                );
            }
        }
    }
}

#[test]
fn one_to_one_equals_petgraph_and_paths_are_drawn() {
    for seed in 0..200 {
        let net = random_network(seed);
        let times = petgraph_times(&net.graph);
        let mut router = net.router();
        let mut rng = ChaCha8Rng::seed_from_u64(seed + 1000);
        for _ in 0..10 {
            let (a, b) = (random_snap(&mut rng, &net), random_snap(&mut rng, &net));
            let expected = reference_time_ms(&net.graph, &times, &a, &b);
            let route = router.route(&a, &b);
            assert_eq!(route.as_ref().map(|r| r.time_ms), expected, "seed {seed}");
            if let Some(r) = route {
                // The drawn path starts and ends at the snapped points.
                let first = r.path.first().unwrap();
                let last = r.path.last().unwrap();
                assert!(
                    (first.0 - a.lat).abs() < 1e-6 && (first.1 - a.lon).abs() < 1e-6,
                    "seed {seed}"
                );
                assert!(
                    (last.0 - b.lat).abs() < 1e-6 && (last.1 - b.lon).abs() < 1e-6,
                    "seed {seed}"
                );
                // Its length is the reported distance (same sphere, within rounding).
                let drawn: f64 = r
                    .path
                    .windows(2)
                    .map(|w| {
                        let e7 = |p: (f64, f64)| {
                            ((p.0 * 1e7).round() as i32, (p.1 * 1e7).round() as i32)
                        };
                        satria_roads::build::haversine_m(e7(w[0]), e7(w[1]))
                    })
                    .sum();
                assert!(
                    (drawn - r.distance_m).abs() < 1.0 + r.distance_m * 0.002,
                    "seed {seed}: {drawn} vs {}",
                    r.distance_m
                );
            }
        }
    }
}

#[test]
fn many_to_one_and_one_to_many_equal_petgraph() {
    for seed in 0..200 {
        let net = random_network(seed);
        let times = petgraph_times(&net.graph);
        let mut router = net.router();
        let mut rng = ChaCha8Rng::seed_from_u64(seed + 2000);
        let target = random_snap(&mut rng, &net);
        let units: Vec<Snap> = (0..rng.gen_range(1..25))
            .map(|_| random_snap(&mut rng, &net))
            .collect();
        let to_target: Vec<Option<u32>> = units
            .iter()
            .map(|u| reference_time_ms(&net.graph, &times, u, &target))
            .collect();
        let from_target: Vec<Option<u32>> = units
            .iter()
            .map(|u| reference_time_ms(&net.graph, &times, &target, u))
            .collect();

        let all = router.many_to_one(&units, &target, Stop::default());
        for (o, r) in all.iter().zip(&to_target) {
            match r {
                Some(t) => assert_eq!(o.reach().map(|x| x.time_ms), Some(*t), "seed {seed}"),
                None => assert_eq!(*o, Outcome::Unreachable, "seed {seed}"),
            }
        }
        let out = router.one_to_many(&target, &units, Stop::default());
        for (o, r) in out.iter().zip(&from_target) {
            assert_eq!(o.reach().map(|x| x.time_ms), *r, "seed {seed}");
        }

        // Nearest k: the reached ones are exact, and no unit left out is nearer.
        let k = rng.gen_range(1..=units.len());
        let near = router.many_to_one(
            &units,
            &target,
            Stop {
                nearest: Some(k),
                max_time_ms: None,
            },
        );
        let reached: Vec<u32> = near
            .iter()
            .filter_map(|o| o.reach().map(|x| x.time_ms))
            .collect();
        let reachable = to_target.iter().filter(|t| t.is_some()).count();
        assert!(reached.len() >= k.min(reachable), "seed {seed}");
        let worst = reached.iter().copied().max().unwrap_or(0);
        for (o, r) in near.iter().zip(&to_target) {
            match o {
                Outcome::Reached(x) => assert_eq!(Some(x.time_ms), *r, "seed {seed}"),
                Outcome::NotSettled => assert!(r.is_none_or(|t| t >= worst), "seed {seed}"),
                Outcome::Unreachable => assert_eq!(*r, None, "seed {seed}"),
            }
        }

        // A time limit: everything within it is reached, nothing beyond it is.
        let limit = 60_000;
        let lim = router.many_to_one(
            &units,
            &target,
            Stop {
                nearest: None,
                max_time_ms: Some(limit),
            },
        );
        for (o, r) in lim.iter().zip(&to_target) {
            match r {
                Some(t) if *t <= limit => {
                    assert_eq!(o.reach().map(|x| x.time_ms), Some(*t), "seed {seed}")
                }
                _ => assert!(o.reach().is_none(), "seed {seed}"),
            }
        }
    }
}

#[test]
fn contracted_pieces_keep_their_geometry() {
    // Every piece's drawn geometry has the piece's length and starts at its junction.
    for seed in 0..10 {
        let net = random_network(seed);
        let g = &net.graph;
        for p in 0..g.piece_count() as u32 {
            let pts: Vec<(i32, i32)> = g.piece_coords(p).collect();
            let len: f64 = pts
                .windows(2)
                .map(|w| satria_roads::build::haversine_m(w[0], w[1]))
                .sum();
            assert!(
                (len - g.piece_len_m(p)).abs() < 0.1,
                "seed {seed} piece {p}"
            );
            assert_eq!(
                pts[0],
                (
                    g.node_lat_e7[g.piece_from[p as usize] as usize],
                    g.node_lon_e7[g.piece_from[p as usize] as usize]
                )
            );
        }
    }
}

/// Checks the contraction-hierarchy answers of one query against the Dijkstra's
/// answers (`dij`, same stop) and the exact times (`truth`, from petgraph).
fn check_ch_against(
    seed: u64,
    ch: &[Outcome],
    dij: &[Outcome],
    full_dij: &[Outcome],
    truth: &[Option<u32>],
    stop: Stop,
) {
    let reached: Vec<u32> = ch
        .iter()
        .filter_map(|o| o.reach().map(|x| x.time_ms))
        .collect();
    let worst = reached.iter().copied().max().unwrap_or(0);
    let reachable = truth
        .iter()
        .filter(|t| t.is_some_and(|t| t <= stop.max_time_ms.unwrap_or(u32::MAX)))
        .count();
    let k = stop.nearest.unwrap_or(truth.len()).min(truth.len());
    if k > 0 {
        assert!(reached.len() >= k.min(reachable), "seed {seed}");
    }
    for i in 0..truth.len() {
        match ch[i] {
            Outcome::Reached(x) => {
                assert_eq!(Some(x.time_ms), truth[i], "seed {seed} goal {i}");
                // Whatever the CH reports, the Dijkstra reports too (it may report a
                // few more: it stops at the first node at or past the k-th cost) —
                // except ties at the k-th cost, which either may leave out.
                match dij[i] {
                    Outcome::Reached(y) => {
                        assert_eq!(x.time_ms, y.time_ms, "seed {seed} goal {i}");
                    }
                    _ => assert_eq!(x.time_ms, worst, "seed {seed} goal {i}: {:?}", dij[i]),
                }
                // Lengths agree with the Dijkstra's path; on equal-time ties another
                // path of the same time may be taken.
                let y = full_dij[i].reach().expect("reached");
                if (x.distance_m - y.distance_m).abs() > 0.05 {
                    // Only allowed when another path has the same time.
                    assert_eq!(x.time_ms, y.time_ms, "seed {seed} goal {i}");
                    TIES.with(|t| t.set(t.get() + 1));
                }
            }
            Outcome::Unreachable => {
                assert_eq!(truth[i], None, "seed {seed} goal {i}");
                assert_eq!(dij[i], Outcome::Unreachable, "seed {seed} goal {i}");
            }
            Outcome::NotSettled => {
                // Left out: beyond the k-th, or beyond the limit, or unreachable with
                // an early stop; and never something the Dijkstra reported as final
                // below the k-th cost.
                if let Some(t) = truth[i] {
                    assert!(
                        t >= worst || stop.max_time_ms.is_some_and(|m| t > m) || k == 0,
                        "seed {seed} goal {i}"
                    );
                    if let Outcome::Reached(y) = dij[i] {
                        assert!(
                            y.time_ms > worst || (y.time_ms == worst && k > 0),
                            "seed {seed} goal {i}"
                        );
                    }
                } else {
                    assert_ne!(dij[i], Outcome::Unreachable, "seed {seed} goal {i}");
                }
            }
        }
    }
}

thread_local! {
    static TIES: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

#[test]
fn contraction_hierarchies_equal_dijkstra_and_petgraph() {
    let mut queries = 0;
    for seed in 0..300 {
        let net = random_network(seed);
        assert!(net.graph.ch.is_some());
        let times = petgraph_times(&net.graph);
        let mut ch = net.router();
        assert!(ch.ch.is_some());
        let mut dij = net.dijkstra_router();
        let mut rng = ChaCha8Rng::seed_from_u64(seed + 7000);

        // Junction to junction.
        let mut hs = satria_roads::ch::ChSearch::new(net.graph.clone());
        for _ in 0..5 {
            let a = rng.gen_range(0..net.graph.node_count() as u32);
            let reference = times(a);
            for b in 0..net.graph.node_count() as u32 {
                assert_eq!(hs.node_time(a, b), reference[b as usize], "seed {seed}");
            }
        }

        for _ in 0..4 {
            let target = random_snap(&mut rng, &net);
            let units: Vec<Snap> = (0..rng.gen_range(1..30))
                .map(|_| random_snap(&mut rng, &net))
                .collect();
            let to_target: Vec<Option<u32>> = units
                .iter()
                .map(|u| reference_time_ms(&net.graph, &times, u, &target))
                .collect();
            let from_target: Vec<Option<u32>> = units
                .iter()
                .map(|u| reference_time_ms(&net.graph, &times, &target, u))
                .collect();
            let full_m2o = dij.many_to_one(&units, &target, Stop::default());
            let full_o2m = dij.one_to_many(&target, &units, Stop::default());
            let stops = [
                Stop::default(),
                Stop {
                    nearest: Some(rng.gen_range(0..=units.len() + 1)),
                    max_time_ms: None,
                },
                Stop {
                    nearest: Some(1),
                    max_time_ms: None,
                },
                Stop {
                    nearest: None,
                    max_time_ms: Some(rng.gen_range(0..120_000)),
                },
                Stop {
                    nearest: Some(rng.gen_range(1..=units.len())),
                    max_time_ms: Some(rng.gen_range(0..120_000)),
                },
            ];
            for stop in stops {
                queries += 1;
                let a = ch.many_to_one(&units, &target, stop);
                let b = dij.many_to_one(&units, &target, stop);
                check_ch_against(seed, &a, &b, &full_m2o, &to_target, stop);
                if stop == Stop::default() {
                    assert_eq!(
                        a.iter()
                            .map(|o| o.reach().map(|x| x.time_ms))
                            .collect::<Vec<_>>(),
                        b.iter()
                            .map(|o| o.reach().map(|x| x.time_ms))
                            .collect::<Vec<_>>(),
                        "seed {seed}"
                    );
                    assert!(
                        ch.last_settled() > 0
                            || a.iter()
                                .all(|o| *o == Outcome::Unreachable || o.reach().is_some())
                    );
                }
                let a = ch.one_to_many(&target, &units, stop);
                let b = dij.one_to_many(&target, &units, stop);
                check_ch_against(seed, &a, &b, &full_o2m, &from_target, stop);
            }
        }
    }
    let ties = TIES.with(|t| t.get());
    eprintln!("{queries} queries, {ties} equal-time length differences");
    assert!(queries > 1000);
    // Equal-time alternatives are rare on these graphs.
    assert!(
        ties < queries / 10,
        "{ties} length differences in {queries} queries"
    );
}

#[test]
fn a_graph_without_a_hierarchy_gets_one_and_the_artifact_keeps_it() {
    let net = random_network(3);
    let bytes = net.graph.to_bytes();
    let back = Graph::from_bytes(&bytes).expect("round trip");
    assert_eq!(back, *net.graph);
    assert!(back.ch.is_some());
    let mut bare = (*net.graph).clone();
    bare.ch = None;
    let net2 = RoadNetwork::new(bare);
    assert_eq!(net2.graph.ch, net.graph.ch);

    // A version-1 artifact (before hierarchies) is refused with the re-import advice.
    let mut old = bytes.clone();
    old[8..12].copy_from_slice(&1u32.to_le_bytes());
    let err = Graph::from_bytes(&old).expect_err("old version");
    assert!(
        err.contains("artifact version 1") && err.contains("re-import"),
        "{err}"
    );
}
