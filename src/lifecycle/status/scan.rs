//! The supervisors of the daemontools family (runit, s6): the state `sv status` or
//! `s6-svstat` reports for a service directory, and the marker the generated `finish`
//! writes when a process exited and was left down (neither runit nor s6 has a failed
//! state). Neither counts restarts.

use std::path::Path;

use super::{Seen, State};

/// Where the generated `finish` scripts record an exit they leave down (see
/// [`crate::backend::runit`]'s and s6's `EXITED`), relative to the service directory.
pub const EXITED: &str = "supervise/openim-init.exited";

/// One `sv status DIR` line (`run: DIR: (pid N) Ss[, want down]; run: log: …`, `down: DIR:
/// Ss, normally up[, want up]`, `finish: …`); `exited`: the marker exists. Anything else
/// (`fail:`/`warning:`: no such directory, or no runsv for it) is not installed.
#[must_use]
pub fn sv(text: &str, exited: bool) -> Seen {
    let line = text.lines().next().unwrap_or_default();
    // the service's own part, before `; run: log: …`
    let main = line.split("; ").next().unwrap_or_default();
    let (word, rest) = main.split_once(": ").unwrap_or_default();
    let want_down = main.contains("want down");
    let state = match word {
        "run" | "finish" if want_down => State::Stopping,
        "run" => State::Running,
        "finish" => State::Starting,
        "down" if exited => State::Failed,
        "down" if main.contains("want up") => State::Starting,
        "down" => State::Stopped,
        _ => return Seen::default(),
    };
    let pid = rest
        .split("(pid ")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .and_then(|p| p.parse().ok())
        .filter(|_| state == State::Running || state == State::Stopping);
    // `DIR: (pid N) 12s` or `DIR: 12s, normally up`: the seconds in that state
    let secs = rest.split_whitespace().find_map(|w| {
        w.trim_end_matches(',')
            .strip_suffix('s')?
            .parse::<u64>()
            .ok()
    });
    Seen {
        state: Some(state),
        pid,
        uptime_s: pid.and(secs),
        restarts: None,
    }
}

/// `s6-svstat -o up,wantedup,ready,pid,updownfor DIR` (`true true true 42 17`); `exited`:
/// the marker exists; `notifies`: the directory has a `notification-fd` (without one, s6
/// never marks the service ready). Up but not ready (a health check that has not passed
/// yet) is starting; down but wanted up is waiting to be restarted. An error (not
/// supervised) is not installed.
#[must_use]
pub fn s6(code: Option<i32>, text: &str, exited: bool, notifies: bool) -> Seen {
    let words: Vec<&str> = text.split_whitespace().collect();
    let [up, wanted, ready, pid, secs] = words[..] else {
        return Seen::default();
    };
    if code != Some(0) {
        return Seen::default();
    }
    let (up, wanted) = (up == "true", wanted == "true");
    let ready = ready == "true" || !notifies;
    let state = match (up, wanted) {
        (true, false) => State::Stopping,
        (true, true) if ready => State::Running,
        (false, _) if exited => State::Failed,
        (true | false, true) => State::Starting,
        (false, false) => State::Stopped,
    };
    let pid = pid.parse::<u32>().ok().filter(|_| up);
    Seen {
        state: Some(state),
        pid,
        uptime_s: pid.and(secs.parse().ok()),
        restarts: None,
    }
}

/// Whether the marker exists in service directory `dir`.
#[must_use]
pub fn exited(dir: &Path) -> bool {
    dir.join(EXITED).exists()
}

/// Whether service directory `dir` notifies readiness (s6's `notification-fd`).
#[must_use]
pub fn notifies(dir: &Path) -> bool {
    dir.join("notification-fd").exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(s: &Seen) -> (Option<State>, Option<u32>, Option<u64>) {
        (s.state, s.pid, s.uptime_s)
    }

    #[test]
    fn sv_status_lines_are_read() {
        let up = "run: /etc/sv/a: (pid 42) 17s; run: log: (pid 40) 20s\n";
        assert_eq!(
            st(&sv(up, false)),
            (Some(State::Running), Some(42), Some(17))
        );
        let down = "down: /etc/sv/a: 3s, normally up; run: log: (pid 40) 20s\n";
        assert_eq!(st(&sv(down, false)), (Some(State::Stopped), None, None));
        assert_eq!(sv(down, true).state, Some(State::Failed));
        let going = "run: /etc/sv/a: (pid 42) 17s, want down\n";
        assert_eq!(sv(going, false).state, Some(State::Stopping));
        let finishing = "finish: /etc/sv/a: (pid 43) 0s, normally up\n";
        assert_eq!(sv(finishing, false).state, Some(State::Starting));
        let gone = "warning: /etc/sv/a: unable to open supervise/ok: file does not exist\n";
        assert_eq!(sv(gone, false), Seen::default());
        assert_eq!(
            sv("fail: /x: unable to change to service directory\n", false).state,
            None
        );
    }

    #[test]
    fn s6_svstat_fields_are_read() {
        let up = s6(Some(0), "true true true 42 17\n", false, true);
        assert_eq!(st(&up), (Some(State::Running), Some(42), Some(17)));
        let unready = s6(Some(0), "true true false 42 1\n", false, true);
        assert_eq!(unready.state, Some(State::Starting));
        let plain = s6(Some(0), "true true false 42 1\n", false, false);
        assert_eq!(plain.state, Some(State::Running));
        let down = s6(Some(0), "false false false -1 5\n", false, true);
        assert_eq!(st(&down), (Some(State::Stopped), None, None));
        assert_eq!(
            s6(Some(0), "false false false -1 5\n", true, true).state,
            Some(State::Failed)
        );
        assert_eq!(
            s6(Some(0), "false true false -1 0\n", false, true).state,
            Some(State::Starting)
        );
        assert_eq!(s6(Some(1), "", false, true), Seen::default());
    }
}
