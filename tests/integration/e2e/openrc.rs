//! The OpenRC driver: real OpenRC 0.45 with `supervise-daemon` in a private mount namespace
//! ([`OpenRc`]), the generated scripts copied (instance links included) into its
//! `/etc/init.d`, driven with `rc-service`. Main pids and restart counts are what
//! supervise-daemon records in `/run/openrc/options/SERVICE/{child_pid,start_count}`.
//! Beside it what only OpenRC does here: the instance links, the host left untouched, and a
//! failing health check restarting the service.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{Value, json};

use super::driver::{Checkpoint, Driver, Running, State, Teardown, boot};
use super::manifests::{NAMED, NUMBERED, STACK};
use crate::harness::openrc::{OpenRc, unavailable};
use crate::harness::procs::{self, Proc};
use crate::harness::{OPENRC, WorkDir, millis_between, now_nanos, probe, wait_for};

/// What OpenRC itself hands every process (the probe's own environment aside).
const OPENRC_ENV: &[&str] = &[
    "PATH",
    "SVCNAME",
    "RC_SVCNAME",
    "RC_SERVICE",
    "EINFO_LASTCMD",
    "EINFO_LOG",
    "HOME",
    "USER",
    "PWD",
];

/// A namespace with OpenRC and the generated scripts of one stack.
pub struct OpenRcDriver {
    rc: OpenRc,
    stack: String,
}

impl OpenRcDriver {
    /// A value supervise-daemon keeps for `unit` (None: not there).
    fn value(&self, unit: &str, key: &str) -> Option<String> {
        let path = self
            .rc
            .root()
            .join("run/openrc/options")
            .join(unit)
            .join(key);
        let v = std::fs::read_to_string(path).ok()?;
        Some(v.trim().to_owned()).filter(|v| !v.is_empty())
    }
}

impl Driver for OpenRcDriver {
    const BACKEND: &'static str = "openrc";
    const AUTOSTART: bool = false;
    const REQUIRES_STARTS: bool = true;
    const GATED_STATE: State = State::Starting;
    const RESTART_WINDOW_MS: (f64, f64) = (2000.0, 3500.0);
    const NAME_VAR: Option<&'static str> = Some("RC_SVCNAME");

    fn lock() -> &'static Mutex<()> {
        &OPENRC
    }

    fn unavailable() -> Option<String> {
        unavailable()
    }

    fn boot(work: &WorkDir, out: &Path, stack: &str) -> Self {
        Self {
            rc: OpenRc::start(work, &out.join("init.d"), stack),
            stack: stack.to_owned(),
        }
    }

    fn restart_defaults() -> Value {
        json!({ "restart_delay": "2s", "stop_timeout": "2s" })
    }

    fn unit(&self, service: &str, instance: Option<&str>) -> String {
        instance.map_or_else(|| service.to_owned(), |i| format!("{service}.{i}"))
    }

    fn start_stack(&self) {
        let took = self.rc.service(&self.stack, "start");
        eprintln!("rc-service {} start: {took:?}", self.stack);
    }

    fn stop_stack(&self) {
        let took = self.rc.service(&self.stack, "stop");
        eprintln!("rc-service {} stop: {took:?}", self.stack);
    }

    fn start(&self, unit: &str) {
        self.rc.service(unit, "start");
    }

    fn start_command(&self, unit: &str) -> Command {
        self.rc.command(&["rc-service", unit, "start"])
    }

    fn stop(&self, unit: &str) {
        self.rc.service(unit, "stop");
    }

    fn state(&self, unit: &str) -> State {
        let status = self.rc.status(unit);
        let word = status
            .split_once("status: ")
            .map_or(status.trim(), |(_, w)| w.trim());
        match word {
            "started" => State::Running,
            "starting" => State::Starting,
            "stopping" => State::Stopping,
            // `rc-service status` says stopped; OpenRC marks it failed (rc-status shows it)
            // (a link to the script, which only resolves inside the namespace)
            "stopped"
                if self
                    .rc
                    .root()
                    .join("run/openrc/failed")
                    .join(unit)
                    .symlink_metadata()
                    .is_ok() =>
            {
                State::Failed
            }
            "stopped" => State::Stopped,
            "crashed" => State::Failed,
            _ => State::Other(status.trim().to_owned()),
        }
    }

    fn main_pid(&self, unit: &str) -> Option<i32> {
        let pid = self.value(unit, "child_pid")?.parse().ok()?;
        procs::alive(pid).then_some(pid)
    }

    fn supervisor(&self, unit: &str) -> i32 {
        let prefix = format!("supervise-daemon {unit} --start ");
        let found: Vec<i32> = self
            .rc
            .processes()
            .into_iter()
            .filter(|p| p.cmdline.starts_with(&prefix))
            .map(|p| p.pid)
            .collect();
        assert_eq!(
            found.len(),
            1,
            "supervise-daemon of {unit}: {}",
            self.diagnostics()
        );
        found[0]
    }

    fn restarts(&self, unit: &str) -> Option<u32> {
        self.value(unit, "start_count")?.parse().ok()
    }

    fn added_env(&self) -> Vec<String> {
        OPENRC_ENV.iter().map(|k| (*k).to_owned()).collect()
    }

    fn processes(&self) -> Vec<Proc> {
        self.rc.processes()
    }

    fn root_pid(&self) -> i32 {
        self.rc.holder()
    }

    fn diagnostics(&self) -> String {
        self.rc.diagnostics()
    }

    fn teardown(&mut self) -> Teardown {
        let t0 = std::time::Instant::now();
        let c = self.rc.shutdown();
        let stopped = c.stop.as_ref().is_some_and(|r| r.code == 0);
        Teardown {
            clean: stopped && c.killed.is_empty() && c.left.is_empty(),
            took: t0.elapsed(),
            report: format!("{c:#?}"),
        }
    }

    fn check(s: &Running<Self>, at: Checkpoint<'_>) {
        match at {
            Checkpoint::StackRunning => {
                instance_links(&s.driver.rc.dir);
                confined(&s.driver);
            }
            Checkpoint::TornDown => host_untouched(),
            _ => {}
        }
    }
}

