//! Error codes and messages, in English and Bahasa Indonesia.

use crate::{AuthError, Role};

#[test]
fn error_codes_and_messages() {
    let all = [
        AuthError::InvalidCredentials,
        AuthError::RateLimited {
            retry_after_ms: 61_001,
        },
        AuthError::Unauthenticated,
        AuthError::InvalidUsername,
        AuthError::WeakPassword,
        AuthError::DuplicateUsername,
        AuthError::BindingRequired {
            role: Role::Crew,
            field: "unit",
        },
        AuthError::BindingNotAllowed {
            role: Role::Admin,
            field: "hospital",
        },
        AuthError::UnknownUser,
        AuthError::Storage("disk full".into()),
        AuthError::Internal("x".into()),
    ];
    let mut codes = std::collections::HashSet::new();
    for e in &all {
        assert!(codes.insert(e.code()), "duplicate code {}", e.code());
        assert!(!e.to_string().is_empty());
        assert!(!e.message_id().is_empty());
        assert!(!e.message_id().contains("disk full"));
    }
    assert_eq!(
        all[1].message_id(),
        "Terlalu banyak percobaan masuk yang gagal. Coba lagi dalam 62 detik."
    );
    assert_eq!(
        all[1].to_string(),
        "too many failed login attempts; try again in 62 s"
    );
    assert_eq!(
        all[6].message_id(),
        "Akun kru wajib terikat pada satu unit ambulans."
    );
}
