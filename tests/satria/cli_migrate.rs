//! `satria migrate --from-sqlite DIR --to URL` and `satria audit verify --database
//! URL` (issue 17): a centre's journal copied into PostgreSQL, verified before and
//! after, resumed, and refused where the target is not this journal's. Each test
//! has a PostgreSQL database of its own; without a server they print `skipped: ...`
//! unless `SATRIA_REQUIRE_SERVICES=1`.

use crate::support::{satria, stderr, stdout};
use satria_store::pg::testing::TestDatabase;
use std::path::Path;

fn drill(data: &Path, seed: &str, commands: &str, extra: &[&str]) {
    let mut args = vec![
        "drill",
        "--data-dir",
        data.to_str().unwrap(),
        "--seed",
        seed,
        "--commands",
        commands,
    ];
    args.extend_from_slice(extra);
    let o = satria(&args);
    assert!(o.status.success(), "{}", stderr(&o));
}

fn migrate(data: &Path, url: &str) -> std::process::Output {
    satria(&[
        "migrate",
        "--from-sqlite",
        data.to_str().unwrap(),
        "--to",
        url,
        "--batch",
        "16",
    ])
}

/// The row count `audit verify` reports for a journal.
fn verified_rows(args: &[&str]) -> u64 {
    let mut all = vec!["audit", "verify"];
    all.extend_from_slice(args);
    let o = satria(&all);
    let out = stdout(&o);
    assert!(o.status.success(), "{out}{}", stderr(&o));
    assert!(out.contains("hash chain intact"), "{out}");
    out.split(": ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a row count in {out:?}"))
}

/// `url` with a password that trust authentication ignores: it must never show.
fn with_password(url: &str) -> String {
    url.replacen(
        "postgres://postgres@",
        "postgres://postgres:n0t-for-logs@",
        1,
    )
}