scenarios!(OpenRcDriver);

/// Every instance is a link `SERVICE.INSTANCE -> SERVICE` in init.d.
fn instance_links(dir: &Path) {
    for (svc, insts) in [("c", &NUMBERED[..]), ("n", &NAMED[..])] {
        for i in insts {
            let link: PathBuf = dir.join(format!("init.d/{svc}.{i}"));
            assert_eq!(
                std::fs::read_link(&link).expect("instance link").to_str(),
                Some(svc),
                "{}",
                link.display()
            );
        }
    }
}

/// The sandbox reached A's process: no new privileges and umask 0027 (the capability
/// bounding set stays: Debian's supervise-daemon has no capability support).
fn confined(d: &OpenRcDriver) {
    let pid = d.value("a", "child_pid").expect("a's child_pid");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    for want in ["NoNewPrivs:\t1", "Umask:\t0027"] {
        assert!(status.contains(want), "{want} not in:\n{status}");
    }
}

/// The host saw nothing of OpenRC (that the namespace is empty the teardown checked, while
/// it still held the namespace: see [`procs::NsHandle`]).
fn host_untouched() {
    assert!(
        !Path::new("/run/openrc/softlevel").exists(),
        "softlevel on the host"
    );
    assert!(
        !Path::new("/etc/init.d").join(STACK).exists(),
        "a script reached the host's init.d"
    );
}

/// A failing health check gets the process restarted by the same supervise-daemon.
#[test]
fn failing_health_check_restarts_the_service() {
    let Some(mut s) = boot::<OpenRcDriver>("health", |w, p| {
        let flag = w.join("unhealthy");
        let mut h = probe::service(w, p, "h", &["h"], json!({}));
        h["health"] = json!({
            "exec": ["/bin/sh", "-c", "test ! -e \"$0\"", flag],
            "interval": "1s", "timeout": "1s", "retries": 1,
        });
        h["stop_timeout"] = json!("1s");
        h["restart_delay"] = json!("1s");
        json!({ "name": "hc", "services": { "h": h } })
    }) else {
        return;
    };
    s.driver.start_stack();
    s.await_state("h", &State::Running, Duration::from_secs(10));
    let first = probe::one_start(&s.work, "h");
    // healthy: no restart for a few check intervals (absence takes a wait)
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(
        probe::starts(&s.record("h")).len(),
        1,
        "restarted while healthy"
    );
    let failed_at = now_nanos();
    std::fs::write(s.work.join("unhealthy"), "").expect("make the check fail");
    let first_pid = i32::try_from(first.pid).expect("pid");
    let mut killed_at = 0;
    assert!(
        wait_for(Duration::from_secs(15), || {
            killed_at = now_nanos();
            !procs::alive(first_pid)
        }),
        "the unhealthy process was not stopped: {}",
        s.driver.diagnostics()
    );
    // the check interval, the stop and restart_delay take about 4 s; a loaded machine
    // stretches each step, so the deadline is generous and the bound below checks the timing
    let again =
        &probe::await_records_within(&s.record("h"), "start", 2, Duration::from_secs(30))[1];
    assert_ne!(again.pid, first.pid);
    assert_eq!(
        again.ppid, first.ppid,
        "the same supervise-daemon restarted it"
    );
    let stopped = millis_between(failed_at, killed_at);
    let took = millis_between(failed_at, again.unix_nanos);
    eprintln!(
        "failing health check → old process gone after {stopped:.0} ms, new one running after {took:.0} ms (interval 1 s, retries 1, stop_timeout 1 s, restart_delay 1 s)"
    );
    assert!(took < 20000.0, "restart after {took:.0} ms");
    std::fs::remove_file(s.work.join("unhealthy")).expect("heal");
    s.teardown_clean();
}
