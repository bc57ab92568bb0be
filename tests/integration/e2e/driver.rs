//! The [`Driver`] trait (what the scenarios need from an init system) and [`Running`], a
//! booted stack: the driver, the work dir with the probe, and what `generate` printed.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{Cli, require};
use crate::harness::probe::{self, Record};
use crate::harness::procs::{self, Proc};
use crate::harness::{WorkDir, hold, hostile, wait_for, write_manifest};

/// The state of one unit, in the scenarios' words; [`State::Other`] keeps what the init
/// system said when it is none of these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Up (systemd `active`, OpenRC `started`, supervisord `RUNNING`).
    Running,
    /// On its way up (`activating`, `starting`, `STARTING`/`BACKOFF`).
    Starting,
    /// On its way down.
    Stopping,
    /// Down because it was stopped, or never started.
    Stopped,
    /// Down without being stopped, and not restarted (`failed`, `crashed`, `EXITED`).
    Failed,
    /// Anything else, as the init system said it.
    Other(String),
}

/// A checkpoint of a scenario at which a driver may assert what only its init system shows
/// ([`Driver::check`]).
pub enum Checkpoint<'a> {
    /// The whole stack came up for the first time.
    StackRunning,
    /// The hostile service's latest start record, after the shared checks passed.
    ExecContext(&'a Record),
    /// The stack was stopped (every unit [`State::Stopped`], no process left).
    StackStopped,
    /// The init system was torn down cleanly.
    TornDown,
}

/// What [`Driver::teardown`] found.
pub struct Teardown {
    /// Nothing had to be killed and nothing is left (processes, namespace, cgroups, files).
    pub clean: bool,
    /// How long the teardown took.
    pub took: Duration,
    /// What was found, for the assertion message.
    pub report: String,
}

/// One init system as the scenarios drive it. Unit names are the init system's own
/// ([`Driver::unit`]); every command that must succeed fails the test with diagnostics.
pub trait Driver: Sized {
    /// The `--backend` of `openim-init generate`.
    const BACKEND: &'static str;
    /// Booting starts every service (supervisord's `autostart`).
    const AUTOSTART: bool;
    /// Starting a service starts what it `requires` (the capability report says which).
    const REQUIRES_STARTS: bool;
    /// The state of a service while its external dependency's gate is waiting.
    const GATED_STATE: State;
    /// Inclusive window, in ms after a SIGKILL, in which the restarted process must run
    /// (with [`Driver::restart_defaults`]); the upper end is the margin for a busy machine.
    const RESTART_WINDOW_MS: (f64, f64);
    /// The variable in which the init system tells a process its name, if any.
    const NAME_VAR: Option<&'static str>;

    /// The lock that serialises the tests of this init system.
    fn lock() -> &'static Mutex<()>;
    /// Why the init system cannot run here, or None.
    fn unavailable() -> Option<String>;
    /// Extra arguments for `generate` (after `--backend`), prepared in `work`.
    fn generate_args(_work: &WorkDir) -> Vec<OsString> {
        Vec::new()
    }
    /// Bring the init system up on the artifacts generated into `out` for stack `stack`.
    fn boot(work: &WorkDir, out: &Path, stack: &str) -> Self;
    /// `defaults` of the restart check's manifest: this backend's restart delay.
    fn restart_defaults() -> Value;
    /// What `generate` must warn about the restart check's manifest, if anything.
    fn restart_warning() -> Option<&'static str> {
        None
    }
    /// The hostile working directory (a syntax that cannot carry every character of
    /// [`hostile::dir`] picks its own).
    fn hostile_dir(work: &WorkDir) -> PathBuf {
        hostile::dir(work)
    }

    /// The init system's name of `service` (of one `instance`).
    fn unit(&self, service: &str, instance: Option<&str>) -> String;
    /// The value of [`Driver::NAME_VAR`] for `unit`.
    fn env_name(&self, unit: &str) -> String {
        unit.to_owned()
    }
    /// Start the whole stack and return once the init system says it started.
    fn start_stack(&self);
    /// Stop the whole stack.
    fn stop_stack(&self);
    /// Start one unit (and whatever the init system starts with it).
    fn start(&self, unit: &str);
    /// A command that starts `unit` and returns once the init system says it is up.
    fn start_command(&self, unit: &str) -> Command;
    /// Stop one unit.
    fn stop(&self, unit: &str);
    /// The state of `unit`.
    fn state(&self, unit: &str) -> State;
    /// The states of `units` (one query where the init system allows it).
    fn states(&self, units: &[String]) -> Vec<State> {
        units.iter().map(|u| self.state(u)).collect()
    }
    /// The pid of the unit's main process as the init system reports it (None: none).
    fn main_pid(&self, unit: &str) -> Option<i32>;
    /// The pid of the process that spawns (and respawns) the unit's main process.
    fn supervisor(&self, unit: &str) -> i32;
    /// How many times the init system says it restarted `unit`, when it keeps count.
    fn restarts(&self, _unit: &str) -> Option<u32> {
        None
    }
    /// Variables the init system adds to a process's environment (its own environment
    /// included) besides the manifest's.
    fn added_env(&self) -> Vec<String>;
    /// Live processes of the test other than the init system's own root process.
    fn processes(&self) -> Vec<Proc>;
    /// The process the harness started (manager, daemon, namespace holder).
    fn root_pid(&self) -> i32;
    /// Every unit's state and the logs, for assertion messages.
    fn diagnostics(&self) -> String;
    /// Stop the init system and clean up everything of the test. Idempotent (and done on
    /// drop by the harness).
    fn teardown(&mut self) -> Teardown;
    /// Assert what only this init system shows, at `at` of a scenario.
    fn check(_run: &Running<Self>, _at: Checkpoint<'_>) {}
}

