//! What several backends emit, derived once: readiness gates and probes ([`gate`]) and the
//! `/bin/sh` wrapper that runs them before a service's argv ([`wrapper`]).

pub mod gate;
pub mod tools;
pub mod wrapper;
