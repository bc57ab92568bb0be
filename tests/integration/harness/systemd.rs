//! A real `systemd --user` manager, not PID 1, for end-to-end tests (the recipe of the
//! backends lab, e2e-systemd-user.sh):
//! - it runs in a private mount namespace where `/run/systemd/system` exists (`sd_booted`)
//!   and `/dev/console`, where it logs, is a file of the test;
//! - it lives in its own sub-cgroups `/sys/fs/cgroup/{systemd,unified}/openim-init-e2e-*`;
//! - it sees only the test's units plus a few stubs (`SYSTEMD_UNIT_PATH=<units>:<stubs>`),
//!   and its runtime dir, home and config are inside the test's work dir;
//! - it is driven with `systemctl --user` through `$XDG_RUNTIME_DIR/systemd/private`.
//!
//! [`UserManager::shutdown`] (also run on drop, so on panics too) runs `systemctl --user
//! exit`, waits, kills whatever is left by pid and removes the sub-cgroups; it reports what
//! it had to clean so that a test can assert nothing was left behind.

use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::cgroup;
use super::procs::{self, Proc};
use super::{WorkDir, executable, run_timeout, wait_for};
use crate::common::{Run, is_root, require};

/// The systemd binary (Debian).
pub const SYSTEMD: &str = "/lib/systemd/systemd";
/// Units copied from the distribution into the stub directory: without `exit.target`,
/// `systemctl --user exit` does nothing.
const COPIED_STUBS: &[&str] = &["exit.target", "systemd-exit.service", "shutdown.target"];
const DIST_USER_UNITS: &str = "/usr/lib/systemd/user";
const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Why a user manager cannot run here, or None when it can.
pub fn unavailable() -> Option<String> {
    if !is_root() {
        return Some("systemd e2e needs root (private mount namespace, cgroups)".into());
    }
    if !executable(Path::new(SYSTEMD)) {
        return Some(format!("{SYSTEMD} is missing (apt package systemd)"));
    }
    for tool in ["systemctl", "unshare"] {
        if which::which(tool).is_err() {
            return Some(format!("`{tool}` is not installed"));
        }
    }
    if let Some(s) = COPIED_STUBS
        .iter()
        .find(|s| !Path::new(DIST_USER_UNITS).join(s).is_file())
    {
        return Some(format!("{DIST_USER_UNITS}/{s} is missing"));
    }
    cgroup::roots()
        .is_empty()
        .then(|| "no writable cgroup hierarchy under /sys/fs/cgroup".into())
}

/// True when a user manager can run; otherwise skips (outside CI) or fails (in CI).
pub fn require_manager() -> bool {
    let why = unavailable();
    require(why.is_none(), why.as_deref().unwrap_or_default())
}

/// What [`UserManager::shutdown`] found and cleaned up.
#[derive(Debug, Default)]
pub struct Cleanup {
    /// The manager's exit status, as text.
    pub manager_exit: String,
    /// How long `systemctl --user exit` took until the manager was gone.
    pub exit_took: Duration,
    /// The manager did not exit by itself and was killed.
    pub manager_killed: bool,
    /// Processes of the test still alive after the manager exited (then killed).
    pub leftovers: Vec<Proc>,
    /// Processes still in the manager's mount namespace after it exited (then killed).
    pub namespace_users: Vec<i32>,
    /// Sub-cgroups that could not be removed.
    pub cgroups_left: Vec<PathBuf>,
}

impl Cleanup {
    /// Nothing had to be killed and nothing is left.
    pub fn is_clean(&self) -> bool {
        !self.manager_killed
            && self.leftovers.is_empty()
            && self.namespace_users.is_empty()
            && self.cgroups_left.is_empty()
    }

    /// Fail the test unless [`Cleanup::is_clean`].
    pub fn assert_clean(&self) {
        assert!(
            self.is_clean(),
            "left behind after the manager exited: {self:#?}"
        );
    }
}

