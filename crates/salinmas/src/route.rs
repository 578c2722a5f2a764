//! Collection routes: the order of a collector's stops for a day that keeps
//! drive time low, from a drive-time matrix (the road graph's in the server,
//! [`StraightLine`] where there is none).
//!
//! [`order_stops`] builds a nearest-neighbour path from the start and improves
//! it with 2-opt (and or-opt) until no move shortens it. Matrices may be
//! asymmetric (one-way streets): every reversal is costed in both directions.

/// Drive times between points.
pub trait DriveTimes: Send + Sync {
    /// Drive time in seconds from every point to every point (row = from),
    /// `f64::INFINITY` when unreachable. Points are `(lat, lon)`.
    fn matrix(&self, points: &[(f64, f64)]) -> Result<Vec<Vec<f64>>, String>;
}

/// Great-circle distance at a constant speed: the stand-in when there is no
/// road graph (and the tests' drive times).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StraightLine {
    pub speed_kmh: f64,
}

/// Haversine distance in metres between two `(lat, lon)` points.
pub fn haversine_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    const R: f64 = 6_371_008.8;
    let (la1, la2) = (a.0.to_radians(), b.0.to_radians());
    let dlat = la2 - la1;
    let dlon = (b.1 - a.1).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * R * h.sqrt().min(1.0).asin()
}

impl DriveTimes for StraightLine {
    fn matrix(&self, points: &[(f64, f64)]) -> Result<Vec<Vec<f64>>, String> {
        if !self.speed_kmh.is_finite() || self.speed_kmh <= 0.0 {
            return Err(format!(
                "speed {} km/h is not a positive number",
                self.speed_kmh
            ));
        }
        let mps = self.speed_kmh / 3.6;
        Ok(points
            .iter()
            .map(|&a| points.iter().map(|&b| haversine_m(a, b) / mps).collect())
            .collect())
    }
}

/// What an unreachable (or missing, negative, NaN) matrix entry costs while
/// ordering: larger than any real day of driving, still finite so that sums
/// and differences stay numbers.
const UNREACHABLE: f64 = 1e12;

fn cost(matrix: &[Vec<f64>], i: usize, j: usize) -> f64 {
    match matrix.get(i).and_then(|r| r.get(j)) {
        Some(&v) if v.is_finite() && v >= 0.0 => v,
        _ => UNREACHABLE,
    }
}

/// Total drive time of visiting `order` in sequence (an open path), with
/// unreachable legs counted as `f64::INFINITY`.
pub fn path_cost(matrix: &[Vec<f64>], order: &[usize]) -> f64 {
    order
        .windows(2)
        .map(|w| match cost(matrix, w[0], w[1]) {
            c if c >= UNREACHABLE => f64::INFINITY,
            c => c,
        })
        .sum()
}

/// The order to visit every point of `matrix` (an n×n drive-time matrix,
/// row = from), starting at `start`: an open path, so the last stop does not
/// return. Returns a permutation of `0..n` whose first element is `start`
/// (index 0 when `start` is out of range; empty for an empty matrix).
///
/// Nearest neighbour, then 2-opt (reverse any segment after the start that
/// shortens the path) and or-opt (move a run of stops) until no move gains,
/// so the result is never longer than the nearest-neighbour path. The same is
/// repeated from the few next-nearest first stops and the shortest kept.
pub fn order_stops(matrix: &[Vec<f64>], start: usize) -> Vec<usize> {
    let n = matrix.len();
    if n == 0 {
        return Vec::new();
    }
    let start = if start < n { start } else { 0 };
    // Candidate first stops, nearest first: the nearest is plain nearest
    // neighbour; the others let the search sweep the other side of the start
    // first, which no single local move can switch to.
    let mut firsts: Vec<usize> = (0..n).filter(|&j| j != start).collect();
    firsts.sort_by(|&a, &b| {
        cost(matrix, start, a)
            .total_cmp(&cost(matrix, start, b))
            .then(a.cmp(&b))
    });
    firsts.truncate(FIRST_STOPS_TRIED);
    let mut best: Option<(f64, Vec<usize>)> = None;
    for (k, &first) in firsts.iter().enumerate() {
        let mut path = nearest_neighbour(matrix, start, first);
        if k == 0 || n <= OR_OPT_ANY_RUN {
            improve(matrix, &mut path);
        }
        let c = path_cost_raw(matrix, &path);
        if best.as_ref().is_none_or(|(b, _)| c < *b) {
            best = Some((c, path));
        }
    }
    best.map(|(_, p)| p).unwrap_or_else(|| vec![start])
}

