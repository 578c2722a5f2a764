//! Salinmas on PostgreSQL as the nodes of a cluster share it: opening and
//! migrating the schema, copying a centre's SQLite store in, and two handles
//! on one database standing for two nodes. Each test has a database of its
//! own; without PostgreSQL they print `skipped: ...` and pass.

use std::sync::Arc;

use satria_auth::{Principal, Role};
use satria_salinmas::*;
use serde_json::Value;

use crate::support::{Backend, Place, fingerprint};

fn principal(role: Role, subject: Option<i64>, name: &str) -> Principal {
    Principal {
        user_id: 1,
        username: name.into(),
        role,
        unit: None,
        hospital: None,
        subject: subject.map(|s| s.to_string()),
    }
}

fn officer() -> Principal {
    principal(Role::SalinmasOfficer, None, "petugas")
}

/// 07:00 WIB on 2 March 2026, the day the tests' pickups are for.
fn t0() -> i64 {
    time::Timestamp::parse_local("2026-03-02T07:00")
        .unwrap()
        .ms()
}

fn config_at(ms: i64) -> SalinmasConfig {
    SalinmasConfig {
        service_time_s: 300,
        clock: Clock::manual(ms),
    }
}

fn account(s: &Salinmas, name: &str, kelurahan: &str) -> i64 {
    s.create_account(
        &officer(),
        NewAccount {
            kind: "household".into(),
            name: name.into(),
            kelurahan: kelurahan.into(),
            rt: "1".into(),
            rw: "2".into(),
            address: format!("Jl. {name}"),
            lat: -7.4189,
            lon: 109.2336,
            phone: "081234567890".into(),
            members: Some(4),
        },
        t0(),
    )
    .unwrap()
    .id
}

fn collector(s: &Salinmas, name: &str, kelurahan: &[&str]) -> i64 {
    s.create_collector(
        &officer(),
        NewCollector {
            name: name.into(),
            kelurahan: kelurahan.iter().map(|k| k.to_string()).collect(),
            phone: "081234567891".into(),
        },
        t0(),
    )
    .unwrap()
    .id
}

/// A pickup requested by an officer for `account` and accepted by `ksm`.
fn accepted_pickup(s: &Salinmas, account: i64, ksm: i64) -> i64 {
    let p = s
        .request_pickup(
            &officer(),
            NewPickup {
                account_id: Some(account),
                lat: -7.4189,
                lon: 109.2336,
                address: "Jl. Uji".into(),
                categories: vec!["plastic".into(), "paper".into()],
                estimated_kg: 3.0,
                window_start: "2026-03-02T08:00".into(),
                window_end: "2026-03-02T11:00".into(),
                notes: None,
            },
            t0(),
        )
        .unwrap();
    s.accept_pickup(
        &principal(Role::SalinmasCollector, Some(ksm), "ksm"),
        p.id,
        AcceptPickup::default(),
        t0(),
    )
    .unwrap();
    p.id
}

/// Collects `pickup` for `ksm`: `grams` of plastic, then 1 kg of paper (two
/// weight lines, in that order). Returns the credit.
fn collect(s: &Salinmas, pickup: i64, ksm: i64, grams: i64) -> Result<i64, SalinmasError> {
    let line = |category: &str, grams: i64| WeightIn {
        category: category.into(),
        kg: None,
        grams: Some(grams),
    };
    let p = s.collect_pickup(
        &principal(Role::SalinmasCollector, Some(ksm), "ksm"),
        pickup,
        CollectPickup {
            weights: vec![line("plastic", grams), line("paper", 1000)],
        },
        t0() + 3_600_000,
    )?;
    Ok(p.credit_rp.unwrap())
}

fn payout(s: &Salinmas, account: i64, amount_rp: i64) -> Result<LedgerEntry, SalinmasError> {
    s.payout(
        &officer(),
        account,
        NewPayout {
            amount_rp,
            method: "cash".into(),
            reference: None,
        },
        t0() + 7_200_000,
    )
}

