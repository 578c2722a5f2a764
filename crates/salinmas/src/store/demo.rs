//! The demo records: a synthetic dasawisma account and collector group in the
//! pilot kelurahan, made once for the demo logins.

use rusqlite::{OptionalExtension, params};
use serde_json::{Value, json};

use super::history::history_as;
use super::{PILOT_KELURAHAN, Salinmas};
use crate::error::SalinmasError;
use crate::model::*;

impl Salinmas {
    /// Makes (once) a synthetic dasawisma account and collector group in the
    /// pilot kelurahan, for the demo logins; later calls return the same ids.
    pub fn seed_demo(&self, now_ms: i64) -> Result<DemoIds, SalinmasError> {
        self.write(|tx| {
            let get = |k: &str| -> Result<Option<i64>, SalinmasError> {
                Ok(tx
                    .query_row("SELECT value FROM salinmas_meta WHERE key = ?1", [k], |r| r.get::<_, String>(0))
                    .optional()?
                    .and_then(|v| v.parse().ok()))
            };
            if let (Some(h), Some(c)) = (get("demo_household")?, get("demo_collector")?) {
                return Ok(DemoIds {
                    household_account_id: h,
                    collector_group_id: c,
                });
            }
            let system = |action: &str, entity: &str, id: i64, details: Value| {
                history_as(tx, entity, &id.to_string(), action, "system", "system", now_ms, &details)
            };
            tx.execute(
                "INSERT INTO salinmas_accounts
                 (kind, name, kelurahan, rt, rw, address, lat, lon, phone, members, created_at_ms)
                 VALUES ('dasawisma', 'Dasawisma Melati (demo)', 'Sokanegara', '002', '004',
                         'Jl. Contoh No. 1 (data sintetis)', -7.4192, 109.2338, '081200000119', 10, ?1)",
                [now_ms],
            )?;
            let h = tx.last_insert_rowid();
            system("create", "account", h, json!({"demo": true, "kelurahan": "Sokanegara"}))?;
            let mut name = "KSM Sokanegara Bersih (demo)".to_string();
            let taken: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM salinmas_collectors WHERE name = ?1)",
                [&name],
                |r| r.get(0),
            )?;
            if taken {
                name = format!("KSM Sokanegara Bersih (demo {h})");
            }
            tx.execute(
                "INSERT INTO salinmas_collectors (name, phone, created_at_ms) VALUES (?1, '081200000120', ?2)",
                params![name, now_ms],
            )?;
            let c = tx.last_insert_rowid();
            for (k, _) in PILOT_KELURAHAN {
                tx.execute(
                    "INSERT OR IGNORE INTO salinmas_collector_kelurahan (collector_id, kelurahan)
                     SELECT ?1, name FROM salinmas_kelurahan WHERE name = ?2",
                    params![c, k],
                )?;
            }
            system("create", "collector", c, json!({"demo": true}))?;
            tx.execute(
                "INSERT OR REPLACE INTO salinmas_meta (key, value) VALUES ('demo_household', ?1), ('demo_collector', ?2)",
                params![h.to_string(), c.to_string()],
            )?;
            Ok(DemoIds {
                household_account_id: h,
                collector_group_id: c,
            })
        })
    }
}
