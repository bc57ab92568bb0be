//! The `probe` example program (examples/probe.rs): where cargo put it, and its records.
//!
//! `cargo test` builds every example before running tests, into `target/<profile>/examples/`
//! next to the test binary's `deps/` directory. A run filtered with `--test integration` does
//! not (re)build examples: then the probe may be missing or stale, and [`binary`] says so
//! instead of building it behind cargo's back.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{WorkDir, set_mode};
use crate::common::require;

/// One line the probe appended: what the init system handed it at one start.
#[derive(Debug, Clone, Deserialize)]
pub struct Record {
    /// `start`, or `listen` once `PROBE_LISTEN` is bound.
    pub event: String,
    /// `PROBE_LABEL`.
    pub label: String,
    /// argv exactly as received, argv[0] included.
    pub argv: Vec<String>,
    /// The whole environment.
    pub env: BTreeMap<String, String>,
    /// Working directory.
    pub cwd: String,
    /// Real uid and gid.
    pub uid: u32,
    /// Real gid.
    pub gid: u32,
    /// The name of `uid` in /etc/passwd.
    pub user: Option<String>,
    /// Process id.
    pub pid: u32,
    /// Parent process id.
    pub ppid: u32,
    /// Wall clock at the event, nanoseconds since the epoch (comparable across processes).
    pub unix_nanos: u64,
    /// First field of /proc/uptime at the event.
    pub uptime_secs: f64,
    /// Whether `PROBE_REQUIRE`'s port answered (None: not asked).
    pub require_ok: Option<bool>,
}

/// Where cargo builds the probe for this test binary (`<target>/<profile>/examples/probe`).
pub fn built_path() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test binary lives in <target>/<profile>/deps");
    profile_dir.join("examples").join("probe")
}

/// The built probe, when it exists and is not older than its source. `None` means skip
/// (outside CI) — [`require`] fails the test in CI.
pub fn binary() -> Option<PathBuf> {
    let path = built_path();
    let source = crate::common::root().join("examples/probe.rs");
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let fresh = match (modified(&path), modified(&source)) {
        (Some(bin), Some(src)) => bin >= src,
        _ => false,
    };
    require(
        fresh,
        &format!(
            "the probe {} is missing or older than examples/probe.rs; plain `cargo test` builds it (or `cargo build --example probe`)",
            path.display()
        ),
    )
    .then_some(path)
}

/// Copy the probe into `work/bin/probe` (mode 0755), so that services running as any user
/// can execute it whatever the permissions of the checkout; returns the copy's path.
pub fn install(work: &WorkDir) -> Option<PathBuf> {
    let built = binary()?;
    let dir = work.join("bin");
    std::fs::create_dir_all(&dir).expect("mkdir bin");
    set_mode(&dir, 0o755);
    let dest = dir.join("probe");
    std::fs::copy(&built, &dest).expect("copy probe");
    set_mode(&dest, 0o755);
    Some(dest)
}

/// Every record in `path` (none when the file does not exist yet).
pub fn read(path: &Path) -> Vec<Record> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    // a line still being written has no newline yet: leave it for the next read
    text.split_inclusive('\n')
        .filter_map(|l| l.strip_suffix('\n'))
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad record {l:?}: {e}")))
        .collect()
}

/// The `start` records in `path`, oldest first.
pub fn starts(path: &Path) -> Vec<Record> {
    read(path)
        .into_iter()
        .filter(|r| r.event == "start")
        .collect()
}

/// The `listen` records in `path`, oldest first.
pub fn listens(path: &Path) -> Vec<Record> {
    read(path)
        .into_iter()
        .filter(|r| r.event == "listen")
        .collect()
}

/// Wait (up to 10 s) until `path` holds at least `n` records of `event` (`start`,
/// `listen`); returns them all, oldest first. An init system reports a service started
/// once it is exec'd, a moment before the probe has written its record.
pub fn await_records(path: &Path, event: &str, n: usize) -> Vec<Record> {
    await_records_within(path, event, n, Duration::from_secs(10))
}

/// [`await_records`] with a `timeout` of its own (for events slower than 10 s).
pub fn await_records_within(path: &Path, event: &str, n: usize, timeout: Duration) -> Vec<Record> {
    let mut found = Vec::new();
    let enough = super::wait_for(timeout, || {
        found = read(path)
            .into_iter()
            .filter(|r| r.event == event)
            .collect();
        found.len() >= n
    });
    assert!(
        enough,
        "{}: expected {n} `{event}` record(s), found {found:#?}",
        path.display()
    );
    found
}

/// The start record of `label` (`records/<label>.jsonl`), which must hold exactly one.
pub fn one_start(work: &WorkDir, label: &str) -> Record {
    let starts = await_records(&work.record(label), "start", 1);
    assert_eq!(starts.len(), 1, "{label}: expected one start: {starts:#?}");
    starts.into_iter().next().expect("one start")
}

/// A manifest service (JSON, see [`super::write_manifest`]) that runs `probe` with `args`,
/// recording into `records/<label>.jsonl` and logging to `logs/<label>.log`; `env` is added
/// to the probe's own variables (`PROBE_RECORD`, `PROBE_LABEL`).
pub fn service(work: &WorkDir, probe: &Path, label: &str, args: &[&str], env: Value) -> Value {
    let mut environment = Map::new();
    environment.insert("PROBE_RECORD".into(), json!(work.record(label)));
    environment.insert("PROBE_LABEL".into(), json!(label));
    if let Value::Object(extra) = env {
        environment.extend(extra);
    }
    let mut command = vec![json!(probe)];
    command.extend(args.iter().map(|a| json!(a)));
    json!({
        "command": command,
        "environment": environment,
        "logs": { "stdout": work.log(label) },
    })
}

/// The restart-check manifest every e2e suite uses: stack `rs` with a probe service
/// `always` and one `never` (restart = "never"); `defaults` sets `restart = "always"` plus
/// the suite's delays.
pub fn restart_manifest(work: &WorkDir, probe: &Path, defaults: Value) -> Value {
    let mut never = service(work, probe, "never", &[], json!({}));
    never["restart"] = json!("never");
    let mut defaults = defaults;
    defaults["restart"] = json!("always");
    json!({
        "name": "rs",
        "defaults": defaults,
        "services": { "always": service(work, probe, "always", &[], json!({})), "never": never },
    })
}
