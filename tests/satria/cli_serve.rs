//! `satria serve` for a newcomer: a port already taken is said at once, before any
//! account is created or map generated.

use crate::support::{satria, stderr, stdout};

#[test]
fn serve_on_a_taken_port_says_so_at_once_and_creates_no_account() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("satria-data");
    // Another program holds the port.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let o = satria(&[
        "serve",
        "--data-dir",
        data.to_str().unwrap(),
        "--addr",
        &addr,
    ]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains(&format!("cannot listen on {addr}")), "{err}");
    assert!(err.contains("--addr"), "the way out is named: {err}");
    let out = stdout(&o);
    assert!(!out.contains("demo accounts"), "no password printed: {out}");
    assert!(!out.contains("generating"), "no map generated first: {out}");
    assert!(
        !data.join("auth.sqlite").exists(),
        "no account created before the port is ours"
    );
}
