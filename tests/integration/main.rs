//! The one integration-test binary: CLI cases, snapshots, and runs under real init systems.
//! Each concern is a module; `common` holds the builders they share.

mod cli;
mod common;
mod errors;
mod output;
mod robustness;
mod snapshots;
