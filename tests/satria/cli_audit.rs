//! Journal integrity (issue 14 items 4 and 5): refusing a tampered journal, accepting
//! one break, signed checkpoints and their export.

use crate::support::{satria, stderr, stdout};
use std::path::Path;
use std::process::{Command, Output};

/// Runs `satria drill` on `data` for `commands` commands with `extra` flags.
fn drill(data: &Path, commands: u64, extra: &[&str]) -> Output {
    let mut args = vec!["drill", "--data-dir", data.to_str().unwrap(), "--commands"];
    let n = commands.to_string();
    args.push(&n);
    args.extend_from_slice(extra);
    satria(&args)
}

fn sql(data: &Path, statement: &str) {
    let db = rusqlite::Connection::open(data.join("journal.sqlite")).unwrap();
    db.execute_batch(statement).unwrap();
}

#[test]
fn drill_refuses_a_tampered_journal_naming_the_row_and_accepts_only_that_row() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let o = drill(&data, 20, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    sql(
        &data,
        "UPDATE entries SET payload = payload || ' ' WHERE row = 9",
    );

    let o = drill(&data, 1, &[]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert_eq!(err.trim().lines().count(), 1, "one clear line: {err}");
    assert!(err.contains("hash chain is broken at row 9"), "{err}");
    assert!(!stdout(&o).contains("ready"), "the engine must not start");

    let o = drill(&data, 1, &["--accept-broken-chain", "10"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("the first broken row is 9"),
        "{}",
        stderr(&o)
    );

    // The environment variable works like the flag.
    let o = Command::new(env!("CARGO_BIN_EXE_satria"))
        .args([
            "drill",
            "--data-dir",
            data.to_str().unwrap(),
            "--commands",
            "3",
        ])
        .env("SATRIA_ACCEPT_BROKEN_CHAIN", "9")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    // Accepted once, the next start is clean, and verify reports the acceptance.
    let o = drill(&data, 3, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = satria(&["audit", "verify", "--data-dir", data.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("accepted break at row 9"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn checkpoints_prove_a_cut_tail_against_the_table_and_an_exported_copy() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let key = dir.path().join("audit.key");
    let o = satria(&["audit", "keygen", "--out", key.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let public = stdout(&o)
        .lines()
        .find_map(|l| l.strip_prefix("public key: ").map(str::to_string))
        .unwrap();
    // Never overwritten.
    let o = satria(&["audit", "keygen", "--out", key.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("refusing to overwrite"),
        "{}",
        stderr(&o)
    );

    // A key inside the data directory, or one that cannot be read, is refused.
    std::fs::create_dir_all(&data).unwrap();
    std::fs::copy(&key, data.join("audit.key")).unwrap();
    let inside = data.join("audit.key");
    let o = drill(&data, 1, &["--audit-key", inside.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("inside the data directory"),
        "{}",
        stderr(&o)
    );
    std::fs::remove_file(&inside).unwrap();
    let o = drill(&data, 1, &["--audit-key", "/nonexistent/audit.key"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("cannot read the audit key"),
        "{}",
        stderr(&o)
    );

    let o = drill(
        &data,
        60,
        &[
            "--audit-key",
            key.to_str().unwrap(),
            "--checkpoint-every-rows",
            "10",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = satria(&[
        "audit",
        "checkpoints",
        "--data-dir",
        data.to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let exported = dir.path().join("checkpoints.json");
    std::fs::write(&exported, &o.stdout).unwrap();
    let cps: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let last = cps.as_array().unwrap().last().unwrap()["row"]
        .as_u64()
        .unwrap();
    assert!(last > 21, "checkpoints after the fleet: {cps}");

    let verify = |extra: &[&str]| {
        let mut a = vec!["audit", "verify", "--data-dir", data.to_str().unwrap()];
        a.extend_from_slice(extra);
        satria(&a)
    };
    let o = verify(&[
        "--public-key",
        &public,
        "--checkpoints",
        exported.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Signed by another key: refused.
    let other = dir.path().join("other.key");
    let o = satria(&["audit", "keygen", "--out", other.to_str().unwrap()]);
    let other_public = stdout(&o)
        .lines()
        .find_map(|l| l.strip_prefix("public key: ").map(str::to_string))
        .unwrap();
    let o = verify(&["--public-key", &other_public]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("not by the expected key"),
        "{}",
        stderr(&o)
    );

    // Cut the tail, move the head back, and cut the checkpoint table too.
    let keep = last - 5;
    sql(
        &data,
        &format!(
            "DELETE FROM entries WHERE row > {keep};
             UPDATE chain_head SET row = {keep}, hash = (SELECT hash FROM entries WHERE row = {keep});
             UPDATE verified_point SET row = {keep}, hash = (SELECT hash FROM entries WHERE row = {keep});
             DELETE FROM checkpoints WHERE row > {keep};"
        ),
    );
    let o = verify(&[]);
    assert!(
        o.status.success(),
        "the chain alone cannot see it: {}",
        stderr(&o)
    );
    let o = verify(&["--checkpoints", exported.to_str().unwrap()]);
    assert!(!o.status.success());
    let err = stderr(&o);
    // Named at the first exported checkpoint past the new end.
    let first_cut = cps
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["row"].as_u64())
        .find(|r| *r > keep)
        .unwrap();
    assert!(err.contains(&format!("BROKEN at row {first_cut}")), "{err}");
    assert!(err.contains("exported checkpoint"), "{err}");
}
