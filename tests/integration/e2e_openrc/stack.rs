//! Checks 1, 2, 5, 6 and 7 on one namespace: `rc-service STACK start` starts everything,
//! `requires` orders B after A's health check and `rc-service B start` pulls A in, three
//! instance links, the exact exec context, `rc-service STACK stop` stops everything, and the
//! namespace is gone afterwards.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use super::{Stack, boot};
use crate::harness::probe::{self, Record};
use crate::harness::{OPENRC, WorkDir, free_port, hold, hostile, millis_between, procs, wait_for};

/// Every service of the stack as OpenRC names it.
const SERVICES: &[&str] = &["a", "b", "c.0", "c.1", "c.2", "d"];
/// What OpenRC itself hands every process (the probe's own environment aside).
const OPENRC_ENV: &[&str] = &[
    "PATH",
    "SVCNAME",
    "RC_SVCNAME",
    "RC_SERVICE",
    "EINFO_LASTCMD",
    "EINFO_LOG",
    "HOME",
    "USER",
    "PWD",
];

fn stack_manifest(work: &WorkDir, probe: &Path, port_a: u16) -> Value {
    let a_addr = format!("127.0.0.1:{port_a}");
    let mut a = probe::service(
        work,
        probe,
        "a",
        &["a"],
        json!({ "PROBE_LISTEN": a_addr, "PROBE_LISTEN_DELAY": "1000" }),
    );
    a["health"] = json!({ "tcp": a_addr, "interval": "1s", "timeout": "1s", "retries": 10 });
    let mut b = probe::service(work, probe, "b", &["b"], json!({ "PROBE_REQUIRE": a_addr }));
    b["requires"] = json!(["a"]);
    let mut c = probe::service(
        work,
        probe,
        "c",
        &["--instance={instance}", "{instance}"],
        json!({ "INSTANCE": "{instance}", "PROBE_LABEL": "c@{instance}" }),
    );
    c["instances"] = json!(3);
    let mut d = probe::service(work, probe, "d", hostile::ARGS, hostile::env());
    d["user"] = json!("nobody");
    d["working_dir"] = json!(hostile::dir(work));
    json!({
        "name": "e2e",
        "defaults": { "restart": "always", "stop_timeout": "5s" },
        "services": { "a": a, "b": b, "c": c, "d": d },
    })
}

#[test]
fn stack_runs_under_openrc() {
    let _serial = hold(&OPENRC);
    let port_a = free_port();
    let Some(mut s) = boot("stack", |w, p| stack_manifest(w, p, port_a)) else {
        return;
    };
    // nothing runs before the stack is started
    assert!(s.rc.processes().is_empty(), "{}", s.rc.diagnostics());

    // 1. the meta-service starts the whole stack
    let took = s.rc.service("e2e", "start");
    eprintln!("rc-service e2e start: {took:?} (A listens after 1 s)");
    all_started(&s);
    // 2. B started once A's health check passed
    b_waited_for_a(&s, 1);
    instances_get_their_own_argv(&s);
    exec_context_arrives_exactly(&s);

    // 7. the meta-service stops everything
    let took = s.rc.service("e2e", "stop");
    eprintln!("rc-service e2e stop: {took:?}");
    stopped_everything(&s);

    // 2b. `rc-service b start` alone pulls in A (need) and still waits for it
    s.rc.service("b", "start");
    let a2 = probe::await_records(&s.work.record("a"), "start", 2);
    assert_eq!(a2.len(), 2, "starting b did not start a");
    let gap = b_waited_for_a(&s, 2);
    eprintln!(
        "rc-service b start: A started too; B's program started {gap:.0} ms after A listened"
    );
    assert!(s.rc.status("a").contains("started"), "{}", s.rc.status("a"));
    for other in ["c.0", "d"] {
        assert!(
            s.rc.status(other).contains("stopped"),
            "{other} started with b"
        );
    }
    // stopping A stops B, which needs it
    s.rc.service("a", "stop");
    assert!(s.rc.status("b").contains("stopped"), "{}", s.rc.status("b"));
    assert!(
        wait_for(Duration::from_secs(5), || s.rc.processes().is_empty()),
        "{}",
        s.rc.diagnostics()
    );

    // 7b. after shutdown the namespace is gone and the host untouched
    s.rc.service("e2e", "start");
    all_started(&s);
    let holder = s.rc.holder();
    let ns = s.rc.namespace().to_owned();
    let cleanup = s.rc.shutdown();
    cleanup.assert_clean();
    assert!(
        cleanup.stop.is_some(),
        "the stack was stopped by rc-service"
    );
    assert!(!procs::alive(holder));
    assert!(procs::in_mount_ns(&ns).is_empty());
    assert!(
        !Path::new("/run/openrc/softlevel").exists(),
        "softlevel on the host"
    );
    assert!(
        !Path::new("/etc/init.d/e2e").exists(),
        "a script reached the host's init.d"
    );
}

