//! Transport bookings at the desk: refused without a desk, and cancelled at
//! the desk when the case can no longer take them.

use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use satria_auth::{Principal, Role};
use satria_pattas::*;
use serde_json::json;

use crate::support::*;

/// A desk during whose booking an officer closes the case.
struct ClosingDesk {
    inner: FakeDesk,
    pattas: Arc<Pattas>,
    cancelled: Mutex<Vec<String>>,
}

impl TransportDesk for ClosingDesk {
    fn book(&self, req: TransportRequest) -> BoxFuture<Result<TransportTicket, TransportError>> {
        let officer = Principal {
            user_id: 9,
            username: "other-officer".into(),
            role: Role::PattasOfficer,
            unit: None,
            hospital: None,
            subject: None,
        };
        blocking(|| {
            self.pattas
                .close_case(&officer, req.case_id, "ditutup bersamaan", T0)
                .unwrap()
        });
        self.inner.book(req)
    }

    fn status(&self, transport_id: &str) -> BoxFuture<Option<TransportStatus>> {
        self.inner.status(transport_id)
    }

    fn cancel(&self, transport_id: &str, reason: &str) -> BoxFuture<Result<(), TransportError>> {
        self.cancelled
            .lock()
            .unwrap()
            .push(transport_id.to_string());
        self.inner.cancel(transport_id, reason)
    }
}

on_every_backend!(async:
    without_a_desk_booking_is_refused_with_503_and_nothing_is_stored,
    a_booking_the_case_can_no_longer_take_is_cancelled_at_the_desk,
);

async fn without_a_desk_booking_is_refused_with_503_and_nothing_is_stored(backend: Backend) {
    let Some(w) = world_with_on(backend, |_| Some(Arc::new(NoTransportDesk))) else {
        return;
    };
    let b = w
        .post_ok("/api/pattas/beneficiaries", "officer", sukarti())
        .await;
    let c = w
        .post_ok(
            "/api/pattas/cases",
            "officer",
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
    let snap = w.snapshot().await;
    let (s, e) = w
        .call(
            "POST",
            &format!("/api/pattas/cases/{cid}/transports"),
            "officer",
            Some(transport_body(T0 + H)),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Some("transport_unavailable")
        )
    );
    assert!(e["message_id"].as_str().unwrap().contains("tidak tersedia"));
    assert_eq!(w.snapshot().await, snap);
}

async fn a_booking_the_case_can_no_longer_take_is_cancelled_at_the_desk(backend: Backend) {
    let desk = Arc::new(Mutex::new(None::<Arc<ClosingDesk>>));
    let slot = desk.clone();
    let Some(w) = world_with_on(backend, move |p| {
        let d = Arc::new(ClosingDesk {
            inner: FakeDesk::default(),
            pattas: p.clone(),
            cancelled: Mutex::new(Vec::new()),
        });
        *slot.lock().unwrap() = Some(d.clone());
        Some(d)
    }) else {
        return;
    };
    let closing = desk.lock().unwrap().clone().unwrap();
    let b = w
        .post_ok("/api/pattas/beneficiaries", "officer", sukarti())
        .await;
    let c = w
        .post_ok(
            "/api/pattas/cases",
            "officer",
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
    w.post_ok(
        &format!("/api/pattas/cases/{cid}/assist"),
        "officer",
        json!({}),
    )
    .await;
    let (s, e) = w
        .call(
            "POST",
            &format!("/api/pattas/cases/{cid}/transports"),
            "officer",
            Some(transport_body(T0 + H)),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::CONFLICT, Some("invalid_transition")),
        "{e}"
    );
    assert_eq!(*closing.cancelled.lock().unwrap(), vec!["TR-1".to_string()]);
    let d = w.get(&format!("/api/pattas/cases/{cid}"), "officer").await;
    assert_eq!(d["status"], "closed");
    assert_eq!(d["transports"], json!([]));
    assert!(
        d["history"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["action"] != "transport_booked")
    );
}
