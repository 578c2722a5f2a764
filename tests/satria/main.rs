//! The binary tested as a user runs it (the `cli_*` modules, by subcommand: roads,
//! the generated region and demo, users, audit, migrate, serve) and killed mid-write (`crash`):
//! one test binary, so the dependencies link once.

mod cli_audit;
mod cli_chaos;
mod cli_cluster;
mod cli_demo;
mod cli_load;
mod cli_migrate;
mod cli_outages;
mod cli_roads;
mod cli_serve;
mod cli_users;
mod crash;
mod support;
