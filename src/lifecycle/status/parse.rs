//! Reading each init system's status answer into a [`Seen`].

use super::{Seen, State};

/// `CLOCK_MONOTONIC` in microseconds (systemd's monotonic timestamps use it).
#[must_use]
pub fn monotonic_us() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    let secs = u64::try_from(t.tv_sec).unwrap_or_default();
    let nanos = u64::try_from(t.tv_nsec).unwrap_or_default();
    secs.saturating_mul(1_000_000).saturating_add(nanos / 1000)
}

/// `systemctl show` `KEY=value` lines; `now_us` is [`monotonic_us`]. A unit whose
/// `LoadState` is `not-found` is not installed (systemctl exits 0 for it).
#[must_use]
pub fn systemd(text: &str, now_us: u64) -> Seen {
    let get = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
            .unwrap_or_default()
    };
    if matches!(get("LoadState"), "not-found" | "") {
        return Seen::default();
    }
    let state = match get("ActiveState") {
        "active" | "reloading" => State::Running,
        "activating" => State::Starting,
        "deactivating" => State::Stopping,
        "failed" => State::Failed,
        _ => State::Stopped,
    };
    let pid = get("MainPID").parse::<u32>().ok().filter(|p| *p != 0);
    let started = get("ExecMainStartTimestampMonotonic")
        .parse::<u64>()
        .ok()
        .filter(|t| *t != 0);
    Seen {
        state: Some(state),
        pid,
        uptime_s: started
            .filter(|_| pid.is_some())
            .map(|t| now_us.saturating_sub(t) / 1_000_000),
        restarts: get("NRestarts").parse().ok(),
    }
}

/// `rc-service NAME status` exit codes: 0 started, 3 stopped, 4 stopping, 8 starting,
/// 32 crashed; anything else (the service does not exist) is not installed.
#[must_use]
pub fn openrc(code: Option<i32>) -> Seen {
    let state = match code {
        Some(0) => State::Running,
        Some(3) => State::Stopped,
        Some(4) => State::Stopping,
        Some(8) => State::Starting,
        Some(32) => State::Failed,
        _ => return Seen::default(),
    };
    Seen {
        state: Some(state),
        ..Seen::default()
    }
}

/// One `supervisorctl status NAME` line: `NAME STATE pid N, uptime H:MM:SS` (or a
/// description); `ERROR (no such process)` is not installed.
#[must_use]
pub fn supervisorctl(text: &str) -> Seen {
    let line = text.lines().next().unwrap_or_default();
    let mut words = line.split_whitespace();
    let _name = words.next();
    let state = match words.next().unwrap_or_default() {
        "RUNNING" => State::Running,
        "STARTING" | "BACKOFF" => State::Starting,
        "STOPPING" => State::Stopping,
        "STOPPED" => State::Stopped,
        "EXITED" | "FATAL" | "UNKNOWN" => State::Failed,
        _ => return Seen::default(),
    };
    let pid = line
        .split("pid ")
        .nth(1)
        .and_then(|r| r.split(',').next())
        .and_then(|p| p.trim().parse().ok());
    let uptime_s = line.split("uptime ").nth(1).and_then(|u| {
        let (days, hms) = match u.trim().split_once(" days, ") {
            Some((d, rest)) => (d.parse::<u64>().ok()?, rest),
            None => (0, u.trim()),
        };
        let parts: Vec<u64> = hms
            .split(':')
            .map(|p| p.parse().ok())
            .collect::<Option<_>>()?;
        let [h, m, s] = parts[..] else { return None };
        Some(days * 86_400 + h * 3600 + m * 60 + s)
    });
    Seen {
        state: Some(state),
        pid,
        uptime_s,
        restarts: None,
    }
}

/// `launchctl print DOMAIN/LABEL`: not loaded when it fails; `state = running`, `pid = N`,
/// `runs = N` (the first run is not a restart).
#[must_use]
pub fn launchctl(code: Option<i32>, text: &str) -> Seen {
    if code != Some(0) {
        return Seen::default();
    }
    let get = |key: &str| {
        text.lines().find_map(|l| {
            l.trim()
                .strip_prefix(key)
                .and_then(|r| r.trim_start().strip_prefix('='))
                .map(str::trim)
        })
    };
    let state = match get("state") {
        Some("running") => State::Running,
        Some("spawn scheduled" | "xpcproxy") => State::Starting,
        _ => State::Stopped,
    };
    Seen {
        state: Some(state),
        pid: get("pid").and_then(|p| p.parse().ok()),
        uptime_s: None,
        restarts: get("runs")
            .and_then(|r| r.parse::<u32>().ok())
            .map(|r| r.saturating_sub(1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn systemd_show_is_read_and_not_found_is_not_installed() {
        let text = "LoadState=loaded\nActiveState=active\nSubState=running\nMainPID=42\n\
                    NRestarts=2\nExecMainStartTimestampMonotonic=5000000\n";
        let seen = systemd(text, 65_000_000);
        assert_eq!(
            seen,
            Seen {
                state: Some(State::Running),
                pid: Some(42),
                uptime_s: Some(60),
                restarts: Some(2)
            }
        );
        let gone = systemd("LoadState=not-found\nActiveState=inactive\nMainPID=0\n", 1);
        assert_eq!(gone.state, None);
        let failed = systemd("LoadState=loaded\nActiveState=failed\nMainPID=0\n", 1);
        assert_eq!((failed.state, failed.pid), (Some(State::Failed), None));
    }

    #[test]
    fn openrc_supervisorctl_and_launchctl_answers_are_read() {
        assert_eq!(openrc(Some(32)).state, Some(State::Failed));
        assert_eq!(openrc(Some(1)).state, None);
        let s = supervisorctl("s:a  RUNNING   pid 12, uptime 1 days, 0:01:02\n");
        assert_eq!(
            (s.state, s.pid, s.uptime_s),
            (Some(State::Running), Some(12), Some(86_462))
        );
        assert_eq!(supervisorctl("s:b: ERROR (no such process)\n").state, None);
        assert_eq!(
            supervisorctl("s:b  FATAL  Exited too quickly\n").state,
            Some(State::Failed)
        );
        let l = launchctl(
            Some(0),
            "io.x = {\n\tstate = running\n\truns = 3\n\tpid = 9\n}\n",
        );
        assert_eq!(
            (l.state, l.pid, l.restarts),
            (Some(State::Running), Some(9), Some(2))
        );
        assert_eq!(launchctl(Some(113), "").state, None);
    }
}
