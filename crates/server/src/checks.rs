//! The checks of a position report that need the server's own state (its
//! clock, the last fix it accepted per unit), shared by both doors: HTTP
//! (`POST /api/units/{id}/position`) and the WebSocket `update_position`
//! command answer the same refusal. Every rule of a command's own values lives
//! in `satria_dispatch::validate`; these only run it early, before the
//! movement check that needs a valid position, on the hot path.

use crate::AppState;
use crate::error::{HttpError, rejected};
use crate::now_ms;
use satria_dispatch::ids::distance_m;
use satria_dispatch::{LatLon, Timestamp, UnitId};
use std::collections::HashMap;
use std::sync::Mutex;

/// A position report's checks, in order: a real latitude/longitude and a
/// device time the dispatch rules accept (against the server's clock and the
/// region's skew), then a plausible movement from the unit's last fix.
pub fn position_report(
    state: &AppState,
    unit: &UnitId,
    at: LatLon,
    device_at: Option<Timestamp>,
) -> Result<(), HttpError> {
    // The service area is the engine's to check, after the movement: a fix
    // that jumps out of the regency is implausible before it is outside.
    satria_dispatch::validate::position(at).map_err(rejected)?;
    let snap = state.engine.snapshot();
    snap.check_device_time(device_at, Timestamp(now_ms()), None)
        .map_err(rejected)?;
    plausible_move(state, unit, at, device_at)
}

/// The last position accepted per unit, with its (device or server) time.
#[derive(Debug, Default)]
pub struct LastFixes(Mutex<HashMap<UnitId, (LatLon, i64)>>);

impl LastFixes {
    pub fn get(&self, unit: &UnitId) -> Option<(LatLon, i64)> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(unit)
            .copied()
    }

    pub fn set(&self, unit: &UnitId, at: LatLon, t: i64) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(unit.clone(), (at, t));
    }
}

/// Refuses a position that jumps further from the unit's last fix than a
/// vehicle could drive in the time between them.
pub fn plausible_move(
    state: &AppState,
    unit: &UnitId,
    at: LatLon,
    device_at: Option<Timestamp>,
) -> Result<(), HttpError> {
    // The last fix this server accepted (the snapshot may lag positions by up
    // to 200 ms), else the engine's.
    let prev = state.last_fixes.get(unit).or_else(|| {
        state
            .engine
            .snapshot()
            .unit(unit)
            .and_then(|u| u.last_fix)
            .map(|f| (f.at, f.device_at.unwrap_or(f.received).0))
    });
    let Some((prev_at, then)) = prev else {
        return Ok(());
    };
    let now = device_at.map(|t| t.0).unwrap_or_else(now_ms);
    let dt_s = ((now - then) as f64 / 1000.0).max(1.0);
    let d = distance_m(prev_at, at);
    // 200 m of slack for GPS noise.
    if d > 200.0 + state.opts.max_speed_kmh / 3.6 * dt_s {
        return Err(HttpError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "implausible_position",
            format!(
                "the unit would have moved {:.0} m in {:.0} s, faster than {} km/h",
                d, dt_s, state.opts.max_speed_kmh
            ),
            format!(
                "unit berpindah {:.0} m dalam {:.0} detik, lebih cepat dari {} km/jam",
                d, dt_s, state.opts.max_speed_kmh
            ),
        ));
    }
    Ok(())
}
