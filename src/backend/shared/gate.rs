//! Readiness gates and probes as portable POSIX `sh` scripts, shared by every backend that
//! has no native way to wait for a dependency or to check health.
//!
//! A TCP probe uses bash's `/dev/tcp` when bash exists and `nc -z` otherwise (busybox on
//! Alpine has it); an HTTP probe uses curl or wget; an exec probe runs its argv. Each probe
//! is bounded by `timeout`.

use crate::escape::sh;
use crate::manifest::Duration;
use crate::model::Check;

/// A shell command (one line) that exits 0 when `check` passes within `timeout`.
#[must_use]
pub fn probe(check: &Check, timeout: Duration) -> String {
    let t = timeout.secs_ceil().max(1);
    match check {
        Check::Tcp { host, port } => {
            let h = sh::quote(host);
            format!(
                "if command -v bash >/dev/null 2>&1; then timeout {t} bash -c 'exec 3<>\"/dev/tcp/$0/$1\"' {h} {port}; else timeout {t} nc -z {h} {port}; fi >/dev/null 2>&1"
            )
        }
        Check::Http { url } => {
            let u = sh::quote(url);
            format!(
                "if command -v curl >/dev/null 2>&1; then curl -fsS -o /dev/null --max-time {t} {u}; else timeout {t} wget -q -O /dev/null {u}; fi >/dev/null 2>&1"
            )
        }
        Check::Exec { argv } => format!("timeout {t} {} >/dev/null 2>&1", sh::join(argv)),
    }
}

/// A human description of a check, e.g. `tcp 127.0.0.1:19094`.
#[must_use]
pub fn describe(check: &Check) -> String {
    match check {
        Check::Tcp { host, port } if host.contains(':') => format!("tcp [{host}]:{port}"),
        Check::Tcp { host, port } => format!("tcp {host}:{port}"),
        Check::Http { url } => format!("http {url}"),
        Check::Exec { argv } => format!("exec {}", sh::join(argv)),
    }
}

/// A POSIX `sh` script that polls `check` once a second until it passes, and fails after
/// `wait` (whole seconds of sleep between probes; probe time comes on top). `what` names the dependency in the failure message.
#[must_use]
pub fn wait_script(what: &str, check: &Check, wait: Duration) -> String {
    let probe = probe(check, Duration::from_secs(2));
    let limit = wait.secs_ceil().max(1);
    let msg = sh::quote(&format!(
        "{what} ({}) not ready after {limit}s",
        describe(check)
    ));
    // shell arithmetic only (no `date`): `limit` sleeps of a second, one probe before each
    format!(
        "i=0; until {probe}; do if [ \"$i\" -ge {limit} ]; then echo {msg} >&2; exit 1; fi; i=$((i+1)); sleep 1; done"
    )
}

/// The argv that runs [`wait_script`].
#[must_use]
pub fn wait_argv(what: &str, check: &Check, wait: Duration) -> Vec<String> {
    vec![
        "/bin/sh".into(),
        "-c".into(),
        wait_script(what, check, wait),
    ]
}
