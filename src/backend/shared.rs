//! What several backends emit, derived once: readiness gates and probes ([`gate`]) and the
//! `/bin/sh` wrapper that runs them before a service's argv ([`wrapper`]), the wait scripts
//! of one render built once ([`waits`]), long lists split over several lines ([`lines`]).

pub mod gate;
pub mod lines;
pub mod names;
pub mod tools;
pub mod waited;
pub mod waits;
pub mod wrapper;