#[test]
fn open_postgres_migrates_once_and_refuses_a_newer_schema() {
    let Some(place) = Place::new(Backend::Postgres("salinmas_schema")) else {
        return;
    };
    let db = place.pg.as_ref().unwrap();
    let s = place.open(config_at(t0()));
    assert_eq!(s.schema_version(), Ok(PG_SCHEMA_VERSION));
    let a = account(&s, "Melati", "Sokanegara");
    let before = fingerprint(&s, &officer());
    let tables = db.table_count();
    drop(s);
    // Reopened (as another node starting): nothing created twice, nothing
    // lost, and no second seed.
    let s = place.open(config_at(t0() + 60_000));
    assert_eq!(s.schema_version(), Ok(PG_SCHEMA_VERSION));
    assert_eq!(db.table_count(), tables);
    assert_eq!(fingerprint(&s, &officer()), before);
    let prices = s.prices(&officer(), 20_000).unwrap();
    assert_eq!(prices.history.len(), DEFAULT_PRICES.len());
    assert_eq!(s.account(&officer(), a).unwrap().name, "Melati");
    // The ledger and the history are append-only here too.
    let mut c = db.client();
    assert!(c.execute("DELETE FROM salinmas_history", &[]).is_err());
    assert!(
        c.execute("UPDATE salinmas_history SET actor = 'x'", &[])
            .is_err()
    );
    assert!(c.execute("TRUNCATE salinmas_ledger", &[]).is_err());
    drop(s);
    // A schema newer than this build is refused, and left as it is.
    c.execute("UPDATE salinmas_schema SET version = 99", &[])
        .unwrap();
    let err = Salinmas::open_postgres(&db.url, config_at(t0()))
        .unwrap_err()
        .to_string();
    assert!(err.contains("newer"), "{err}");
    let v: i64 = c
        .query_one("SELECT version FROM salinmas_schema", &[])
        .unwrap()
        .get(0);
    assert_eq!(v, 99);
}

#[test]
fn an_unreachable_database_is_named_without_its_password() {
    let url = "postgres://satria:geheim@127.0.0.1:1/none?connect_timeout=1";
    let err = Salinmas::open_postgres(url, SalinmasConfig::default())
        .unwrap_err()
        .to_string();
    assert!(
        !err.contains("geheim") && err.contains("127.0.0.1:1"),
        "{err}"
    );
}

/// The fingerprint without the times of the seed (the pilot kelurahan and
/// the default prices), which are when each store was first opened.
fn without_seed_times(mut v: Value) -> Value {
    for k in v["kelurahan"].as_array_mut().unwrap() {
        if PILOT_KELURAHAN.iter().any(|(name, _)| k["name"] == *name) {
            k["added_at"] = Value::Null;
        }
    }
    for list in ["current", "history"] {
        for p in v["prices"][list].as_array_mut().unwrap() {
            if p["set_by"] == "migration" {
                p["set_at"] = Value::Null;
            }
        }
    }
    v
}

/// A centre's store with some of everything: a served kelurahan added,
/// accounts, a collector group, collected, cancelled and open pickups, a
/// payout, a price change and the demo records.
fn centre(s: &Salinmas) {
    let o = officer();
    s.add_kelurahan(
        &o,
        NewKelurahan {
            name: "Bantarsoka".into(),
            kecamatan: None,
        },
        t0(),
    )
    .unwrap();
    let a1 = account(s, "Melati", "Sokanegara");
    let a2 = account(s, "Mawar", "Bantarsoka");
    let ksm = collector(s, "KSM Soka", &["Sokanegara", "Bantarsoka"]);
    for (a, grams) in [(a1, 2500), (a2, 4000), (a1, 700)] {
        let p = accepted_pickup(s, a, ksm);
        collect(s, p, ksm, grams).unwrap();
    }
    let p = accepted_pickup(s, a2, ksm);
    s.cancel_pickup(
        &o,
        p,
        Reason {
            reason: "tidak di rumah".into(),
        },
        t0(),
    )
    .unwrap();
    accepted_pickup(s, a1, ksm);
    payout(s, a1, 1000).unwrap();
    s.set_price(
        &o,
        NewPrice {
            category: "plastic".into(),
            price_per_kg_rp: 1800,
            valid_from: "2026-03-05".into(),
        },
        t0(),
    )
    .unwrap();
    s.seed_demo(t0()).unwrap();
}

