//! The road layer of Satria: OpenStreetMap import, the road graph artifact, snapping
//! positions onto roads, and exact drive-time search.
//!
//! Invariants: pure library, no async, no global state; the only I/O is reading the
//! OSM file and reading/writing the artifact, at paths the caller gives. A [`Graph`] is
//! immutable once built: share it in an `Arc` and give each searching thread its own
//! [`Dijkstra`] scratch space.

pub mod build;
pub mod ch;
pub mod graph;
pub mod osm;
pub mod search;
pub mod snap;
pub mod tags;

pub use build::BuildStats;
pub use graph::{ArtifactError, Graph};
pub use osm::{BBox, ReadStats};
pub use search::{Dijkstra, DriveTimeEngine, Outcome, Reach, Route, Router, Stop};
pub use snap::{Snap, SnapError, Snapper};
pub use tags::{PolicyOptions, RoadClass};

use std::path::Path;
use std::sync::Arc;

/// An import that failed; it always names the file.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {why}")]
    Invalid { path: String, why: String },
    #[error("{path}: no roads an ambulance can drive{where_}")]
    NoRoads { path: String, where_: String },
}

impl ImportError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> ImportError {
        ImportError::Io {
            path: path.display().to_string(),
            source,
        }
    }
    pub(crate) fn invalid(path: &Path, why: &str) -> ImportError {
        ImportError::Invalid {
            path: path.display().to_string(),
            why: why.to_string(),
        }
    }
}

/// Options of an import.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    pub bbox: Option<BBox>,
    pub policy: PolicyOptions,
}

/// What an import read, kept and dropped.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportReport {
    pub read: ReadStats,
    pub build: BuildStats,
}

/// Reads an OSM file (PBF or XML) and builds the road graph. `progress` is called with
/// the number of bytes read so far.
pub fn import(
    path: &Path,
    opts: ImportOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<(Graph, ImportReport), ImportError> {
    let raw = osm::read(path, opts.bbox, opts.policy, progress)?;
    let where_ = match opts.bbox {
        Some(b) => format!(
            " inside the bbox {},{},{},{}",
            b.min_lon, b.min_lat, b.max_lon, b.max_lat
        ),
        None => String::new(),
    };
    let no_roads = || ImportError::NoRoads {
        path: path.display().to_string(),
        where_: where_.clone(),
    };
    if raw.ways.is_empty() {
        return Err(no_roads());
    }
    let (graph, build) = build::build(&raw).ok_or_else(no_roads)?;
    Ok((
        graph,
        ImportReport {
            read: raw.stats.clone(),
            build,
        },
    ))
}

/// A loaded graph with its segment index and a search engine: what a service needs.
#[derive(Debug)]
pub struct RoadNetwork {
    pub graph: Arc<Graph>,
    pub snapper: Arc<Snapper>,
    pub adjacency: Arc<search::Adjacency>,
}

impl RoadNetwork {
    /// Indexes a graph; one without a contraction hierarchy gets one here.
    pub fn new(mut graph: Graph) -> RoadNetwork {
        if graph.ch.is_none() {
            graph.ch = Some(ch::Hierarchy::build(&graph));
        }
        let snapper = Arc::new(Snapper::new(&graph));
        let adjacency = Arc::new(search::Adjacency::new(&graph));
        RoadNetwork {
            graph: Arc::new(graph),
            snapper,
            adjacency,
        }
    }

    /// Loads an artifact and indexes it.
    pub fn load(path: &Path) -> Result<RoadNetwork, ArtifactError> {
        Ok(RoadNetwork::new(Graph::load(path)?))
    }

    /// A fresh search engine over this network (one per thread): contraction
    /// hierarchies for many-to-one and one-to-many, Dijkstra for routes.
    pub fn router(&self) -> Router {
        let mut r = self.dijkstra_router();
        if self.graph.ch.is_some() {
            r.ch = Some(ch::ChSearch::new(Arc::clone(&self.graph)));
        }
        r
    }

    /// A search engine that answers everything with Dijkstra (the reference).
    pub fn dijkstra_router(&self) -> Router {
        Router {
            dijkstra: Dijkstra::with_adjacency(
                Arc::clone(&self.graph),
                Arc::clone(&self.adjacency),
            ),
            snapper: Arc::clone(&self.snapper),
            ch: None,
        }
    }

    /// Snaps a position with the given distance limit.
    pub fn snap(&self, lat: f64, lon: f64, max_dist_m: f64) -> Result<Snap, SnapError> {
        self.snapper.snap(&self.graph, lat, lon, max_dist_m)
    }
}
