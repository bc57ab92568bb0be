//! The generated OpenRC scripts under real OpenRC 0.45 with `supervise-daemon`, inside a
//! private mount namespace (see [`crate::harness::openrc`]): the scripts come from
//! `openim-init generate --backend openrc` on manifests written here, with the probe program
//! as every service's command, and are copied (`cp -a`, instance links included) into the
//! namespace's `/etc/init.d`.
//!
//! Each test sets up its own namespace (≈0.1 s); [`OPENRC`] makes the tests run one at a
//! time. Outside CI a machine without root or openrc skips them; in CI that is a failure.

mod stack;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::Cli;
use crate::harness::openrc::{OpenRc, require_openrc};
use crate::harness::{
    OPENRC, WorkDir, free_port, hold, millis_between, now_nanos, probe, procs, wait_for,
    write_manifest,
};

/// A namespace with the generated scripts installed: OpenRC first, so that it shuts down
/// before the work dir goes.
struct Stack {
    rc: OpenRc,
    work: WorkDir,
    probe: PathBuf,
}

/// Write the manifest `build` returns (its `name` is the stack's meta-service), generate the
/// OpenRC scripts for it with the real CLI and set up a namespace with them. Nothing is
/// started yet. None when the machine cannot run the test (skipped outside CI).
fn boot(name: &str, build: impl FnOnce(&WorkDir, &Path) -> Value) -> Option<Stack> {
    if !require_openrc() {
        return None;
    }
    let work = WorkDir::new(&format!("openrc-{name}"));
    let probe = probe::install(&work)?;
    let manifest_path = work.join("manifest.toml");
    let manifest = build(&work, &probe);
    let stack = manifest["name"].as_str().expect("manifest name").to_owned();
    write_manifest(&manifest_path, &manifest);
    let out = work.join("out");
    Cli::new()
        .args(["generate", "--backend", "openrc", "--manifest"])
        .arg(&manifest_path)
        .arg("--out")
        .arg(&out)
        .ok();
    let rc = OpenRc::start(&work, &out.join("init.d"), &stack);
    Some(Stack { rc, work, probe })
}

/// SIGKILL the process of `rec` (the supervise-daemon child: the probe itself).
fn sigkill(rec: &probe::Record) {
    procs::kill(i32::try_from(rec.pid).expect("pid"), libc::SIGKILL);
}

// ---------------------------------------------------------------------------------------
// 3. a required external TCP dependency gates the start

#[test]
fn external_dependency_gates_the_start() {
    let _serial = hold(&OPENRC);
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
    // rc-service blocks in start_pre() until the port answers
    let mut starting =
        s.rc.command(&["rc-service", "e", "start"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("rc-service e start");
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        probe::starts(&s.work.record("e")).is_empty(),
        "e started while its external dependency was down"
    );
    assert!(
        starting.try_wait().expect("try_wait").is_none(),
        "rc-service returned while the external was down"
    );
    let opened = now_nanos();
    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).expect("open the external");
    let e = probe::one_start(&s.work, "e");
    assert!(e.unix_nanos >= opened, "e started before the port opened");
    let mut status = None;
    wait_for(Duration::from_secs(10), || {
        status = starting.try_wait().expect("try_wait");
        status.is_some()
    });
    assert!(
        status.is_some_and(|st| st.success()),
        "rc-service e start: {status:?}"
    );
    eprintln!(
        "external gate: e started {:.0} ms after the port opened",
        millis_between(opened, e.unix_nanos)
    );
    s.rc.service("e", "stop");
    s.rc.shutdown().assert_clean();
    drop(listener);
}

// ---------------------------------------------------------------------------------------
// 4. SIGKILL of the main process: respawned after restart_delay; "never" stays down

