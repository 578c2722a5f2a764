//! The binary tested as a user runs it (`cli`) and killed mid-write (`crash`):
//! one test binary, so the dependencies link once.

mod cli;
mod crash;
