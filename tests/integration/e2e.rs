//! The generated artifacts under the real init systems: one list of scenarios
//! ([`scenarios`]) over a small [`driver::Driver`] trait, implemented per init system over
//! the harness ([`crate::harness`]): `systemd` (a `systemd --user` manager, never PID 1),
//! `openrc` (OpenRC 0.45 with supervise-daemon in a private mount namespace), `supervisord`
//! (`supervisord -n` from the venv). Every scenario runs for every driver (`scenarios!`), so
//! a new init system gets all of them by writing a driver; what only one init system does
//! is tested beside its driver, through the driver.
//!
//! The artifacts come from `openim-init generate` (the real CLI) on manifests written by
//! [`manifests`], with the probe (examples/probe.rs) as every service's command. The tests of
//! one init system run one at a time (its lock); outside CI a machine without root or the
//! init system skips them, in CI that is a failure. Every state is awaited with a deadline;
//! the only sleeps are where a scenario proves that something does NOT happen.

/// One `#[test]` per scenario for the driver `$driver`.
macro_rules! scenarios {
    ($driver:ty) => {
        #[test]
        fn stack_starts_and_stops() {
            crate::e2e::scenarios::stack_starts_and_stops::<$driver>();
        }

        #[test]
        fn starting_b_alone_waits_for_a() {
            crate::e2e::scenarios::starting_b_alone_waits_for_a::<$driver>();
        }

        #[test]
        fn external_dependency_gates_the_start() {
            crate::e2e::scenarios::external_dependency_gates_the_start::<$driver>();
        }

        #[test]
        fn sigkill_restarts_unless_never() {
            crate::e2e::scenarios::sigkill_restarts_unless_never::<$driver>();
        }
    };
}

pub mod driver;
pub mod manifests;
mod openrc;
mod runit;
mod s6;
pub mod scenarios;
mod supervisord;
mod systemd;