/// A booted init system with a generated stack. Fields drop in order: the driver (which
/// tears the init system down) before the work dir, the lock last.
pub struct Running<D: Driver> {
    /// The init system.
    pub driver: D,
    /// The test's work dir: records, logs, the generated artifacts in `out/`.
    pub work: WorkDir,
    /// The probe every service runs.
    pub probe: PathBuf,
    /// What `generate` printed on stderr (capability warnings, notes).
    pub warnings: String,
    _serial: MutexGuard<'static, ()>,
}

/// Take the driver's lock, write the manifest `build` returns, generate its artifacts with
/// the real CLI and boot the init system on them. None when the machine cannot run the test
/// (skipped outside CI, a failure in CI).
pub fn boot<D: Driver>(
    name: &str,
    build: impl FnOnce(&WorkDir, &Path) -> Value,
) -> Option<Running<D>> {
    let serial = hold(D::lock());
    let why = D::unavailable();
    if !require(why.is_none(), why.as_deref().unwrap_or_default()) {
        return None;
    }
    let work = WorkDir::new(&format!("{}-{name}", D::BACKEND));
    let probe = probe::install(&work)?;
    let manifest = build(&work, &probe);
    let stack = manifest["name"].as_str().expect("manifest name").to_owned();
    let path = work.join("manifest.toml");
    write_manifest(&path, &manifest);
    let out = work.join("out");
    let generated = Cli::new()
        .args(["generate", "--backend", D::BACKEND])
        .args(D::generate_args(&work))
        .arg("--manifest")
        .arg(&path)
        .arg("--out")
        .arg(&out)
        .ok();
    let driver = D::boot(&work, &out, &stack);
    Some(Running {
        driver,
        work,
        probe,
        warnings: generated.stderr,
        _serial: serial,
    })
}

impl<D: Driver> Running<D> {
    /// The record file of probe `label`.
    pub fn record(&self, label: &str) -> PathBuf {
        self.work.record(label)
    }

    /// Wait until every unit of `units` is in `want`; fails with diagnostics otherwise.
    pub fn await_states(&self, units: &[String], want: &State, timeout: Duration) -> Duration {
        let t0 = Instant::now();
        let mut last = Vec::new();
        let reached = wait_for(timeout, || {
            last = self.driver.states(units);
            last.iter().all(|s| s == want)
        });
        assert!(
            reached,
            "not all {want:?} within {timeout:?}: {:?}\n{}",
            units.iter().zip(&last).collect::<Vec<_>>(),
            self.driver.diagnostics()
        );
        t0.elapsed()
    }

    /// Wait until `unit` is in `want`.
    pub fn await_state(&self, unit: &str, want: &State, timeout: Duration) -> Duration {
        self.await_states(&[unit.to_owned()], want, timeout)
    }

    /// Wait until no process of the test but the init system's root is left.
    pub fn await_no_processes(&self, timeout: Duration, when: &str) {
        assert!(
            wait_for(timeout, || self.driver.processes().is_empty()),
            "processes left {when}: {:?}\n{}",
            self.driver.processes(),
            self.driver.diagnostics()
        );
    }

    /// The main pid the init system reports for `unit`, which must be the pid of `rec`.
    pub fn assert_main_pid(&self, unit: &str, rec: &Record) {
        assert_eq!(
            self.driver.main_pid(unit).map(i64::from),
            Some(i64::from(rec.pid)),
            "{unit}: the init system's main pid is not the probe's\n{}",
            self.driver.diagnostics()
        );
    }

    /// Tear the init system down; it must leave nothing, and its root process must be gone.
    pub fn teardown_clean(&mut self) -> Duration {
        let root = self.driver.root_pid();
        let t = self.driver.teardown();
        assert!(t.clean, "left behind by the teardown: {}", t.report);
        assert!(!procs::alive(root), "{root} still alive after the teardown");
        assert!(
            self.driver.processes().is_empty(),
            "{:?}",
            self.driver.processes()
        );
        D::check(self, Checkpoint::TornDown);
        t.took
    }
}

/// A start running in the background (`Driver::start_command`); killed on drop if it has
/// not finished.
pub struct Pending {
    child: Child,
    what: String,
}

impl Pending {
    /// Spawn `cmd` (output discarded).
    pub fn spawn(mut cmd: Command) -> Self {
        let what = format!("{cmd:?}");
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
        Self { child, what }
    }

    /// Whether it is still waiting.
    pub fn waiting(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_none()
    }

    /// Wait up to `timeout` for it to finish; it must exit 0.
    pub fn assert_succeeds(&mut self, timeout: Duration) {
        let mut status = None;
        wait_for(timeout, || {
            status = self.child.try_wait().expect("try_wait");
            status.is_some()
        });
        assert!(
            status.is_some_and(|s| s.success()),
            "{}: {status:?} within {timeout:?}",
            self.what
        );
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if self.waiting() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}
