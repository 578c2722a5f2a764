//! The road graph as flat arrays, and its binary artifact.
//!
//! Nodes are junctions (chains of degree-2 OSM nodes are contracted into *pieces*),
//! numbered in Hilbert-curve order so that nodes close on the ground are close in memory.
//! Edges are stored twice in compressed-sparse-row form: by tail for forward searches
//! and by head for backward (many-to-one) searches. Every edge drives along one piece,
//! forwards or backwards; pieces keep the geometry so routes can be drawn.
//!
//! Invariants (checked by [`Graph::validate`] on load):
//! - `first_out` and `first_in` have `node_count + 1` entries, start at 0, never decrease
//!   and end at `edge_count`;
//! - every head, tail and piece index is in range; every piece has at least two points;
//! - an edge's weight is its piece's weight; `piece_fwd_edge`/`piece_bwd_edge` point back
//!   to the edges that drive the piece.

use crate::tags::RoadClass;
use std::io::Write;
use std::path::Path;

/// No edge (a one-way piece has no backward edge), no name.
pub const NONE: u32 = u32::MAX;

const MAGIC: &[u8; 8] = b"SATRIARG";
/// Version of the artifact layout; bump on any change to the byte layout.
pub const ARTIFACT_VERSION: u32 = 2;
const HEADER_LEN: usize = 8 + 4 + 8 + 4;

/// An error reading or writing a graph artifact.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a Satria road graph artifact ({why})")]
    Invalid { path: String, why: String },
}

/// The road graph. Fields are public for fast read access by the search; build one with
/// [`crate::import`] or [`Graph::load`], never by hand.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Graph {
    pub node_lat_e7: Vec<i32>,
    pub node_lon_e7: Vec<i32>,
    /// Forward CSR: edges leaving node `n` are `first_out[n]..first_out[n+1]`.
    pub first_out: Vec<u32>,
    pub head: Vec<u32>,
    pub weight_ms: Vec<u32>,
    /// The piece an edge drives; the backward edge of a two-way piece drives it reversed.
    pub edge_piece: Vec<u32>,
    /// Backward CSR: edges entering node `n` are `first_in[n]..first_in[n+1]`.
    pub first_in: Vec<u32>,
    pub in_tail: Vec<u32>,
    pub in_weight_ms: Vec<u32>,
    /// The forward edge id of each backward entry.
    pub in_edge: Vec<u32>,
    /// Geometry of piece `p` is `coords[piece_first_coord[p]..piece_first_coord[p+1]]`,
    /// from node `piece_from[p]` to node `piece_to[p]`.
    pub piece_first_coord: Vec<u32>,
    pub coord_lat_e7: Vec<i32>,
    pub coord_lon_e7: Vec<i32>,
    pub piece_from: Vec<u32>,
    pub piece_to: Vec<u32>,
    /// Length in decimetres.
    pub piece_len_dm: Vec<u32>,
    /// Drive time along the whole piece, the same both ways.
    pub piece_weight_ms: Vec<u32>,
    pub piece_class: Vec<u8>,
    /// Index into `names`, or [`NONE`].
    pub piece_name: Vec<u32>,
    /// The edge driving the piece from `piece_from` to `piece_to`, or [`NONE`].
    pub piece_fwd_edge: Vec<u32>,
    /// The edge driving the piece from `piece_to` to `piece_from`, or [`NONE`].
    pub piece_bwd_edge: Vec<u32>,
    pub names: Vec<String>,
    /// The contraction hierarchy for fast many-to-one searches, built at import.
    pub ch: Option<crate::ch::Hierarchy>,
}

impl Graph {
    pub fn node_count(&self) -> usize {
        self.node_lat_e7.len()
    }
    pub fn edge_count(&self) -> usize {
        self.head.len()
    }
    pub fn piece_count(&self) -> usize {
        self.piece_from.len()
    }

