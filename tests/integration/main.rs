//! The one integration-test binary: CLI cases, snapshots, and runs under real init systems.
//! Each concern is a module; `common` holds the builders they share.

mod cli;
mod common;
mod e2e_systemd;
mod e2e_verify;
mod harness;
mod launchd;
mod roundtrip;
mod snapshots;
mod supervisord;
