//! The systemd driver: a real `systemd --user` manager ([`UserManager`]: never PID 1, a
//! private mount namespace, its own sub-cgroups) on the generated units, driven with
//! `systemctl --user`. Beside it what only systemd shows: A becomes `active` only once its
//! health check passed, template units, `success_exit_codes` deciding `failed` at a stop,
//! and the restart counter.

use std::path::Path;
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{Value, json};

use super::driver::{Checkpoint, Driver, Running, State, Teardown, boot};
use super::manifests::{A_LISTEN_DELAY_MS, NAMED, NUMBERED, STACK};
use crate::harness::systemd::{UserManager, unavailable};
use crate::harness::{SYSTEMD, WorkDir, probe, procs::Proc};

/// What systemd itself adds to a service's environment (systemd.exec(5), "Environment
/// variables in spawned processes"). The rest must come from the manifest or from the
/// manager's own environment block (`systemctl --user show-environment`), which every unit
/// of a user manager inherits.
const SYSTEMD_ENV: &[&str] = &[
    "PATH",
    "LANG",
    "USER",
    "LOGNAME",
    "HOME",
    "SHELL",
    "PWD",
    "INVOCATION_ID",
    "JOURNAL_STREAM",
    "MANAGERPID",
    "SYSTEMD_EXEC_PID",
];

/// A `systemd --user` manager with the generated units of stack `stack`.
pub struct Systemd {
    mgr: UserManager,
    stack: String,
}

impl Systemd {
    fn target(&self) -> String {
        format!("{}.target", self.stack)
    }
}

impl Driver for Systemd {
    const BACKEND: &'static str = "systemd";
    const AUTOSTART: bool = false;
    const REQUIRES_STARTS: bool = true;
    const GATED_STATE: State = State::Starting;
    const RESTART_WINDOW_MS: (f64, f64) = (950.0, 2500.0);
    const NAME_VAR: Option<&'static str> = None;

    fn lock() -> &'static Mutex<()> {
        &SYSTEMD
    }

    fn unavailable() -> Option<String> {
        unavailable()
    }

    fn boot(work: &WorkDir, out: &Path, stack: &str) -> Self {
        Self {
            mgr: UserManager::start(work, out),
            stack: stack.to_owned(),
        }
    }

    fn restart_defaults() -> Value {
        json!({ "restart_delay": "1s" })
    }

    fn unit(&self, service: &str, instance: Option<&str>) -> String {
        match instance {
            Some(i) => format!("{service}@{i}.service"),
            None => format!("{service}.service"),
        }
    }

    fn start_stack(&self) {
        self.mgr.ok(["start", &self.target()]);
    }

    fn stop_stack(&self) {
        self.mgr.ok(["stop", &self.target()]);
    }

    fn start(&self, unit: &str) {
        self.mgr.ok(["start", unit]);
    }

    fn start_command(&self, unit: &str) -> Command {
        self.mgr.command(["start", unit])
    }

    fn stop(&self, unit: &str) {
        self.mgr.ok(["stop", unit]);
    }

    fn state(&self, unit: &str) -> State {
        match self.mgr.state(unit).as_str() {
            "active" => State::Running,
            "activating" | "reloading" => State::Starting,
            "deactivating" => State::Stopping,
            "inactive" => State::Stopped,
            "failed" => State::Failed,
            other => State::Other(other.to_owned()),
        }
    }

    fn main_pid(&self, unit: &str) -> Option<i32> {
        Some(self.mgr.main_pid(unit)).filter(|&p| p != 0)
    }

    fn supervisor(&self, _unit: &str) -> i32 {
        self.mgr.pid()
    }

    fn restarts(&self, unit: &str) -> Option<u32> {
        Some(u32::try_from(self.mgr.show_num(unit, "NRestarts")).expect("NRestarts fits"))
    }

    fn added_env(&self) -> Vec<String> {
        let manager_env = self.mgr.ok(["show-environment"]);
        let inherited = manager_env
            .lines()
            .filter_map(|l| l.split_once('=').map(|(k, _)| k.to_owned()));
        SYSTEMD_ENV
            .iter()
            .map(|k| (*k).to_owned())
            .chain(inherited)
            .collect()
    }

    fn processes(&self) -> Vec<Proc> {
        self.mgr.processes()
    }

    fn root_pid(&self) -> i32 {
        self.mgr.pid()
    }

    fn diagnostics(&self) -> String {
        self.mgr.diagnostics()
    }

    fn teardown(&mut self) -> Teardown {
        let c = self.mgr.shutdown();
        Teardown {
            clean: c.is_clean(),
            took: c.exit_took,
            report: format!("{c:#?}"),
        }
    }

    fn check(s: &Running<Self>, at: Checkpoint<'_>) {
        if let Checkpoint::StackRunning = at {
            a_active_only_once_healthy(s);
            instances_come_from_templates(s);
        }
    }
}

