//! The generator's integration tests, one binary (each links the crate once).

mod pbf_roundtrip;
mod structure;
