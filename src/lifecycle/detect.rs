//! Which init system is *running* here, and on what evidence. [`gather`] reads a file-system
//! root (`/`, or a fake tree in tests) and probes supervisord sockets; [`decide`] is pure.
//! Installed-but-not-running is not running: a binary or an empty `/run/openrc` proves
//! nothing; the system manager's own markers and live processes do.

mod supervisord;

use std::path::Path;

use serde::Serialize;

pub use supervisord::{DEFAULT_CONFS, SupervisordProbe, socket_of};

/// An init system openim-init can recognise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum InitSystem {
    /// systemd as the system manager.
    Systemd,
    /// OpenRC, booted (a runlevel reached).
    Openrc,
    /// runit (`runsvdir`).
    Runit,
    /// s6 (`s6-svscan`).
    S6,
    /// A supervisord answering on its socket.
    Supervisord,
    /// launchd (macOS).
    Launchd,
}

impl InitSystem {
    /// Its name, as `--backend` spells it.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Systemd => "systemd",
            Self::Openrc => "openrc",
            Self::Runit => "runit",
            Self::S6 => "s6",
            Self::Supervisord => "supervisord",
            Self::Launchd => "launchd",
        }
    }
}

/// Everything looked at, as found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// The operating system (`linux`, `macos`, …).
    pub os: String,
    /// `/proc/1/comm`.
    pub pid1_comm: Option<String>,
    /// The target of `/proc/1/exe` (needs privileges to read).
    pub pid1_exe: Option<String>,
    /// `/run/systemd/system` is a directory (what `sd_booted(3)` checks).
    pub run_systemd_system: bool,
    /// `/run/openrc/softlevel` exists (OpenRC reached a runlevel).
    pub openrc_softlevel: bool,
    /// Names of running supervisors found in `/proc/*/comm` (`runsvdir`, `s6-svscan`,
    /// `supervisord`), each once.
    pub supervisors: Vec<String>,
    /// supervisord configurations looked at and whether their socket answers.
    pub supervisord: Vec<SupervisordProbe>,
    /// Container markers: `/.dockerenv`, `/run/.containerenv`, a container cgroup of PID 1.
    pub container: Vec<String>,
}

/// One running init system and why it is believed to run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Running {
    /// Which.
    pub system: InitSystem,
    /// The evidence, in words.
    pub because: String,
}

/// The verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Detection {
    /// Every init system found running, the one to use first.
    pub running: Vec<Running>,
    /// The backend to use here (`None`: nothing running that openim-init can drive).
    pub recommended: Option<InitSystem>,
    /// Whether this looks like a container.
    pub container: bool,
    /// Things worth knowing: contradicting evidence, what to do in a container.
    pub notes: Vec<String>,
    /// What was looked at.
    pub evidence: Evidence,
}

fn read_trimmed(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    Some(text.trim_end_matches('\n').to_owned())
}

/// The names of live supervisors among the processes of `root/proc`.
fn scan_processes(root: &Path) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let entries = std::fs::read_dir(root.join("proc")).into_iter().flatten();
    for e in entries.flatten() {
        let is_pid = e
            .file_name()
            .to_string_lossy()
            .bytes()
            .all(|b| b.is_ascii_digit());
        let Some(comm) = is_pid
            .then(|| read_trimmed(&e.path().join("comm")))
            .flatten()
        else {
            continue;
        };
        if ["runsvdir", "s6-svscan", "supervisord"].contains(&comm.as_str())
            && !found.contains(&comm)
        {
            found.push(comm);
        }
    }
    found.sort();
    found
}

/// Cgroup paths of PID 1 that only containers have.
fn container_cgroup(cgroup: &str) -> Option<String> {
    const MARKS: [&str; 6] = [
        "docker",
        "kubepods",
        "containerd",
        "libpod",
        "lxc",
        "machine.slice",
    ];
    cgroup.lines().find_map(|l| {
        let path = l.splitn(3, ':').nth(2)?;
        MARKS
            .iter()
            .any(|m| path.contains(m))
            .then(|| format!("cgroup of PID 1: {path}"))
    })
}

