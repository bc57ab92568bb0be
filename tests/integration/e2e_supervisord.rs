//! The generated supervisord.conf under a real `supervisord -n` (see
//! [`crate::harness::supervisord`]): the file comes from `openim-init generate --standalone`
//! on manifests written here, with the probe program as every service's command and the
//! daemon's paths moved into the work dir by a template override.
//!
//! Each test starts its own daemon (≈0.5 s) and runs several checks on it in sequence;
//! [`SUPERVISORD`] makes the tests run one at a time. Outside CI a machine without root or
//! the supervisor venv skips them; in CI that is a failure.

mod stack;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::Cli;
use crate::harness::supervisord::{Daemon, DaemonPaths, require_daemon, templates};
use crate::harness::{
    SUPERVISORD, WorkDir, free_port, hold, millis_between, now_nanos, probe, write_manifest,
};

/// A running stack: the daemon first, so that it shuts down before the work dir goes.
struct Stack {
    sv: Daemon,
    work: WorkDir,
    probe: PathBuf,
    /// The generated supervisord.conf.
    conf: String,
    /// What `generate` printed on stderr (capability warnings, notes).
    warnings: String,
}

/// Write the manifest `build` returns, generate a standalone supervisord.conf for it with
/// the real CLI and start supervisord on it (autostart starts every program). None when the
/// machine cannot run the test (skipped outside CI).
fn boot(name: &str, build: impl FnOnce(&WorkDir, &Path) -> Value) -> Option<Stack> {
    if !require_daemon() {
        return None;
    }
    let work = WorkDir::new(&format!("sv-{name}"));
    let probe = probe::install(&work)?;
    let manifest = work.join("manifest.toml");
    write_manifest(&manifest, &build(&work, &probe));
    let paths = DaemonPaths::new(&work);
    let tpl = templates(&work, &paths);
    let out = work.join("out");
    let generated = Cli::new()
        .args([
            "generate",
            "--backend",
            "supervisord",
            "--standalone",
            "--templates",
        ])
        .arg(&tpl)
        .arg("--manifest")
        .arg(&manifest)
        .arg("--out")
        .arg(&out)
        .ok();
    let file = out.join("supervisord.conf");
    let conf = std::fs::read_to_string(&file).expect("supervisord.conf");
    let sv = Daemon::start(&work, &file, &paths);
    Some(Stack {
        sv,
        work,
        probe,
        conf,
        warnings: generated.stderr,
    })
}

/// `GROUP:PROCESS` names.
fn names(group: &str, processes: &[&str]) -> Vec<String> {
    processes.iter().map(|p| format!("{group}:{p}")).collect()
}

// ---------------------------------------------------------------------------------------
// 3. a required external TCP dependency gates the start

#[test]
fn external_dependency_gates_the_start() {
    let _serial = hold(&SUPERVISORD);
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
    // autostart spawned e's wrapper, which polls the port: supervisord calls it RUNNING
    // (it cannot tell waiting from running) while the program has not started
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(s.sv.state("ext:e"), "RUNNING", "{}", s.sv.diagnostics());
    assert!(
        probe::starts(&s.work.record("e")).is_empty(),
        "e started while its external dependency was down"
    );
    let waiting = s.sv.process_pid("ext:e");
    let opened = now_nanos();
    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).expect("open the external");
    let e = probe::one_start(&s.work, "e");
    assert!(e.unix_nanos >= opened, "e started before the port opened");
    // the wrapper exec'd the program: same process, which supervisord keeps watching
    assert_eq!(i64::from(e.pid), i64::from(waiting));
    assert_eq!(s.sv.process_pid("ext:e"), waiting);
    eprintln!(
        "external gate: e started {:.0} ms after the port opened (the wrapper polls once a second)",
        millis_between(opened, e.unix_nanos)
    );
    s.sv.shutdown().assert_clean();
    drop(listener);
}

// ---------------------------------------------------------------------------------------
// 4. restart after SIGKILL: at once (supervisord has no restart delay); "never" stays down

#[test]
fn sigkill_restarts_at_once_unless_never() {
    let _serial = hold(&SUPERVISORD);
    let Some(mut s) = boot("restart", |w, p| {
        probe::restart_manifest(w, p, json!({ "restart_delay": "10s" }))
    }) else {
        return;
    };
    let all = names("rs", &["always", "never"]);
    s.sv.await_states(&all, "RUNNING", Duration::from_secs(10));
    let first = probe::one_start(&s.work, "always");
    let never = probe::one_start(&s.work, "never");
    // no wrapper: supervisord's pid is the program's
    assert_eq!(
        i64::from(s.sv.process_pid("rs:always")),
        i64::from(first.pid)
    );
    assert_eq!(
        i64::from(s.sv.process_pid("rs:never")),
        i64::from(never.pid)
    );
    let killed_at = now_nanos();
    for r in [&first, &never] {
        crate::harness::procs::kill(i32::try_from(r.pid).expect("pid"), libc::SIGKILL);
    }
    let again = &probe::await_records(&s.work.record("always"), "start", 2)[1];
    assert_ne!(again.pid, first.pid);
    let delay = millis_between(killed_at, again.unix_nanos);
    eprintln!(
        "SIGKILL → restarted process running after {delay:.0} ms (supervisord has no restart delay; the manifest's 10 s is dropped)"
    );
    assert!(
        delay < 6000.0,
        "restart after {delay:.0} ms: supervisord restarts at once, the manifest's restart_delay (10 s) must not apply (supervisord reaps once a second; the margin covers a loaded machine)"
    );
    assert!(
        s.warnings
            .contains("supervisord: restart_delay → not supported"),
        "generate must warn that restart_delay is lost: {}",
        s.warnings
    );
    s.sv.await_states(&all[..1], "RUNNING", Duration::from_secs(5));

    // restart = never: EXITED, and still down well after a restart would have happened
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(s.sv.state("rs:never"), "EXITED", "{}", s.sv.diagnostics());
    assert_eq!(s.sv.process_pid("rs:never"), 0);
    assert_eq!(probe::starts(&s.work.record("never")).len(), 1);
    assert_eq!(probe::starts(&s.work.record("always")).len(), 2);
    s.sv.shutdown().assert_clean();
}