/// How many first stops [`order_stops`] tries.
const FIRST_STOPS_TRIED: usize = 8;

/// start, first, then always the nearest unvisited (ties to the lower index).
fn nearest_neighbour(matrix: &[Vec<f64>], start: usize, first: usize) -> Vec<usize> {
    let n = matrix.len();
    let mut path = Vec::with_capacity(n);
    let mut seen = vec![false; n];
    for s in [start, first] {
        path.push(s);
        seen[s] = true;
    }
    let mut cur = first;
    for _ in 2..n {
        let next = (0..n)
            .filter(|&j| !seen[j])
            .min_by(|&a, &b| cost(matrix, cur, a).total_cmp(&cost(matrix, cur, b)))
            .unwrap_or(cur);
        seen[next] = true;
        path.push(next);
        cur = next;
    }
    path
}

/// Improves an open path in place, the first element fixed: the best 2-opt
/// reversal while one gains, then the best or-opt move (a run of stops moved
/// elsewhere, which 2-opt alone cannot do on an open path: sweeping the other
/// side of the start first), until neither gains.
fn improve(matrix: &[Vec<f64>], path: &mut Vec<usize>) {
    let n = path.len();
    if n < 3 {
        return;
    }
    // Each move shortens the path by more than the tolerance, so this ends;
    // the bound is a guard against pathological float behaviour only.
    for _ in 0..(n * n * 16).max(1000) {
        let total = path_cost_raw(matrix, path);
        let tolerance = 1e-9 * total.max(1.0);
        if !two_opt_step(matrix, path, tolerance) && !or_opt_step(matrix, path, tolerance) {
            return;
        }
    }
}

fn path_cost_raw(matrix: &[Vec<f64>], path: &[usize]) -> f64 {
    path.windows(2).map(|w| cost(matrix, w[0], w[1])).sum()
}

/// Applies the best segment reversal that gains more than `tolerance`.
fn two_opt_step(matrix: &[Vec<f64>], path: &mut [usize], tolerance: f64) -> bool {
    let n = path.len();
    // fwd[t] = cost of the legs before position t walked forwards,
    // back[t] = the same legs walked backwards (matrices may be asymmetric).
    let mut fwd = vec![0.0; n];
    let mut back = vec![0.0; n];
    for t in 1..n {
        fwd[t] = fwd[t - 1] + cost(matrix, path[t - 1], path[t]);
        back[t] = back[t - 1] + cost(matrix, path[t], path[t - 1]);
    }
    let mut best: Option<(usize, usize, f64)> = None;
    for i in 1..n - 1 {
        for k in i + 1..n {
            // Reverse path[i..=k].
            let mut old = cost(matrix, path[i - 1], path[i]) + (fwd[k] - fwd[i]);
            let mut new = cost(matrix, path[i - 1], path[k]) + (back[k] - back[i]);
            if k + 1 < n {
                old += cost(matrix, path[k], path[k + 1]);
                new += cost(matrix, path[i], path[k + 1]);
            }
            let gain = old - new;
            if gain > tolerance && best.is_none_or(|(_, _, g)| gain > g) {
                best = Some((i, k, gain));
            }
        }
    }
    match best {
        Some((i, k, _)) => {
            path[i..=k].reverse();
            true
        }
        None => false,
    }
}

/// Runs of any length are tried on paths up to this many stops (O(n³) a
/// move), runs of up to three beyond.
const OR_OPT_ANY_RUN: usize = 80;

