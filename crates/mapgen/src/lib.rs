//! Satria's stand-in road network of Banyumas regency, generated from the region facts
//! in `satria-region` and written as a real `.osm.pbf` (or OSM XML for small debugging
//! outputs), so the project's importer reads it exactly like real OpenStreetMap data.
//!
//! What the network has, and why (the importer must handle all of it):
//! - street grids in every desa/kelurahan, sized by area and dense in the four Purwokerto
//!   kecamatan; jittered, rotated, with missing links and bends (degree-2 chains);
//! - `tertiary`/`secondary` roads between neighbouring desa and `primary` roads between
//!   kecamatan centres (a spanning network plus extra links to near neighbours);
//! - one-way couplets in central Purwokerto (`oneway=yes` and `oneway=-1`) and two
//!   roundabouts;
//! - the Kali Serayu as a barrier crossed only at five bridges (`bridge=yes`, `layer=1`);
//! - a `service` road to every hospital and puskesmas, whose node carries its `amenity`;
//! - tagging found in real data: `maxspeed` as numbers and as `ID:urban`/`ID:rural`,
//!   `surface`, `access=private` estates, `highway=track`, `access=no` + `emergency=yes`.
//!
//! Deterministic: the same seed and scale give the same dataset and the same file bytes.

mod geom;
mod names;
mod network;
mod pbf;
mod summary;
mod xml;

pub use pbf::write_pbf;
pub use summary::{Summary, summarize};
pub use xml::write_xml;

use satria_region::{LatLon, Region};

/// Generation options.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    /// Seed of the ChaCha8 generator: the same seed gives the same network.
    pub seed: u64,
    /// Size factor: 1.0 gives about 200,000 junctions; the count scales roughly linearly
    /// (every desa keeps at least a 2×2 grid, so tiny scales are a little larger).
    pub scale: f64,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            seed: 119,
            scale: 1.0,
        }
    }
}

/// An OSM node. Coordinates in 1e-7 degrees, as OSM stores them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsmNode {
    pub id: i64,
    pub lat_e7: i32,
    pub lon_e7: i32,
    pub tags: Vec<(String, String)>,
}

/// An OSM way: node ids in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsmWay {
    pub id: i64,
    pub refs: Vec<i64>,
    pub tags: Vec<(String, String)>,
}

/// A generated dataset: nodes and ways, each sorted by ascending id.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Dataset {
    pub nodes: Vec<OsmNode>,
    pub ways: Vec<OsmWay>,
}

impl Dataset {
    /// The node with that id (binary search: nodes are sorted by id).
    pub fn node(&self, id: i64) -> Option<&OsmNode> {
        self.nodes
            .binary_search_by_key(&id, |n| n.id)
            .ok()
            .map(|i| &self.nodes[i])
    }
}

impl OsmNode {
    /// The value of tag `key`, if any.
    pub fn tag(&self, key: &str) -> Option<&str> {
        find_tag(&self.tags, key)
    }
    /// The position in degrees.
    pub fn latlon(&self) -> LatLon {
        LatLon {
            lat: self.lat_e7 as f64 * 1e-7,
            lon: self.lon_e7 as f64 * 1e-7,
        }
    }
}

impl OsmWay {
    /// The value of tag `key`, if any.
    pub fn tag(&self, key: &str) -> Option<&str> {
        find_tag(&self.tags, key)
    }
}

fn find_tag<'a>(tags: &'a [(String, String)], key: &str) -> Option<&'a str> {
    tags.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// Generates the Banyumas road network.
pub fn generate(region: &Region, opts: &Options) -> Dataset {
    network::generate(region, opts)
}

/// The Kali Serayu polyline used as the barrier, east to west. Its ends reach beyond the
/// regency, so the only way between the banks is over a bridge.
pub fn serayu_river() -> Vec<LatLon> {
    geom::serayu_latlon()
}

/// True for ways an ambulance may use under the importer's default policy: a road class
/// from `motorway` to `service` (not `track`), not `area=yes`, not `access`/`motor_vehicle`/
/// `motorcar` `no|private` unless `emergency=yes|designated`, not `oneway=reversible`.
/// Junction counts and connectivity are computed over these ways.
pub fn is_routable(tags: &[(String, String)]) -> bool {
    let t = |k: &str| find_tag(tags, k);
    let Some(highway) = t("highway") else {
        return false;
    };
    let road = matches!(
        highway,
        "motorway"
            | "motorway_link"
            | "trunk"
            | "trunk_link"
            | "primary"
            | "primary_link"
            | "secondary"
            | "secondary_link"
            | "tertiary"
            | "tertiary_link"
            | "unclassified"
            | "residential"
            | "living_street"
            | "service"
    );
    let closed = |k: &str| matches!(t(k), Some("no" | "private"));
    let emergency = matches!(t("emergency"), Some("yes" | "designated"));
    road && t("area") != Some("yes")
        && (emergency || !(closed("access") || closed("motor_vehicle") || closed("motorcar")))
        && !matches!(t("oneway"), Some("reversible" | "alternating"))
}
