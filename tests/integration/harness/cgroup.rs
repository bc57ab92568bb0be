//! Sub-cgroups for the process trees a test starts (`/sys/fs/cgroup/{systemd,unified}/
//! openim-init-e2e-<test pid>-<n>` on this hybrid machine): created per run, emptied and
//! removed at the end, and swept when a killed test process could not remove its own.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use super::{procs, wait_for};

const PREFIX: &str = "openim-init-e2e-";

static NEXT: AtomicU32 = AtomicU32::new(0);

/// The hierarchies a run gets a sub-cgroup in: `name=systemd` and the unified hierarchy on
/// a hybrid machine, or the cgroup2 root alone.
pub fn roots() -> Vec<PathBuf> {
    let hybrid: Vec<PathBuf> = ["/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified"]
        .iter()
        .map(PathBuf::from)
        .filter(|d| d.join("cgroup.procs").is_file())
        .collect();
    if !hybrid.is_empty() {
        return hybrid;
    }
    let v2 = PathBuf::from("/sys/fs/cgroup");
    if v2.join("cgroup.controllers").is_file() {
        vec![v2]
    } else {
        Vec::new()
    }
}

/// Create a fresh sub-cgroup in every hierarchy; returns its unique name and the paths.
/// Move a process in by writing its pid to `<path>/cgroup.procs`.
pub fn create() -> (String, Vec<PathBuf>) {
    let name = format!(
        "{PREFIX}{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let dirs: Vec<PathBuf> = roots().iter().map(|r| r.join(&name)).collect();
    for d in &dirs {
        std::fs::create_dir_all(d).expect("create sub-cgroup");
    }
    (name, dirs)
}

/// Remove a cgroup directory and its children, depth first (only directories can go).
fn remove(dir: &Path) -> bool {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                remove(&e.path());
            }
        }
    }
    std::fs::remove_dir(dir).is_ok() || !dir.exists()
}

/// Every pid in `dir` and its children.
pub fn pids(dir: &Path) -> Vec<i32> {
    let mut out: Vec<i32> = std::fs::read_to_string(dir.join("cgroup.procs"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                out.extend(pids(&e.path()));
            }
        }
    }
    out
}

/// SIGKILL whatever is still in `dirs`, then remove them; returns those that would not go.
pub fn remove_all(dirs: &[PathBuf]) -> Vec<PathBuf> {
    dirs.iter()
        .filter(|d| {
            for pid in pids(d) {
                procs::kill(pid, libc::SIGKILL);
            }
            !wait_for(Duration::from_secs(5), || remove(d))
        })
        .cloned()
        .collect()
}

/// Sub-cgroups of a test process that no longer exists (killed before its cleanup ran):
/// kill what is still in them and remove them.
pub fn sweep_stale() {
    for root in roots() {
        let Ok(entries) = std::fs::read_dir(&root) else {
            continue;
        };
        let stale: Vec<PathBuf> = entries
            .flatten()
            .filter(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                name.strip_prefix(PREFIX)
                    .and_then(|rest| rest.split('-').next()?.parse::<i32>().ok())
                    .is_some_and(|owner| !procs::alive(owner))
            })
            .map(|e| e.path())
            .collect();
        remove_all(&stale);
    }
}
