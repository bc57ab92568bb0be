//! Probes from a health check: the same handler for readiness and liveness, and a
//! startupProbe that holds them back for the start window. tcp and http probe the pod's
//! address on the check's port (the check's host is the process itself); exec runs in the
//! container, where the kubelet expands `$(VAR)` of plain variables only — so a
//! `StatefulSet`'s `{instance}` is read from `$POD_INDEX` by the container's shell.

use super::expand::{Instance, POD_INDEX, with_instance};
use super::pod::{Exec, HttpGet, Probe, TcpSocket};
use crate::escape::sh;
use crate::manifest::Duration;
use crate::model::{Check, Health, INSTANCE_PLACEHOLDER};

/// The three probes of a container.
#[derive(Debug, Default)]
pub struct Probes {
    /// Covers the start window.
    pub startup: Option<Probe>,
    /// Takes the pod out of its Service while failing.
    pub readiness: Option<Probe>,
    /// Restarts the container when failing.
    pub liveness: Option<Probe>,
}

/// Seconds for a probe field (at least 1; the API's int32 bounds it).
fn secs(d: Duration) -> u32 {
    u32::try_from(d.secs_ceil().max(1))
        .unwrap_or(u32::MAX)
        .min(i32::MAX.unsigned_abs())
}

/// The probes of `h`, run in a container with `shell`; the startupProbe allows `start`.
#[must_use]
pub fn probes(h: &Health, shell: &str, instance: Instance<'_>, start: Duration) -> Probes {
    let period = secs(h.interval);
    let probe = |threshold: u32| {
        let mut p = handler(&h.check, shell, instance);
        p.period_seconds = period;
        p.timeout_seconds = secs(h.timeout);
        p.failure_threshold = threshold.max(1);
        p
    };
    let start_threshold = u32::try_from(start.millis().div_ceil(u64::from(period) * 1000))
        .unwrap_or(u32::MAX)
        .min(i32::MAX.unsigned_abs());
    Probes {
        startup: Some(probe(start_threshold)),
        readiness: Some(probe(h.retries)),
        liveness: Some(probe(h.retries)),
    }
}

/// A probe with only its handler set.
fn handler(check: &Check, shell: &str, instance: Instance<'_>) -> Probe {
    let mut p = Probe::default();
    match check {
        Check::Tcp { port, .. } => p.tcp_socket = Some(TcpSocket { port: *port }),
        Check::Http { url } => p.http_get = Some(http_get(url)),
        Check::Exec { argv } => {
            p.exec = Some(Exec {
                command: exec(argv, shell, instance),
            });
        }
    }
    p
}

/// The exec probe's argv: the check's own, or under `shell` when a `StatefulSet`'s
/// `{instance}` must come from `$POD_INDEX`.
fn exec(argv: &[String], shell: &str, instance: Instance<'_>) -> Vec<String> {
    let uses = argv.iter().any(|a| a.contains(INSTANCE_PLACEHOLDER));
    if instance == Instance::Index && uses {
        let token = format!("\"${POD_INDEX}\"");
        let words: Vec<String> = argv
            .iter()
            .map(|a| crate::model::map_placeholder(a, sh::quote, &token))
            .collect();
        let script = format!("exec {}", words.join(" "));
        return [shell, "-c", &script]
            .iter()
            .map(|a| with_instance(a, Instance::None))
            .collect();
    }
    argv.iter().map(|a| with_instance(a, instance)).collect()
}

/// The port of a tcp or http check (what the container listens on), if any.
#[must_use]
pub fn port(check: &Check) -> Option<u16> {
    match check {
        Check::Tcp { port, .. } => Some(*port),
        Check::Http { url } => Some(split_url(url).1),
        Check::Exec { .. } => None,
    }
}

fn http_get(url: &str) -> HttpGet {
    let (https, port, path) = split_url(url);
    HttpGet {
        path,
        port,
        scheme: if https { "HTTPS" } else { "HTTP" },
    }
}

/// `(https, port, path?query)` of an http(s) URL (the model checked its shape).
fn split_url(url: &str) -> (bool, u16, String) {
    let https = url
        .get(..8)
        .is_some_and(|s| s.eq_ignore_ascii_case("https://"));
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let port = match host.rfind(':') {
        Some(i) if !host[i..].contains(']') => host[i + 1..].parse().ok(),
        _ => None,
    };
    let path = match path {
        "" => "/".to_owned(),
        p if p.starts_with('?') => format!("/{p}"),
        p => p.to_owned(),
    };
    (https, port.unwrap_or(if https { 443 } else { 80 }), path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_port_and_path() {
        assert_eq!(
            split_url("http://127.0.0.1:8000/healthz"),
            (false, 8000, "/healthz".to_owned())
        );
        assert_eq!(
            split_url("https://[::1]/x?a=1"),
            (true, 443, "/x?a=1".to_owned())
        );
        assert_eq!(
            split_url("http://h:81?y=%20"),
            (false, 81, "/?y=%20".to_owned())
        );
    }

    #[test]
    fn an_instance_in_an_exec_probe_comes_from_the_shell() {
        let argv = vec!["/bin/check".to_owned(), "w-{instance}".to_owned()];
        assert_eq!(
            exec(&argv, "/bin/sh", Instance::Index),
            ["/bin/sh", "-c", "exec /bin/check w-\"$POD_INDEX\"''"]
        );
        assert_eq!(
            exec(&argv, "/bin/sh", Instance::Named("a")),
            ["/bin/check", "w-a"]
        );
    }
}