#[test]
fn a_centres_store_copies_into_the_cluster_row_for_row() {
    let Some(cluster) = Place::new(Backend::Postgres("salinmas_copy")) else {
        return;
    };
    let local_place = Place::new(Backend::Sqlite).unwrap();
    let local = local_place.open(config_at(t0()));
    centre(&local);
    // The cluster's store was first opened an hour later: its seed has
    // other times, and is kept.
    let target = cluster.open(config_at(t0() + 3_600_000));
    let r = local.copy_into(&target).unwrap();
    assert!(!r.already);
    // The pilot kelurahan and default prices, and a history row of each.
    let seed = 2 * (PILOT_KELURAHAN.len() + DEFAULT_PRICES.len()) as u64;
    assert_eq!(r.seed_kept, seed);
    for (table, n) in [
        ("salinmas_kelurahan", 1),
        ("salinmas_accounts", 3),
        ("salinmas_collectors", 2),
        ("salinmas_prices", 1),
        ("salinmas_pickups", 5),
        ("salinmas_pickup_weights", 6),
        ("salinmas_ledger", 4),
        ("salinmas_meta", 2),
    ] {
        assert_eq!(r.rows_of(table), n, "{table}: {r:?}");
    }
    assert!(r.rows_of("salinmas_history") > 20, "{r:?}");
    assert_eq!(r.rows.len(), 10);
    let line = r.to_string();
    assert!(
        line.starts_with("1 kelurahan, 3 accounts, 2 collectors,")
            && line.ends_with(&format!("({seed} seed rows kept)")),
        "{line}"
    );
    let o = officer();
    assert_eq!(
        without_seed_times(fingerprint(&target, &o)),
        without_seed_times(fingerprint(&local, &o))
    );
    assert_eq!(target.verify_ledgers(), local.verify_ledgers());
    assert_eq!(target.seed_demo(0).unwrap(), local.seed_demo(0).unwrap());
    // A second run finds its own copy and writes nothing.
    let again = local.copy_into(&target).unwrap();
    assert!(again.already);
    assert!(again.rows.iter().all(|(_, n)| *n == 0), "{again:?}");
    assert_eq!(
        without_seed_times(fingerprint(&target, &o)),
        without_seed_times(fingerprint(&local, &o))
    );

    // Another centre's store is refused, naming what differs, and nothing changes.
    let other_place = Place::new(Backend::Sqlite).unwrap();
    let other = other_place.open(config_at(t0()));
    account(&other, "Kenanga", "Kedungwuluh");
    let before = fingerprint(&target, &o);
    let err = other.copy_into(&target).unwrap_err().to_string();
    assert!(
        err.contains("holds other Salinmas data") && err.contains("salinmas_accounts"),
        "{err}"
    );
    assert_eq!(fingerprint(&target, &o), before);

    // New records get ids after the copied ones, in every table.
    let max = |list: Vec<i64>| list.into_iter().max().unwrap();
    let accounts = max(target
        .accounts(&o, None)
        .unwrap()
        .iter()
        .map(|a| a.id)
        .collect());
    let a = account(&target, "Anggrek", "Sokanegara");
    assert_eq!(a, accounts + 1);
    let collectors = max(target
        .collectors(&o)
        .unwrap()
        .iter()
        .map(|k| k.id)
        .collect());
    let ksm = collector(&target, "KSM Baru", &["Sokanegara"]);
    assert_eq!(ksm, collectors + 1);
    let pickups = max(target
        .pickups(&o, &PickupFilter::default())
        .unwrap()
        .iter()
        .map(|p| p.id)
        .collect());
    let p = accepted_pickup(&target, a, ksm);
    assert_eq!(p, pickups + 1);
    // The weight lines and the ledger continue too (a repeated id would fail).
    let credit = collect(&target, p, ksm, 1500).unwrap();
    let entry = payout(&target, a, credit).unwrap();
    let ledger_max = target
        .accounts(&o, None)
        .unwrap()
        .iter()
        .flat_map(|acc| target.ledger(&o, acc.id).unwrap().entries)
        .map(|e| e.id)
        .max()
        .unwrap();
    assert_eq!(entry.id, ledger_max);
    assert_eq!(entry.balance_rp, 0);
    let detail = target.pickup(&o, p).unwrap();
    let weights: Vec<&str> = detail
        .pickup
        .weights
        .iter()
        .map(|w| w.category.as_str())
        .collect();
    assert_eq!(weights, ["plastic", "paper"], "the lines keep their order");
    let price = target
        .set_price(
            &o,
            NewPrice {
                category: "glass".into(),
                price_per_kg_rp: 400,
                valid_from: "2026-03-03".into(),
            },
            t0(),
        )
        .unwrap();
    assert_eq!(price.id as usize, DEFAULT_PRICES.len() + 2);
    assert!(target.verify_ledgers().is_ok());
    // Now the cluster holds more than the centre had: a copy is refused.
    let err = local.copy_into(&target).unwrap_err().to_string();
    assert!(err.contains("holds other Salinmas data"), "{err}");
}

