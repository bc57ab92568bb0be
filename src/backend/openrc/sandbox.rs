//! supervise-daemon's confinement for `basic` and `strict` (supervise-daemon(8)): no new
//! privileges, a umask of 0027, and every capability out of the bounding set but the
//! listed ones, which are raised as ambient (`capabilities=`, `cap_iab(3)` text: `!` blocks
//! a bounding capability, `^` makes one ambient and inheritable). A supervise-daemon built
//! without capability support (Debian 12's OpenRC 0.45.2) refuses to start anything with
//! `capabilities=`, and carries the message it would print: the script sets the variable
//! only when that message is absent from the binary. Nothing confines the file system or
//! system calls: that is reported in the capability matrix.

use std::sync::LazyLock;

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
    /// Every capability in lower case, as `cap_iab(3)` text names it.
    static LOWER: LazyLock<Vec<String>> = LazyLock::new(|| {
        CAPABILITIES
            .iter()
            .map(|c| c.to_ascii_lowercase())
            .collect()
    });
    /// The `capabilities=` line that keeps none (the defaults').
    static NONE_KEPT: LazyLock<String> = LazyLock::new(|| capabilities_line(&[], &LOWER));
    if svc.sandbox.level == SandboxLevel::Off {
        return Vec::new();
    }
    let kept = &svc.sandbox.capabilities;
    let caps = if kept.is_empty() {
        NONE_KEPT.clone()
    } else {
        capabilities_line(kept, &LOWER)
    };
    vec![format!("umask={UMASK}"), caps]
}

/// The `capabilities=` line keeping `kept` (`lower`: every capability in lower case, in
/// [`CAPABILITIES`] order).
fn capabilities_line(kept: &[String], lower: &[String]) -> String {
    let mut caps = String::with_capacity(80 + 24 * CAPABILITIES.len());
    caps.push_str("grep -qs '");
    caps.push_str(NO_CAPS);
    caps.push_str("' \"$(command -v supervise-daemon)\" || capabilities=\"");
    let mut first = true;
    let mut item = |caps: &mut String, mark: char, cap: &str| {
        if !first {
            caps.push(',');
        }
        first = false;
        caps.push(mark);
        caps.push_str(cap);
    };
    for c in kept {
        item(&mut caps, '^', &c.to_ascii_lowercase());
    }
    for (c, l) in CAPABILITIES.iter().zip(lower) {
        if !kept.iter().any(|k| k == *c) {
            item(&mut caps, '!', l);
        }
    }
    caps.push('"');
    caps
}