#[test]
fn sigkill_respawns_after_the_delay_unless_never() {
    let _serial = hold(&OPENRC);
    let Some(mut s) = boot("restart", |w, p| {
        probe::restart_manifest(w, p, json!({ "restart_delay": "2s", "stop_timeout": "2s" }))
    }) else {
        return;
    };
    s.rc.service("rs", "start");
    let first = probe::one_start(&s.work, "always");
    let never = probe::one_start(&s.work, "never");
    // the probe is supervise-daemon's child (never: the /bin/sh guard exec'd it)
    for r in [&first, &never] {
        let parent =
            std::fs::read_to_string(format!("/proc/{}/cmdline", r.ppid)).unwrap_or_default();
        assert!(
            parent.starts_with("supervise-daemon"),
            "{}: parent {parent:?}",
            r.label
        );
    }
    let killed_at = now_nanos();
    sigkill(&first);
    sigkill(&never);
    let again = &probe::await_records(&s.work.record("always"), "start", 2)[1];
    assert_ne!(again.pid, first.pid);
    assert_eq!(
        again.ppid, first.ppid,
        "the same supervise-daemon respawned it"
    );
    let delay = millis_between(killed_at, again.unix_nanos);
    eprintln!("SIGKILL → respawned process running after {delay:.0} ms (restart_delay = 2 s)");
    assert!(
        (2000.0..3500.0).contains(&delay),
        "respawn after {delay:.0} ms, expected restart_delay 2 s + a margin"
    );
    // restart = never: still down well after a respawn would have happened
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        probe::starts(&s.work.record("never")).len(),
        1,
        "never was restarted"
    );
    assert!(!procs::alive(i32::try_from(never.pid).expect("pid")));
    // only `always`'s probe still runs (both have the same command line)
    let probe = s.probe.display().to_string();
    let probes: Vec<i64> =
        s.rc.processes()
            .into_iter()
            .filter(|p| p.cmdline.trim_end() == probe)
            .map(|p| i64::from(p.pid))
            .collect();
    assert_eq!(probes, [i64::from(again.pid)], "{}", s.rc.diagnostics());
    let never_status = s.rc.status("never");
    assert!(!never_status.contains("started"), "never: {never_status}");
    eprintln!(
        "restart = never after SIGKILL: {}",
        s.rc.status("never").trim()
    );
    assert_eq!(probe::starts(&s.work.record("always")).len(), 2);
    s.rc.shutdown().assert_clean();
}

// ---------------------------------------------------------------------------------------
// 8. a failing health check gets the process restarted

#[test]
fn failing_health_check_restarts_the_service() {
    let _serial = hold(&OPENRC);
    let Some(mut s) = boot("health", |w, p| {
        let flag = w.join("unhealthy");
        let mut h = probe::service(w, p, "h", &["h"], json!({}));
        h["health"] = json!({
            "exec": ["/bin/sh", "-c", "test ! -e \"$0\"", flag],
            "interval": "1s", "timeout": "1s", "retries": 1,
        });
        h["stop_timeout"] = json!("1s");
        h["restart_delay"] = json!("1s");
        json!({ "name": "hc", "services": { "h": h } })
    }) else {
        return;
    };
    s.rc.service("hc", "start");
    let first = probe::one_start(&s.work, "h");
    // healthy: no restart for a few check intervals
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(
        probe::starts(&s.work.record("h")).len(),
        1,
        "restarted while healthy"
    );
    let failed_at = now_nanos();
    std::fs::write(s.work.join("unhealthy"), "").expect("make the check fail");
    let first_pid = i32::try_from(first.pid).expect("pid");
    let mut killed_at = 0;
    assert!(
        wait_for(Duration::from_secs(15), || {
            killed_at = now_nanos();
            !procs::alive(first_pid)
        }),
        "the unhealthy process was not stopped: {}",
        s.rc.diagnostics()
    );
    let again = &probe::await_records(&s.work.record("h"), "start", 2)[1];
    assert_ne!(again.pid, first.pid);
    assert_eq!(
        again.ppid, first.ppid,
        "the same supervise-daemon restarted it"
    );
    let stopped = millis_between(failed_at, killed_at);
    let took = millis_between(failed_at, again.unix_nanos);
    eprintln!(
        "failing health check → old process gone after {stopped:.0} ms, new one running after {took:.0} ms (interval 1 s, retries 1, stop_timeout 1 s, restart_delay 1 s)"
    );
    assert!(took < 12000.0, "restart after {took:.0} ms");
    std::fs::remove_file(s.work.join("unhealthy")).expect("heal");
    s.rc.shutdown().assert_clean();
}
