//! Connecting: the URL parsed and shown without its password, a bounded wait
//! for a server that does not answer, and the session settings the journal
//! relies on.

use std::str::FromStr;
use std::time::Duration;

use postgres::{Client, Config, NoTls};

use crate::StoreError;

/// How long to wait for a server before saying it cannot be reached.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a transaction may wait for its client between statements before
/// the server ends it (every Satria transaction runs its statements back to
/// back; only a frozen or dead client waits this long).
pub const IDLE_IN_TRANSACTION: Duration = Duration::from_secs(3);

/// `url` with its password replaced by `***`, in both URL
/// (`postgres://user:pw@host/db`) and key-value (`password=pw`) forms: what
/// errors and logs may show.
pub fn redact(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        // The authority ends at the first '/', '?' or '#'; userinfo at its last '@'.
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        let tail = redact_query(tail);
        return match authority.rsplit_once('@') {
            Some((userinfo, host)) => match userinfo.split_once(':') {
                Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
                None => format!("{scheme}://{userinfo}@{host}{tail}"),
            },
            None => format!("{scheme}://{authority}{tail}"),
        };
    }
    url.split_whitespace()
        .map(|kv| match kv.split_once('=') {
            Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
            _ => kv.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `?password=...` in a URL's query, redacted.
fn redact_query(tail: &str) -> String {
    let Some((path, query)) = tail.split_once('?') else {
        return tail.to_string();
    };
    let query = query
        .split('&')
        .map(|kv| match kv.split_once('=') {
            Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
            _ => kv.to_string(),
        })
        .collect::<Vec<_>>()
        .join("&");
    format!("{path}?{query}")
}

/// Opens one connection to `url`: refused within [`CONNECT_TIMEOUT`] when the
/// server does not answer, with TCP keepalives (a server that vanished
/// mid-query is noticed), `synchronous_commit = on` whatever the server's
/// default, so that COMMIT means durable, and an open transaction left idle
/// for [`IDLE_IN_TRANSACTION`] ended by the server: a node frozen mid-transaction
/// (a paused VM, SIGSTOP) must not hold its locks, the chain head's or an
/// advisory one, against the node that took over from it.
pub fn connect(url: &str) -> Result<Client, StoreError> {
    let unreachable = |detail: String| StoreError::Unreachable {
        url: redact(url),
        detail,
    };
    let mut config =
        Config::from_str(url).map_err(|e| unreachable(format!("not a PostgreSQL URL: {e}")))?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    config
        .keepalives(true)
        .keepalives_idle(Duration::from_secs(5))
        .keepalives_interval(Duration::from_secs(1))
        .keepalives_retries(3)
        .tcp_user_timeout(Duration::from_secs(10))
        .options(&format!(
            "-c synchronous_commit=on -c statement_timeout=30000 -c idle_in_transaction_session_timeout={}",
            IDLE_IN_TRANSACTION.as_millis()
        ));
    if config.get_application_name().is_none() {
        config.application_name("satria");
    }
    config
        .connect(NoTls)
        .map_err(|e| unreachable(error_text(&e)))
}

/// The error and its causes on one line (rust-postgres puts the useful part,
/// e.g. "Connection refused", in the source).
pub(crate) fn error_text(e: &postgres::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_never_show() {
        assert_eq!(
            redact("postgres://satria:s3cret@db.example:5432/satria"),
            "postgres://satria:***@db.example:5432/satria"
        );
        assert_eq!(
            redact("postgresql://satria@127.0.0.1/x?sslmode=disable&password=pw"),
            "postgresql://satria@127.0.0.1/x?sslmode=disable&password=***"
        );
        assert_eq!(
            redact("host=db user=satria password=pw dbname=x"),
            "host=db user=satria password=*** dbname=x"
        );
        assert_eq!(redact("postgres://127.0.0.1/x"), "postgres://127.0.0.1/x");
        // An '@' in the password is still inside the userinfo.
        assert_eq!(redact("postgres://u:p@ss@h/x"), "postgres://u:***@h/x");
    }
}
