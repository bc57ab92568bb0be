//! The generated systemd units under a real `systemd --user` manager (see
//! [`crate::harness::systemd`]): units come from `openim-init generate` on manifests written
//! here, with the probe program as every service's command.
//!
//! Each test boots its own manager (≈0.3 s) and runs several checks on it in sequence;
//! [`SYSTEMD`] makes the tests run one at a time. Outside CI a machine without root or
//! systemd skips them; in CI that is a failure.

mod stack;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::Cli;
use crate::harness::probe;
use crate::harness::systemd::{UserManager, require_manager};
use crate::harness::{
    SYSTEMD, WorkDir, free_port, hold, millis_between, now_nanos, write_manifest,
};

/// A booted stack: the manager first, so that it shuts down before the work dir goes.
struct Stack {
    mgr: UserManager,
    work: WorkDir,
    probe: PathBuf,
}

/// Write the manifest `build` returns, generate its units with the real CLI and boot a
/// manager on them. None when the machine cannot run the test (skipped outside CI).
fn boot(name: &str, build: impl FnOnce(&WorkDir, &Path) -> Value) -> Option<Stack> {
    if !require_manager() {
        return None;
    }
    let work = WorkDir::new(name);
    let probe = probe::install(&work)?;
    let manifest = work.join("manifest.toml");
    write_manifest(&manifest, &build(&work, &probe));
    let units = work.join("units");
    Cli::new()
        .args(["generate", "--backend", "systemd", "--manifest"])
        .arg(&manifest)
        .arg("--out")
        .arg(&units)
        .ok();
    let mgr = UserManager::start(&work, &units);
    Some(Stack { mgr, work, probe })
}

// ---------------------------------------------------------------------------------------
// 3. a required external TCP dependency gates the start

#[test]
fn external_dependency_gates_the_start() {
    let _serial = hold(&SYSTEMD);
    let port = free_port();
    let Some(mut s) = boot("external", |w, p| {
        let mut e = probe::service(w, p, "e", &["e"], json!({}));
        e["requires"] = json!(["gate"]);
        json!({
            "name": "ext",
            "external": { "gate": { "check": { "tcp": format!("127.0.0.1:{port}") }, "wait_timeout": "30s" } },
            "services": { "e": e },
        })
    }) else {
        return;
    };
    s.mgr.ok(["start", "--no-block", "e.service"]);
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(
        s.mgr.state("e.service"),
        "activating",
        "{}",
        s.mgr.diagnostics()
    );
    assert!(
        probe::starts(&s.work.record("e")).is_empty(),
        "e started while its external dependency was down"
    );
    let opened = now_nanos();
    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).expect("open the external");
    s.mgr
        .await_state("e.service", "active", Duration::from_secs(10));
    let e = probe::one_start(&s.work, "e");
    assert!(e.unix_nanos >= opened, "e started before the port opened");
    eprintln!(
        "external gate: e started {:.0} ms after the port opened (the gate polls once a second)",
        millis_between(opened, e.unix_nanos)
    );
    s.mgr.shutdown().assert_clean();
    drop(listener);
}

// ---------------------------------------------------------------------------------------
// 4. restart after SIGKILL: within restart_delay + margin; restart = "never" stays down

#[test]
fn sigkill_restarts_after_restart_delay_unless_never() {
    let _serial = hold(&SYSTEMD);
    let Some(mut s) = boot("restart", |w, p| {
        probe::restart_manifest(w, p, json!({ "restart_delay": "1s" }))
    }) else {
        return;
    };
    s.mgr.ok(["start", "rs.target"]);
    let first = probe::one_start(&s.work, "always");
    probe::one_start(&s.work, "never");
    let killed_at = now_nanos();
    for u in ["always.service", "never.service"] {
        crate::harness::procs::kill(s.mgr.main_pid(u), libc::SIGKILL);
    }
    let again = &probe::await_records(&s.work.record("always"), "start", 2)[1];
    assert_ne!(again.pid, first.pid);
    let delay = millis_between(killed_at, again.unix_nanos);
    eprintln!("SIGKILL → restarted process running after {delay:.0} ms (restart_delay 1000 ms)");
    assert!(
        (950.0..=2500.0).contains(&delay),
        "restart after {delay:.0} ms, want 1000 ms + at most 1500 ms margin"
    );
    s.mgr
        .await_state("always.service", "active", Duration::from_secs(5));
    assert_eq!(s.mgr.show("always.service", "NRestarts"), "1");

    // restart = never: still down well after the restart delay
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(s.mgr.state("never.service"), "failed");
    assert_eq!(s.mgr.main_pid("never.service"), 0);
    assert_eq!(probe::starts(&s.work.record("never")).len(), 1);
    assert_eq!(s.mgr.show("never.service", "NRestarts"), "0");
    s.mgr.shutdown().assert_clean();
}
