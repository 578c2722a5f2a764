//! Embeds every file under `web/` (the consoles) into the server binary: writes
//! `$OUT_DIR/web_files.rs`, a table of (URL path, include_bytes!, ETag), so a page
//! added under `web/` (Pattas, Salinmas, ...) is served with no code change.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = rd.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with('.') {
            continue;
        }
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// FNV-1a, 64 bits: an ETag that changes when the bytes do.
fn fnv(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn main() {
    let root =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("manifest dir")).join("web");
    println!("cargo:rerun-if-changed=web");
    let mut files = Vec::new();
    walk(&root, &mut files);
    let mut src = String::from(
        "/// (URL path, bytes, ETag) of every file under `web/`.\npub static FILES: &[(&str, &[u8], &str)] = &[\n",
    );
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let rel = f
            .strip_prefix(&root)
            .expect("under web/")
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        let bytes = std::fs::read(f).expect("read a web file");
        let _ = writeln!(
            src,
            "    ({:?}, include_bytes!({:?}), \"\\\"{:016x}\\\"\"),",
            format!("/{rel}"),
            f.display().to_string(),
            fnv(&bytes)
        );
    }
    src.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("out dir")).join("web_files.rs");
    std::fs::write(out, src).expect("write web_files.rs");
}
