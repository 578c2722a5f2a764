//! Salinmas (Sampah Online Banyumas): households and dasawisma groups sort
//! their waste and order a pickup; community collector groups (KSM) serving
//! their kelurahan accept it, weigh it and credit the household at the day's
//! price; the household's balance is paid out on request.
//!
//! - [`Salinmas`]: the database, one SQLite file (`Salinmas::open(path)`,
//!   migrated by `PRAGMA user_version` on open) or a PostgreSQL database
//!   shared by the nodes of a cluster (`Salinmas::open_postgres(url, config)`,
//!   migrated under an advisory lock), every query written once for both,
//!   with every operation as a blocking method that takes the caller's
//!   [`satria_auth::Principal`] and `now_ms`; [`Salinmas::copy_into`] copies
//!   a store into another (a centre's file into its cluster's database);
//! - [`routes`]: the REST resources under `/api/salinmas/...`, and
//!   [`OPERATIONS`], their OpenAPI rows;
//! - [`DriveTimes`], [`StraightLine`] and [`order_stops`]: collection routes.
//!
//! # Wiring (for the server)
//!
//! ```ignore
//! let salinmas = Arc::new(Salinmas::open(&data_dir.join("salinmas.sqlite"))?);
//! // or, in a cluster: Salinmas::open_postgres(&database_url, SalinmasConfig::default())?
//! let demo = salinmas.seed_demo(now_ms)?; // demo only: bind the demo users'
//! // `subject` to demo.household_account_id / demo.collector_group_id
//! let api = satria_salinmas::routes(salinmas, auth.clone(), road_drive_times)
//!     .layer(axum::middleware::from_fn_with_state(auth, satria_http::require_principal));
//! // and list satria_salinmas::OPERATIONS in the OpenAPI document.
//! ```
//!
//! `road_drive_times` is an `Arc<dyn DriveTimes>` over the road graph (rows
//! from, columns to, seconds, `f64::INFINITY` when unreachable);
//! [`StraightLine`] stands in when there is none. Give the database a file of
//! its own (on PostgreSQL its tables are prefixed `salinmas_` and share the
//! cluster's database). The server's `AccessRecorder` receives every read of a
//! household's personal data.
//!
//! # Days, times and routes
//!
//! Days are WIB (UTC+7) calendar days: the day a collection is credited at,
//! a pickup's `date` (the accepted `scheduled_date`, else the day its window
//! starts), report ranges and ISO weeks. Times in requests (a pickup's
//! `window_start` and `window_end`) are read by
//! `satria_calendar::Timestamp::parse_local`:
//! `YYYY-MM-DD[T| ]HH:MM[:SS[.fraction]]`, WIB unless an offset (`Z`,
//! `±HH:MM`, `±HHMM`, `±HH`) is given; a pickup's window must end in the
//! future, start within 60 days and last at most 7 days. Instants in
//! responses (`window_start`, `requested_at`, a ledger entry's `at`, ...) are
//! [`satria_calendar::Timestamp`]s: RFC 3339 strings in UTC with
//! milliseconds (`2026-03-02T01:00:00.000Z`), which the requests accept too;
//! the database keeps them as integer milliseconds.
//!
//! A route's `eta_s` of a stop is the seconds from leaving the start: the
//! drive legs so far plus the configured service time
//! ([`SalinmasConfig::service_time_s`], 5 minutes by default) of each earlier
//! stop; an unreachable stop goes last with no ETA. Without a start the route
//! begins at whichever stop makes it shortest.
//!
//! # Invariants
//!
//! - **Ledger**: every credit and payout is an append-only entry carrying the
//!   balance after it; an account's balance is always the sum of its entries
//!   and never negative (a `CHECK` in the schema, and a payout larger than the
//!   balance is refused with 409 `insufficient_balance`). Reading the balance
//!   and appending the entry happen in one write transaction (SQLite's
//!   `BEGIN IMMEDIATE`; on PostgreSQL under the store's advisory lock, which
//!   serialises the nodes too), so two payouts cannot both spend the same
//!   rupiah. [`Salinmas::verify_ledgers`] re-checks every running balance.
//! - **Money is integer rupiah**; weights are whole grams (requests give kg,
//!   finite, > 0, at most 5 t per line); a line's credit is
//!   `price_per_kg × grams / 1000`, rounded half up.
//! - **Price by day**: the price of a category on a day is the one with the
//!   latest `valid_from` on or before that day (the later-set of two on the
//!   same day). A collection is credited at the prices of its WIB (UTC+7) day,
//!   and the price used is stored with the weight line, so a later price
//!   change never alters an earlier credit.
//! - **Pickup states**: `requested → accepted → collected`;
//!   `requested | accepted → cancelled` (household or officer) or `rejected`
//!   (collector or officer), always with a reason. Collected, cancelled and
//!   rejected are final; any other transition is 409 `invalid_transition`.
//!   Only a collector group serving the pickup's kelurahan may accept it
//!   (`kelurahan_not_served` otherwise), and only the group that accepted it
//!   may collect it.
//! - **Nothing half-done**: every refusal (4xx) changes nothing; each change
//!   and its history row commit together. A pickup's state is read and
//!   changed in one write transaction, so two transitions of one pickup
//!   serialise (across nodes on PostgreSQL).
//! - **History**: every change is recorded in `salinmas_history` (entity, id,
//!   action, actor username, role, time, details as JSON), append-only by
//!   trigger, like the ledger, and ordered by id on both databases.
//! - **Who sees what**: officers (and admins) everything; a household
//!   (`Principal::subject` = its account id) its own account, pickups and
//!   ledger; a collector group (`subject` = its group id) the accounts and
//!   pickups of its kelurahan. Other roles get 403, and so does a household or
//!   collector asking for a record that is not theirs, whether it exists or
//!   not. Reads of a household's personal data (name, phone, address,
//!   position) are recorded through [`satria_auth::AccessRecorder`] as
//!   `salinmas_account:ID`.

mod api;
mod error;
mod model;
mod route;
mod store;
pub mod time;
mod validate;

pub use api::{HISTORY_ENTITIES, MAX_BODY_BYTES, OPERATIONS, routes};
pub use error::SalinmasError;
pub use model::*;
pub use route::{DriveTimes, StraightLine, haversine_m, order_stops, path_cost};
pub use store::{
    Clock, DEFAULT_PRICES, DEFAULT_PRICES_FROM, LIST_LIMIT, MAX_OPEN_PICKUPS, MAX_REPORT_DAYS,
    MAX_ROUTE_STOPS, PG_SCHEMA_VERSION, PILOT_KELURAHAN, SCHEMA_VERSION, Salinmas, SalinmasConfig,
    SalinmasCopyReport,
};
