//! A summary of a generated dataset: what the issue asks to check at a glance (size,
//! road classes, junctions, bridges, one-ways) and what the `mapgen` tools print.

use crate::{Dataset, is_routable};
use satria_region::approx_m;
use std::collections::BTreeMap;
use std::fmt;

/// Counts and lengths of a dataset.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Summary {
    /// All nodes, shape nodes included.
    pub nodes: usize,
    /// All ways, the river included.
    pub ways: usize,
    /// Ways per `highway` value.
    pub ways_per_class: BTreeMap<String, usize>,
    /// Kilometres per `highway` value.
    pub km_per_class: BTreeMap<String, f64>,
    /// Nodes on routable ways (see [`crate::is_routable`]).
    pub routable_nodes: usize,
    /// Routable nodes whose undirected degree is not 2: what is left after the importer
    /// contracts degree-2 chains.
    pub junctions: usize,
    /// Ways tagged `bridge=yes`.
    pub bridges: usize,
    /// Ways with `oneway=yes` or `oneway=-1`.
    pub oneway_ways: usize,
    /// Ways with `oneway=-1`.
    pub reverse_oneway_ways: usize,
    /// Ways tagged `junction=roundabout`.
    pub roundabouts: usize,
    /// Nodes tagged `amenity=hospital`.
    pub hospitals: usize,
    /// Nodes tagged `amenity=clinic`.
    pub clinics: usize,
    /// Highway ways that are not routable (private, tracks).
    pub unroutable_highways: usize,
    /// Ways with `access=no` and `emergency=yes`.
    pub emergency_only: usize,
    /// Ways with a `maxspeed` tag.
    pub with_maxspeed: usize,
}

/// Counts a dataset. Node ids must be sorted (as [`crate::generate`] makes them).
pub fn summarize(ds: &Dataset) -> Summary {
    let mut s = Summary {
        nodes: ds.nodes.len(),
        ways: ds.ways.len(),
        ..Summary::default()
    };
    let index = |id: i64| ds.nodes.binary_search_by_key(&id, |n| n.id).ok();
    let mut degree = vec![0u32; ds.nodes.len()];
    let mut on_road = vec![false; ds.nodes.len()];
    for w in &ds.ways {
        let routable = is_routable(&w.tags);
        if let Some(class) = w.tag("highway") {
            *s.ways_per_class.entry(class.to_string()).or_default() += 1;
            let m: f64 = w
                .refs
                .windows(2)
                .filter_map(|p| {
                    Some(approx_m(
                        ds.nodes[index(p[0])?].latlon(),
                        ds.nodes[index(p[1])?].latlon(),
                    ))
                })
                .sum();
            *s.km_per_class.entry(class.to_string()).or_default() += m / 1000.0;
            if !routable {
                s.unroutable_highways += 1;
            }
        }
        if routable {
            for pair in w.refs.windows(2) {
                if let (Some(a), Some(b)) = (index(pair[0]), index(pair[1]))
                    && a != b
                {
                    degree[a] += 1;
                    degree[b] += 1;
                    on_road[a] = true;
                    on_road[b] = true;
                }
            }
        }
        s.bridges += usize::from(w.tag("bridge") == Some("yes"));
        s.oneway_ways += usize::from(matches!(w.tag("oneway"), Some("yes" | "-1")));
        s.reverse_oneway_ways += usize::from(w.tag("oneway") == Some("-1"));
        s.roundabouts += usize::from(w.tag("junction") == Some("roundabout"));
        s.emergency_only +=
            usize::from(w.tag("access") == Some("no") && w.tag("emergency") == Some("yes"));
        s.with_maxspeed += usize::from(w.tag("maxspeed").is_some());
    }
    for (i, n) in ds.nodes.iter().enumerate() {
        if on_road[i] {
            s.routable_nodes += 1;
            s.junctions += usize::from(degree[i] != 2);
        }
        s.hospitals += usize::from(n.tag("amenity") == Some("hospital"));
        s.clinics += usize::from(n.tag("amenity") == Some("clinic"));
    }
    s
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "nodes            {:>9}", self.nodes)?;
        writeln!(f, "ways             {:>9}", self.ways)?;
        writeln!(f, "routable nodes   {:>9}", self.routable_nodes)?;
        writeln!(
            f,
            "junctions        {:>9}  (routable nodes of degree != 2)",
            self.junctions
        )?;
        writeln!(f, "highway classes:")?;
        for (class, n) in &self.ways_per_class {
            let km = self.km_per_class.get(class).copied().unwrap_or(0.0);
            writeln!(f, "  {class:<15} {n:>8} ways {km:>9.1} km")?;
        }
        writeln!(f, "bridges          {:>9}", self.bridges)?;
        writeln!(
            f,
            "one-way ways     {:>9}  ({} oneway=-1)",
            self.oneway_ways, self.reverse_oneway_ways
        )?;
        writeln!(f, "roundabouts      {:>9}", self.roundabouts)?;
        writeln!(f, "hospitals        {:>9}", self.hospitals)?;
        writeln!(f, "clinics          {:>9}", self.clinics)?;
        writeln!(
            f,
            "unroutable roads {:>9}  (private, tracks)",
            self.unroutable_highways
        )?;
        writeln!(f, "emergency-only   {:>9}", self.emergency_only)?;
        write!(f, "with maxspeed    {:>9}", self.with_maxspeed)
    }
}
