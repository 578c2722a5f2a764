//! A fresh PostgreSQL database per test, dropped when the test ends (feature
//! `test-support`). Without a server, a test prints `skipped: ...` and passes,
//! unless `SATRIA_REQUIRE_SERVICES=1` (CI) makes the absence a failure.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The server tests use: `SATRIA_TEST_POSTGRES`, or the machine's local one.
pub fn admin_url() -> String {
    std::env::var("SATRIA_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// True when CI requires the services (`SATRIA_REQUIRE_SERVICES=1`).
pub fn services_required() -> bool {
    std::env::var("SATRIA_REQUIRE_SERVICES").is_ok_and(|v| v == "1")
}

/// A database of its own for one test; dropped (with its connections) on drop.
#[derive(Debug)]
pub struct TestDatabase {
    /// Where to connect to it.
    pub url: String,
    name: String,
}

impl TestDatabase {
    /// Creates a database named after `test` and a unique suffix. `None` (after
    /// printing `skipped: ...`) when no server answers and CI does not require one.
    pub fn create(test: &str) -> Option<TestDatabase> {
        static N: AtomicU32 = AtomicU32::new(0);
        let admin = admin_url();
        let mut client = match super::connect::connect(&admin) {
            Ok(c) => c,
            Err(e) if !services_required() => {
                println!(
                    "skipped: PostgreSQL is not available ({e}); set SATRIA_REQUIRE_SERVICES=1 to require it"
                );
                return None;
            }
            Err(e) => panic!("PostgreSQL is required (SATRIA_REQUIRE_SERVICES=1): {e}"),
        };
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let slug: String = test
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .take(30)
            .collect();
        let name = format!(
            "satria_t_{slug}_{}_{}_{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        client
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .unwrap_or_else(|e| panic!("create test database {name}: {e}"));
        let url = match admin.rsplit_once('/') {
            Some((base, _)) if admin.contains("://") => format!("{base}/{name}"),
            _ => format!("{admin} dbname={name}"),
        };
        Some(TestDatabase { url, name })
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A plain connection to it, for tests that edit rows behind the journal's back.
    pub fn client(&self) -> postgres::Client {
        super::connect::connect(&self.url).expect("connect to the test database")
    }

    /// Ends every other session of the database, as a PostgreSQL restart
    /// does to its clients.
    pub fn cut_connections(&self) {
        self.client()
            .execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                 WHERE datname = current_database() AND pid <> pg_backend_pid()",
                &[],
            )
            .expect("end the database's sessions");
    }

    /// How many tables it holds (in `public`): what a refused command must
    /// not have changed.
    pub fn table_count(&self) -> i64 {
        self.client()
            .query_one(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'",
                &[],
            )
            .expect("count tables")
            .get(0)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Ok(mut c) = super::connect::connect(&admin_url()) {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ));
        }
    }
}