#[test]
fn a_target_whose_seed_differs_from_the_sources_is_refused() {
    let Some(cluster) = Place::new(Backend::Postgres("salinmas_copy_seed")) else {
        return;
    };
    let local_place = Place::new(Backend::Sqlite).unwrap();
    let local = local_place.open(config_at(t0()));
    account(&local, "Melati", "Sokanegara");
    let target = cluster.open(config_at(t0()));
    cluster
        .pg
        .as_ref()
        .unwrap()
        .client()
        .execute(
            "UPDATE salinmas_prices SET price_per_kg_rp = 999 WHERE id = 2",
            &[],
        )
        .unwrap();
    let before = fingerprint(&target, &officer());
    let err = local.copy_into(&target).unwrap_err().to_string();
    assert!(err.contains("salinmas_prices row 2"), "{err}");
    assert_eq!(fingerprint(&target, &officer()), before);
    assert!(target.accounts(&officer(), None).unwrap().is_empty());
}

#[test]
fn two_nodes_see_each_others_writes_and_keep_one_ledger() {
    let Some(place) = Place::new(Backend::Postgres("salinmas_nodes")) else {
        return;
    };
    let nodes = Arc::new([place.open(config_at(t0())), place.open(config_at(t0()))]);
    let o = officer();
    // What one node writes, the other reads.
    let a = account(&nodes[0], "Melati", "Sokanegara");
    assert_eq!(nodes[1].account(&o, a).unwrap().name, "Melati");
    let ksm = collector(&nodes[1], "KSM Soka", &["Sokanegara"]);
    assert_eq!(
        nodes[0].collector(&o, ksm).unwrap().kelurahan,
        ["Sokanegara"]
    );
    // A collector group's name is unique in any case, across nodes.
    let dup = nodes[0].create_collector(
        &o,
        NewCollector {
            name: "ksm soka".into(),
            kelurahan: vec!["Sokanegara".into()],
            phone: "081234567891".into(),
        },
        t0(),
    );
    assert_eq!(dup.unwrap_err().code(), "duplicate_collector");

    // Both nodes credit the same account at once: every credit lands, each
    // entry carrying the running balance.
    let pickups: Vec<i64> = (0..16)
        .map(|i| accepted_pickup(&nodes[i % 2], a, ksm))
        .collect();
    let threads: Vec<_> = pickups
        .iter()
        .enumerate()
        .map(|(i, &p)| {
            let nodes = Arc::clone(&nodes);
            std::thread::spawn(move || collect(&nodes[i % 2], p, ksm, 1000 + i as i64 * 100))
        })
        .collect();
    let credits: i64 = threads
        .into_iter()
        .map(|t| t.join().unwrap().unwrap())
        .sum();
    let ledger = nodes[1].ledger(&o, a).unwrap();
    assert_eq!(ledger.entries.len(), pickups.len());
    assert_eq!(ledger.balance_rp, credits);
    assert_eq!(nodes[0].verify_ledgers(), Ok(pickups.len() as u64));

    // Both nodes pay out at once: never more than the balance.
    let amount = 5000;
    let threads: Vec<_> = (0..2 * (credits / amount + 2))
        .map(|i| {
            let nodes = Arc::clone(&nodes);
            std::thread::spawn(move || payout(&nodes[(i % 2) as usize], a, amount))
        })
        .collect();
    let mut paid = 0;
    for t in threads {
        match t.join().unwrap() {
            Ok(_) => paid += 1,
            Err(e) => assert_eq!(e.code(), "insufficient_balance"),
        }
    }
    assert_eq!(paid, credits / amount);
    assert_eq!(nodes[0].ledger(&o, a).unwrap().balance_rp, credits % amount);
    assert_eq!(
        nodes[1].verify_ledgers(),
        Ok(pickups.len() as u64 + paid as u64)
    );

    // Both nodes accept the same pickup at once: one transition wins.
    let p = nodes[0]
        .request_pickup(
            &o,
            NewPickup {
                account_id: Some(a),
                lat: -7.4189,
                lon: 109.2336,
                address: "Jl. Uji".into(),
                categories: vec!["glass".into()],
                estimated_kg: 1.0,
                window_start: "2026-03-02T08:00".into(),
                window_end: "2026-03-02T11:00".into(),
                notes: None,
            },
            t0(),
        )
        .unwrap()
        .id;
    let threads: Vec<_> = (0..2)
        .map(|i| {
            let nodes = Arc::clone(&nodes);
            std::thread::spawn(move || {
                nodes[i].accept_pickup(
                    &principal(Role::SalinmasCollector, Some(ksm), "ksm"),
                    p,
                    AcceptPickup::default(),
                    t0(),
                )
            })
        })
        .collect();
    let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    assert!(
        results
            .iter()
            .any(|r| r.as_ref().is_err_and(|e| e.code() == "invalid_transition"))
    );
    let history = nodes[1].pickup(&o, p).unwrap().history;
    let actions: Vec<&str> = history.iter().map(|h| h.action.as_str()).collect();
    assert_eq!(actions, ["request", "accept"]);
}
