//! A real `supervisord -n -c FILE` for end-to-end tests (the recipe of the backends lab,
//! e2e-supervisord.sh), from the venv at `$OPENIM_INIT_VENV` or `/opt/openim-init-venv`:
//! - FILE is what `openim-init generate --standalone` writes, with the daemon's own paths
//!   (socket, pidfile, log, childlogdir) moved into the test's work dir by a template
//!   override made from `openim-init templates dump` ([`templates`]);
//! - the daemon runs as a child of the test with a clean environment (`PATH` and the work
//!   dir as [`MARKER_VAR`]), so every process it starts carries the marker;
//! - it is driven with `supervisorctl -c FILE`.
//!
//! [`Daemon::shutdown`] (also run on drop, so on panics too) runs `supervisorctl shutdown`,
//! waits for the daemon to exit, SIGKILLs it and then whatever carries the marker, and
//! reports what it had to clean so that a test can assert nothing was left behind.

use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::procs::{self, Proc};
use super::{WorkDir, executable, run_timeout, wait_for};
use crate::common::{Cli, Run, is_root, require};

/// The venv CI creates; `OPENIM_INIT_VENV` overrides it.
pub const DEFAULT_VENV: &str = "/opt/openim-init-venv";
/// Set in the daemon's environment (so in every program's) to the work dir.
pub const MARKER_VAR: &str = "OPENIM_E2E_MARKER";
/// Set in the daemon's environment to the test process id, to sweep orphans of a test that
/// was killed before it could clean up ([`sweep_stale`]).
pub const OWNER_VAR: &str = "OPENIM_E2E_OWNER";
/// The daemon's `PATH`, inherited by every program.
pub const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// What supervisord adds to every program's environment (its own `os.environ` aside).
pub const ADDED_ENV: &[&str] = &[
    "SUPERVISOR_ENABLED",
    "SUPERVISOR_SERVER_URL",
    "SUPERVISOR_PROCESS_NAME",
    "SUPERVISOR_GROUP_NAME",
];

/// What the daemon, being Python, adds to its own environment and so to every program's:
/// started in the C locale, Python ≥ 3.7 coerces it and sets `LC_CTYPE=C.UTF-8` (PEP 538).
pub const PYTHON_ENV: &[(&str, &str)] = &[("LC_CTYPE", "C.UTF-8")];

/// The venv's directory.
pub fn venv() -> PathBuf {
    std::env::var_os("OPENIM_INIT_VENV")
        .filter(|v| !v.is_empty())
        .map_or_else(|| PathBuf::from(DEFAULT_VENV), PathBuf::from)
}

/// `<venv>/bin/<tool>`.
pub fn tool(name: &str) -> PathBuf {
    venv().join("bin").join(name)
}

/// Why supervisord cannot run here, or None when it can.
pub fn unavailable() -> Option<String> {
    if !is_root() {
        return Some("supervisord e2e needs root (programs run as `nobody`)".into());
    }
    ["supervisord", "supervisorctl"]
        .iter()
        .map(|t| tool(t))
        .find(|t| !executable(t))
        .map(|t| {
            format!(
                "{} is missing: `python3 -m venv {v} && {v}/bin/pip install supervisor==4.3.0` (or set OPENIM_INIT_VENV)",
                t.display(),
                v = venv().display()
            )
        })
}

/// True when supervisord can run; otherwise skips (outside CI) or fails (in CI).
pub fn require_daemon() -> bool {
    let why = unavailable();
    require(why.is_none(), why.as_deref().unwrap_or_default())
}

/// The daemon's own files, all inside `<work>/supervisord/`.
#[derive(Debug, Clone)]
pub struct DaemonPaths {
    /// Directory of all of them; also `childlogdir`.
    pub dir: PathBuf,
    /// `[unix_http_server] file=`.
    pub socket: PathBuf,
    /// `pidfile=`.
    pub pidfile: PathBuf,
    /// `logfile=`.
    pub logfile: PathBuf,
}

impl DaemonPaths {
    /// The paths for `work` (the directory is created).
    pub fn new(work: &WorkDir) -> Self {
        let dir = work.join("supervisord");
        std::fs::create_dir_all(&dir).expect("mkdir supervisord");
        Self {
            socket: dir.join("supervisor.sock"),
            pidfile: dir.join("supervisord.pid"),
            logfile: dir.join("supervisord.log"),
            dir,
        }
    }
}

