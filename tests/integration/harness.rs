//! Reusable pieces for end-to-end tests under real init systems: a work directory, free
//! ports, polling, the probe program and its records, process/namespace/cgroup checks, stub
//! executables in a private mount namespace, and one runner per init system.
//!
//! Tests of one init system hold its lock ([`hold`] on e.g. [`SYSTEMD`]) so that they run one
//! at a time even though cargo runs tests in parallel threads.

#![allow(dead_code)] // shared by the e2e tests of every init system; not all use everything

pub mod cgroup;
pub mod hostile;
pub mod openrc;
pub mod probe;
pub mod procs;
pub mod scan;
pub mod stubs;
pub mod supervisord;
pub mod systemd;

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Serialises the systemd end-to-end tests.
pub static SYSTEMD: Mutex<()> = Mutex::new(());
/// Serialises the OpenRC end-to-end tests.
pub static OPENRC: Mutex<()> = Mutex::new(());
/// Serialises the supervisord end-to-end tests.
pub static SUPERVISORD: Mutex<()> = Mutex::new(());
/// Serialises the runit end-to-end tests.
pub static RUNIT: Mutex<()> = Mutex::new(());
/// Serialises the s6 end-to-end tests.
pub static S6: Mutex<()> = Mutex::new(());

/// Take an init system's lock; a test that panicked while holding it does not poison the rest.
pub fn hold(lock: &'static Mutex<()>) -> MutexGuard<'static, ()> {
    lock.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A fresh directory under the system temp dir, readable by every user (services may run as
/// `nobody`), removed on drop unless `OPENIM_E2E_KEEP=1`. Its path is unique, so it also
/// serves as the marker that finds every process a test started ([`procs::with_marker`]).
pub struct WorkDir {
    dir: Option<tempfile::TempDir>,
    path: PathBuf,
}

impl WorkDir {
    /// Create the directory with `records/` and `logs/` (world-writable) inside.
    pub fn new(prefix: &str) -> Self {
        let dir = tempfile::Builder::new()
            .prefix(&format!("openim-e2e-{prefix}-"))
            .tempdir()
            .expect("temp dir");
        let path = dir.path().to_path_buf();
        set_mode(&path, 0o755);
        for sub in ["records", "logs"] {
            std::fs::create_dir(path.join(sub)).expect("mkdir");
            set_mode(&path.join(sub), 0o777);
        }
        Self {
            dir: Some(dir),
            path,
        }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `path` joined under the work dir.
    pub fn join(&self, path: impl AsRef<Path>) -> PathBuf {
        self.path.join(path)
    }

    /// The record file of probe `label` (`records/<label>.jsonl`).
    pub fn record(&self, label: &str) -> PathBuf {
        self.path.join("records").join(format!("{label}.jsonl"))
    }

    /// The log file of `label` (`logs/<label>.log`).
    pub fn log(&self, label: &str) -> PathBuf {
        self.path.join("logs").join(format!("{label}.log"))
    }

    /// The work dir's path as a string: appears in the environment of every probe it runs.
    pub fn marker(&self) -> String {
        self.path.display().to_string()
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        if std::env::var("OPENIM_E2E_KEEP").is_ok_and(|v| v == "1")
            && let Some(d) = self.dir.take()
        {
            eprintln!("kept work dir {}", d.keep().display());
        }
    }
}

/// chmod.
pub fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released), so
/// that parallel runs do not collide.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

/// Whether something accepts connections on 127.0.0.1:`port`.
pub fn port_open(port: u16) -> bool {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok()
}

/// Poll `cond` every 50 ms until it holds (true) or `timeout` passes (false).
pub fn wait_for(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Wall-clock nanoseconds since the epoch, comparable with the probe's `unix_nanos`.
pub fn now_nanos() -> u64 {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970");
    u64::try_from(d.as_nanos()).expect("fits until 2554")
}

/// Milliseconds between two `unix_nanos` values (negative when `to` is earlier).
pub fn millis_between(from: u64, to: u64) -> f64 {
    (i128::from(to) - i128::from(from)) as f64 / 1e6
}

/// Serialise a manifest written as JSON (`serde_json::json!`) to TOML, so that hostile
/// strings are escaped by a real TOML writer, and store it at `path`.
pub fn write_manifest(path: &Path, manifest: &serde_json::Value) {
    let text = toml::to_string(manifest).expect("manifest serialises to TOML");
    std::fs::write(path, text).expect("write manifest");
}

/// The program a path names, when it exists and is executable.
pub fn executable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Run `cmd` (stdin closed, output captured); kill it after `timeout` and report exit code
/// -1 with `timed out` in stderr.
pub fn run_timeout(cmd: &mut std::process::Command, timeout: Duration) -> crate::common::Run {
    use std::process::Stdio;
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let pid = i32::try_from(child.id()).expect("pid fits");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = rx.recv_timeout(timeout).unwrap_or_else(|_| {
        procs::kill(pid, libc::SIGKILL);
        rx.recv().expect("waiter thread reports")
    });
    let mut run: crate::common::Run = out.expect("wait for child").into();
    if run.code == -1 {
        run.stderr
            .push_str(&format!("\ntimed out after {timeout:?}: {cmd:?}"));
    }
    run
}
