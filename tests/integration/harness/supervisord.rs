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

pub mod daemon;

use std::path::PathBuf;

pub use daemon::Daemon;

use super::procs::{self, Proc};
use super::{WorkDir, executable};
use crate::common::{Cli, is_root, require};

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
