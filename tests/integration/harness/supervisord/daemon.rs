//! The running daemon: start, `supervisorctl`, state polling, shutdown and cleanup.

use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{DaemonPaths, MARKER_VAR, OWNER_VAR, PATH, sweep_stale, tool};
use crate::common::Run;
use crate::harness::procs::{self, Proc};
use crate::harness::{WorkDir, run_timeout, wait_for};

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

    /// The configuration file it runs on.
    pub fn conf(&self) -> &Path {
        &self.conf
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
            let tail = procs::tail(f, 40);
            if !tail.is_empty() {
                text.push_str(&format!("{}:\n{tail}\n", f.display()));
                break;
            }
        }
        text
    }

    /// Live processes of the test other than the daemon itself.
    pub fn processes(&self) -> Vec<Proc> {
        procs::of_test_but(&[self.marker.as_str()], self.pid)
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
        let ended = procs::reap_or_kill(&mut self.child, Duration::from_secs(20));
        c.daemon_killed = ended.killed;
        c.exit_took = t0.elapsed();
        match ended.status {
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
