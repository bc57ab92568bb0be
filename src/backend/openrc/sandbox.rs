//! supervise-daemon's confinement for `basic` and `strict` (supervise-daemon(8)): no new
//! privileges, a umask of 0027, and every capability out of the bounding set but the
//! listed ones, which are raised as ambient (`capabilities=`, `cap_iab(3)` text: `!` blocks
//! a bounding capability, `^` makes one ambient and inheritable). A supervise-daemon built
//! without capability support (Debian 12's OpenRC 0.45.2) refuses to start anything with
//! `capabilities=`, and carries the message it would print: the script sets the variable
//! only when that message is absent from the binary. Nothing confines the file system or
//! system calls: that is reported in the capability matrix.

use crate::model::{CAPABILITIES, SandboxLevel, Service};

/// What a supervise-daemon without capability support prints for `--capabilities`.
pub const NO_CAPS: &str = "Capabilities support not enabled";

/// The umask of a sandboxed service.
pub const UMASK: &str = "0027";

/// The `supervise_daemon_args` flags of `svc`'s sandbox. `--no-new-privs` is given as a
/// flag: OpenRC 0.45's `no_new_privs=yes` passes `--no_new_privs`, which supervise-daemon
/// rejects (its option is `--no-new-privs`).
#[must_use]
pub fn daemon_flags(svc: &Service) -> &'static [&'static str] {
    if svc.sandbox.level == SandboxLevel::Off {
        &[]
    } else {
        &["--no-new-privs"]
    }
}

/// The settings lines of `svc`'s sandbox: `umask=` and `capabilities=`.
#[must_use]
pub fn settings(svc: &Service) -> Vec<String> {
    if svc.sandbox.level == SandboxLevel::Off {
        return Vec::new();
    }
    let kept = &svc.sandbox.capabilities;
    let iab: Vec<String> = kept
        .iter()
        .map(|c| format!("^{}", c.to_ascii_lowercase()))
        .chain(
            CAPABILITIES
                .iter()
                .filter(|c| !kept.iter().any(|k| k == *c))
                .map(|c| format!("!{}", c.to_ascii_lowercase())),
        )
        .collect();
    vec![
        format!("umask={UMASK}"),
        format!(
            "grep -qs '{NO_CAPS}' \"$(command -v supervise-daemon)\" || capabilities=\"{}\"",
            iab.join(",")
        ),
    ]
}
