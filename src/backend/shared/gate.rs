//! Readiness gates and probes as portable POSIX `sh` scripts, shared by every backend that
//! has no native way to wait for a dependency or to check health.
//!
//! A TCP probe uses bash's `/dev/tcp` when bash exists and `nc -z` otherwise (busybox on
//! Alpine has it); an HTTP probe uses curl or wget; an exec probe runs its argv. Each probe
//! is bounded by `timeout`.

use crate::escape::sh;
use crate::manifest::Duration;
use crate::model::Check;
use crate::render::native::push_u64;

/// A shell command (one line) that exits 0 when `check` passes within `timeout`.
#[must_use]
pub fn probe(check: &Check, timeout: Duration) -> String {
    let mut out = String::with_capacity(200);
    push_probe(&mut out, check, timeout);
    out
}

/// Append [`probe`]`(check, timeout)` to `out`.
pub fn push_probe(out: &mut String, check: &Check, timeout: Duration) {
    let t = timeout.secs_ceil().max(1);
    // `timeout {t} ` (every probe is bounded)
    let timeout = |out: &mut String| {
        out.push_str("timeout ");
        push_u64(out, t);
        out.push(' ');
    };
    match check {
        Check::Tcp { host, port } => {
            let target = |out: &mut String| {
                sh::push_quote(out, host);
                out.push(' ');
                push_u64(out, u64::from(*port));
            };
            out.push_str("if command -v bash >/dev/null 2>&1; then ");
            timeout(out);
            out.push_str("bash -c 'exec 3<>\"/dev/tcp/$0/$1\"' ");
            target(out);
            out.push_str("; else ");
            timeout(out);
            out.push_str("nc -z ");
            target(out);
            out.push_str("; fi >/dev/null 2>&1");
        }
        Check::Http { url } => {
            out.push_str(
                "if command -v curl >/dev/null 2>&1; then curl -fsS -o /dev/null --max-time ",
            );
            push_u64(out, t);
            out.push(' ');
            sh::push_quote(out, url);
            out.push_str("; else ");
            timeout(out);
            out.push_str("wget -q -O /dev/null ");
            sh::push_quote(out, url);
            out.push_str("; fi >/dev/null 2>&1");
        }
        Check::Exec { argv } => {
            timeout(out);
            sh::push_join(out, argv);
            out.push_str(" >/dev/null 2>&1");
        }
    }
}

/// A human description of a check, e.g. `tcp 127.0.0.1:19094`.
#[must_use]
pub fn describe(check: &Check) -> String {
    let mut out = String::new();
    push_describe(&mut out, check);
    out
}

/// Append [`describe`]`(check)` to `out`.
pub fn push_describe(out: &mut String, check: &Check) {
    match check {
        Check::Tcp { host, port } => {
            let v6 = host.contains(':');
            out.push_str(if v6 { "tcp [" } else { "tcp " });
            out.push_str(host);
            out.push_str(if v6 { "]:" } else { ":" });
            push_u64(out, u64::from(*port));
        }
        Check::Http { url } => {
            out.push_str("http ");
            out.push_str(url);
        }
        Check::Exec { argv } => {
            out.push_str("exec ");
            sh::push_join(out, argv);
        }
    }
}

/// A POSIX `sh` script that polls `check` once a second until it passes, and fails after
/// `wait` (whole seconds of sleep between probes; probe time comes on top). `what` names the dependency in the failure message.
#[must_use]
pub fn wait_script(what: &str, check: &Check, wait: Duration) -> String {
    let mut out = String::with_capacity(400);
    push_wait_script(&mut out, what, check, wait);
    out
}

/// Append [`wait_script`]`(what, check, wait)` to `out`.
pub fn push_wait_script(out: &mut String, what: &str, check: &Check, wait: Duration) {
    let limit = wait.secs_ceil().max(1);
    // shell arithmetic only (no `date`): `limit` sleeps of a second, one probe before each
    out.push_str("i=0; until ");
    push_probe(out, check, Duration::from_secs(2));
    out.push_str("; do if [ \"$i\" -ge ");
    push_u64(out, limit);
    out.push_str(" ]; then echo ");
    let mut msg = String::with_capacity(what.len() + 64);
    msg.push_str(what);
    msg.push_str(" (");
    push_describe(&mut msg, check);
    msg.push_str(") not ready after ");
    push_u64(&mut msg, limit);
    msg.push('s');
    sh::push_quote(out, &msg);
    out.push_str(" >&2; exit 1; fi; i=$((i+1)); sleep 1; done");
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The scripts as they were first written, with `format!`: the appending writers must
    /// give the same bytes (the importer recognises gates by rendering them again).
    fn reference(what: &str, check: &Check, wait: Duration) -> String {
        let probe = match check {
            Check::Tcp { host, port } => {
                let h = sh::quote(host);
                format!(
                    "if command -v bash >/dev/null 2>&1; then timeout 2 bash -c 'exec 3<>\"/dev/tcp/$0/$1\"' {h} {port}; else timeout 2 nc -z {h} {port}; fi >/dev/null 2>&1"
                )
            }
            Check::Http { url } => {
                let u = sh::quote(url);
                format!(
                    "if command -v curl >/dev/null 2>&1; then curl -fsS -o /dev/null --max-time 2 {u}; else timeout 2 wget -q -O /dev/null {u}; fi >/dev/null 2>&1"
                )
            }
            Check::Exec { argv } => format!("timeout 2 {} >/dev/null 2>&1", sh::join(argv)),
        };
        let described = match check {
            Check::Tcp { host, port } if host.contains(':') => format!("tcp [{host}]:{port}"),
            Check::Tcp { host, port } => format!("tcp {host}:{port}"),
            Check::Http { url } => format!("http {url}"),
            Check::Exec { argv } => format!("exec {}", sh::join(argv)),
        };
        let limit = wait.secs_ceil().max(1);
        let msg = sh::quote(&format!("{what} ({described}) not ready after {limit}s"));
        format!(
            "i=0; until {probe}; do if [ \"$i\" -ge {limit} ]; then echo {msg} >&2; exit 1; fi; i=$((i+1)); sleep 1; done"
        )
    }

    #[test]
    fn scripts_are_written_as_before() {
        let checks = [
            Check::Tcp {
                host: "127.0.0.1".into(),
                port: 12379,
            },
            Check::Tcp {
                host: "::1".into(),
                port: 0,
            },
            Check::Tcp {
                host: "it's a host".into(),
                port: 65535,
            },
            Check::Http {
                url: "http://127.0.0.1:8080/health?x=1&y=%20".into(),
            },
            Check::Exec {
                argv: vec!["/bin/check".into(), "it's".into(), String::new()],
            },
        ];
        for check in &checks {
            for (what, wait) in [
                ("external db", Duration::from_secs(60)),
                ("svc's (x)", Duration::default()),
                ("", Duration::from_secs(1_000_001)),
            ] {
                assert_eq!(wait_script(what, check, wait), reference(what, check, wait));
            }
            let t = Duration::from_secs(7);
            let p = probe(check, t);
            assert!(
                p.contains("timeout 7 ") || p.contains("--max-time 7 "),
                "{p}"
            );
        }
    }
}
