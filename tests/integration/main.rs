//! The one integration-test binary: CLI cases, snapshots, and runs under real init systems.
//! Each concern is a module; `common` holds the builders they share.

// Test code: short names for timestamps (a, b, …) and `push_str(&format!)` read fine here.
#![allow(
    clippy::many_single_char_names,
    clippy::format_push_string,
    clippy::cast_precision_loss
)]

mod cli;
mod common;
mod compose;
mod daemontools;
mod detect;
mod e2e;
mod e2e_verify;
mod env_file;
mod errors;
mod harness;
mod import;
mod import_supervisord;
mod kubernetes;
mod kubernetes_peers;
mod large_output;
mod launchd;
mod lifecycle;
mod openrc;
mod output;
mod pod_security;
mod robustness;
mod roundtrip;
mod s6_loaded;
mod security;
mod shell;
mod snapshots;
mod stdout;
mod supervisord;
mod templates;
