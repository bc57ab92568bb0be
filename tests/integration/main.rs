//! The one integration-test binary: CLI cases, snapshots, and runs under real init systems.
//! Each concern is a module; `common` holds the builders they share.

mod cli;
mod common;
mod e2e_openrc;
mod e2e_supervisord;
mod e2e_systemd;
mod e2e_verify;
mod errors;
mod harness;
mod launchd;
mod openrc;
mod output;
mod robustness;
mod snapshots;
mod supervisord;
