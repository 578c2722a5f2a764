//! Where the smart-city modules meet dispatch. Pattas and Salinmas know nothing
//! of the dispatch crates; the server gives them what they need through their
//! own interfaces:
//!
//! - Pattas books free ambulance transport through [`EngineDesk`], its
//!   [`TransportDesk`]: a booking becomes a scheduled transport in the dispatch
//!   engine (lowest priority, see `satria_dispatch::transport`), and its status
//!   is read back from the engine's state.
//! - Salinmas orders collection stops over [`RoadMatrix`], its [`DriveTimes`]
//!   over the road graph (a straight line at 30 km/h when the server has none).
//! - Both record reads of personal data through the server's access log.
//!
//! Each module keeps its own SQLite file in the data directory
//! (`pattas.sqlite`, `salinmas.sqlite`) and serves its routes behind the same
//! bearer-token middleware as the rest of the API.

use crate::AppState;
use satria_auth::AccessRecorder;
use satria_dispatch::{
    AssignmentState, BookingId, BookingStatus, Command, Event, HospitalId, IncidentStatus, LatLon,
    UnitStatus,
};
use satria_engine::EngineError;
use satria_pattas::{
    BoxFuture, TransportDesk, TransportError, TransportRequest, TransportStatus, TransportTicket,
};
use std::sync::Arc;

/// The modules' stores, opened from the data directory.
pub struct Modules {
    pub pattas: Arc<satria_pattas::Pattas>,
    pub salinmas: Arc<satria_salinmas::Salinmas>,
}

impl std::fmt::Debug for Modules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Modules").finish_non_exhaustive()
    }
}

impl Modules {
    /// Opens (and migrates) both modules' tables in the cluster's PostgreSQL
    /// database at `url`, shared by every node (the URL's password never
    /// shows in an error).
    pub fn open_postgres(url: &str) -> Result<Modules, String> {
        let shown = satria_store::pg::redact(url);
        let pattas =
            satria_pattas::Pattas::open_postgres(url, satria_pattas::PattasConfig::default())
                .map_err(|e| format!("{shown}: Pattas: {e}"))?;
        let salinmas = satria_salinmas::Salinmas::open_postgres(
            url,
            satria_salinmas::SalinmasConfig::default(),
        )
        .map_err(|e| format!("{shown}: Salinmas: {e}"))?;
        Ok(Modules {
            pattas: Arc::new(pattas),
            salinmas: Arc::new(salinmas),
        })
    }

    /// Opens (and migrates) both modules' databases in `data_dir`.
    pub fn open(data_dir: &std::path::Path) -> Result<Modules, String> {
        let pattas = satria_pattas::Pattas::open(
            &data_dir.join("pattas.sqlite"),
            satria_pattas::PattasConfig::default(),
        )
        .map_err(|e| format!("pattas.sqlite: {e}"))?;
        let salinmas = satria_salinmas::Salinmas::open(&data_dir.join("salinmas.sqlite"))
            .map_err(|e| format!("salinmas.sqlite: {e}"))?;
        Ok(Modules {
            pattas: Arc::new(pattas),
            salinmas: Arc::new(salinmas),
        })
    }
}

/// The modules' routes, behind the bearer-token middleware.
pub fn routes(state: &Arc<AppState>) -> Option<axum::Router> {
    let m = state.modules.get()?;
    let recorder: Arc<dyn AccessRecorder> = Arc::new(StateRecorder(Arc::clone(state)));
    let drive: Arc<dyn satria_salinmas::DriveTimes> = match state.roads.get() {
        Some(net) => Arc::new(RoadMatrix {
            net: Arc::clone(net),
        }),
        None => Arc::new(satria_salinmas::StraightLine { speed_kmh: 30.0 }),
    };
    let desk: Arc<dyn TransportDesk> = Arc::new(EngineDesk {
        state: Arc::clone(state),
    });
    let api = satria_pattas::routes(Arc::clone(&m.pattas), Arc::clone(&recorder), desk)
        .merge(satria_salinmas::routes(
            Arc::clone(&m.salinmas),
            recorder,
            drive,
        ))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state.auth),
            satria_http::require_principal,
        ));
    Some(api)
}