/// Look at the system under `root` (`/` for the real one). `supervisord_confs` are the
/// configurations whose sockets are probed (the user's `--supervisord-conf`, or
/// [`DEFAULT_CONFS`]); `os` is the operating system's name (`std::env::consts::OS`).
#[must_use]
pub fn gather(root: &Path, os: &str, supervisord_confs: &[&str]) -> Evidence {
    let proc1 = root.join("proc/1");
    let mut container = Vec::new();
    for marker in [".dockerenv", "run/.containerenv"] {
        if root.join(marker).exists() {
            container.push(format!("/{marker}"));
        }
    }
    if let Some(c) = read_trimmed(&proc1.join("cgroup")).and_then(|c| container_cgroup(&c)) {
        container.push(c);
    }
    Evidence {
        os: os.to_owned(),
        pid1_comm: read_trimmed(&proc1.join("comm")),
        pid1_exe: std::fs::read_link(proc1.join("exe"))
            .ok()
            .map(|p| p.display().to_string()),
        run_systemd_system: root.join("run/systemd/system").is_dir(),
        openrc_softlevel: root.join("run/openrc/softlevel").exists(),
        supervisors: scan_processes(root),
        supervisord: supervisord_confs
            .iter()
            .filter_map(|conf| supervisord::probe(root, conf))
            .collect(),
        container,
    }
}

/// The base name of PID 1's program (`/proc/1/exe`, else `/proc/1/comm`).
fn pid1_name(e: &Evidence) -> Option<&str> {
    let exe = e
        .pid1_exe
        .as_deref()
        .map(|p| p.trim_end_matches(" (deleted)"));
    let exe = exe.and_then(|p| p.rsplit('/').next());
    exe.or(e.pid1_comm.as_deref())
}

/// Decide from the evidence. Pure.
#[must_use]
pub fn decide(e: &Evidence) -> Detection {
    let pid1 = pid1_name(e);
    let mut running = Vec::new();
    let mut notes = Vec::new();
    let mut add = |system, because: String| running.push(Running { system, because });
    if e.os == "macos" {
        add(InitSystem::Launchd, "macOS always runs launchd".into());
    }
    match (e.run_systemd_system, pid1) {
        (true, Some("systemd" | "init") | None) => add(
            InitSystem::Systemd,
            format!(
                "/run/systemd/system exists; PID 1 is {}",
                pid1.unwrap_or("unknown")
            ),
        ),
        (true, Some(other)) => notes.push(format!(
            "/run/systemd/system exists but PID 1 is `{other}`, not systemd: not counted"
        )),
        (false, Some("systemd")) => add(
            InitSystem::Systemd,
            "PID 1 is systemd (no /run/systemd/system yet: still booting?)".into(),
        ),
        (false, _) => {}
    }
    if e.openrc_softlevel {
        add(
            InitSystem::Openrc,
            "/run/openrc/softlevel exists (a runlevel was reached)".into(),
        );
    }
    for (system, name) in [
        (InitSystem::Runit, "runsvdir"),
        (InitSystem::S6, "s6-svscan"),
    ] {
        if pid1 == Some(name) || (name == "runsvdir" && pid1 == Some("runit")) {
            add(system, format!("PID 1 is {}", pid1.unwrap_or(name)));
        } else if e.supervisors.iter().any(|s| s == name) {
            add(system, format!("a `{name}` process is running"));
        }
    }
    match e.supervisord.iter().find(|p| p.reachable) {
        Some(p) => add(
            InitSystem::Supervisord,
            format!("its socket {} answers (from {})", p.socket, p.conf),
        ),
        None if e.supervisors.iter().any(|s| s == "supervisord") => notes.push(
            "a supervisord process runs, but no configured socket answers: \
             pass --supervisord-conf FILE"
                .into(),
        ),
        None => {}
    }
    let container = !e.container.is_empty();
    let recommended = running.first().map(|r| r.system);
    if recommended.is_none() {
        notes.push(no_init_advice(container, pid1));
    }
    Detection {
        running,
        recommended,
        container,
        notes,
        evidence: e.clone(),
    }
}

fn no_init_advice(container: bool, pid1: Option<&str>) -> String {
    let pid1 = pid1.unwrap_or("unknown");
    if container {
        format!(
            "no init system runs in this container (PID 1 is `{pid1}`): run supervisord as the \
             container's main process (`generate --backend supervisord --standalone`), or run \
             the stack with docker compose or Kubernetes from the host"
        )
    } else {
        format!(
            "no init system that openim-init can drive is running (PID 1 is `{pid1}`); \
             supervisord runs anywhere (`generate --backend supervisord --standalone`)"
        )
    }
}

#[cfg(test)]
mod tests;