/// Launch: move into the sub-cgroups, then unshare the mount namespace, fake `sd_booted()`'s
/// `/run/systemd/system`, capture `/dev/console`, exec systemd. Values are positional. The
/// fake directory gets the `inaccessible/` nodes a booted system has (systemd mounts them over
/// what `ProtectKernelModules=`, `ProtectHome=yes` and the like hide; without them a sandboxed
/// unit fails with status 226/NAMESPACE).
const LAUNCH: &str = r#"set -e
fake=$1; console=$2; systemd=$3; shift 3
for cg in "$@"; do echo $$ > "$cg/cgroup.procs"; done
i="$fake/inaccessible"; mkdir -p "$i/dir"; : > "$i/reg"
[ -e "$i/fifo" ] || mkfifo "$i/fifo"; [ -e "$i/chr" ] || mknod "$i/chr" c 0 0
[ -e "$i/blk" ] || mknod "$i/blk" b 0 0; chmod 0 "$i/dir" "$i/reg" "$i/fifo" "$i/chr" "$i/blk"
exec unshare --mount --propagation private /bin/sh -c '
if [ -d /run/systemd ]; then mount --bind "$1" /run/systemd
else mount -t tmpfs -o mode=755 openim-e2e-run /run && mkdir -p /run/systemd/system; fi
mount --bind "$2" /dev/console
exec "$3" --user --log-target=console --log-level=info' sh "$fake" "$console" "$systemd""#;

/// A running `systemd --user` manager; see the module documentation.
pub struct UserManager {
    dir: PathBuf,
    child: Child,
    pid: i32,
    cgroups: Vec<PathBuf>,
    markers: Vec<String>,
    mount_ns: Option<String>,
    /// Keeps the namespace (and so its name) until the shutdown has checked it.
    ns_hold: Option<procs::NsHandle>,
    finished: bool,
}