/// Dump the default templates with the real CLI into `<work>/templates` and point the
/// daemon paths of `supervisord/conf.tera` at `paths`; returns the directory for
/// `--templates`.
pub fn templates(work: &WorkDir, paths: &DaemonPaths) -> PathBuf {
    let dir = work.join("templates");
    Cli::new().args(["templates", "dump"]).arg(&dir).ok();
    let conf = dir.join("supervisord/conf.tera");
    let mut text = std::fs::read_to_string(&conf).expect("dumped supervisord/conf.tera");
    for (var, path) in [
        ("socket", &paths.socket),
        ("pidfile", &paths.pidfile),
        ("logfile", &paths.logfile),
        ("childlogdir", &paths.dir),
    ] {
        let placeholder = format!("{{{{ daemon.{var} }}}}");
        assert!(
            text.contains(&placeholder),
            "conf.tera no longer has {placeholder}"
        );
        text = text.replace(&placeholder, &path.display().to_string());
    }
    std::fs::write(&conf, text).expect("write the override");
    dir
}

/// What [`Daemon::shutdown`] found and cleaned up.
#[derive(Debug, Default)]
pub struct Cleanup {
    /// The daemon's exit status, as text.
    pub daemon_exit: String,
    /// Whether it exited with status 0.
    pub exit_ok: bool,
    /// How long `supervisorctl shutdown` took until the daemon was gone.
    pub exit_took: Duration,
    /// The daemon did not exit by itself and was killed.
    pub daemon_killed: bool,
    /// Processes of the test still alive after the daemon exited (then killed).
    pub leftovers: Vec<Proc>,
    /// The daemon's socket or pidfile still exist after it exited.
    pub files_left: Vec<PathBuf>,
}

impl Cleanup {
    /// The daemon exited 0 by itself and nothing had to be killed or is left.
    pub fn is_clean(&self) -> bool {
        self.exit_ok
            && !self.daemon_killed
            && self.leftovers.is_empty()
            && self.files_left.is_empty()
    }

    /// Fail the test unless [`Cleanup::is_clean`].
    pub fn assert_clean(&self) {
        assert!(
            self.is_clean(),
            "left behind after supervisord exited: {self:#?}"
        );
    }
}

/// One line of `supervisorctl status`.
#[derive(Debug, Clone)]
pub struct Status {
    /// `GROUP:PROCESS`.
    pub name: String,
    /// RUNNING, STARTING, STOPPED, EXITED, BACKOFF, FATAL, …
    pub state: String,
    /// The rest of the line (`pid 12, uptime 0:00:03`, an exit description, …).
    pub info: String,
}

/// Processes whose environment names an owner test process that no longer exists (a test
/// killed before its cleanup ran): kill them.
pub fn sweep_stale() {
    let prefix = format!("{OWNER_VAR}=");
    let orphans: Vec<Proc> = procs::with_marker(&[prefix.as_str()])
        .into_iter()
        .filter(|p| {
            let env = std::fs::read(format!("/proc/{}/environ", p.pid)).unwrap_or_default();
            env.split(|b| *b == 0)
                .filter_map(|kv| std::str::from_utf8(kv).ok()?.strip_prefix(&prefix))
                .filter_map(|owner| owner.parse::<i32>().ok())
                .any(|owner| !procs::alive(owner))
        })
        .collect();
    procs::kill_all(&orphans);
}