/// Module reads go to the same access log as the dispatch API's.
struct StateRecorder(Arc<AppState>);

impl AccessRecorder for StateRecorder {
    /// Queued to the access-log thread; resolves when its batch is durable.
    fn record_many(&self, batch: Vec<satria_auth::AccessRecord>) -> satria_auth::Recording {
        let state = Arc::clone(&self.0);
        Box::pin(async move { state.audit.record_all(batch).await })
    }
}

/// Drive-time matrices over the road graph for Salinmas' collection routes.
pub struct RoadMatrix {
    pub net: Arc<satria_roads::RoadNetwork>,
}

impl satria_salinmas::DriveTimes for RoadMatrix {
    fn matrix(&self, points: &[(f64, f64)]) -> Result<Vec<Vec<f64>>, String> {
        use satria_dispatch::DriveTimes;
        let roads = satria_engine::RoadDriveTimes::new(Arc::clone(&self.net));
        let pts: Vec<LatLon> = points
            .iter()
            .map(|&(lat, lon)| LatLon { lat, lon })
            .collect();
        Ok(pts
            .iter()
            .map(|&from| {
                roads
                    .one_to_many(from, &pts)
                    .into_iter()
                    .map(|e| e.map_or(f64::INFINITY, |e| f64::from(e.eta_s)))
                    .collect()
            })
            .collect())
    }
}

/// Pattas' free ambulance transport, booked in the dispatch engine.
pub struct EngineDesk {
    state: Arc<AppState>,
}

fn booking_id(transport_id: &str) -> Option<BookingId> {
    transport_id
        .strip_prefix("TRX-")
        .and_then(|n| n.parse::<u64>().ok())
        .map(BookingId)
}

fn desk_error(e: EngineError) -> TransportError {
    match e {
        EngineError::Rejected(r) => TransportError::new(r.code(), r.to_string(), r.message_id()),
        other => TransportError::new(
            "transport_unavailable",
            format!("dispatch cannot take the booking now: {other}"),
            "dispatch tidak dapat menerima pemesanan saat ini, coba lagi",
        ),
    }
}

/// The state of a booking as Pattas shows it.
fn booking_status(d: &satria_dispatch::Dispatch, id: BookingId) -> Option<TransportStatus> {
    let b = d.booking(id)?;
    let (state, unit, updated) = match &b.status {
        BookingStatus::Scheduled => ("scheduled", None, b.booked_at),
        BookingStatus::Cancelled { at, .. } => ("cancelled", None, *at),
        BookingStatus::Dispatched { incident, at } => {
            // An incident archived out of the live state left its ending here.
            let Some(i) = d.incident(*incident) else {
                let end = b.ended.as_ref()?;
                let (state, unit) = match (end.cancelled, &end.unit) {
                    (true, _) => ("cancelled", None),
                    (false, u) => ("completed", u.as_ref().map(|u| u.0.clone())),
                };
                return Some(TransportStatus {
                    transport_id: b.id.to_string(),
                    state: state.into(),
                    unit_id: unit,
                    updated_at: end.at,
                });
            };
            let last = i.history.last().map(|h| h.at).unwrap_or(*at);
            let active = i.assignments.iter().rev().find(|a| a.is_active());
            match (i.status, active) {
                (IncidentStatus::Cancelled | IncidentStatus::Merged, _) => {
                    ("cancelled", None, i.ended_at.unwrap_or(last))
                }
                (_, Some(a)) => {
                    let unit = d.unit(&a.unit);
                    let state = match (&a.state, unit.map(|u| u.status)) {
                        (AssignmentState::Pending, _) => "assigned",
                        (_, Some(UnitStatus::EnRoute)) => "en_route",
                        (_, Some(UnitStatus::OnScene | UnitStatus::AtPatient)) => "on_scene",
                        (
                            _,
                            Some(
                                UnitStatus::Transporting
                                | UnitStatus::AtDestination
                                | UnitStatus::TransferOfCare,
                            ),
                        ) => "transporting",
                        _ => "assigned",
                    };
                    (state, Some(a.unit.0.clone()), last)
                }
                (_, None)
                    if i.assignments
                        .iter()
                        .any(|a| a.state == AssignmentState::Completed) =>
                {
                    let u = i
                        .assignments
                        .iter()
                        .rev()
                        .find(|a| a.state == AssignmentState::Completed);
                    ("completed", u.map(|a| a.unit.0.clone()), last)
                }
                (IncidentStatus::Closed, None) => ("completed", None, last),
                (_, None) => ("scheduled", None, last),
            }
        }
    };
    Some(TransportStatus {
        transport_id: b.id.to_string(),
        state: state.into(),
        unit_id: unit,
        updated_at: updated,
    })
}

