//! The road layer's integration tests, one binary (each links the crate once).

mod against_petgraph;
mod fixtures;
