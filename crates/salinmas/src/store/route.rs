//! A collector group's route for a day: its accepted pickups in driving
//! order (by [`crate::route::order_stops`]) with the ETA of each stop.

use satria_auth::Principal;
use satria_sql::V;

use super::access::Actor;
use super::collectors::{collector_area, load_collector};
use super::pickups::{PICKUP_COLS, pickup_row};
use super::{MAX_ROUTE_STOPS, Salinmas};
use crate::error::SalinmasError;
use crate::model::*;
use crate::route::{DriveTimes, order_stops};
use crate::time::format_date;
use crate::validate as v;

impl Salinmas {
    /// The collector group's accepted pickups of `day` in driving order, with
    /// the ETA of each stop (the collector itself or an officer).
    pub fn route(
        &self,
        who: &Principal,
        collector_id: i64,
        day: i64,
        start: Option<(f64, f64)>,
        drive: &dyn DriveTimes,
    ) -> Result<Route, SalinmasError> {
        let a = self.who(who)?;
        if let Some((lat, lon)) = start {
            v::position(lat, lon)?;
        }
        let stops: Vec<Pickup> = self.read(|tx| {
            match a {
                Actor::Officer if load_collector(tx, collector_id)?.is_none() => {
                    return Err(SalinmasError::NotFound(
                        "collector group",
                        "kelompok pengumpul",
                    ));
                }
                Actor::Officer => {}
                Actor::Collector(k) if k == collector_id => {
                    collector_area(tx, k)?;
                }
                _ => return Err(SalinmasError::forbidden()),
            }
            Ok(tx
                .query(
                    &format!(
                        "SELECT {PICKUP_COLS} FROM salinmas_pickups
                         WHERE collector_id = $1 AND day = $2 AND status = 'accepted'
                         ORDER BY window_start_ms, id"
                    ),
                    &[V::from(collector_id), V::from(day)],
                )?
                .iter()
                .map(pickup_row)
                .collect::<Result<_, _>>()?)
        })?;
        if stops.len() > MAX_ROUTE_STOPS {
            return Err(SalinmasError::conflict(
                "too_many_stops",
                format!(
                    "{} stops in one day is more than a route is planned for ({MAX_ROUTE_STOPS})",
                    stops.len()
                ),
                format!(
                    "{} titik dalam sehari melebihi batas satu rute ({MAX_ROUTE_STOPS})",
                    stops.len()
                ),
            ));
        }
        let service = f64::from(self.config.service_time_s);
        let mut points: Vec<(f64, f64)> = Vec::with_capacity(stops.len() + 1);
        points.extend(start);
        points.extend(stops.iter().map(|p| (p.lat, p.lon)));
        let order: Vec<usize>; // indices into `stops`
        let mut legs: Vec<Option<f64>> = Vec::new();
        if stops.is_empty() {
            order = Vec::new();
        } else {
            let m = drive.matrix(&points).map_err(SalinmasError::Unavailable)?;
            if m.len() != points.len() || m.iter().any(|r| r.len() != points.len()) {
                return Err(SalinmasError::Unavailable(format!(
                    "the drive-time matrix is not {0}x{0}",
                    points.len()
                )));
            }
            let leg =
                |from: usize, to: usize| Some(m[from][to]).filter(|s| s.is_finite() && *s >= 0.0);
            if start.is_some() {
                let path = order_stops(&m, 0);
                order = path[1..].iter().map(|i| i - 1).collect();
                let mut prev = 0;
                for &i in &path[1..] {
                    legs.push(leg(prev, i));
                    prev = i;
                }
            } else {
                // A free start: a virtual depot one second from every stop,
                // unreachable back, so 2-opt also chooses the first stop.
                let n = points.len();
                let mut aug: Vec<Vec<f64>> = m
                    .iter()
                    .map(|r| {
                        let mut r = r.clone();
                        r.push(f64::INFINITY);
                        r
                    })
                    .collect();
                let mut depot = vec![1.0; n];
                depot.push(0.0);
                aug.push(depot);
                let path = order_stops(&aug, n);
                order = path[1..].to_vec();
                legs.push(Some(0.0));
                for w in order.windows(2) {
                    legs.push(leg(w[0], w[1]));
                }
            }
        }
        let mut out = Vec::with_capacity(order.len());
        let mut clock = Some(0.0);
        let mut drive_total = Some(0.0);
        for (seq, (&i, leg)) in order.iter().zip(&legs).enumerate() {
            let p = &stops[i];
            clock = clock
                .zip(*leg)
                .map(|(c, l)| c + l + if seq > 0 { service } else { 0.0 });
            drive_total = drive_total.zip(*leg).map(|(t, l)| t + l);
            out.push(RouteStop {
                seq: seq + 1,
                pickup_id: p.id,
                account_id: p.account_id,
                lat: p.lat,
                lon: p.lon,
                address: p.address.clone(),
                window_start: p.window_start,
                window_end: p.window_end,
                drive_s: *leg,
                eta_s: clock,
            });
        }
        let total_s = drive_total.map(|d| d + service * out.len() as f64);
        Ok(Route {
            collector_id,
            date: format_date(day),
            start,
            service_time_s: self.config.service_time_s,
            stops: out,
            total_drive_s: drive_total,
            total_s,
        })
    }
}
