//! The supervisord driver: the real `supervisord -n` 4.3.0 ([`Daemon`]) on the file
//! `generate --standalone` writes, its own paths moved into the work dir by a template
//! override, driven with `supervisorctl`. supervisord starts every program at boot
//! (`autostart`), does not start what a program `requires` (the wrapper only waits for its
//! health check), and has no restart delay: the driver says so, the scenarios hold it to
//! that. Beside it what only supervisord shows: the capability report and warnings, the
//! generated sections, the environment it inherits and adds, no file outside the work dir.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::SystemTime;

use serde_json::{Value, json};

use super::driver::{Checkpoint, Driver, Running, State, Teardown};
use super::manifests::NAMED;
use crate::common::Cli;
use crate::harness::probe::Record;
use crate::harness::procs::Proc;
use crate::harness::supervisord::{
    ADDED_ENV, Daemon, DaemonPaths, PYTHON_ENV, templates, tool, unavailable,
};
use crate::harness::{SUPERVISORD, WorkDir, hostile};

/// A working directory that needs quoting everywhere but that supervisor's ini layer can
/// carry (the shared [`hostile::dir`] has ` ;`, an inline comment, which the backend
/// refuses: tested in `supervisord::cases`).
const DIR_NAME: &str = "work dir 100% $HOME 'q' \"dq\" a;#b %%";

/// A running supervisord with the generated programs of one stack (its group).
pub struct Supervisord {
    sv: Daemon,
    stack: String,
    /// The generated supervisord.conf.
    conf: String,
}

impl Driver for Supervisord {
    const BACKEND: &'static str = "supervisord";
    const AUTOSTART: bool = true;
    const REQUIRES_STARTS: bool = false;
    // the wrapper polling the gate is the process: supervisord cannot tell it from the program
    const GATED_STATE: State = State::Running;
    // no restart delay (the manifest's 10 s is dropped with a warning); supervisord reaps
    // once a second, the rest is the margin for a loaded machine
    const RESTART_WINDOW_MS: (f64, f64) = (0.0, 6000.0);
    const NAME_VAR: Option<&'static str> = Some("SUPERVISOR_PROCESS_NAME");

    fn lock() -> &'static Mutex<()> {
        &SUPERVISORD
    }

    fn unavailable() -> Option<String> {
        unavailable()
    }

    fn generate_args(work: &WorkDir) -> Vec<OsString> {
        let tpl = templates(work, &DaemonPaths::new(work));
        vec!["--standalone".into(), "--templates".into(), tpl.into()]
    }

    fn boot(work: &WorkDir, out: &Path, stack: &str) -> Self {
        let file = out.join("supervisord.conf");
        let conf = std::fs::read_to_string(&file).expect("supervisord.conf");
        Self {
            sv: Daemon::start(work, &file, &DaemonPaths::new(work)),
            stack: stack.to_owned(),
            conf,
        }
    }

    fn restart_defaults() -> Value {
        json!({ "restart_delay": "10s" })
    }

    fn restart_warning() -> Option<&'static str> {
        Some("supervisord: restart_delay → not supported")
    }

    fn hostile_dir(work: &WorkDir) -> PathBuf {
        hostile::dir_named(work, DIR_NAME)
    }

    fn unit(&self, service: &str, instance: Option<&str>) -> String {
        match instance {
            Some(i) => format!("{}:{service}_{i}", self.stack),
            None => format!("{}:{service}", self.stack),
        }
    }

    fn env_name(&self, unit: &str) -> String {
        unit.split_once(':').map_or(unit, |(_, p)| p).to_owned()
    }

    fn start_stack(&self) {
        self.sv.ok(["start", &format!("{}:*", self.stack)]);
    }

    fn stop_stack(&self) {
        self.sv.ok(["stop", &format!("{}:*", self.stack)]);
    }

    fn start(&self, unit: &str) {
        self.sv.ok(["start", unit]);
    }

    fn start_command(&self, unit: &str) -> Command {
        let mut cmd = Command::new(tool("supervisorctl"));
        cmd.arg("-c")
            .arg(self.sv.conf())
            .args(["start", unit])
            .env_clear()
            .env("PATH", crate::harness::supervisord::PATH);
        cmd
    }

    fn stop(&self, unit: &str) {
        self.sv.ok(["stop", unit]);
    }

    fn state(&self, unit: &str) -> State {
        state(&self.sv.state(unit))
    }

    fn states(&self, units: &[String]) -> Vec<State> {
        let all = self.sv.status();
        units
            .iter()
            .map(|u| {
                all.iter()
                    .find(|s| &s.name == u)
                    .map_or_else(|| State::Other(String::new()), |s| state(&s.state))
            })
            .collect()
    }

    fn main_pid(&self, unit: &str) -> Option<i32> {
        Some(self.sv.process_pid(unit)).filter(|&p| p != 0)
    }

    fn supervisor(&self, _unit: &str) -> i32 {
        self.sv.pid()
    }

    fn added_env(&self) -> Vec<String> {
        // PWD: exported by the /bin/sh wrapper that carries what `environment=` cannot quote
        let wrapped = self.conf.contains("export \"$1\"");
        let inherited = self.sv.env().iter().map(|(k, _)| *k);
        let python = PYTHON_ENV.iter().map(|(k, _)| *k);
        inherited
            .chain(ADDED_ENV.iter().copied())
            .chain(python)
            .chain(wrapped.then_some("PWD"))
            .map(str::to_owned)
            .collect()
    }

    fn processes(&self) -> Vec<Proc> {
        self.sv.processes()
    }

    fn root_pid(&self) -> i32 {
        self.sv.pid()
    }

    fn diagnostics(&self) -> String {
        self.sv.diagnostics()
    }

    fn teardown(&mut self) -> Teardown {
        let c = self.sv.shutdown();
        Teardown {
            clean: c.is_clean(),
            took: c.exit_took,
            report: format!("{c:#?}"),
        }
    }

    fn check(s: &Running<Self>, at: Checkpoint<'_>) {
        match at {
            Checkpoint::StackRunning => {
                sections_of_the_instances(&s.driver.conf);
                report_says_requires_does_not_start(s);
            }
            Checkpoint::ExecContext(d) => environment_from_the_daemon(&s.driver, d),
            Checkpoint::TornDown => no_stray_files(&s.work),
            Checkpoint::StackStopped => {}
        }
    }
}

