//! What goes in and out: request bodies (strict: unknown fields refused) and
//! the records returned.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::time::Timestamp;

/// The waste categories, in the order the price list shows them.
pub const CATEGORIES: [&str; 7] = [
    "organic", "compost", "plastic", "paper", "metal", "glass", "residue",
];

/// Pickup states. `requested → accepted → collected`; `requested|accepted →
/// cancelled|rejected`. Collected, cancelled and rejected are final.
pub const STATUSES: [&str; 5] = [
    "requested",
    "accepted",
    "collected",
    "cancelled",
    "rejected",
];

/// Payout methods.
pub const PAYOUT_METHODS: [&str; 3] = ["cash", "bank_transfer", "e_wallet"];

// ---- requests -------------------------------------------------------------

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewKelurahan {
    pub name: String,
    /// Needed only when the name exists in more than one kecamatan.
    #[serde(default)]
    pub kecamatan: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    /// `household` or `dasawisma` (about ten households).
    pub kind: String,
    pub name: String,
    pub kelurahan: String,
    pub rt: String,
    pub rw: String,
    pub address: String,
    pub lat: f64,
    pub lon: f64,
    pub phone: String,
    /// People in a household, households in a dasawisma.
    #[serde(default, deserialize_with = "satria_http::json_int::opt")]
    pub members: Option<u32>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCollector {
    pub name: String,
    /// The kelurahan the group serves (each one served by Salinmas).
    pub kelurahan: Vec<String>,
    pub phone: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPrice {
    pub category: String,
    #[serde(deserialize_with = "satria_http::json_int::int")]
    pub price_per_kg_rp: i64,
    /// `YYYY-MM-DD`: the first day the price applies.
    pub valid_from: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPickup {
    /// The household's own account when omitted; an officer must name it.
    #[serde(default, deserialize_with = "satria_http::json_int::opt")]
    pub account_id: Option<i64>,
    pub lat: f64,
    pub lon: f64,
    pub address: String,
    pub categories: Vec<String>,
    pub estimated_kg: f64,
    /// `YYYY-MM-DD[T| ]HH:MM[:SS[.fraction]]` with an optional offset (`Z`,
    /// `±HH:MM`, `±HHMM`, `±HH`); WIB when no offset is given
    /// (`validate::window_time`).
    pub window_start: String,
    pub window_end: String,
    #[serde(default)]
    pub notes: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcceptPickup {
    /// `YYYY-MM-DD`; the day of the window start when omitted.
    #[serde(default)]
    pub scheduled_date: Option<String>,
    /// Required when an officer accepts on a group's behalf.
    #[serde(default, deserialize_with = "satria_http::json_int::opt")]
    pub collector_id: Option<i64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeightIn {
    pub category: String,
    /// The weight in kg (decimal); or give `grams` instead, never both.
    #[serde(default)]
    pub kg: Option<f64>,
    /// The weight in whole grams, as many scales show it.
    #[serde(default, deserialize_with = "satria_http::json_int::opt")]
    pub grams: Option<i64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectPickup {
    pub weights: Vec<WeightIn>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    pub reason: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPayout {
    #[serde(deserialize_with = "satria_http::json_int::int")]
    pub amount_rp: i64,
    /// `cash`, `bank_transfer` or `e_wallet`.
    pub method: String,
    #[serde(default)]
    pub reference: Option<String>,
}

/// Which pickups to list; `None` matches all.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PickupFilter {
    pub status: Option<String>,
    pub kelurahan: Option<String>,
    /// The pickup's day (scheduled, else the window's start), day number.
    pub day: Option<i64>,
    pub account_id: Option<i64>,
    /// At most this many (`None`: [`crate::LIST_LIMIT`]), after skipping `offset`.
    pub limit: Option<usize>,
    pub offset: usize,
}

// ---- records --------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Kelurahan {
    pub name: String,
    pub kecamatan: String,
    pub added_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Account {
    pub id: i64,
    pub kind: String,
    pub name: String,
    pub kelurahan: String,
    pub rt: String,
    pub rw: String,
    pub address: String,
    pub lat: f64,
    pub lon: f64,
    pub phone: String,
    pub members: Option<u32>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Collector {
    pub id: i64,
    pub name: String,
    pub kelurahan: Vec<String>,
    pub phone: String,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Price {
    pub id: i64,
    pub category: String,
    pub price_per_kg_rp: i64,
    pub valid_from: String,
    pub set_by: String,
    pub set_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PriceList {
    /// The day `current` applies to.
    pub date: String,
    /// Per category, the price valid on `date` (absent when none yet).
    pub current: Vec<Price>,
    /// Every price ever set, by category then `valid_from`.
    pub history: Vec<Price>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeightLine {
    pub category: String,
    pub grams: i64,
    pub kg: f64,
    pub price_per_kg_rp: i64,
    pub amount_rp: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pickup {
    pub id: i64,
    pub account_id: i64,
    pub kelurahan: String,
    pub lat: f64,
    pub lon: f64,
    pub address: String,
    pub categories: Vec<String>,
    pub estimated_kg: f64,
    /// The window the household asked for (shown in WIB).
    pub window_start: Timestamp,
    pub window_end: Timestamp,
    pub notes: Option<String>,
    pub status: String,
    /// The day the pickup is planned for: the scheduled date, else the
    /// window's start day.
    pub date: String,
    pub collector_id: Option<i64>,
    pub requested_at: Timestamp,
    pub accepted_at: Option<Timestamp>,
    pub collected_at: Option<Timestamp>,
    /// The WIB day of the collection: the day whose prices applied.
    pub collected_date: Option<String>,
    pub weights: Vec<WeightLine>,
    pub credit_rp: Option<i64>,
    /// Why it was cancelled or rejected.
    pub reason: Option<String>,
    pub closed_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryEntry {
    pub id: i64,
    pub entity: String,
    pub entity_id: String,
    pub action: String,
    pub actor: String,
    pub role: String,
    pub at: Timestamp,
    pub details: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PickupDetail {
    #[serde(flatten)]
    pub pickup: Pickup,
    pub history: Vec<HistoryEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LedgerEntry {
    pub id: i64,
    pub account_id: i64,
    pub at: Timestamp,
    /// `credit` (from a pickup) or `payout`.
    pub kind: String,
    /// Positive for a credit, negative for a payout.
    pub amount_rp: i64,
    /// The balance after this entry.
    pub balance_rp: i64,
    pub pickup_id: Option<i64>,
    pub method: Option<String>,
    pub reference: Option<String>,
    pub actor: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ledger {
    pub account_id: i64,
    pub balance_rp: i64,
    pub entries: Vec<LedgerEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RouteStop {
    /// 1-based position in the route.
    pub seq: usize,
    pub pickup_id: i64,
    pub account_id: i64,
    pub lat: f64,
    pub lon: f64,
    pub address: String,
    /// The pickup's window.
    pub window_start: Timestamp,
    pub window_end: Timestamp,
    /// Drive seconds from the previous stop (or the start); `None` if unreachable.
    pub drive_s: Option<f64>,
    /// Seconds from leaving the start to arriving here: drive plus the service
    /// time of every earlier stop; `None` once a leg is unreachable.
    pub eta_s: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Route {
    pub collector_id: i64,
    pub date: String,
    /// The start given, if any; otherwise the route starts at its first stop.
    pub start: Option<(f64, f64)>,
    pub service_time_s: u32,
    pub stops: Vec<RouteStop>,
    /// Sum of the drive legs; `None` if a stop is unreachable.
    pub total_drive_s: Option<f64>,
    /// Drive plus service at every stop; `None` if a stop is unreachable.
    pub total_s: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeekWeight {
    /// ISO week, `YYYY-Www`, of the collection day.
    pub week: String,
    pub kelurahan: String,
    pub category: String,
    pub grams: i64,
    pub kg: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KelurahanActivity {
    pub kelurahan: String,
    /// Accounts with a pickup requested or collected in the range.
    pub active_accounts: i64,
    pub collected_pickups: i64,
    pub credits_earned_rp: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeightReport {
    pub from: String,
    pub to: String,
    pub weights: Vec<WeekWeight>,
    pub kelurahan: Vec<KelurahanActivity>,
    /// Accounts with a pickup requested or collected in the range.
    pub active_accounts: i64,
    /// Credited to households for collected waste in the range.
    pub credits_earned_rp: i64,
    /// Paid out to households in the range.
    pub credits_paid_rp: i64,
}

/// The synthetic demo records [`crate::Salinmas::seed_demo`] makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DemoIds {
    /// Bind the demo `salinmas_household` user's subject to this.
    pub household_account_id: i64,
    /// Bind the demo `salinmas_collector` user's subject to this.
    pub collector_group_id: i64,
}
