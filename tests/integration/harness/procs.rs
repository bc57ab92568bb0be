//! Processes seen through /proc: find the ones a test started (by a marker string in their
//! environment, command line or cgroup path), kill them by pid, and check namespaces.

use std::time::Duration;

/// One process found by [`with_marker`].
#[derive(Debug, Clone)]
pub struct Proc {
    /// Process id.
    pub pid: i32,
    /// Its command line, NULs shown as spaces.
    pub cmdline: String,
}

impl std::fmt::Display for Proc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.pid, self.cmdline)
    }
}

fn pids() -> Vec<i32> {
    std::fs::read_dir("/proc")
        .expect("read /proc")
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect()
}

fn read_lossy(path: &str) -> String {
    std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// The state letter from /proc/PID/stat (`R`, `S`, `Z`, …), None when gone.
pub fn state(pid: i32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

/// Whether `pid` exists and is not a zombie (a zombie has exited; its parent reaps it).
pub fn alive(pid: i32) -> bool {
    state(pid).is_some_and(|s| s != 'Z')
}

/// [`with_marker`] without the daemon `daemon` itself: the processes a test's daemon
/// started (and anything else of the test).
pub fn of_test_but(markers: &[&str], daemon: i32) -> Vec<Proc> {
    with_marker(markers)
        .into_iter()
        .filter(|p| p.pid != daemon)
        .collect()
}

/// The last `n` lines of the file at `path` (empty if it cannot be read).
pub fn tail(path: &std::path::Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Every live process other than this one whose environment, command line or cgroup
/// membership contains one of `markers`.
pub fn with_marker(markers: &[&str]) -> Vec<Proc> {
    let me = i32::try_from(std::process::id()).expect("pid fits");
    pids()
        .into_iter()
        .filter(|&pid| pid != me && alive(pid))
        .filter_map(|pid| {
            let cmdline = read_lossy(&format!("/proc/{pid}/cmdline"));
            let hay = [
                read_lossy(&format!("/proc/{pid}/environ")),
                read_lossy(&format!("/proc/{pid}/cgroup")),
                cmdline.clone(),
            ];
            hay.iter()
                .any(|h| markers.iter().any(|m| h.contains(m)))
                .then(|| Proc {
                    pid,
                    cmdline: cmdline.replace('\0', " ").trim_end().to_owned(),
                })
        })
        .filter(|p| alive(p.pid))
        .collect()
}

/// Send `signal` to `pid` (errors such as "already gone" are ignored).
pub fn kill(pid: i32, signal: i32) {
    // SAFETY: kill(2) with a specific positive pid touches no memory of ours.
    unsafe {
        libc::kill(pid, signal);
    }
}

/// SIGKILL every process in `procs` and wait (up to 5 s) until they are gone.
pub fn kill_all(procs: &[Proc]) {
    for p in procs {
        if p.pid > 1 {
            kill(p.pid, libc::SIGKILL);
        }
    }
    super::wait_for(Duration::from_secs(5), || {
        procs.iter().all(|p| !alive(p.pid))
    });
}

/// The mount namespace of `pid` (e.g. `mnt:[4026532301]`).
pub fn mount_ns(pid: i32) -> Option<String> {
    std::fs::read_link(format!("/proc/{pid}/ns/mnt"))
        .ok()
        .map(|p| p.display().to_string())
}

/// An open handle on the mount namespace of a process: while it is held the namespace lives
/// on (empty, once its processes are gone), so its inode number, which [`mount_ns`] names,
/// cannot be given to a namespace created meanwhile (the kernel reuses the lowest free one
/// at once). Without it, a check that a dead namespace is empty finds, and a cleanup kills,
/// the processes of another test's new namespace.
pub struct NsHandle {
    _file: std::fs::File,
}

/// Hold the mount namespace of `pid` open (None when the process is gone).
pub fn hold_mount_ns(pid: i32) -> Option<NsHandle> {
    std::fs::File::open(format!("/proc/{pid}/ns/mnt"))
        .ok()
        .map(|f| NsHandle { _file: f })
}

/// Live processes in mount namespace `ns`.
pub fn in_mount_ns(ns: &str) -> Vec<i32> {
    pids()
        .into_iter()
        .filter(|&pid| alive(pid) && mount_ns(pid).as_deref() == Some(ns))
        .collect()
}

/// How a supervisor process of a test (a manager or daemon we spawned) ended.
pub struct Ended {
    /// It did not exit within the grace period and was killed (SIGKILL).
    pub killed: bool,
    /// Its exit status, once reaped.
    pub status: std::io::Result<std::process::ExitStatus>,
}

/// Wait up to `grace` for `child` (already asked to stop) to exit, SIGKILL it otherwise,
/// and reap it.
pub fn reap_or_kill(child: &mut std::process::Child, grace: Duration) -> Ended {
    let exited = crate::harness::wait_for(grace, || child.try_wait().ok().flatten().is_some());
    if !exited {
        kill(i32::try_from(child.id()).unwrap_or(i32::MAX), libc::SIGKILL);
    }
    Ended {
        killed: !exited,
        status: child.wait(),
    }
}
