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
    let span = tracing::info_span!(
        "command",
        kind = cmd.kind(),
        incident = tracing::field::Empty,
        unit = tracing::field::Empty,
        referral = tracing::field::Empty,
        booking = tracing::field::Empty,
        user = tracing::field::Empty,
    );
    // Numbers as the journal writes them (`7`, not `INC-000007`): a log search
    // for an id finds both.
    let ids = cmd.subjects();
    if let Some(i) = ids.incident {
        span.record("incident", i.0);
    }
    if let Some(u) = ids.unit {
        span.record("unit", u.0.as_str());
    }
    if let Some(r) = ids.referral {
        span.record("referral", r.0);
    }
    if let Some(b) = ids.booking {
        span.record("booking", b.0);
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
    submit_tagged(state, who, cmd, None).await
}

/// [`submit`] for a command its client sent with an id: applied once, even
/// when sent again after a restart or a takeover (`EngineError::Duplicate`).
pub async fn submit_tagged(
    state: &AppState,
    who: Option<&Principal>,
    cmd: Command,
    client_id: Option<&str>,
) -> Result<Vec<Published>, EngineError> {
    let quiet = matches!(cmd, Command::UpdatePosition { .. });
    let span = if quiet {
        tracing::Span::none()
    } else {
        command_span(&cmd, who)
    };
    let t = std::time::Instant::now();
    let tag = match (who, client_id) {
        (Some(p), Some(id)) => Some(satria_engine::ClientTag {
            user: p.user_id,
            client_id: id.to_string(),
        }),
        _ => None,
    };
    let r = match tag {
        Some(tag) => {
            state
                .engine
                .submit_tagged(cmd, tag)
                .instrument(span.clone())
                .await
        }
        None => state.engine.submit(cmd).instrument(span.clone()).await,
    };
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
    use std::collections::BTreeMap;
    use std::sync::{Arc, Mutex};
    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id, Record};
    use tracing::{Event, Metadata};

    /// A subscriber that keeps the fields of every span, as a log line would show them.
    #[derive(Default, Clone)]
    struct Fields(Arc<Mutex<BTreeMap<String, String>>>);

    impl Visit for Fields {
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            self.0
                .lock()
                .unwrap()
                .insert(field.name().to_string(), format!("{value:?}"));
        }
        fn record_str(&mut self, field: &Field, value: &str) {
            self.0
                .lock()
                .unwrap()
                .insert(field.name().to_string(), value.to_string());
        }
    }

    impl tracing::Subscriber for Fields {
        fn enabled(&self, _: &Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, span: &Attributes<'_>) -> Id {
            self.0
                .lock()
                .unwrap()
                .insert("name".into(), span.metadata().name().into());
            span.record(&mut self.clone());
            Id::from_u64(1)
        }
        fn record(&self, _: &Id, values: &Record<'_>) {
            values.record(&mut self.clone());
        }
        fn record_follows_from(&self, _: &Id, _: &Id) {}
        fn event(&self, _: &Event<'_>) {}
        fn enter(&self, _: &Id) {}
        fn exit(&self, _: &Id) {}
    }

    fn fields_of(cmd: &Command) -> BTreeMap<String, String> {
        let seen = Fields::default();
        tracing::subscriber::with_default(seen.clone(), || {
            let _span = command_span(cmd, None);
        });
        seen.0.lock().unwrap().clone()
    }

    #[test]
    fn the_span_names_the_command_and_its_ids() {
        let f = fields_of(&Command::AssignUnits {
            incident: IncidentId(7),
            units: vec![UnitId("PSC-01".into())],
        });
        assert_eq!(f["name"], "command");
        assert_eq!(f["kind"], "assign_units");
        assert_eq!(f["incident"], "7");
        assert!(
            !f.contains_key("unit"),
            "assign names units, not one unit: {f:?}"
        );
        let f = fields_of(&Command::AcknowledgeAssignment {
            incident: IncidentId(7),
            unit: UnitId("PSC-01".into()),
            device_at: None,
        });
        assert_eq!(f["kind"], "acknowledge_assignment");
        assert_eq!(f["incident"], "7");
        assert_eq!(f["unit"], "PSC-01");
        assert!(!f.contains_key("user"), "no account given: {f:?}");
    }
}
