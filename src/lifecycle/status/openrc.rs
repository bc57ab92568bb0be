//! What supervise-daemon keeps about a service it supervises, under
//! `/run/openrc/options/NAME/`: `child_pid` (the running process, written at every spawn,
//! so its modification time is when that process started) and `start_count` (0 for the
//! first spawn, one more for every respawn: the restarts). `rc-service NAME status` gives
//! the state; this adds pid, uptime and restarts to it.

use std::path::Path;
use std::time::SystemTime;

use super::{Seen, State};

/// Where OpenRC keeps per-service values (`$RC_SVCDIR/options`).
pub const OPTIONS_DIR: &str = "/run/openrc/options";

/// `seen` (from the exit code) with the supervisor's pid, uptime and restarts for `unit`
/// from `dir` (normally [`OPTIONS_DIR`]), when it is up and the pid is a live process;
/// `now` is the clock to measure the uptime against.
#[must_use]
pub fn supervised(seen: Seen, dir: &Path, unit: &str, now: SystemTime) -> Seen {
    if !matches!(seen.state, Some(State::Running | State::Starting)) {
        return seen;
    }
    let values = dir.join(unit);
    let read = |key: &str| {
        std::fs::read_to_string(values.join(key))
            .ok()
            .and_then(|v| v.trim().parse::<u32>().ok())
    };
    let pid = read("child_pid").filter(|p| *p != 0 && alive(*p));
    let started = std::fs::metadata(values.join("child_pid"))
        .and_then(|m| m.modified())
        .ok();
    Seen {
        pid,
        uptime_s: pid
            .and(started)
            .and_then(|t| now.duration_since(t).ok())
            .map(|d| d.as_secs()),
        restarts: read("start_count"),
        ..seen
    }
}

/// Whether process `pid` exists (its `/proc` entry; nothing is signalled).
fn alive(pid: u32) -> bool {
    Path::new("/proc").join(pid.to_string()).exists()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn pid_uptime_and_restarts_come_from_the_supervisor_values() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let svc = tmp.path().join("a");
        std::fs::create_dir_all(&svc).expect("dir");
        std::fs::write(svc.join("child_pid"), format!("{}\n", std::process::id())).expect("pid");
        std::fs::write(svc.join("start_count"), "2\n").expect("count");
        let running = Seen {
            state: Some(State::Running),
            ..Seen::default()
        };
        let now = SystemTime::now() + Duration::from_secs(61);
        let s = supervised(running.clone(), tmp.path(), "a", now);
        assert_eq!(s.pid, Some(std::process::id()));
        assert_eq!(s.restarts, Some(2));
        assert!(s.uptime_s.is_some_and(|u| (60..=62).contains(&u)), "{s:?}");
        // stopped: the values of the last run are not shown
        let stopped = Seen {
            state: Some(State::Stopped),
            ..Seen::default()
        };
        assert_eq!(supervised(stopped.clone(), tmp.path(), "a", now), stopped);
        // a pid that is gone is no pid (and no uptime)
        std::fs::write(svc.join("child_pid"), "999999999\n").expect("pid");
        let gone = supervised(running, tmp.path(), "a", now);
        assert_eq!(
            (gone.pid, gone.uptime_s, gone.restarts),
            (None, None, Some(2))
        );
    }
}
