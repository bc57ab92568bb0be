//! Real OpenRC (Debian's openrc 0.45, `supervise-daemon`) for end-to-end tests, following the
//! backends lab recipe (e2e-openrc.sh): every OpenRC file lives in a private mount namespace
//! held open by a `sleep` ("the holder"), so the host never sees `/run/openrc/softlevel` and
//! its `/etc/init.d`, `/etc/runlevels` stay untouched. Inside the namespace:
//! - a tmpfs on `/run` (with `/run/openrc/softlevel`), on `/sys/fs/cgroup` (openrc-run would
//!   otherwise create host cgroups) and on `/var/log` (the backend's default log dir);
//! - `<work>/openrc/init.d`, `<work>/openrc/runlevels` and a private `rc.conf`
//!   (`rc_sys=""`, `rc_cgroup_mode="legacy"`) bind-mounted over `/etc/init.d`,
//!   `/etc/runlevels` and `/etc/rc.conf`;
//! - commands run through `nsenter -t HOLDER -m` with a clean environment.
//!
//! [`OpenRc::shutdown`] (also run on drop, so on panics too) stops the stack, SIGKILLs every
//! other process of the namespace by pid, kills the holder and reports what it had to clean
//! and whether the namespace is gone.

use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use super::{WorkDir, executable, procs, run_timeout, wait_for};
use crate::common::{Run, is_root, require};

/// `PATH` of every command run in the namespace.
pub const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// The private rc.conf.
pub const RC_CONF: &str = "rc_sys=\"\"\nrc_cgroup_mode=\"legacy\"\nrc_controller_cgroups=\"NO\"\n";
/// Longest an OpenRC command may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// The holder's script: $1 init.d, $2 runlevels, $3 rc.conf.
const HOLDER: &str = "set -e
mount -t tmpfs -o mode=755 openim-e2e-run /run
mkdir -p /run/openrc
touch /run/openrc/softlevel
mount -t tmpfs -o mode=755 openim-e2e-cgroup /sys/fs/cgroup
mount -t tmpfs -o mode=755 openim-e2e-log /var/log
mount --bind \"$1\" /etc/init.d
mount --bind \"$2\" /etc/runlevels
mount --bind \"$3\" /etc/rc.conf
echo ready > /run/openim-e2e-ready
exec sleep infinity";

/// Why OpenRC cannot run here, or None when it can.
pub fn unavailable() -> Option<String> {
    if !is_root() {
        return Some("OpenRC e2e needs root (mount namespace, services run as `nobody`)".into());
    }
    [
        "/sbin/openrc-run",
        "/sbin/rc-service",
        "/sbin/supervise-daemon",
        "/lib/rc/bin/rc-depend",
        "/usr/bin/unshare",
        "/usr/bin/nsenter",
    ]
    .iter()
    .map(Path::new)
    .find(|t| !executable(t))
    .map(|t| {
        format!(
            "{} is missing: `apt-get install --no-install-recommends openrc util-linux`",
            t.display()
        )
    })
}

/// True when OpenRC can run; otherwise skips (outside CI) or fails (in CI).
pub fn require_openrc() -> bool {
    let why = unavailable();
    require(why.is_none(), why.as_deref().unwrap_or_default())
}

/// What [`OpenRc::shutdown`] found and did.
#[derive(Debug, Default)]
pub struct Cleanup {
    /// Output of `rc-service STACK stop` (None: not run, e.g. already stopped).
    pub stop: Option<Run>,
    /// Processes of the namespace (holder aside) still alive after the stop, killed by pid.
    pub killed: Vec<procs::Proc>,
    /// Processes still in the namespace after the holder was killed (must be none).
    pub left: Vec<i32>,
}

impl Cleanup {
    /// Assert that the stop succeeded and nothing had to be killed or was left.
    pub fn assert_clean(&self) {
        if let Some(stop) = &self.stop {
            assert_eq!(stop.code, 0, "stack stop: {}{}", stop.stdout, stop.stderr);
        }
        assert!(
            self.killed.is_empty(),
            "processes left after the stop: {:?}",
            self.killed
        );
        assert!(self.left.is_empty(), "namespace not gone: {:?}", self.left);
    }
}

/// A private mount namespace with OpenRC set up and the generated scripts installed.
pub struct OpenRc {
    holder: Option<Child>,
    pid: i32,
    ns: String,
    /// Keeps the namespace (and so its name) until the shutdown has checked it.
    ns_hold: Option<procs::NsHandle>,
    /// `<work>/openrc`: init.d, runlevels, rc.conf.
    pub dir: PathBuf,
    /// The meta-service stopped at shutdown.
    stack: String,
}

