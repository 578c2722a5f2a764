//! Every command the server submits goes through [`submit`]: it runs in a
//! `command` span carrying the command's kind and the incident, unit and
//! referral ids it names (and the account, when known), times the durable
//! acknowledgement, and logs the outcome. Position reports, the hot path, are
//! timed but not logged.

use crate::AppState;
use satria_auth::Principal;
use satria_dispatch::Command;
use satria_engine::{EngineError, Published};
use tracing::Instrument;

/// The span of one command, with its ids as fields.
pub fn command_span(cmd: &Command, who: Option<&Principal>) -> tracing::Span {
    let v = serde_json::to_value(cmd).unwrap_or_default();
    let field = |k: &str| {
        v.get(k).map(|x| match x {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        })
    };
    let span = tracing::info_span!(
        "command",
        kind = v.get("type").and_then(|t| t.as_str()).unwrap_or("?"),
        incident = tracing::field::Empty,
        unit = tracing::field::Empty,
        referral = tracing::field::Empty,
        booking = tracing::field::Empty,
        user = tracing::field::Empty,
    );
    for k in ["incident", "unit", "referral", "booking"] {
        if let Some(x) = field(k) {
            span.record(k, x.as_str());
        }
    }
    if let Some(p) = who {
        span.record("user", p.username.as_str());
    }
    span
}

/// Submits `cmd` to the engine inside its span; logs and times the outcome.
pub async fn submit(
    state: &AppState,
    who: Option<&Principal>,
    cmd: Command,
) -> Result<Vec<Published>, EngineError> {
    let quiet = matches!(cmd, Command::UpdatePosition { .. });
    let span = if quiet {
        tracing::Span::none()
    } else {
        command_span(&cmd, who)
    };
    let t = std::time::Instant::now();
    let r = state.engine.submit(cmd).instrument(span.clone()).await;
    let took = t.elapsed();
    state.metrics.commit.observe(took);
    if !quiet {
        span.in_scope(|| match &r {
            Ok(p) => tracing::info!(
                events = p.len(),
                ms = took.as_secs_f64() * 1e3,
                "command applied"
            ),
            Err(e) => tracing::info!(error = %e, "command refused"),
        });
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use satria_dispatch::{IncidentId, UnitId};

    #[test]
    fn the_span_names_the_command_and_its_ids() {
        let cmd = Command::AssignUnits {
            incident: IncidentId(7),
            units: vec![UnitId("PSC-01".into())],
        };
        let span = command_span(&cmd, None);
        // Without a subscriber the span is disabled; what matters is that building
        // it never fails on any command shape.
        let _ = span;
        let cmd = Command::AcknowledgeAssignment {
            incident: IncidentId(7),
            unit: UnitId("PSC-01".into()),
            device_at: None,
        };
        let v = serde_json::to_value(&cmd).unwrap();
        assert_eq!(v["type"], "acknowledge_assignment");
        assert_eq!(v["incident"], 7);
        assert_eq!(v["unit"], "PSC-01");
    }
}