scenarios!(Systemd);

/// A became `active` only once its port opened (its health check passed), and B was
/// exec'd only after that.
fn a_active_only_once_healthy(s: &Running<Systemd>) {
    let mgr = &s.driver.mgr;
    let a_exec = mgr.show_num("a.service", "ExecMainStartTimestampMonotonic");
    let a_active = mgr.show_num("a.service", "ActiveEnterTimestampMonotonic");
    let b_exec = mgr.show_num("b.service", "ExecMainStartTimestampMonotonic");
    assert!(
        a_active - a_exec >= A_LISTEN_DELAY_MS * 1000,
        "A became active {} µs after exec, before its port opened ({A_LISTEN_DELAY_MS} ms)",
        a_active - a_exec
    );
    assert!(
        a_active <= b_exec,
        "B exec {b_exec} before A active {a_active}"
    );
    eprintln!(
        "A: exec→active {} ms (port opens after {A_LISTEN_DELAY_MS} ms); B exec {} ms after A active",
        (a_active - a_exec) / 1000,
        (b_exec - a_active) / 1000
    );
}

/// Every instance runs from its service's one template unit.
fn instances_come_from_templates(s: &Running<Systemd>) {
    let out = s.work.join("out");
    for (svc, insts) in [("c", &NUMBERED[..]), ("n", &NAMED[..])] {
        let template = out.join(format!("{svc}@.service"));
        assert!(template.is_file(), "{}", template.display());
        for i in insts {
            let unit = s.driver.unit(svc, Some(i));
            assert!(
                !out.join(&unit).exists(),
                "{unit} written besides the template"
            );
            let fragment = s.driver.mgr.show(&unit, "FragmentPath");
            assert_eq!(Path::new(&fragment), template, "{unit}");
        }
    }
}

/// A exits 255 on SIGTERM with `success_exit_codes = [255]`: stopping it is a success; the
/// control F does the same without them and is `failed` with that exit code.
#[test]
fn success_exit_codes_decide_failed_at_a_stop() {
    let Some(mut s) = boot::<Systemd>("exitcodes", |w, p| {
        let sigterm_255 = json!({ "PROBE_ON_SIGTERM_EXIT": "255" });
        let mut a = probe::service(w, p, "a", &[], sigterm_255.clone());
        a["success_exit_codes"] = json!([255]);
        let f = probe::service(w, p, "f", &[], sigterm_255);
        json!({ "name": STACK, "services": { "a": a, "f": f } })
    }) else {
        return;
    };
    let units = ["a.service".to_owned(), "f.service".to_owned()];
    s.driver.start_stack();
    s.await_states(&units, &State::Running, Duration::from_secs(10));
    probe::one_start(&s.work, "a");
    probe::one_start(&s.work, "f");
    s.driver.stop_stack();
    s.await_state(&units[0], &State::Stopped, Duration::from_secs(10));
    s.await_state(&units[1], &State::Failed, Duration::from_secs(10));
    assert_eq!(s.driver.mgr.show("a.service", "Result"), "success");
    assert_eq!(s.driver.mgr.show("f.service", "Result"), "exit-code");
    assert_eq!(s.driver.mgr.show("f.service", "ExecMainStatus"), "255");
    s.await_no_processes(Duration::from_secs(5), "after stopping the stack");
    s.teardown_clean();
}