impl TransportDesk for EngineDesk {
    fn book(&self, req: TransportRequest) -> BoxFuture<Result<TransportTicket, TransportError>> {
        let state = Arc::clone(&self.state);
        Box::pin(async move {
            let cmd = Command::BookTransport {
                reference: format!("pattas:case:{}", req.case_id),
                patient_name: req.patient_name,
                patient_phone: req.patient_phone.unwrap_or_default(),
                pickup: LatLon {
                    lat: req.pickup_lat,
                    lon: req.pickup_lon,
                },
                pickup_address: req.pickup_address,
                destination: req.destination_hospital_id.map(HospitalId),
                destination_name: req.destination_name,
                destination_location: LatLon {
                    lat: req.destination_lat,
                    lon: req.destination_lon,
                },
                scheduled_for: req.scheduled_for,
                purpose: req.purpose,
                notes: req.notes,
            };
            let published = crate::trace::submit(&state, None, cmd)
                .await
                .map_err(desk_error)?;
            published
                .iter()
                .find_map(|p| match &p.event {
                    Event::TransportBooked { booking } => Some(TransportTicket {
                        transport_id: booking.id.to_string(),
                    }),
                    _ => None,
                })
                .ok_or_else(|| {
                    TransportError::new(
                        "transport_unavailable",
                        "dispatch did not confirm the booking",
                        "dispatch tidak mengonfirmasi pemesanan",
                    )
                })
        })
    }

    fn status(&self, transport_id: &str) -> BoxFuture<Option<TransportStatus>> {
        let snap = self.state.engine.snapshot();
        let id = booking_id(transport_id);
        Box::pin(async move { booking_status(&snap, id?) })
    }

    fn cancel(&self, transport_id: &str, reason: &str) -> BoxFuture<Result<(), TransportError>> {
        let state = Arc::clone(&self.state);
        let id = booking_id(transport_id);
        let reason = reason.to_string();
        Box::pin(async move {
            let not_found = || {
                TransportError::new(
                    "not_found",
                    "no such transport",
                    "transport tidak ditemukan",
                )
            };
            let id = id.ok_or_else(not_found)?;
            let snap = state.engine.snapshot();
            let status = booking_status(&snap, id).ok_or_else(not_found)?;
            match status.state.as_str() {
                "cancelled" => return Ok(()),
                "scheduled" | "assigned" => {}
                _ => {
                    return Err(TransportError::new(
                        "not_cancellable",
                        "the ambulance is already on its way or the trip is over; call PSC 119",
                        "ambulans sudah berangkat atau perjalanan sudah selesai; hubungi PSC 119",
                    ));
                }
            }
            let reason = if reason.trim().is_empty() {
                "dibatalkan oleh petugas Pattas".to_string()
            } else {
                reason
            };
            crate::trace::submit(
                &state,
                None,
                Command::CancelTransport {
                    booking: id,
                    reason,
                },
            )
            .await
            .map(|_| ())
            .map_err(desk_error)
        })
    }
}