impl OpenRc {
    /// Set up the namespace for `work`, copy `generated` (a generated `init.d/`, links
    /// included) into its init.d and build the dependency cache; `stack` is the meta-service
    /// that [`Self::shutdown`] stops.
    pub fn start(work: &WorkDir, generated: &Path, stack: &str) -> Self {
        let dir = work.join("openrc");
        for sub in ["init.d", "runlevels/default", "runlevels/empty"] {
            std::fs::create_dir_all(dir.join(sub)).expect("mkdir openrc");
        }
        std::fs::write(dir.join("rc.conf"), RC_CONF).expect("write rc.conf");
        // cp -a keeps the instance links (NAME.k -> NAME) and the modes
        let cp = run_timeout(
            Command::new("cp")
                .arg("-a")
                .arg(generated.join("."))
                .arg(dir.join("init.d")),
            TIMEOUT,
        );
        assert_eq!(cp.code, 0, "cp -a: {}", cp.stderr);
        let holder = Command::new("unshare")
            .args([
                "--mount",
                "--propagation",
                "private",
                "/bin/sh",
                "-c",
                HOLDER,
                "sh",
            ])
            .arg(dir.join("init.d"))
            .arg(dir.join("runlevels"))
            .arg(dir.join("rc.conf"))
            .env_clear()
            .env("PATH", PATH)
            .process_group(0)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(dir.join("holder.err")).expect("holder.err"))
            .spawn()
            .expect("spawn unshare");
        let pid = i32::try_from(holder.id()).expect("pid fits");
        let mut rc = Self {
            holder: Some(holder),
            pid,
            ns: String::new(),
            ns_hold: None,
            dir,
            stack: stack.to_owned(),
        };
        let ready = rc.root().join("run/openim-e2e-ready");
        let up = wait_for(Duration::from_secs(5), || ready.exists());
        let err = std::fs::read_to_string(rc.dir.join("holder.err")).unwrap_or_default();
        assert!(up, "namespace setup failed: {err}");
        rc.ns_hold = procs::hold_mount_ns(pid);
        rc.ns = procs::mount_ns(pid).expect("holder's mount namespace");
        assert_ne!(
            procs::mount_ns(i32::try_from(std::process::id()).expect("pid")),
            Some(rc.ns.clone()),
            "the holder must be in its own mount namespace"
        );
        assert!(
            !Path::new("/run/openrc/softlevel").exists(),
            "softlevel leaked to the host"
        );
        // creates /run/openrc/{started,starting,...} and the dependency cache
        let dep = rc.run(&["/lib/rc/bin/rc-depend", "-u"]);
        assert_eq!(dep.code, 0, "rc-depend -u: {}{}", dep.stdout, dep.stderr);
        rc
    }

    /// The namespace's root as seen from the host (`/proc/HOLDER/root`): read its /run.
    pub fn root(&self) -> PathBuf {
        PathBuf::from(format!("/proc/{}/root", self.pid))
    }

    /// The holder's pid.
    pub fn holder(&self) -> i32 {
        self.pid
    }

    /// The namespace (`mnt:[…]`).
    pub fn namespace(&self) -> &str {
        &self.ns
    }

    /// A command run in the namespace with a clean environment.
    pub fn command(&self, argv: &[&str]) -> Command {
        let mut cmd = Command::new("nsenter");
        cmd.arg("-t")
            .arg(self.pid.to_string())
            .args(["-m", "--"])
            .args(argv)
            .env_clear()
            .env("PATH", PATH);
        cmd
    }

    /// Run `argv` in the namespace and wait (at most 30 s).
    pub fn run(&self, argv: &[&str]) -> Run {
        run_timeout(&mut self.command(argv), TIMEOUT)
    }

    /// `rc-service SVC ACTION`, which must succeed; returns how long it took.
    pub fn service(&self, svc: &str, action: &str) -> Duration {
        let t = Instant::now();
        let r = self.run(&["rc-service", svc, action]);
        assert_eq!(
            r.code,
            0,
            "rc-service {svc} {action}:\n{}{}\n{}",
            r.stdout,
            r.stderr,
            self.diagnostics()
        );
        t.elapsed()
    }

    /// `rc-service SVC status` output (stdout+stderr).
    pub fn status(&self, svc: &str) -> String {
        let r = self.run(&["rc-service", svc, "status"]);
        format!("{}{}", r.stdout, r.stderr)
    }

    /// Processes in the namespace other than the holder.
    pub fn processes(&self) -> Vec<procs::Proc> {
        procs::in_mount_ns(&self.ns)
            .into_iter()
            .filter(|&p| p != self.pid)
            .map(|pid| procs::Proc {
                pid,
                cmdline: std::fs::read(format!("/proc/{pid}/cmdline"))
                    .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
                    .unwrap_or_default(),
            })
            .collect()
    }

    /// `rc-status --all` and the namespace's processes, for assertion messages.
    pub fn diagnostics(&self) -> String {
        let st = self.run(&["rc-status", "--all"]);
        let procs: Vec<String> = self.processes().iter().map(ToString::to_string).collect();
        format!(
            "rc-status --all:\n{}{}\nprocesses:\n{}",
            st.stdout,
            st.stderr,
            procs.join("\n")
        )
    }

    /// Stop the stack, kill what is left in the namespace by pid, kill the holder and check
    /// that no process remains in the namespace. Idempotent.
    pub fn shutdown(&mut self) -> Cleanup {
        let mut cleanup = Cleanup::default();
        let Some(mut holder) = self.holder.take() else {
            return cleanup;
        };
        if !self.stack.is_empty() {
            cleanup.stop = Some(self.run(&["rc-service", &self.stack, "stop"]));
        }
        cleanup.killed = self.processes();
        procs::kill_all(&cleanup.killed);
        let _ = holder.kill();
        let _ = holder.wait();
        wait_for(Duration::from_secs(5), || {
            procs::in_mount_ns(&self.ns).is_empty()
        });
        cleanup.left = procs::in_mount_ns(&self.ns);
        self.ns_hold = None;
        cleanup
    }
}

impl Drop for OpenRc {
    fn drop(&mut self) {
        let c = self.shutdown();
        if !c.killed.is_empty() || !c.left.is_empty() {
            eprintln!("openrc cleanup killed {:?}, left {:?}", c.killed, c.left);
        }
    }
}
