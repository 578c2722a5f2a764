//! Criterion benchmarks of the road layer on the default demo region (seed 119, scale
//! 1.0): import of the generated PBF, artifact load, snapping, one-to-one routes and the
//! two dispatch questions (nearest 5 of 60 units, all of 200 units).
//!
//! The demo region is generated once into `target/bench-data/` on first run.
//! Run: `cargo bench -p satria --bench roads`.

use criterion::{Criterion, criterion_group, criterion_main};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use satria_roads::{DriveTimeEngine, Graph, ImportOptions, RoadNetwork, Snap, Snapper, Stop};
use std::hint::black_box;

#[path = "common/mod.rs"]
mod common;
use common::demo_files;

fn random_snaps(net: &RoadNetwork, rng: &mut ChaCha8Rng, n: usize) -> Vec<Snap> {
    let (a, b, c, d) = net.graph.bounds();
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        if let Ok(s) = net.snap(rng.gen_range(a..c), rng.gen_range(b..d), 1000.0) {
            out.push(s);
        }
    }
    out
}

fn benches(c: &mut Criterion) {
    let (pbf, graph_path) = demo_files();
    let mut group = c.benchmark_group("roads");
    group.sample_size(10);
    group.bench_function("import_demo_pbf", |b| {
        b.iter(|| {
            satria_roads::import(black_box(&pbf), ImportOptions::default(), &mut |_| {})
                .expect("import")
        })
    });
    group.bench_function("load_artifact_and_index", |b| {
        b.iter(|| {
            let g = Graph::load(black_box(&graph_path)).expect("load");
            Snapper::new(&g)
        })
    });
    group.finish();

    let net = RoadNetwork::load(&graph_path).expect("load");
    let mut rng = ChaCha8Rng::seed_from_u64(119);
    let (a, b, cc, d) = net.graph.bounds();
    let points: Vec<(f64, f64)> = (0..1024)
        .map(|_| (rng.gen_range(a..cc), rng.gen_range(b..d)))
        .collect();
    let mut i = 0;
    c.bench_function("snap", |bn| {
        bn.iter(|| {
            i = (i + 1) % points.len();
            let _ = black_box(net.snap(points[i].0, points[i].1, 1000.0));
        })
    });

    let mut router = net.router();
    let pairs: Vec<(Snap, Snap)> = (0..64)
        .map(|_| {
            let s = random_snaps(&net, &mut rng, 2);
            (s[0], s[1])
        })
        .collect();
    let mut k = 0;
    c.bench_function("route_one_to_one", |bn| {
        bn.iter(|| {
            k = (k + 1) % pairs.len();
            black_box(router.route(&pairs[k].0, &pairs[k].1))
        })
    });

    let queries60: Vec<(Snap, Vec<Snap>)> = (0..32)
        .map(|_| {
            (
                random_snaps(&net, &mut rng, 1)[0],
                random_snaps(&net, &mut rng, 60),
            )
        })
        .collect();
    let mut q = 0;
    c.bench_function("many_to_one_nearest_5_of_60", |bn| {
        bn.iter(|| {
            q = (q + 1) % queries60.len();
            let (t, units) = &queries60[q];
            black_box(router.many_to_one(
                units,
                t,
                Stop {
                    nearest: Some(5),
                    max_time_ms: None,
                },
            ))
        })
    });
    let queries200: Vec<(Snap, Vec<Snap>)> = (0..32)
        .map(|_| {
            (
                random_snaps(&net, &mut rng, 1)[0],
                random_snaps(&net, &mut rng, 200),
            )
        })
        .collect();
    c.bench_function("many_to_one_all_of_200", |bn| {
        bn.iter(|| {
            q = (q + 1) % queries200.len();
            let (t, units) = &queries200[q];
            black_box(router.many_to_one(units, t, Stop::default()))
        })
    });
}

criterion_group!(roads, benches);
criterion_main!(roads);