impl UserManager {
    /// Boot a manager that loads units from `units` (then the stubs) and wait until it runs.
    pub fn start(work: &WorkDir, units: &Path) -> Self {
        cgroup::sweep_stale();
        let dir = work.join("systemd");
        let stub = dir.join("stub");
        for d in ["stub", "home/.config", "run", "fake-run-systemd/system"] {
            std::fs::create_dir_all(dir.join(d)).expect("mkdir");
        }
        super::set_mode(&dir.join("run"), 0o700);
        for s in ["basic.target", "default.target"] {
            std::fs::write(stub.join(s), "[Unit]\nDescription=e2e stub\n").expect("stub");
        }
        for s in COPIED_STUBS {
            std::fs::copy(Path::new(DIST_USER_UNITS).join(s), stub.join(s)).expect("copy stub");
        }
        let console = dir.join("console.log");
        std::fs::write(&console, "").expect("console log");
        let (cg_name, cgroups) = cgroup::create();
        let out = std::fs::File::create(dir.join("manager.out")).expect("manager.out");
        let child = Command::new("/bin/sh")
            .args(["-c", LAUNCH, "sh"])
            .arg(dir.join("fake-run-systemd"))
            .arg(&console)
            .arg(SYSTEMD)
            .args(&cgroups)
            .env_clear()
            .envs(Self::env(&dir))
            .env(
                "SYSTEMD_UNIT_PATH",
                format!("{}:{}", units.display(), stub.display()),
            )
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("dup"))
            .stderr(out)
            .process_group(0)
            .spawn()
            .expect("launch systemd --user");
        let pid = i32::try_from(child.id()).expect("pid fits");
        let mut mgr = Self {
            dir,
            child,
            pid,
            cgroups,
            markers: vec![work.marker(), cg_name],
            mount_ns: None,
            ns_hold: None,
            finished: false,
        };
        let up = wait_for(Duration::from_secs(20), || {
            // not `is-system-running`: it answers "offline" outside the namespace
            let state = mgr
                .systemctl(["show", "-p", "SystemState", "--value"])
                .stdout;
            matches!(state.trim(), "running" | "degraded")
                || mgr.child.try_wait().ok().flatten().is_some()
        });
        assert!(
            up && mgr.child.try_wait().ok().flatten().is_none(),
            "systemd --user did not come up:\n{}",
            mgr.diagnostics()
        );
        mgr.ns_hold = procs::hold_mount_ns(pid);
        mgr.mount_ns = procs::mount_ns(pid);
        assert_ne!(
            mgr.mount_ns,
            procs::mount_ns(i32::try_from(std::process::id()).expect("pid fits")),
            "the manager must run in its own mount namespace"
        );
        mgr
    }

    fn env(dir: &Path) -> Vec<(&'static str, String)> {
        vec![
            ("PATH", PATH.to_owned()),
            ("HOME", dir.join("home").display().to_string()),
            (
                "XDG_CONFIG_HOME",
                dir.join("home/.config").display().to_string(),
            ),
            ("XDG_RUNTIME_DIR", dir.join("run").display().to_string()),
        ]
    }

    /// The manager's pid (on the host).
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// `systemctl --user ARGS` against this manager, not yet run.
    pub fn command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut cmd = Command::new("systemctl");
        cmd.args(["--user", "--no-pager"])
            .args(args)
            .env_clear()
            .envs(Self::env(&self.dir))
            .env("SYSTEMD_COLORS", "0");
        cmd
    }

    /// `systemctl --user ARGS` against this manager (30 s timeout).
    pub fn systemctl<I, S>(&self, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        run_timeout(&mut self.command(args), Duration::from_secs(30))
    }

    /// `systemctl --user ARGS`, which must succeed; returns stdout.
    pub fn ok<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let args: Vec<_> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
        let r = self.systemctl(&args);
        assert_eq!(
            r.code,
            0,
            "systemctl --user {args:?} failed: {}{}\nmanager log:\n{}",
            r.stdout,
            r.stderr,
            self.diagnostics()
        );
        r.stdout
    }

    /// One property of a unit (`systemctl --user show -p PROP --value UNIT`).
    pub fn show(&self, unit: &str, prop: &str) -> String {
        self.ok(["show", "-p", prop, "--value", unit])
            .trim()
            .to_owned()
    }

    /// A numeric property (0 when empty).
    pub fn show_num(&self, unit: &str, prop: &str) -> u64 {
        let v = self.show(unit, prop);
        if v.is_empty() {
            0
        } else {
            v.parse().unwrap_or_else(|_| panic!("{unit} {prop}={v:?}"))
        }
    }

    /// `ActiveState` of a unit: active, inactive, failed, activating, …
    pub fn state(&self, unit: &str) -> String {
        self.show(unit, "ActiveState")
    }

    /// The main pid of a unit (0 when not running).
    pub fn main_pid(&self, unit: &str) -> i32 {
        i32::try_from(self.show_num(unit, "MainPID")).expect("pid fits")
    }

    /// Wait until `unit` reaches `state`; fails the test with the manager's log otherwise.
    pub fn await_state(&self, unit: &str, state: &str, timeout: Duration) {
        let reached = wait_for(timeout, || self.state(unit) == state);
        assert!(
            reached,
            "{unit} did not become {state} within {timeout:?} (it is {}):\n{}",
            self.state(unit),
            self.diagnostics()
        );
    }

    /// What to show when a check fails: every unit's state, then whatever the manager and
    /// its children wrote (a user manager logs little: it has no journal).
    pub fn diagnostics(&self) -> String {
        let units = self.systemctl(["list-units", "--all", "--no-legend"]);
        let mut text = format!("units:\n{}{}", units.stdout, units.stderr);
        for f in ["console.log", "manager.out"] {
            let tail = procs::tail(&self.dir.join(f), 40);
            if !tail.is_empty() {
                text.push_str(&format!("{f}:\n{tail}\n"));
            }
        }
        text
    }

    /// Live processes of the test other than the manager itself.
    pub fn processes(&self) -> Vec<Proc> {
        let markers: Vec<&str> = self.markers.iter().map(String::as_str).collect();
        procs::of_test_but(&markers, self.pid)
    }

    /// Stop the manager (`systemctl --user exit`), then kill by pid whatever of the test is
    /// left, and remove the sub-cgroups. Idempotent; also run on drop.
    pub fn shutdown(&mut self) -> Cleanup {
        if self.finished {
            return Cleanup::default();
        }
        self.finished = true;
        let mut c = Cleanup::default();
        let t0 = Instant::now();
        if self.child.try_wait().ok().flatten().is_none() {
            self.systemctl(["exit"]);
        }
        let ended = procs::reap_or_kill(&mut self.child, Duration::from_secs(30));
        c.manager_killed = ended.killed;
        c.exit_took = t0.elapsed();
        c.manager_exit = ended
            .status
            .map_or_else(|e| e.to_string(), |s| s.to_string());
        let markers: Vec<&str> = self.markers.iter().map(String::as_str).collect();
        c.leftovers = procs::with_marker(&markers);
        procs::kill_all(&c.leftovers);
        if let Some(ns) = &self.mount_ns {
            c.namespace_users = procs::in_mount_ns(ns);
            for &pid in &c.namespace_users {
                procs::kill(pid, libc::SIGKILL);
            }
        }
        self.ns_hold = None;
        c.cgroups_left = cgroup::remove_all(&self.cgroups);
        c
    }
}

impl Drop for UserManager {
    fn drop(&mut self) {
        let c = self.shutdown();
        if !c.is_clean() {
            eprintln!("systemd --user cleanup had to intervene: {c:#?}");
        }
    }
}