    /// The range of edges leaving node `n`.
    #[inline]
    pub fn out_edges(&self, n: u32) -> std::ops::Range<usize> {
        self.first_out[n as usize] as usize..self.first_out[n as usize + 1] as usize
    }

    /// The range of backward entries for edges entering node `n`.
    #[inline]
    pub fn in_edges(&self, n: u32) -> std::ops::Range<usize> {
        self.first_in[n as usize] as usize..self.first_in[n as usize + 1] as usize
    }

    /// Position of node `n` as (lat, lon) degrees.
    pub fn node_latlon(&self, n: u32) -> (f64, f64) {
        (
            self.node_lat_e7[n as usize] as f64 * 1e-7,
            self.node_lon_e7[n as usize] as f64 * 1e-7,
        )
    }

    /// Length of piece `p` in metres.
    pub fn piece_len_m(&self, p: u32) -> f64 {
        self.piece_len_dm[p as usize] as f64 / 10.0
    }

    /// The points of piece `p` as (lat_e7, lon_e7), from `piece_from` to `piece_to`.
    pub fn piece_coords(&self, p: u32) -> impl DoubleEndedIterator<Item = (i32, i32)> + '_ {
        let r = self.piece_first_coord[p as usize] as usize
            ..self.piece_first_coord[p as usize + 1] as usize;
        r.map(|i| (self.coord_lat_e7[i], self.coord_lon_e7[i]))
    }

    /// The road class of piece `p`.
    pub fn piece_class(&self, p: u32) -> RoadClass {
        RoadClass::from_u8(self.piece_class[p as usize]).unwrap_or(RoadClass::Service)
    }

    /// The name of piece `p`, if tagged.
    pub fn piece_name(&self, p: u32) -> Option<&str> {
        let i = self.piece_name[p as usize];
        (i != NONE).then(|| self.names[i as usize].as_str())
    }

    /// Whether edge `e` drives its piece backwards (from `piece_to` to `piece_from`).
    pub fn edge_reversed(&self, e: usize) -> bool {
        self.piece_bwd_edge[self.edge_piece[e] as usize] == e as u32
    }

    /// Length of edge `e` in decimetres.
    #[inline]
    pub fn edge_len_dm(&self, e: usize) -> u32 {
        self.piece_len_dm[self.edge_piece[e] as usize]
    }

    /// The bounds of all geometry as (min_lat, min_lon, max_lat, max_lon) degrees.
    pub fn bounds(&self) -> (f64, f64, f64, f64) {
        let min = |v: &[i32]| v.iter().copied().min().unwrap_or(0) as f64 * 1e-7;
        let max = |v: &[i32]| v.iter().copied().max().unwrap_or(0) as f64 * 1e-7;
        (
            min(&self.coord_lat_e7),
            min(&self.coord_lon_e7),
            max(&self.coord_lat_e7),
            max(&self.coord_lon_e7),
        )
    }

    /// Checks the structural invariants listed in the module docs, so that a damaged
    /// artifact is refused on load instead of panicking inside a search.
    pub fn validate(&self) -> Result<(), String> {
        let n = self.node_count();
        let m = self.edge_count();
        let p = self.piece_count();
        let csr = |name: &str, first: &[u32]| -> Result<(), String> {
            if first.len() != n + 1 || first[0] != 0 || first[n] as usize != m {
                return Err(format!("{name} has the wrong length or bounds"));
            }
            if first.windows(2).any(|w| w[0] > w[1]) {
                return Err(format!("{name} decreases"));
            }
            Ok(())
        };
        if self.node_lon_e7.len() != n {
            return Err("node arrays differ in length".into());
        }
        csr("first_out", &self.first_out)?;
        csr("first_in", &self.first_in)?;
        for (name, len) in [
            ("weight_ms", self.weight_ms.len()),
            ("edge_piece", self.edge_piece.len()),
            ("in_tail", self.in_tail.len()),
            ("in_weight_ms", self.in_weight_ms.len()),
            ("in_edge", self.in_edge.len()),
        ] {
            if len != m {
                return Err(format!("{name} has {len} entries for {m} edges"));
            }
        }
        for (name, len) in [
            ("piece_to", self.piece_to.len()),
            ("piece_len_dm", self.piece_len_dm.len()),
            ("piece_weight_ms", self.piece_weight_ms.len()),
            ("piece_class", self.piece_class.len()),
            ("piece_name", self.piece_name.len()),
            ("piece_fwd_edge", self.piece_fwd_edge.len()),
            ("piece_bwd_edge", self.piece_bwd_edge.len()),
        ] {
            if len != p {
                return Err(format!("{name} has {len} entries for {p} pieces"));
            }
        }
        if self.piece_first_coord.len() != p + 1
            || self.piece_first_coord[0] != 0
            || self.piece_first_coord[p] as usize != self.coord_lat_e7.len()
            || self.coord_lon_e7.len() != self.coord_lat_e7.len()
            || self.piece_first_coord.windows(2).any(|w| w[1] < w[0] + 2)
        {
            return Err("piece geometry index is inconsistent".into());
        }
        if self
            .head
            .iter()
            .chain(&self.in_tail)
            .any(|&v| v as usize >= n)
            || self
                .piece_from
                .iter()
                .chain(&self.piece_to)
                .any(|&v| v as usize >= n)
        {
            return Err("a node index is out of range".into());
        }
        if self.edge_piece.iter().any(|&v| v as usize >= p)
            || self.in_edge.iter().any(|&v| v as usize >= m)
        {
            return Err("an edge or piece index is out of range".into());
        }
        if self
            .piece_name
            .iter()
            .any(|&v| v != NONE && v as usize >= self.names.len())
        {
            return Err("a name index is out of range".into());
        }
        for piece in 0..p {
            for (e, tail, head) in [
                (
                    self.piece_fwd_edge[piece],
                    self.piece_from[piece],
                    self.piece_to[piece],
                ),
                (
                    self.piece_bwd_edge[piece],
                    self.piece_to[piece],
                    self.piece_from[piece],
                ),
            ] {
                if e == NONE {
                    continue;
                }
                let e = e as usize;
                if e >= m
                    || self.edge_piece[e] as usize != piece
                    || self.head[e] != head
                    || !self.out_edges(tail).contains(&e)
                    || self.weight_ms[e] != self.piece_weight_ms[piece]
                {
                    return Err(format!("piece {piece} and its edges disagree"));
                }
            }
        }
        if let Some(ch) = &self.ch {
            ch.validate(n)?;
        }
        Ok(())
    }

    /// Encodes the graph as artifact bytes: a header (magic, version, payload length,
    /// CRC-32 of the payload) then the arrays, little-endian. The same graph always
    /// gives the same bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut payload = Vec::with_capacity(self.edge_count() * 40 + self.coord_lat_e7.len() * 8);
        let u32s = |out: &mut Vec<u8>, v: &[u32]| {
            out.extend_from_slice(&(v.len() as u64).to_le_bytes());
            for x in v {
                out.extend_from_slice(&x.to_le_bytes());
            }
        };
        let i32s = |out: &mut Vec<u8>, v: &[i32]| {
            out.extend_from_slice(&(v.len() as u64).to_le_bytes());
            for x in v {
                out.extend_from_slice(&x.to_le_bytes());
            }
        };
        i32s(&mut payload, &self.node_lat_e7);
        i32s(&mut payload, &self.node_lon_e7);
        u32s(&mut payload, &self.first_out);
        u32s(&mut payload, &self.head);
        u32s(&mut payload, &self.weight_ms);
        u32s(&mut payload, &self.edge_piece);
        u32s(&mut payload, &self.first_in);
        u32s(&mut payload, &self.in_tail);
        u32s(&mut payload, &self.in_weight_ms);
        u32s(&mut payload, &self.in_edge);
        u32s(&mut payload, &self.piece_first_coord);
        i32s(&mut payload, &self.coord_lat_e7);
        i32s(&mut payload, &self.coord_lon_e7);
        u32s(&mut payload, &self.piece_from);
        u32s(&mut payload, &self.piece_to);
        u32s(&mut payload, &self.piece_len_dm);
        u32s(&mut payload, &self.piece_weight_ms);
        payload.extend_from_slice(&(self.piece_class.len() as u64).to_le_bytes());
        payload.extend_from_slice(&self.piece_class);
        u32s(&mut payload, &self.piece_name);
        u32s(&mut payload, &self.piece_fwd_edge);
        u32s(&mut payload, &self.piece_bwd_edge);
        payload.extend_from_slice(&(self.names.len() as u64).to_le_bytes());
        for name in &self.names {
            payload.extend_from_slice(&(name.len() as u64).to_le_bytes());
            payload.extend_from_slice(name.as_bytes());
        }
        // The hierarchy: empty arrays when there is none.
        let arcs = |out: &mut Vec<u8>, v: &[crate::ch::ChArc]| {
            out.extend_from_slice(&(v.len() as u64 * 3).to_le_bytes());
            for a in v {
                out.extend_from_slice(&a.node.to_le_bytes());
                out.extend_from_slice(&a.time_ms.to_le_bytes());
                out.extend_from_slice(&a.len_dm.to_le_bytes());
            }
        };
        let empty = crate::ch::Hierarchy::default();
        let ch = self.ch.as_ref().unwrap_or(&empty);
        u32s(&mut payload, &ch.up_first);
        arcs(&mut payload, &ch.up);
        u32s(&mut payload, &ch.down_first);
        arcs(&mut payload, &ch.down);
        let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&ARTIFACT_VERSION.to_le_bytes());
        out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        out.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        out.extend_from_slice(&payload);
        out
    }

    /// Decodes artifact bytes, checking magic, version, length, checksum and invariants.
    pub fn from_bytes(bytes: &[u8]) -> Result<Graph, String> {
        if bytes.len() < HEADER_LEN || &bytes[..8] != MAGIC {
            return Err("wrong magic bytes".into());
        }
        let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
        if version != ARTIFACT_VERSION {
            return Err(format!(
                "artifact version {version}, this build reads version {ARTIFACT_VERSION}: re-import the map"
            ));
        }
        let len = u64::from_le_bytes(bytes[12..20].try_into().expect("8 bytes"));
        let crc = u32::from_le_bytes(bytes[20..24].try_into().expect("4 bytes"));
        let payload = &bytes[HEADER_LEN..];
        if payload.len() as u64 != len {
            return Err(format!(
                "payload is {} bytes, header says {len}: truncated or padded",
                payload.len()
            ));
        }
        if crc32fast::hash(payload) != crc {
            return Err("checksum mismatch: the file is damaged".into());
        }
        let mut r = Reader { buf: payload };
        let g = Graph {
            node_lat_e7: r.i32s()?,
            node_lon_e7: r.i32s()?,
            first_out: r.u32s()?,
            head: r.u32s()?,
            weight_ms: r.u32s()?,
            edge_piece: r.u32s()?,
            first_in: r.u32s()?,
            in_tail: r.u32s()?,
            in_weight_ms: r.u32s()?,
            in_edge: r.u32s()?,
            piece_first_coord: r.u32s()?,
            coord_lat_e7: r.i32s()?,
            coord_lon_e7: r.i32s()?,
            piece_from: r.u32s()?,
            piece_to: r.u32s()?,
            piece_len_dm: r.u32s()?,
            piece_weight_ms: r.u32s()?,
            piece_class: {
                let n = r.len()?;
                r.take(n)?.to_vec()
            },
            piece_name: r.u32s()?,
            piece_fwd_edge: r.u32s()?,
            piece_bwd_edge: r.u32s()?,
            names: {
                let n = r.len()?;
                let mut names = Vec::with_capacity(n.min(1 << 20));
                for _ in 0..n {
                    let k = r.len()?;
                    let s = std::str::from_utf8(r.take(k)?)
                        .map_err(|_| "a name is not UTF-8".to_string())?;
                    names.push(s.to_string());
                }
                names
            },
            ch: {
                let up_first = r.u32s()?;
                let up = r.arcs()?;
                let down_first = r.u32s()?;
                let down = r.arcs()?;
                (!up_first.is_empty()).then_some(crate::ch::Hierarchy {
                    up_first,
                    up,
                    down_first,
                    down,
                })
            },
        };
        if !r.buf.is_empty() {
            return Err("trailing bytes after the last array".into());
        }
        g.validate()?;
        Ok(g)
    }

    /// Whether `path` starts like an artifact this build reads (magic and
    /// version; the rest is checked by [`Graph::load`]). Reads 12 bytes, so a
    /// derived artifact made by an older build can be re-imported up front.
    pub fn is_current_artifact(path: &Path) -> bool {
        use std::io::Read;
        let mut head = [0u8; 12];
        std::fs::File::open(path)
            .and_then(|mut f| f.read_exact(&mut head))
            .is_ok()
            && &head[..8] == MAGIC
            && head[8..12] == ARTIFACT_VERSION.to_le_bytes()
    }

    /// Loads an artifact written by [`Graph::save`].
    pub fn load(path: &Path) -> Result<Graph, ArtifactError> {
        let bytes = std::fs::read(path).map_err(|source| ArtifactError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Graph::from_bytes(&bytes).map_err(|why| ArtifactError::Invalid {
            path: path.display().to_string(),
            why,
        })
    }

    /// Writes the artifact atomically: to a temporary file in the same folder, synced,
    /// then renamed over `path`, so a crash or error never leaves a half-written graph.
    pub fn save(&self, path: &Path) -> Result<(), ArtifactError> {
        let io = |source| ArtifactError::Io {
            path: path.display().to_string(),
            source,
        };
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => std::path::PathBuf::from("."),
        };
        std::fs::create_dir_all(&dir).map_err(io)?;
        let file_name = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = dir.join(format!(".{file_name}.{}.tmp", std::process::id()));
        let result = (|| {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&self.to_bytes())?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)?;
            // Make the rename itself durable.
            if let Ok(d) = std::fs::File::open(&dir) {
                let _ = d.sync_all();
            }
            Ok(())
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result.map_err(io)
    }
}

struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.buf.len() < n {
            return Err("an array runs past the end of the payload".into());
        }
        let (a, b) = self.buf.split_at(n);
        self.buf = b;
        Ok(a)
    }
    fn len(&mut self) -> Result<usize, String> {
        let n = u64::from_le_bytes(self.take(8)?.try_into().expect("8 bytes"));
        usize::try_from(n).map_err(|_| "an array length is too large".to_string())
    }
    fn u32s(&mut self) -> Result<Vec<u32>, String> {
        let n = self.len()?;
        let bytes = self.take(n.checked_mul(4).ok_or("an array length is too large")?)?;
        Ok(bytes
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect())
    }
    fn arcs(&mut self) -> Result<Vec<crate::ch::ChArc>, String> {
        let v = self.u32s()?;
        if v.len() % 3 != 0 {
            return Err("a hierarchy arc array is cut short".into());
        }
        Ok(v.chunks_exact(3)
            .map(|c| crate::ch::ChArc {
                node: c[0],
                time_ms: c[1],
                len_dm: c[2],
            })
            .collect())
    }
    fn i32s(&mut self) -> Result<Vec<i32>, String> {
        let n = self.len()?;
        let bytes = self.take(n.checked_mul(4).ok_or("an array length is too large")?)?;
        Ok(bytes
            .chunks_exact(4)
            .map(|c| i32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect())
    }
}
