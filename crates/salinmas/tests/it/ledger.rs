//! The ledger invariant under a seeded random mix of collections, payouts
//! (many of them too large), cancellations and price changes: every balance is
//! the sum of its entries, never negative, and every refusal changes nothing.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use satria_auth::{Principal, Role};
use satria_salinmas::*;

use crate::support::{Backend, Place, on_each_backend};

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

on_each_backend!(#[test] fn random_operations_keep_every_ledger_consistent);
fn random_operations_keep_every_ledger_consistent(backend: Backend) {
    let Some(place) = Place::new(backend) else {
        return;
    };
    let s = place.open(SalinmasConfig::default());
    let officer = principal(Role::SalinmasOfficer, None, "petugas");
    let mut now = time::Timestamp::parse_local("2026-03-02T07:00")
        .unwrap()
        .ms();
    let kelurahan = ["Sokanegara", "Kedungwuluh", "Purwokerto Lor"];
    let mut accounts = Vec::new();
    for (i, k) in kelurahan.iter().cycle().take(6).enumerate() {
        let a = s
            .create_account(
                &officer,
                NewAccount {
                    kind: "household".into(),
                    name: format!("Rumah {i}"),
                    kelurahan: (*k).into(),
                    rt: "1".into(),
                    rw: "1".into(),
                    address: "Jl. Uji".into(),
                    lat: -7.42,
                    lon: 109.23,
                    phone: "081234567890".into(),
                    members: Some(4),
                },
                now,
            )
            .unwrap();
        accounts.push(a.id);
    }
    let ksm = s
        .create_collector(
            &officer,
            NewCollector {
                name: "KSM Semua".into(),
                kelurahan: kelurahan.iter().map(|k| k.to_string()).collect(),
                phone: "081234567891".into(),
            },
            now,
        )
        .unwrap()
        .id;
    let collector = principal(Role::SalinmasCollector, Some(ksm), "ksm");
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    let mut expected: std::collections::HashMap<i64, i64> = Default::default();
    let (mut refused, mut paid) = (0, 0);
    for step in 0..400 {
        now += rng.gen_range(1..4) * 3_600_000;
        let acc = accounts[rng.gen_range(0..accounts.len())];
        let household = principal(Role::SalinmasHousehold, Some(acc), "rumah");
        match rng.gen_range(0..10) {
            0..=4 => {
                let start = time::format_wib(now + 3_600_000);
                let end = time::format_wib(now + 5 * 3_600_000);
                let p = s
                    .request_pickup(
                        &household,
                        NewPickup {
                            account_id: None,
                            lat: -7.42,
                            lon: 109.23,
                            address: "Jl. Uji".into(),
                            categories: vec!["organic".into()],
                            estimated_kg: 5.0,
                            window_start: start,
                            window_end: end,
                            notes: None,
                        },
                        now,
                    )
                    .unwrap();
                s.accept_pickup(&collector, p.id, AcceptPickup::default(), now)
                    .unwrap();
                if rng.gen_bool(0.2) {
                    s.cancel_pickup(
                        &household,
                        p.id,
                        Reason {
                            reason: "batal".into(),
                        },
                        now,
                    )
                    .unwrap();
                    continue;
                }
                let cat = CATEGORIES[rng.gen_range(0..CATEGORIES.len())];
                let grams = rng.gen_range(1..50_000);
                let done = s
                    .collect_pickup(
                        &collector,
                        p.id,
                        CollectPickup {
                            weights: vec![WeightIn {
                                category: cat.into(),
                                kg: None,
                                grams: Some(grams),
                            }],
                        },
                        now,
                    )
                    .unwrap();
                let price = s
                    .prices(&officer, time::wib_day(now))
                    .unwrap()
                    .current
                    .into_iter()
                    .find(|p| p.category == cat)
                    .unwrap()
                    .price_per_kg_rp;
                assert_eq!(done.credit_rp, Some((price * grams + 500) / 1000));
                *expected.entry(acc).or_default() += done.credit_rp.unwrap();
            }
            5..=8 => {
                let bal = *expected.get(&acc).unwrap_or(&0);
                let amount = rng.gen_range(1..=bal.max(1) * 2);
                let before = s.ledger(&officer, acc).unwrap();
                match s.payout(
                    &officer,
                    acc,
                    NewPayout {
                        amount_rp: amount,
                        method: "cash".into(),
                        reference: None,
                    },
                    now,
                ) {
                    Ok(e) => {
                        assert!(amount <= bal);
                        assert_eq!(e.balance_rp, bal - amount);
                        *expected.entry(acc).or_default() -= amount;
                        paid += 1;
                    }
                    Err(e) => {
                        assert!(amount > bal, "step {step}: {e}");
                        assert_eq!(e.code(), "insufficient_balance");
                        assert_eq!(s.ledger(&officer, acc).unwrap(), before);
                        refused += 1;
                    }
                }
            }
            _ => {
                let cat = CATEGORIES[rng.gen_range(0..CATEGORIES.len())];
                let from = time::format_date(time::wib_day(now) + rng.gen_range(-3..3));
                s.set_price(
                    &officer,
                    NewPrice {
                        category: cat.into(),
                        price_per_kg_rp: rng.gen_range(0..5_000),
                        valid_from: from,
                    },
                    now,
                )
                .unwrap();
            }
        }
        for &a in &accounts {
            let l = s.ledger(&officer, a).unwrap();
            assert_eq!(l.balance_rp, *expected.get(&a).unwrap_or(&0));
            assert_eq!(
                l.balance_rp,
                l.entries.iter().map(|e| e.amount_rp).sum::<i64>()
            );
            assert!(l.entries.iter().all(|e| e.balance_rp >= 0));
        }
    }
    assert!(paid > 20 && refused > 20, "paid {paid}, refused {refused}");
    assert!(s.verify_ledgers().unwrap() > 100);
}
