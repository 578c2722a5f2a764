//! The demo records: a synthetic dasawisma account and collector group in the
//! pilot kelurahan, made once for the demo logins.

use satria_sql::{Tx, V};
use serde_json::json;

use super::collectors::collector_named;
use super::history::history_as;
use super::{PILOT_KELURAHAN, Salinmas};
use crate::error::SalinmasError;
use crate::model::*;

/// The id a `salinmas_meta` key holds, if any.
fn meta_id(tx: &mut dyn Tx, key: &str) -> Result<Option<i64>, SalinmasError> {
    Ok(tx
        .query_opt(
            "SELECT value FROM salinmas_meta WHERE key = $1",
            &[V::from(key)],
        )?
        .map(|r| r.text(0))
        .transpose()?
        .and_then(|v| v.parse().ok()))
}

impl Salinmas {
    /// Makes (once) a synthetic dasawisma account and collector group in the
    /// pilot kelurahan, for the demo logins; later calls return the same ids.
    pub fn seed_demo(&self, now_ms: i64) -> Result<DemoIds, SalinmasError> {
        self.write(|tx| {
            if let (Some(h), Some(c)) = (meta_id(tx, "demo_household")?, meta_id(tx, "demo_collector")?) {
                return Ok(DemoIds {
                    household_account_id: h,
                    collector_group_id: c,
                });
            }
            let system = |tx: &mut dyn Tx, action: &str, entity: &str, id: i64, details| {
                history_as(tx, entity, &id.to_string(), action, "system", "system", now_ms, &details)
            };
            let h = tx
                .query_one(
                    "INSERT INTO salinmas_accounts
                     (kind, name, kelurahan, rt, rw, address, lat, lon, phone, members, created_at_ms)
                     VALUES ('dasawisma', 'Dasawisma Melati (demo)', 'Sokanegara', '002', '004',
                             'Jl. Contoh No. 1 (data sintetis)', -7.4192, 109.2338, '081200000119', 10, $1)
                     RETURNING id",
                    &[V::from(now_ms)],
                )?
                .i64(0)?;
            system(tx, "create", "account", h, json!({"demo": true, "kelurahan": "Sokanegara"}))?;
            let mut name = "KSM Sokanegara Bersih (demo)".to_string();
            if collector_named(tx, &name)? {
                name = format!("KSM Sokanegara Bersih (demo {h})");
            }
            let c = tx
                .query_one(
                    "INSERT INTO salinmas_collectors (name, phone, created_at_ms)
                     VALUES ($1, '081200000120', $2) RETURNING id",
                    &[V::from(&name), V::from(now_ms)],
                )?
                .i64(0)?;
            for (k, _) in PILOT_KELURAHAN {
                tx.execute(
                    "INSERT INTO salinmas_collector_kelurahan (collector_id, kelurahan)
                     SELECT CAST($1 AS BIGINT), name FROM salinmas_kelurahan WHERE name = $2
                     ON CONFLICT (collector_id, kelurahan) DO NOTHING",
                    &[V::from(c), V::from(k)],
                )?;
            }
            system(tx, "create", "collector", c, json!({"demo": true}))?;
            tx.execute(
                "INSERT INTO salinmas_meta (key, value) VALUES ('demo_household', $1), ('demo_collector', $2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                &[V::from(h.to_string()), V::from(c.to_string())],
            )?;
            Ok(DemoIds {
                household_account_id: h,
                collector_group_id: c,
            })
        })
    }
}
