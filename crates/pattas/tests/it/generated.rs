//! Generated inputs (a small deterministic generator) against every route:
//! never a 5xx.

use satria_pattas::*;
use serde_json::{Value, json};

use crate::support::*;

on_every_backend!(async: generated_inputs_never_get_a_5xx);

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn value(&mut self, depth: u32) -> Value {
        let pool = [
            json!(null),
            json!(true),
            json!(-1),
            json!(0),
            json!(1),
            json!(i64::MAX),
            json!(i64::MIN),
            json!(u64::MAX),
            json!(1e308),
            json!(-0.5),
            json!(""),
            json!(" "),
            json!("x".repeat(3000)),
            json!("😀\u{0}\u{7}"),
            json!("2026-12-01"),
            json!("2026-12-01T08:00:00+07:00"),
            json!("9999-12-31T23:59:59Z"),
            json!(NIK_SUKARTI),
            json!("Karangrau"),
            json!("0812345678901"),
            json!("transport"),
            json!("%_\\'\";--"),
        ];
        if depth < 2 && self.below(6) == 0 {
            let n = self.below(3);
            return if self.below(2) == 0 {
                Value::Array((0..n).map(|_| self.value(depth + 1)).collect())
            } else {
                let keys = ["lat", "lon", "name", "address", "zz"];
                Value::Object(
                    (0..n)
                        .map(|_| {
                            (
                                keys[self.below(keys.len())].to_string(),
                                self.value(depth + 1),
                            )
                        })
                        .collect(),
                )
            };
        }
        pool[self.below(pool.len())].clone()
    }

    fn mutate(&mut self, mut body: Value) -> Value {
        let Value::Object(m) = &mut body else {
            return body;
        };
        for _ in 0..=self.below(3) {
            let keys: Vec<String> = m.keys().cloned().collect();
            match self.below(4) {
                0 if !keys.is_empty() => {
                    let k = &keys[self.below(keys.len())];
                    m.remove(k);
                }
                1 => {
                    m.insert("unexpected".into(), self.value(0));
                }
                _ if !keys.is_empty() => {
                    let k = keys[self.below(keys.len())].clone();
                    let v = self.value(0);
                    m.insert(k, v);
                }
                _ => {}
            }
        }
        body
    }
}

async fn generated_inputs_never_get_a_5xx(backend: Backend) {
    let Some(w) = world_on(backend) else {
        return;
    };
    let b = w
        .post_ok("/api/pattas/beneficiaries", "mitra1", sukarti())
        .await;
    let c = w
        .post_ok(
            "/api/pattas/cases",
            "mitra1",
            json!({"beneficiary_id": b["id"], "needs": ["transport"], "description": "x"}),
        )
        .await;
    let cid = c["id"].as_i64().unwrap();
    w.post_ok(
        &format!("/api/pattas/cases/{cid}/verify"),
        "officer",
        json!({}),
    )
    .await;
    let t = w
        .post_ok(
            &format!("/api/pattas/cases/{cid}/transports"),
            "officer",
            transport_body(T0 + H),
        )
        .await;
    let tid = t["transport_id"].as_str().unwrap().to_string();
    let valid_body = |path: &str| -> Value {
        match path.rsplit('/').next().unwrap() {
            "beneficiaries" => darsono(),
            "{id}" => json!({"name": "Nama Baru", "phone": null}),
            "cases" => json!({"nik": NIK_DARSONO, "needs": ["shelter"], "description": "x"}),
            "verify" | "assist" => json!({"note": "n"}),
            "reject" | "cancel" => json!({"reason": "r"}),
            "close" => json!({"summary": "s"}),
            "assistance" => json!({"date": "2026-12-01", "kind": "transport", "amount_rp": 10}),
            "transports" => transport_body(T0 + 2 * H),
            other => panic!("no body for {other}"),
        }
    };
    let ids = [
        "1",
        "0",
        "-1",
        "999",
        "abc",
        "1e3",
        "%F0%9F%98%80",
        "9223372036854775808",
    ];
    let queries = [
        "",
        "?limit=1",
        "?limit=abc",
        "?q=%25",
        "?q=3302",
        "?desa=%00",
        "?status=closed",
        "?from=2026-12-01",
        "?to=0000-01-01",
        "?from=9999-12-31",
        "?offset=4294967295",
        "?zz=1",
        "?limit=1&limit=2",
    ];
    let mut g = Gen(0x5EED_0119);
    let mut requests = 0;
    for op in OPERATIONS {
        for round in 0..40 {
            let id = if round % 4 == 0 {
                ids[g.below(ids.len())].to_string()
            } else {
                cid.to_string()
            };
            let t = if round % 5 == 0 {
                "nope".to_string()
            } else {
                tid.clone()
            };
            let mut path = op.path.replace("{id}", &id).replace("{tid}", &t);
            if op.method == "get" {
                path.push_str(queries[g.below(queries.len())]);
            }
            let who = ["officer", "admin", "mitra1", "mitra2"][g.below(4)];
            let body = op.body.map(|_| {
                let base = valid_body(op.path);
                if round == 0 {
                    base.to_string()
                } else if round % 13 == 0 {
                    "\u{0}{[".to_string()
                } else {
                    g.mutate(base).to_string()
                }
            });
            let (s, e) = w
                .raw(
                    &op.method.to_uppercase(),
                    &path,
                    Some(who),
                    body.clone(),
                    "application/json",
                )
                .await;
            requests += 1;
            assert!(
                !s.is_server_error(),
                "{who} {} {path} {body:?}: {s} {e}",
                op.method
            );
            if !s.is_success() {
                assert!(
                    e["code"].is_string()
                        && e["message"].is_string()
                        && e["message_id"].is_string(),
                    "{who} {} {path} {body:?}: {s} {e}",
                    op.method
                );
            }
        }
    }
    assert!(requests >= 40 * OPERATIONS.len());
    // The case is still readable and consistent afterwards.
    let d = w.get(&format!("/api/pattas/cases/{cid}"), "officer").await;
    assert!(STATUSES.contains(&d["status"].as_str().unwrap()));
}