scenarios!(Supervisord);

/// supervisorctl's word for a process's state, in the scenarios' words.
fn state(word: &str) -> State {
    match word {
        "RUNNING" => State::Running,
        "STARTING" | "BACKOFF" => State::Starting,
        "STOPPING" => State::Stopping,
        "STOPPED" => State::Stopped,
        // exited while it should run (a SIGKILL), not restarted
        "EXITED" => State::Failed,
        other => State::Other(other.to_owned()),
    }
}

/// Numbered instances are one `[program:c]` with `numprocs=3`; named ones a section each.
fn sections_of_the_instances(conf: &str) {
    assert_eq!(conf.matches("\n[program:c]\n").count(), 1, "{conf}");
    assert_eq!(conf.matches("\nnumprocs=3\n").count(), 1, "{conf}");
    for i in NAMED {
        assert!(conf.contains(&format!("\n[program:n_{i}]\n")), "{conf}");
    }
}

/// The capability report and generate's warnings say that `requires` does not start the
/// required service (which [`Supervisord::REQUIRES_STARTS`] makes the scenarios assert).
fn report_says_requires_does_not_start(s: &Running<Supervisord>) {
    let report = Cli::new().args(["backends", "--json"]).ok().stdout;
    let report: Value = serde_json::from_str(&report).expect("backends --json is JSON");
    let sv = report
        .as_array()
        .and_then(|b| b.iter().find(|b| b["name"] == "supervisord"))
        .expect("supervisord in the report");
    let requires = &sv["features"]["requires"];
    assert_eq!(requires["support"], "emulated");
    let how = requires["how"].as_str().expect("how");
    assert!(
        how.contains("does not start the required service"),
        "the report must say so: {how}"
    );
    let warning = s
        .warnings
        .lines()
        .find(|l| l.starts_with("warning: supervisord: requires"))
        .unwrap_or_else(|| panic!("no requires warning: {}", s.warnings));
    assert!(
        warning.contains(how) && warning.ends_with("(b)"),
        "{warning}"
    );
}

/// D inherited the daemon's environment exactly (as started, plus Python's locale
/// coercion) and was told its group and process name.
fn environment_from_the_daemon(d: &Supervisord, rec: &Record) {
    for (k, v) in PYTHON_ENV {
        if let Some(got) = rec.env.get(*k) {
            assert_eq!(got, v, "{k} set by Python's locale coercion");
        }
    }
    for (k, v) in d.sv.env() {
        assert_eq!(rec.env.get(*k), Some(v), "{k} inherited from supervisord");
    }
    assert_eq!(rec.env["SUPERVISOR_GROUP_NAME"], d.stack);
}

/// Nothing was written outside the work dir: not the standalone default paths, and no
/// supervisor log or temp file in /tmp since the test began (work dirs of tests aside).
fn no_stray_files(work: &WorkDir) {
    for p in [
        "/run/e2e-supervisord.sock",
        "/run/e2e-supervisord.pid",
        "/var/log/supervisor/e2e-supervisord.log",
    ] {
        assert!(
            !Path::new(p).exists(),
            "{p} exists: the override did not apply"
        );
    }
    let began = std::fs::metadata(work.path())
        .and_then(|m| m.created().or_else(|_| m.modified()))
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let stray: Vec<String> = std::fs::read_dir(std::env::temp_dir())
        .expect("temp dir")
        .flatten()
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            // the work dirs of this test binary (this one, round trips) are not supervisor's
            name.contains("supervisor")
                && !name.starts_with("openim-e2e-")
                && e.metadata()
                    .and_then(|m| m.modified())
                    .is_ok_and(|t| t >= began)
        })
        .map(|e| e.path().display().to_string())
        .collect();
    assert!(
        stray.is_empty(),
        "supervisor files outside the work dir: {stray:?}"
    );
    let logs = std::fs::read_dir(work.join("supervisord")).expect("daemon dir");
    let names: Vec<String> = logs
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().any(|n| n == "supervisord.log"), "{names:?}");
}
