//! `satria user`: an account's bindings must exist (a crew's unit in the fleet, a
//! household's Salinmas record; issue 14, item 11), and a forgotten password is reset.

use crate::support::{satria, stderr, stdout};
use std::path::Path;
use std::process::Output;

fn user_add(dir: &Path, username: &str, role: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "user",
        "add",
        "--data-dir",
        dir.to_str().unwrap(),
        "--username",
        username,
        "--password",
        "kata-sandi-uji-119",
        "--role",
        role,
    ];
    args.extend_from_slice(extra);
    satria(&args)
}

fn usernames(dir: &Path) -> String {
    let o = satria(&["user", "list", "--data-dir", dir.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    stdout(&o)
}

#[test]
fn user_add_refuses_a_crew_of_a_unit_not_in_the_fleet() {
    let dir = tempfile::tempdir().unwrap();
    // No journal yet: the demo fleet the first `serve` registers.
    let o = user_add(dir.path(), "crewx", "crew", &["--unit", "NOPE-99"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("unit \"NOPE-99\" is not in the fleet"),
        "{}",
        stderr(&o)
    );
    assert!(!dir.path().join("auth.sqlite").exists(), "nothing written");
    let o = user_add(dir.path(), "crew1", "crew", &["--unit", "PSC-01"]);
    assert!(o.status.success(), "{}", stderr(&o));

    // With a journal: its registered units are the fleet.
    let dir = tempfile::tempdir().unwrap();
    let mut opts = satria_engine::EngineOptions::new(dir.path());
    let mut unit = satria_dispatch::demo_fleet().remove(0);
    unit.id = satria_dispatch::UnitId("UJI-77".into());
    opts.initial_units = vec![unit];
    let engine = satria_engine::Engine::start(
        opts,
        Box::new(satria_dispatch::StraightLine::default()),
        satria_engine::Clock::system(),
    )
    .unwrap();
    engine.shutdown();
    let o = user_add(dir.path(), "crewy", "crew", &["--unit", "PSC-01"]);
    assert!(!o.status.success(), "PSC-01 is not in this journal");
    assert!(stderr(&o).contains("journal"), "{}", stderr(&o));
    assert!(!usernames(dir.path()).contains("crewy"));
    let o = user_add(dir.path(), "crewy", "crew", &["--unit", "UJI-77"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(usernames(dir.path()).contains("crewy"));
}

#[test]
fn user_add_refuses_a_household_without_a_salinmas_record() {
    let dir = tempfile::tempdir().unwrap();
    for extra in [&[][..], &["--subject", "1"][..], &["--subject", "abc"][..]] {
        let o = user_add(dir.path(), "rumah1", "salinmas_household", extra);
        assert!(!o.status.success(), "{extra:?}");
        assert!(stderr(&o).contains("nothing was added"), "{}", stderr(&o));
    }
    assert!(!dir.path().join("auth.sqlite").exists(), "nothing written");
    let s = satria_salinmas::Salinmas::open(&dir.path().join("salinmas.sqlite")).unwrap();
    let officer = satria_auth::Principal {
        user_id: 1,
        username: "petugas".into(),
        role: satria_auth::Role::SalinmasOfficer,
        unit: None,
        hospital: None,
        subject: None,
    };
    let a = s
        .create_account(
            &officer,
            satria_salinmas::NewAccount {
                kind: "household".into(),
                name: "Rumah Uji".into(),
                kelurahan: "Sokanegara".into(),
                rt: "1".into(),
                rw: "1".into(),
                address: "Jl. Uji".into(),
                lat: -7.42,
                lon: 109.23,
                phone: "081234567890".into(),
                members: Some(4),
            },
            satria_server::now_ms(),
        )
        .unwrap();
    drop(s);
    let o = user_add(
        dir.path(),
        "rumah1",
        "salinmas_household",
        &["--subject", "999"],
    );
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("no Salinmas household account 999"),
        "{}",
        stderr(&o)
    );
    let id = a.id.to_string();
    let o = user_add(
        dir.path(),
        "rumah1",
        "salinmas_household",
        &["--subject", &id],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(usernames(dir.path()).contains("rumah1"));
}

#[test]
fn user_passwd_sets_a_new_password_and_refuses_an_unknown_account() {
    let dir = tempfile::tempdir().unwrap();
    let o = user_add(dir.path(), "admin1", "admin", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let d = dir.path().to_str().unwrap();
    let o = satria(&[
        "user",
        "passwd",
        "--data-dir",
        d,
        "--username",
        "admin1",
        "--password",
        "sandi-baru-119-psc",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("password of admin1 changed"));
    // The new password logs in, the old one does not.
    let auth = satria_auth::AuthStore::open(&dir.path().join("auth.sqlite")).unwrap();
    assert!(
        auth.login("admin1", "sandi-baru-119-psc", "cli-test", 1)
            .is_ok()
    );
    assert!(
        auth.login("admin1", "kata-sandi-uji-119", "cli-test", 2)
            .is_err()
    );
    // An unknown account, a password too short: refused, nothing changed.
    let o = satria(&[
        "user",
        "passwd",
        "--data-dir",
        d,
        "--username",
        "nobody",
        "--password",
        "sandi-baru-119-psc",
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("nobody"), "{}", stderr(&o));
    let o = satria(&[
        "user",
        "passwd",
        "--data-dir",
        d,
        "--username",
        "admin1",
        "--password",
        "x",
    ]);
    assert!(!o.status.success());
    assert!(
        auth.login("admin1", "sandi-baru-119-psc", "cli-test", 3)
            .is_ok()
    );
}
