//! The runit driver: Debian's runit 2.1.2, `runsvdir -P` on a private scan directory into
//! which the generated `sv/*` directories are linked ([`Scan`]), driven with `sv` on
//! absolute paths. runsvdir starts every linked service (autostart); `run` starts what a
//! service `requires` (`sv -w N start ../DEP`); the restart delay is `finish`'s sleep on
//! top of runsv's one second. runit has no failed state: a service that exited and was
//! left down (restart = never) is told from a stopped one by the file its `finish` writes.

use std::path::Path;
use std::sync::Mutex;

use serde_json::{Value, json};

use super::driver::{Checkpoint, Driver, Running, State, Teardown};
use crate::harness::procs::Proc;
use crate::harness::scan::{Kind, MARKER_VAR, Scan, missing};
use crate::harness::{RUNIT, WorkDir};

/// A running runsvdir with the generated service directories of one stack.
pub struct Runit {
    scan: Scan,
}

impl Runit {
    fn sv(&self, args: &[&str], units: &[&str]) -> String {
        let mut all: Vec<std::ffi::OsString> = args.iter().map(Into::into).collect();
        all.extend(units.iter().map(|u| self.scan.service(u).into_os_string()));
        let r = Scan::tool("sv", &all);
        assert_eq!(
            r.code,
            0,
            "sv {args:?} {units:?}: {}{}\n{}",
            r.stdout,
            r.stderr,
            self.diagnostics()
        );
        r.stdout
    }

    fn status(&self, unit: &str) -> String {
        Scan::tool(
            "sv",
            [
                std::ffi::OsStr::new("status"),
                self.scan.service(unit).as_os_str(),
            ],
        )
        .stdout
    }

    fn units(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.scan.dir)
            .expect("scan dir")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Driver for Runit {
    const BACKEND: &'static str = "runit";
    const AUTOSTART: bool = true;
    const REQUIRES_STARTS: bool = true;
    // the shared wrapper polling the gate is the process runsv started
    const GATED_STATE: State = State::Running;
    // finish sleeps restart_delay (1 s); runsv adds nothing after a run of over a second
    const RESTART_WINDOW_MS: (f64, f64) = (1000.0, 3500.0);
    const NAME_VAR: Option<&'static str> = None;

    fn lock() -> &'static Mutex<()> {
        &RUNIT
    }

    fn unavailable() -> Option<String> {
        missing(&["runsvdir", "runsv", "sv", "chpst"])
    }

    fn boot(work: &WorkDir, out: &Path, _stack: &str) -> Self {
        Self {
            scan: Scan::start(work, Kind::Runit, &out.join("sv")),
        }
    }

    fn restart_defaults() -> Value {
        json!({ "restart_delay": "1s", "stop_timeout": "2s" })
    }

    fn unit(&self, service: &str, instance: Option<&str>) -> String {
        match instance {
            Some(i) => format!("{service}-{i}"),
            None => service.to_owned(),
        }
    }

    fn start_stack(&self) {
        let units = self.units();
        let refs: Vec<&str> = units.iter().map(String::as_str).collect();
        self.sv(&["-w", "30", "start"], &refs);
    }

    fn stop_stack(&self) {
        let units = self.units();
        let refs: Vec<&str> = units.iter().map(String::as_str).collect();
        self.sv(&["-w", "30", "force-stop"], &refs);
    }

    fn start(&self, unit: &str) {
        self.sv(&["-w", "30", "start"], &[unit]);
    }

    fn start_command(&self, unit: &str) -> std::process::Command {
        let mut cmd = std::process::Command::new("sv");
        cmd.args(["-w", "30", "start"])
            .arg(self.scan.service(unit))
            .env_clear()
            .env("PATH", crate::harness::scan::PATH);
        cmd
    }

    fn stop(&self, unit: &str) {
        self.sv(&["-w", "30", "force-stop"], &[unit]);
    }

    fn state(&self, unit: &str) -> State {
        let st = self.status(unit);
        let main = st.split("; ").next().unwrap_or_default();
        let exited = self
            .scan
            .service(unit)
            .join("supervise/openim-init.exited")
            .exists();
        if main.starts_with("run:") {
            if main.contains("want down") {
                State::Stopping
            } else {
                State::Running
            }
        } else if main.starts_with("finish:") {
            if main.contains("want down") {
                State::Stopping
            } else {
                State::Starting
            }
        } else if main.starts_with("down:") {
            if exited {
                State::Failed
            } else {
                State::Stopped
            }
        } else {
            State::Other(st)
        }
    }

    fn main_pid(&self, unit: &str) -> Option<i32> {
        let st = self.status(unit);
        if !st.starts_with("run:") {
            return None;
        }
        let pid = std::fs::read_to_string(self.scan.service(unit).join("supervise/pid")).ok()?;
        pid.trim().parse().ok()
    }

    fn supervisor(&self, unit: &str) -> i32 {
        self.scan.supervisor(unit)
    }

    fn added_env(&self) -> Vec<String> {
        // PWD: exported by the /bin/sh of ./run
        ["PATH", MARKER_VAR, "PWD"].map(str::to_owned).to_vec()
    }

    fn processes(&self) -> Vec<Proc> {
        self.scan.stack_processes()
    }

    fn root_pid(&self) -> i32 {
        self.scan.pid()
    }

    fn diagnostics(&self) -> String {
        let mut text = String::new();
        for u in self.units() {
            text.push_str(&self.status(&u));
        }
        text.push_str(&format!(
            "runsvdir: {}\n",
            self.scan.output().replace("..", "")
        ));
        text
    }

    fn teardown(&mut self) -> Teardown {
        let c = self.scan.shutdown();
        Teardown {
            clean: c.is_clean(),
            took: c.took,
            report: format!("{c:#?}"),
        }
    }

    fn check(s: &Running<Self>, at: Checkpoint<'_>) {
        if let Checkpoint::TornDown = at {
            assert!(
                s.driver.scan.processes().is_empty(),
                "runsv or svlogd left: {:?}",
                s.driver.scan.processes()
            );
        }
    }
}

scenarios!(Runit);
