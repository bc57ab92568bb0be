//! The s6 driver: Debian's s6 2.11, `s6-svscan` on a private scan directory into which the
//! generated `s6/*` directories are linked ([`Scan`]), driven with `s6-svc` and read with
//! `s6-svstat`. s6-svscan starts every linked service (autostart); `run` brings up what a
//! service `requires` and waits until it is ready (`s6-svwait -U`, readiness from
//! `s6-notifyoncheck`); the restart delay is `finish`'s sleep. A service that exited and was
//! left down (restart = never, `finish` exit 125) is told from a stopped one by the file
//! its `finish` writes.

use std::path::Path;
use std::sync::Mutex;

use serde_json::{Value, json};

use super::driver::{Checkpoint, Driver, Running, State, Teardown};
use crate::harness::procs::Proc;
use crate::harness::scan::{Kind, MARKER_VAR, Scan, missing};
use crate::harness::{S6 as S6_LOCK, WorkDir};

/// A running s6-svscan with the generated service directories of one stack.
pub struct S6 {
    scan: Scan,
}

impl S6 {
    fn svc(&self, args: &[&str], units: &[&str]) -> String {
        let mut out = String::new();
        for u in units {
            out.push_str(&self.one("s6-svc", args, u));
        }
        out
    }

    fn one(&self, tool: &str, args: &[&str], unit: &str) -> String {
        let mut all: Vec<std::ffi::OsString> = args.iter().map(Into::into).collect();
        all.push(self.scan.service(unit).into_os_string());
        let r = Scan::tool(tool, &all);
        assert_eq!(
            r.code,
            0,
            "{tool} {args:?} {unit}: {}{}\n{}",
            r.stdout,
            r.stderr,
            self.diagnostics()
        );
        r.stdout
    }

    fn status(&self, unit: &str) -> String {
        let r = Scan::tool("s6-svstat", [self.scan.service(unit).as_os_str()]);
        format!("{unit}: {}{}", r.stdout, r.stderr)
    }

    /// `s6-svstat -o up,wantedup,ready,pid`.
    fn fields(&self, unit: &str) -> Vec<String> {
        let dir = self.scan.service(unit);
        let r = Scan::tool(
            "s6-svstat",
            [
                std::ffi::OsStr::new("-o"),
                "up,wantedup,ready,pid".as_ref(),
                dir.as_os_str(),
            ],
        );
        r.stdout.split_whitespace().map(str::to_owned).collect()
    }

    fn units(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.scan.dir)
            .expect("scan dir")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with('.'))
            .collect();
        names.sort();
        names
    }
}

impl Driver for S6 {
    const BACKEND: &'static str = "s6";
    const AUTOSTART: bool = true;
    const REQUIRES_STARTS: bool = true;
    // up (not ready) while the shared wrapper polls the gate
    const GATED_STATE: State = State::Running;
    // finish sleeps restart_delay (1 s); s6-supervise adds nothing after a run of over a second
    const RESTART_WINDOW_MS: (f64, f64) = (1000.0, 3500.0);
    const NAME_VAR: Option<&'static str> = None;

    fn lock() -> &'static Mutex<()> {
        &S6_LOCK
    }

    fn unavailable() -> Option<String> {
        missing(&[
            "s6-svscan",
            "s6-supervise",
            "s6-svc",
            "s6-svwait",
            "s6-svstat",
            "s6-notifyoncheck",
        ])
    }

    fn boot(work: &WorkDir, out: &Path, _stack: &str) -> Self {
        Self {
            scan: Scan::start(work, Kind::S6, &out.join("s6")),
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
        self.svc(&["-wu", "-T", "30000", "-u"], &refs);
    }

    fn stop_stack(&self) {
        let units = self.units();
        let refs: Vec<&str> = units.iter().map(String::as_str).collect();
        self.svc(&["-wD", "-T", "30000", "-d"], &refs);
    }

    fn start(&self, unit: &str) {
        self.svc(&["-wu", "-T", "30000", "-u"], &[unit]);
    }

    fn start_command(&self, unit: &str) -> std::process::Command {
        let mut cmd = std::process::Command::new("s6-svc");
        cmd.args(["-wu", "-T", "30000", "-u"])
            .arg(self.scan.service(unit))
            .env_clear()
            .env("PATH", crate::harness::scan::PATH);
        cmd
    }

    fn stop(&self, unit: &str) {
        self.svc(&["-wD", "-T", "30000", "-d"], &[unit]);
    }

    fn state(&self, unit: &str) -> State {
        let f = self.fields(unit);
        let is = |i: usize| f.get(i).map(String::as_str) == Some("true");
        // without notification-fd there is no readiness: up is as ready as it gets
        let signals = self.scan.service(unit).join("notification-fd").exists();
        let ready = is(2) || !signals;
        let exited = self
            .scan
            .service(unit)
            .join("supervise/openim-init.exited")
            .exists();
        match (f.len() >= 3, is(0), is(1), ready) {
            (false, ..) => State::Other(self.status(unit)),
            (true, true, true, true) => State::Running,
            (true, true, true, false) | (true, false, true, _) => State::Starting,
            (true, true, false, _) => State::Stopping,
            (true, false, false, _) if exited => State::Failed,
            (true, false, false, _) => State::Stopped,
        }
    }

    fn main_pid(&self, unit: &str) -> Option<i32> {
        self.fields(unit)
            .get(3)
            .and_then(|p| p.parse().ok())
            .filter(|&p: &i32| p > 0)
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
        text.push_str(&format!("s6-svscan: {}\n", self.scan.output()));
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
        match at {
            Checkpoint::StackRunning => {
                let a = s.driver.unit("a", None);
                let ready = Scan::tool(
                    "s6-svstat",
                    [
                        std::ffi::OsStr::new("-o"),
                        "ready".as_ref(),
                        s.driver.scan.service(&a).as_os_str(),
                    ],
                );
                assert_eq!(
                    ready.stdout.trim(),
                    "true",
                    "A's ready flag (s6-notifyoncheck)"
                );
            }
            Checkpoint::TornDown => assert!(
                s.driver.scan.processes().is_empty(),
                "s6-supervise or s6-log left: {:?}",
                s.driver.scan.processes()
            ),
            _ => {}
        }
    }
}

scenarios!(S6);