#[test]
fn a_journal_is_copied_verified_and_resumed_and_its_checkpoints_travel_with_it() {
    let Some(db) = TestDatabase::create("migrate") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let key = dir.path().join("audit.key");
    let o = satria(&["audit", "keygen", "--out", key.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let pubkey = stdout(&o)
        .lines()
        .find_map(|l| l.strip_prefix("public key: ").map(str::to_string))
        .expect("keygen prints the public key");
    let signed = [
        "--audit-key",
        key.to_str().unwrap(),
        "--checkpoint-every-rows",
        "10",
    ];
    drill(&data, "7", "25", &signed);
    let url = with_password(&db.url);
    // The centre's accounts, one of them revoked (a row of its access log).
    for name in ["dispatcher1", "admin1"] {
        let o = satria(&[
            "user",
            "add",
            "--data-dir",
            data.to_str().unwrap(),
            "--username",
            name,
            "--password",
            "kata-sandi-panjang",
            "--role",
            "admin",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let o = satria(&[
        "user",
        "revoke",
        "--data-dir",
        data.to_str().unwrap(),
        "--username",
        "dispatcher1",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));

    // The centre's Pattas and Salinmas records (the demo's).
    let now = 1_796_094_000_000;
    satria_pattas::Pattas::open(&data.join("pattas.sqlite"), Default::default())
        .unwrap()
        .seed_demo(now)
        .unwrap();
    satria_salinmas::Salinmas::open(&data.join("salinmas.sqlite"))
        .unwrap()
        .seed_demo(now)
        .unwrap();

    let o = migrate(&data, &url);
    let (out, err) = (stdout(&o), stderr(&o));
    assert!(o.status.success(), "{out}{err}");
    assert!(
        out.contains("accounts copied to")
            && out.contains("2 accounts")
            && out.contains("1 access-log rows"),
        "{out}"
    );
    assert!(
        out.contains("pattas copied to") && out.contains("salinmas copied to"),
        "{out}"
    );
    // Every module row, with its id.
    for (file, table) in [
        ("pattas.sqlite", "pattas_beneficiaries"),
        ("pattas.sqlite", "pattas_cases"),
        ("pattas.sqlite", "pattas_history"),
        ("salinmas.sqlite", "salinmas_accounts"),
        ("salinmas.sqlite", "salinmas_collectors"),
        ("salinmas.sqlite", "salinmas_history"),
    ] {
        let sql = format!("SELECT count(*), coalesce(max(id), 0) FROM {table}");
        let ours: (i64, i64) = rusqlite::Connection::open(data.join(file))
            .unwrap()
            .query_row(&sql, [], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap();
        let row = db.client().query_one(&sql, &[]).unwrap();
        assert!(ours.0 > 0, "{table}: the demo has rows");
        assert_eq!(ours, (row.get(0), row.get(1)), "{table}");
    }
    let o = satria(&["user", "list", "--database", &url]);
    let listed = stdout(&o);
    assert!(
        listed.contains("dispatcher1") && listed.contains("revoked") && listed.contains("admin1"),
        "{listed}"
    );
    // Run again: the accounts are there already, and nothing is written twice.
    let o = migrate(&data, &url);
    assert!(o.status.success(), "{}", stderr(&o));
    for part in ["accounts", "pattas", "salinmas"] {
        assert!(
            stdout(&o).contains(&format!("{part}: postgres://postgres:***@"))
                && stdout(&o)
                    .lines()
                    .any(|l| l.starts_with(&format!("{part}: "))
                        && l.ends_with("already holds this copy; nothing written")),
            "{part}: {}",
            stdout(&o)
        );
    }
    assert!(
        !out.contains("n0t-for-logs") && !err.contains("n0t-for-logs"),
        "{out}{err}"
    );
    assert!(out.contains("postgres://postgres:***@"), "{out}");
    assert!(
        err.lines().any(|l| l.starts_with("copied 0 of")),
        "progress: {err}"
    );
    let source_rows = verified_rows(&["--data-dir", data.to_str().unwrap()]);
    assert!(out.contains(&format!("{source_rows} rows")), "{out}");
    assert_eq!(verified_rows(&["--database", &url]), source_rows);

    // The same rows, byte for byte, in the same order.
    let sqlite = rusqlite::Connection::open(data.join("journal.sqlite")).unwrap();
    let mut stmt = sqlite
        .prepare("SELECT row, stream, seq, kind, payload, recorded_at_ms, hash FROM entries ORDER BY row")
        .unwrap();
    let ours: Vec<(i64, String, i64, String, String, i64, String)> = stmt
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let theirs: Vec<(i64, String, i64, String, String, i64, String)> = db
        .client()
        .query("SELECT row, stream, seq, kind, payload, recorded_at_ms, hash FROM entries ORDER BY row", &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5), r.get(6)))
        .collect();
    assert_eq!(ours, theirs);
    let checkpoints: i64 = db
        .client()
        .query_one("SELECT count(*) FROM checkpoints", &[])
        .unwrap()
        .get(0);
    assert!(
        checkpoints >= 2,
        "the signed checkpoints were copied: {checkpoints}"
    );
    // Checked against the key that signed them, and refused against another.
    let verify_with_key =
        |key: &str| satria(&["audit", "verify", "--database", &url, "--public-key", key]);
    let o = verify_with_key(&pubkey);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = verify_with_key(&"11".repeat(32));
    assert!(
        !o.status.success(),
        "a checkpoint signed by another key is refused"
    );

    // More calls on the old centre; the copy resumes after what it holds.
    drill(&data, "8", "10", &signed);
    let o = migrate(&data, &url);
    let out = stdout(&o);
    assert!(o.status.success(), "{out}{}", stderr(&o));
    assert!(
        out.contains(&format!("resumed after row {source_rows}")),
        "{out}"
    );
    let grown = verified_rows(&["--data-dir", data.to_str().unwrap()]);
    assert!(grown > source_rows);
    assert_eq!(verified_rows(&["--database", &url]), grown);
    // And once more with nothing new: it changes nothing and says so.
    let o = migrate(&data, &url);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains(&format!("resumed after row {grown}")),
        "{}",
        stdout(&o)
    );

    // Edited behind the journal's back: audit verify names the row, exit 1.
    db.client()
        .batch_execute("UPDATE entries SET payload = payload || ' ' WHERE row = 5")
        .unwrap();
    let o = satria(&["audit", "verify", "--database", &url]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("BROKEN at row 5"), "{}", stderr(&o));
    assert!(!stderr(&o).contains("n0t-for-logs"));
}

#[test]
fn a_target_holding_another_journal_or_a_broken_source_is_refused_and_left_unchanged() {
    let Some(db) = TestDatabase::create("migrate_refused") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = (dir.path().join("a"), dir.path().join("b"));
    drill(&first, "1", "8", &[]);
    drill(&second, "2", "12", &[]);
    assert!(migrate(&first, &db.url).status.success());
    let rows_before = verified_rows(&["--database", &db.url]);

    let o = migrate(&second, &db.url);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("holds other data"), "{}", stderr(&o));
    assert_eq!(
        verified_rows(&["--database", &db.url]),
        rows_before,
        "unchanged"
    );

    // A source whose chain is broken is not copied anywhere.
    let Some(fresh) = TestDatabase::create("migrate_broken") else {
        return;
    };
    rusqlite::Connection::open(second.join("journal.sqlite"))
        .unwrap()
        .execute_batch("UPDATE entries SET payload = payload || ' ' WHERE row = 3")
        .unwrap();
    let o = migrate(&second, &fresh.url);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("broken at row 3"), "{}", stderr(&o));
    let tables = fresh.table_count();
    assert_eq!(tables, 0, "nothing was created in the target");
}

#[test]
fn an_unreachable_database_is_named_without_its_password_and_the_command_fails() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    drill(&data, "3", "2", &[]);
    for args in [
        vec![
            "migrate",
            "--from-sqlite",
            data.to_str().unwrap(),
            "--to",
            "postgres://satria:pw-secret@127.0.0.1:1/satria",
        ],
        vec![
            "audit",
            "verify",
            "--database",
            "postgres://satria:pw-secret@127.0.0.1:1/satria",
        ],
    ] {
        let o = satria(&args);
        assert!(!o.status.success());
        let err = stderr(&o);
        assert!(
            err.contains("postgres://satria:***@127.0.0.1:1/satria"),
            "{err}"
        );
        assert!(err.contains("Connection refused"), "{err}");
        assert!(!err.contains("pw-secret"), "{err}");
    }
}