/// A running `supervisord -n`; see the module documentation.
pub struct Daemon {
    conf: PathBuf,
    paths: DaemonPaths,
    child: Child,
    pid: i32,
    marker: String,
    env: Vec<(&'static str, String)>,
    finished: bool,
}

impl Daemon {
    /// Start supervisord on `conf` and wait until supervisorctl reaches it.
    pub fn start(work: &WorkDir, conf: &Path, paths: &DaemonPaths) -> Self {
        sweep_stale();
        let out = std::fs::File::create(paths.dir.join("daemon.out")).expect("daemon.out");
        let env = vec![
            ("PATH", PATH.to_owned()),
            (MARKER_VAR, work.marker()),
            (OWNER_VAR, std::process::id().to_string()),
        ];
        let child = Command::new(tool("supervisord"))
            .args(["-n", "-c"])
            .arg(conf)
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k, v)))
            .current_dir(work.path())
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("dup"))
            .stderr(out)
            .process_group(0)
            .spawn()
            .expect("launch supervisord");
        let pid = i32::try_from(child.id()).expect("pid fits");
        let mut d = Self {
            conf: conf.to_owned(),
            paths: paths.clone(),
            child,
            pid,
            marker: work.marker(),
            env,
            finished: false,
        };
        let up = wait_for(Duration::from_secs(10), || {
            d.ctl(["pid"]).code == 0 || d.child.try_wait().ok().flatten().is_some()
        });
        assert!(
            up && d.child.try_wait().ok().flatten().is_none(),
            "supervisord did not come up:\n{}",
            d.diagnostics()
        );
        d
    }

    /// The daemon's pid.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// The environment the daemon (and so every program) was started with.
    pub fn env(&self) -> &[(&'static str, String)] {
        &self.env
    }

    /// `supervisorctl -c FILE ARGS` (30 s timeout).
    pub fn ctl<I, S>(&self, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut cmd = Command::new(tool("supervisorctl"));
        cmd.arg("-c")
            .arg(&self.conf)
            .args(args)
            .env_clear()
            .env("PATH", PATH);
        run_timeout(&mut cmd, Duration::from_secs(30))
    }

    /// `supervisorctl ARGS`, which must exit 0; returns stdout.
    pub fn ok<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let args: Vec<_> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
        let r = self.ctl(&args);
        assert_eq!(
            r.code,
            0,
            "supervisorctl {args:?} failed: {}{}\n{}",
            r.stdout,
            r.stderr,
            self.diagnostics()
        );
        r.stdout
    }

    /// Every process supervisord knows (`supervisorctl status`; it exits 3 when one is not
    /// RUNNING, which is no error here).
    pub fn status(&self) -> Vec<Status> {
        self.ctl(["status"])
            .stdout
            .lines()
            .filter_map(|l| {
                let mut words = l.split_whitespace();
                let name = words.next()?.to_owned();
                let state = words.next()?.to_owned();
                let info = words.collect::<Vec<_>>().join(" ");
                Some(Status { name, state, info })
            })
            .collect()
    }

    /// The state of process `name` (`GROUP:PROCESS`); empty when supervisord does not know it.
    pub fn state(&self, name: &str) -> String {
        self.status()
            .into_iter()
            .find(|s| s.name == name)
            .map(|s| s.state)
            .unwrap_or_default()
    }

    /// The pid of process `name` (0 when it is not running; supervisorctl then exits 1).
    pub fn process_pid(&self, name: &str) -> i32 {
        let r = self.ctl(["pid", name]);
        r.stdout.trim().parse().unwrap_or_else(|_| {
            panic!(
                "pid of {name}: {}{}\n{}",
                r.stdout,
                r.stderr,
                self.diagnostics()
            )
        })
    }

    /// Wait until every process in `names` is in `state`; fails with diagnostics otherwise.
    pub fn await_states(&self, names: &[String], state: &str, timeout: Duration) -> Duration {
        let t0 = Instant::now();
        let reached = wait_for(timeout, || {
            let all = self.status();
            names
                .iter()
                .all(|n| all.iter().any(|s| &s.name == n && s.state == state))
        });
        assert!(
            reached,
            "{names:?} did not all become {state} within {timeout:?}:\n{}",
            self.diagnostics()
        );
        t0.elapsed()
    }

    /// What to show when a check fails: every process's state and the daemon's log tails.
    pub fn diagnostics(&self) -> String {
        let st = self.ctl(["status"]);
        let mut text = format!("status:\n{}{}", st.stdout, st.stderr);
        // with -n supervisord logs to stdout too: daemon.out only when the log is empty
        for f in [&self.paths.logfile, &self.paths.dir.join("daemon.out")] {
            let log = std::fs::read_to_string(f).unwrap_or_default();
            let lines: Vec<&str> = log.lines().collect();
            let tail = lines[lines.len().saturating_sub(40)..].join("\n");
            if !tail.is_empty() {
                text.push_str(&format!("{}:\n{tail}\n", f.display()));
                break;
            }
        }
        text
    }

    /// Live processes of the test other than the daemon itself.
    pub fn processes(&self) -> Vec<Proc> {
        procs::with_marker(&[self.marker.as_str()])
            .into_iter()
            .filter(|p| p.pid != self.pid)
            .collect()
    }

    /// Stop the daemon (`supervisorctl shutdown`), SIGKILL it when it does not exit within
    /// 20 s, then kill by pid whatever of the test is left. Idempotent; also run on drop.
    pub fn shutdown(&mut self) -> Cleanup {
        if self.finished {
            return Cleanup::default();
        }
        self.finished = true;
        let mut c = Cleanup::default();
        let t0 = Instant::now();
        if self.child.try_wait().ok().flatten().is_none() {
            self.ctl(["shutdown"]);
        }
        let exited = wait_for(Duration::from_secs(20), || {
            self.child.try_wait().ok().flatten().is_some()
        });
        if !exited {
            c.daemon_killed = true;
            procs::kill(self.pid, libc::SIGKILL);
        }
        c.exit_took = t0.elapsed();
        match self.child.wait() {
            Ok(s) => {
                c.exit_ok = s.success();
                c.daemon_exit = s.to_string();
            }
            Err(e) => c.daemon_exit = e.to_string(),
        }
        c.leftovers = procs::with_marker(&[self.marker.as_str()]);
        procs::kill_all(&c.leftovers);
        c.files_left = [&self.paths.socket, &self.paths.pidfile]
            .into_iter()
            .filter(|p| p.exists())
            .cloned()
            .collect();
        c
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        let c = self.shutdown();
        if !c.is_clean() {
            eprintln!("supervisord cleanup had to intervene: {c:#?}");
        }
    }
}