/// Every service reports `started` and has a process.
fn all_started(s: &Stack) {
    for svc in SERVICES {
        let st = s.rc.status(svc);
        assert!(
            st.contains("started"),
            "{svc}: {st}\n{}",
            s.rc.diagnostics()
        );
    }
}

/// Every service reports `stopped` and no process but the holder is left in the namespace.
fn stopped_everything(s: &Stack) {
    for svc in SERVICES {
        let st = s.rc.status(svc);
        assert!(st.contains("stopped"), "{svc}: {st}");
    }
    assert!(
        wait_for(Duration::from_secs(5), || s.rc.processes().is_empty()),
        "processes left after rc-service e2e stop:\n{}",
        s.rc.diagnostics()
    );
}

/// The `n`th start of B happened after A's `n`th listen and B's program found A's port
/// open; returns the gap in ms.
fn b_waited_for_a(s: &Stack, n: usize) -> f64 {
    let a = &probe::await_records(&s.work.record("a"), "listen", n)[n - 1];
    let b = &probe::await_records(&s.work.record("b"), "start", n)[n - 1];
    assert_eq!(
        b.require_ok,
        Some(true),
        "B started before A's port answered"
    );
    let gap = millis_between(a.unix_nanos, b.unix_nanos);
    assert!(gap >= 0.0, "B started {:.0} ms before A listened", -gap);
    let a_start = &probe::starts(&s.work.record("a"))[n - 1];
    eprintln!(
        "start {n}: A listened {:.0} ms after its start (1000 ms delay); B's program {gap:.0} ms after that",
        millis_between(a_start.unix_nanos, a.unix_nanos)
    );
    gap
}

/// Check 5: the links c.0..c.2 → c, and three processes each with its own `{instance}`.
fn instances_get_their_own_argv(s: &Stack) {
    for i in 0..3 {
        let link = s.rc.dir.join(format!("init.d/c.{i}"));
        assert_eq!(
            std::fs::read_link(&link).expect("instance link").to_str(),
            Some("c"),
            "{}",
            link.display()
        );
    }
    let starts = probe::await_records(&s.work.record("c"), "start", 3);
    assert_eq!(starts.len(), 3, "{starts:#?}");
    let mut seen: Vec<String> = starts
        .iter()
        .map(|r| {
            let inst = r.env.get("INSTANCE").expect("INSTANCE").clone();
            assert_eq!(r.argv[1..], [format!("--instance={inst}"), inst.clone()]);
            assert_eq!(r.label, format!("c@{inst}"));
            assert_eq!(r.env.get("RC_SVCNAME"), Some(&format!("c.{inst}")));
            inst
        })
        .collect();
    seen.sort();
    assert_eq!(seen, ["0", "1", "2"]);
    let pids: std::collections::BTreeSet<u32> = starts.iter().map(|r| r.pid).collect();
    assert_eq!(pids.len(), 3, "three processes");
}

/// Check 6: argv, environment, working directory and user arrive exactly.
fn exec_context_arrives_exactly(s: &Stack) {
    let d: Record = probe::one_start(&s.work, "d");
    hostile::assert_received(&d, &s.probe, &hostile::dir(&s.work), "nobody", |k| {
        OPENRC_ENV.contains(&k)
    });
    assert_eq!(d.env.get("RC_SVCNAME").map(String::as_str), Some("d"));
}