/// Applies the best move of a run of stops (kept in its direction) to after
/// another stop, if it gains more than `tolerance`.
fn or_opt_step(matrix: &[Vec<f64>], path: &mut Vec<usize>, tolerance: f64) -> bool {
    let n = path.len();
    let c = |a: usize, b: Option<&usize>| b.map_or(0.0, |&b| cost(matrix, a, b));
    let mut best: Option<(usize, usize, usize, f64)> = None;
    let longest = if n <= OR_OPT_ANY_RUN { n - 1 } else { 3 };
    for len in 1..=longest {
        for i in 1..n {
            let e = i + len - 1;
            if e >= n {
                break;
            }
            let (prev, first, last, next) = (path[i - 1], path[i], path[e], path.get(e + 1));
            let removed = cost(matrix, prev, first) + c(last, next) - c(prev, next);
            for j in 0..n {
                if (i - 1..=e).contains(&j) {
                    continue;
                }
                let (a, b) = (path[j], path.get(j + 1));
                let added = cost(matrix, a, first) + c(last, b) - c(a, b);
                let gain = removed - added;
                if gain > tolerance && best.is_none_or(|(_, _, _, g)| gain > g) {
                    best = Some((i, len, j, gain));
                }
            }
        }
    }
    let Some((i, len, j, _)) = best else {
        return false;
    };
    let run: Vec<usize> = path.drain(i..i + len).collect();
    let at = if j < i { j + 1 } else { j + 1 - len };
    path.splice(at..at, run);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn nearest_neighbour_cost(m: &[Vec<f64>], start: usize) -> f64 {
        let n = m.len();
        let mut seen = vec![false; n];
        let mut order = vec![start];
        seen[start] = true;
        let mut cur = start;
        for _ in 1..n {
            let next = (0..n)
                .filter(|&j| !seen[j])
                .min_by(|&a, &b| m[cur][a].total_cmp(&m[cur][b]))
                .unwrap();
            seen[next] = true;
            order.push(next);
            cur = next;
        }
        path_cost(m, &order)
    }

    fn brute_force(m: &[Vec<f64>], start: usize) -> f64 {
        fn go(m: &[Vec<f64>], cur: usize, left: &mut Vec<usize>, acc: f64, best: &mut f64) {
            if left.is_empty() {
                *best = best.min(acc);
                return;
            }
            for idx in 0..left.len() {
                let next = left.remove(idx);
                go(m, next, left, acc + m[cur][next], best);
                left.insert(idx, next);
            }
        }
        let mut left: Vec<usize> = (0..m.len()).filter(|&i| i != start).collect();
        let mut best = f64::INFINITY;
        go(m, start, &mut left, 0.0, &mut best);
        best
    }

    fn is_permutation(order: &[usize], n: usize, start: usize) -> bool {
        let mut sorted = order.to_vec();
        sorted.sort_unstable();
        order.first() == Some(&start) && sorted == (0..n).collect::<Vec<_>>()
    }

    fn points(rng: &mut ChaCha8Rng, n: usize) -> Vec<(f64, f64)> {
        (0..n)
            .map(|_| (rng.gen_range(-7.45..-7.38), rng.gen_range(109.20..109.28)))
            .collect()
    }

    #[test]
    fn never_worse_than_nearest_neighbour_and_close_to_the_optimum() {
        let drive = StraightLine { speed_kmh: 25.0 };
        let mut rng = ChaCha8Rng::seed_from_u64(119);
        let mut optimal = 0;
        let trials = 300;
        for t in 0..trials {
            let n = 2 + t % 7;
            let m = drive.matrix(&points(&mut rng, n)).unwrap();
            let start = rng.gen_range(0..n);
            let order = order_stops(&m, start);
            assert!(is_permutation(&order, n, start), "{order:?}");
            let got = path_cost(&m, &order);
            let nn = nearest_neighbour_cost(&m, start);
            let opt = brute_force(&m, start);
            assert!(got <= nn + 1e-6, "2-opt {got} worse than NN {nn}");
            assert!(got >= opt - 1e-6);
            // 2-opt is a local search: within a third of the optimum here.
            assert!(got <= opt * 1.34 + 1e-6, "{got} vs optimum {opt}");
            if got <= opt + 1e-6 {
                optimal += 1;
            }
        }
        assert!(
            optimal * 10 >= trials * 8,
            "optimal in only {optimal}/{trials}"
        );
    }

    #[test]
    fn asymmetric_matrices_are_costed_in_both_directions() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for t in 0..200 {
            let n = 3 + t % 5;
            let m: Vec<Vec<f64>> = (0..n)
                .map(|i| {
                    (0..n)
                        .map(|j| {
                            if i == j {
                                0.0
                            } else {
                                rng.gen_range(60.0..900.0)
                            }
                        })
                        .collect()
                })
                .collect();
            let order = order_stops(&m, 0);
            assert!(is_permutation(&order, n, 0));
            assert!(path_cost(&m, &order) <= nearest_neighbour_cost(&m, 0) + 1e-6);
            assert!(path_cost(&m, &order) >= brute_force(&m, 0) - 1e-6);
        }
    }

    #[test]
    fn collinear_stops_are_visited_in_the_optimal_order() {
        let mut rng = ChaCha8Rng::seed_from_u64(2026);
        let drive = StraightLine { speed_kmh: 30.0 };
        for _ in 0..1000 {
            let n = rng.gen_range(2..10);
            let pts: Vec<(f64, f64)> = (0..n)
                .map(|_| (-7.42, rng.gen_range(109.20..109.28)))
                .collect();
            let m = drive.matrix(&pts).unwrap();
            let start = rng.gen_range(0..n);
            let order = order_stops(&m, start);
            assert!(is_permutation(&order, n, start));
            let got = path_cost(&m, &order);
            let opt = brute_force(&m, start);
            let xs: Vec<f64> = order
                .iter()
                .map(|&i| ((pts[i].1 - 109.2) * 1000.0).round())
                .collect();
            assert!(
                (got - opt).abs() <= 1e-6 * opt.max(1.0),
                "{got} vs {opt} {xs:?}"
            );
        }
    }

    #[test]
    fn degenerate_inputs_do_not_panic() {
        assert!(order_stops(&[], 0).is_empty());
        assert_eq!(order_stops(&[vec![0.0]], 0), vec![0]);
        assert_eq!(order_stops(&[vec![0.0]], 5), vec![0]);
        // Unreachable, NaN and ragged rows still give a permutation.
        let inf = f64::INFINITY;
        let m = vec![
            vec![0.0, inf, 5.0, f64::NAN],
            vec![inf, 0.0, 3.0],
            vec![5.0, 3.0, 0.0, -1.0],
            vec![1.0, 1.0, 1.0, 0.0],
        ];
        let order = order_stops(&m, 0);
        assert!(is_permutation(&order, 4, 0), "{order:?}");
        assert!(path_cost(&m, &[0, 1]).is_infinite());
        assert!(
            StraightLine { speed_kmh: 0.0 }
                .matrix(&[(0.0, 0.0)])
                .is_err()
        );
        assert!(
            StraightLine {
                speed_kmh: f64::NAN
            }
            .matrix(&[(0.0, 0.0)])
            .is_err()
        );
    }

    #[test]
    fn straight_line_drive_times() {
        // One degree of latitude is about 111.2 km: 4.45 h at 25 km/h.
        let m = StraightLine { speed_kmh: 25.0 }
            .matrix(&[(-7.0, 109.0), (-8.0, 109.0)])
            .unwrap();
        assert_eq!(m[0][0], 0.0);
        assert!(
            (m[0][1] - 111_195.0 / (25.0 / 3.6)).abs() < 20.0,
            "{}",
            m[0][1]
        );
        assert_eq!(m[0][1], m[1][0]);
    }
}
