//! What the test modules share: a store with cheap hashing in a temporary
//! directory, a user to add, fixed times, and a few small helpers.

use std::path::Path;

use rusqlite::Connection;
use tempfile::TempDir;

use crate::{AuthConfig, AuthStore, HashParams, NewUser, Role};

pub(super) const T0: i64 = 1_764_000_000_000;
pub(super) const MIN: i64 = 60_000;

pub(super) fn config() -> AuthConfig {
    AuthConfig {
        hash: HashParams::INSECURE_FAST,
        ..AuthConfig::default()
    }
}

pub(super) fn setup() -> (TempDir, AuthStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = AuthStore::open_with(&db(&dir), config()).unwrap();
    (dir, store)
}

pub(super) fn db(dir: &TempDir) -> std::path::PathBuf {
    dir.path().join("auth.sqlite")
}

pub(super) fn user(name: &str, password: &str, role: Role) -> NewUser {
    NewUser {
        username: name.into(),
        password: password.into(),
        role,
        unit: (role == Role::Crew).then(|| "AMB-01".to_string()),
        hospital: (role == Role::Hospital).then(|| "rsud-banyumas".to_string()),
        subject: None,
    }
}

/// The result of an [`AuthStore`] recording, which is ready at once.
pub(super) fn now(f: crate::Recording) -> Result<(), crate::AccessLogError> {
    let mut f = f;
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match f.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(r) => r,
        std::task::Poll::Pending => panic!("AuthStore records synchronously"),
    }
}

pub(super) fn count(path: &Path, table: &str) -> i64 {
    let c = Connection::open(path).unwrap();
    c.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}
