//! A scan-directory supervisor of the daemontools family on a private directory: runit's
//! `runsvdir -P SCAN` or s6's `s6-svscan SCAN`, never as init and never on `/etc/service`.
//! The generated service directories are linked into `WORK/scan/`; the daemon runs with a
//! clean environment (`PATH` and the test's marker), in its own process group, so every
//! process it starts is found by the marker and nothing of the host is touched.
//!
//! [`Scan::shutdown`] (also on drop) asks the daemon to bring everything down (runsvdir:
//! SIGHUP; s6-svscan: `s6-svscanctl -t`), waits for it and for every process of the test
//! to exit, and reports what had to be killed.

use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::procs::{self, Proc};
use super::{WorkDir, run_timeout, wait_for};
use crate::common::Run;

/// The daemon's `PATH`, inherited by every service.
pub const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// Carries the work dir into every process the daemon starts.
pub const MARKER_VAR: &str = "OPENIM_E2E_MARKER";

/// Which daemon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `runsvdir -P`.
    Runit,
    /// `s6-svscan`.
    S6,
}

/// What [`Scan::shutdown`] found.
#[derive(Debug, Default)]
pub struct Cleanup {
    /// The daemon did not exit by itself and was killed.
    pub daemon_killed: bool,
    /// How long until the daemon and every process of the test were gone.
    pub took: Duration,
    /// Processes of the test still alive after the grace period (then killed).
    pub leftovers: Vec<Proc>,
}

impl Cleanup {
    /// Nothing had to be killed.
    pub fn is_clean(&self) -> bool {
        !self.daemon_killed && self.leftovers.is_empty()
    }
}

/// A running scan daemon.
pub struct Scan {
    kind: Kind,
    child: Child,
    pid: i32,
    /// The scan directory.
    pub dir: PathBuf,
    out: PathBuf,
    marker: String,
    finished: bool,
}

/// Why `tools` cannot run here, or None.
pub fn missing(tools: &[&str]) -> Option<String> {
    let absent: Vec<&str> = tools
        .iter()
        .copied()
        .filter(|t| which::which(t).is_err())
        .collect();
    (!absent.is_empty()).then(|| format!("not installed: {}", absent.join(" ")))
}

impl Scan {
    /// Link every directory under `services` into `WORK/scan/` and start the daemon there.
    pub fn start(work: &WorkDir, kind: Kind, services: &Path) -> Self {
        Self::start_at(work.path(), &work.marker(), kind, services)
    }

    /// Link every directory under `services` into `base/scan/` and start the daemon there,
    /// with `marker` in its environment (see [`Scan::processes`]).
    pub fn start_at(base: &Path, marker: &str, kind: Kind, services: &Path) -> Self {
        let dir = base.join("scan");
        std::fs::create_dir_all(&dir).expect("mkdir scan");
        for e in std::fs::read_dir(services).expect("service dirs").flatten() {
            std::os::unix::fs::symlink(e.path(), dir.join(e.file_name())).expect("link");
        }
        let out = base.join("scan.out");
        let log = std::fs::File::create(&out).expect("scan.out");
        let mut cmd = match kind {
            Kind::Runit => {
                let mut c = Command::new("runsvdir");
                c.arg("-P")
                    .arg(&dir)
                    .arg(format!("log: {}", ".".repeat(200)));
                c
            }
            Kind::S6 => {
                let mut c = Command::new("s6-svscan");
                c.arg(&dir);
                c
            }
        };
        let child = cmd
            .env_clear()
            .env("PATH", PATH)
            .env(MARKER_VAR, marker)
            .current_dir(base)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup"))
            .stderr(log)
            .process_group(0)
            .spawn()
            .expect("start the scan daemon");
        let pid = i32::try_from(child.id()).expect("pid fits");
        Self {
            kind,
            child,
            pid,
            dir,
            out,
            marker: marker.to_owned(),
            finished: false,
        }
    }

    /// The daemon's pid.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// The service directory of `unit` as linked in the scan directory.
    pub fn service(&self, unit: &str) -> PathBuf {
        self.dir.join(unit)
    }

    /// Run a tool with the daemon's environment (30 s timeout).
    pub fn tool<I, S>(program: &str, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut cmd = Command::new(program);
        cmd.args(args).env_clear().env("PATH", PATH);
        run_timeout(&mut cmd, Duration::from_secs(30))
    }

    /// The daemon's own output (runsvdir's `log:` line, s6-svscan's messages).
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.out).unwrap_or_default()
    }

    /// Live processes of the test other than the daemon itself.
    pub fn processes(&self) -> Vec<Proc> {
        procs::of_test_but(&[self.marker.as_str()], self.pid)
    }

    /// The command-line prefixes of the daemon's own per-service helpers: the supervisor
    /// (`runsv`, `s6-supervise`) and the logger a service without a log file gets.
    fn helpers(&self) -> [&'static str; 2] {
        match self.kind {
            Kind::Runit => ["runsv ", "svlogd "],
            Kind::S6 => ["s6-supervise ", "s6-log "],
        }
    }

    /// The processes of the stack itself: [`Scan::processes`] without the supervisors and
    /// loggers, which stay up while the daemon runs.
    pub fn stack_processes(&self) -> Vec<Proc> {
        let helpers = self.helpers();
        self.processes()
            .into_iter()
            .filter(|p| !helpers.iter().any(|h| p.cmdline.starts_with(h)))
            .collect()
    }

    /// The pid of `unit`'s supervisor (the `runsv` or `s6-supervise` whose working
    /// directory is the unit's service directory), or 0.
    pub fn supervisor(&self, unit: &str) -> i32 {
        let target = std::fs::canonicalize(self.service(unit)).expect("service dir");
        let [supervise, _] = self.helpers();
        self.processes()
            .into_iter()
            .find(|p| {
                p.cmdline.starts_with(supervise)
                    && std::fs::read_link(format!("/proc/{}/cwd", p.pid))
                        .ok()
                        .as_ref()
                        == Some(&target)
            })
            .map_or(0, |p| p.pid)
    }

    /// Bring everything down and wait for it; kill what is left. Idempotent.
    pub fn shutdown(&mut self) -> Cleanup {
        let mut c = Cleanup::default();
        if self.finished {
            return c;
        }
        self.finished = true;
        let t0 = Instant::now();
        if self.child.try_wait().ok().flatten().is_none() {
            match self.kind {
                Kind::Runit => procs::kill(self.pid, libc::SIGHUP),
                Kind::S6 => {
                    Self::tool(
                        "s6-svscanctl",
                        [std::ffi::OsStr::new("-t"), self.dir.as_os_str()],
                    );
                }
            }
        }
        let ended = procs::reap_or_kill(&mut self.child, Duration::from_secs(20));
        c.daemon_killed = ended.killed;
        wait_for(Duration::from_secs(20), || self.processes().is_empty());
        c.took = t0.elapsed();
        c.leftovers = self.processes();
        procs::kill_all(&c.leftovers);
        c
    }
}

impl Drop for Scan {
    fn drop(&mut self) {
        let c = self.shutdown();
        if !c.is_clean() {
            eprintln!("scan daemon cleanup had to intervene: {c:#?}");
        }
    }
}
