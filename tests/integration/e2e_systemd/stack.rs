//! Checks 1, 2, 5, 6 and 7 on one manager: the stack starts from its target, `requires`
//! orders after the dependency's health check, instances, the exact exec context, stopping
//! the target, and nothing left once the manager exits.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use super::{Stack, boot};
use crate::harness::probe;
use crate::harness::{SYSTEMD, WorkDir, free_port, hold, hostile, millis_between, wait_for};

const INSTANCES: [&str; 3] = ["alpha", "b-2", "c_3"];

fn stack_manifest(work: &WorkDir, probe: &Path, port_a: u16) -> Value {
    let a_addr = format!("127.0.0.1:{port_a}");
    let mut a = probe::service(
        work,
        probe,
        "a",
        &["a"],
        json!({
            "PROBE_LISTEN": a_addr,
            "PROBE_LISTEN_DELAY": "1500",
            "PROBE_ON_SIGTERM_EXIT": "255",
        }),
    );
    a["success_exit_codes"] = json!([255]);
    a["health"] = json!({ "tcp": a_addr, "interval": "1s", "timeout": "1s", "retries": 10 });
    let mut b = probe::service(work, probe, "b", &["b"], json!({ "PROBE_REQUIRE": a_addr }));
    b["requires"] = json!(["a"]);
    b["restart"] = json!("never");
    let mut c = probe::service(
        work,
        probe,
        "c",
        &["--instance={instance}", "{instance}"],
        json!({ "INSTANCE": "{instance}", "PROBE_LABEL": "c@{instance}" }),
    );
    c["instances"] = json!(INSTANCES);
    let f = probe::service(
        work,
        probe,
        "f",
        &[],
        json!({ "PROBE_ON_SIGTERM_EXIT": "255" }),
    );
    let mut d = probe::service(work, probe, "d", hostile::ARGS, hostile::env());
    d["user"] = json!("nobody");
    d["working_dir"] = json!(hostile::dir(work));
    json!({
        "name": "e2e",
        "defaults": { "restart": "always", "restart_delay": "1s", "stop_timeout": "5s" },
        "services": { "a": a, "b": b, "c": c, "d": d, "f": f },
    })
}

fn instance_units() -> Vec<String> {
    INSTANCES.iter().map(|i| format!("c@{i}.service")).collect()
}

#[test]
fn stack_runs_under_systemd_user() {
    let _serial = hold(&SYSTEMD);
    let port_a = free_port();
    let Some(mut s) = boot("stack", |w, p| stack_manifest(w, p, port_a)) else {
        return;
    };

    // 1. the whole stack starts from STACK.target
    s.mgr.ok(["start", "e2e.target"]);
    let mut units = vec![
        "a.service".to_owned(),
        "b.service".into(),
        "d.service".into(),
    ];
    assert_eq!(s.mgr.state("f.service"), "active");
    units.extend(instance_units());
    for u in &units {
        assert_eq!(s.mgr.state(u), "active", "{u}:\n{}", s.mgr.diagnostics());
    }

    // 2. B requires A: B starts only once A is up (its health check saw the port open)
    let a_listen = &probe::await_records(&s.work.record("a"), "listen", 1)[0];
    let b = probe::one_start(&s.work, "b");
    assert_eq!(
        b.require_ok,
        Some(true),
        "B started before A's port answered"
    );
    assert!(
        b.unix_nanos >= a_listen.unix_nanos,
        "B started {:.0} ms before A listened",
        millis_between(b.unix_nanos, a_listen.unix_nanos)
    );
    let a_exec = s
        .mgr
        .show_num("a.service", "ExecMainStartTimestampMonotonic");
    let a_active = s.mgr.show_num("a.service", "ActiveEnterTimestampMonotonic");
    let b_exec = s
        .mgr
        .show_num("b.service", "ExecMainStartTimestampMonotonic");
    assert!(
        a_active - a_exec >= 1_500_000,
        "A became active {} µs after exec, before its port opened (1500 ms)",
        a_active - a_exec
    );
    assert!(
        a_active <= b_exec,
        "B exec {b_exec} before A active {a_active}"
    );
    eprintln!(
        "A: exec→active {} ms (port opens after 1500 ms); B exec {} ms after A active",
        (a_active - a_exec) / 1000,
        (b_exec - a_active) / 1000
    );

    instances_get_their_own_argv(&s);
    exec_context_arrives_exactly(&s);

    // 7a. stopping the stack target stops everything; A's exit 255 on SIGTERM is a success
    s.mgr.ok(["stop", "e2e.target"]);
    for u in &units {
        assert_eq!(s.mgr.state(u), "inactive", "{u}:\n{}", s.mgr.diagnostics());
    }
    // the control: the same exit 255 without success_exit_codes is a failure
    assert_eq!(s.mgr.state("f.service"), "failed");
    assert_eq!(s.mgr.show("f.service", "Result"), "exit-code");
    assert_eq!(s.mgr.show("f.service", "ExecMainStatus"), "255");
    assert!(
        wait_for(Duration::from_secs(5), || s.mgr.processes().is_empty()),
        "processes left after stopping e2e.target: {:?}",
        s.mgr.processes()
    );

    // 2b. starting B alone pulls in A, again in order
    s.mgr.ok(["start", "b.service"]);
    assert_eq!(s.mgr.state("a.service"), "active");
    let b2 = &probe::await_records(&s.work.record("b"), "start", 2)[1];
    let a2 = &probe::await_records(&s.work.record("a"), "listen", 2)[1];
    assert_eq!(b2.require_ok, Some(true));
    assert!(b2.unix_nanos >= a2.unix_nanos, "B before A's port");
    assert_eq!(s.mgr.state("d.service"), "inactive", "B must not pull in D");

    // 7b. after the manager exits nothing is left: processes, namespace, cgroups
    let mgr_pid = s.mgr.pid();
    let cleanup = s.mgr.shutdown();
    eprintln!(
        "systemctl --user exit: manager gone after {:?}",
        cleanup.exit_took
    );
    cleanup.assert_clean();
    assert!(!crate::harness::procs::alive(mgr_pid));
    assert!(s.mgr.processes().is_empty());
}

/// 5. three instances of a templated service, each with its own `{instance}` in argv and env.
fn instances_get_their_own_argv(s: &Stack) {
    let starts = probe::await_records(&s.work.record("c"), "start", INSTANCES.len());
    assert_eq!(starts.len(), INSTANCES.len(), "{starts:#?}");
    for inst in INSTANCES {
        let label = format!("c@{inst}");
        let r = starts
            .iter()
            .find(|r| r.label == label)
            .unwrap_or_else(|| panic!("no start of {label}: {starts:#?}"));
        let want = [
            s.probe.display().to_string(),
            format!("--instance={inst}"),
            inst.to_owned(),
        ];
        assert_eq!(r.argv, want);
        assert_eq!(r.env["INSTANCE"], inst);
        assert_eq!(
            s.mgr.main_pid(&format!("c@{inst}.service")),
            i32::try_from(r.pid).expect("pid")
        );
    }
}

/// What systemd itself adds to a service's environment (systemd.exec(5), "Environment
/// variables in spawned processes"). The rest must come from the manifest or from the
/// manager's own environment block (`systemctl --user show-environment`), which every unit
/// of a user manager inherits.
const SYSTEMD_ENV: &[&str] = &[
    "PATH",
    "LANG",
    "USER",
    "LOGNAME",
    "HOME",
    "SHELL",
    "PWD",
    "INVOCATION_ID",
    "JOURNAL_STREAM",
    "MANAGERPID",
    "SYSTEMD_EXEC_PID",
];

/// 6. argv, environment, working directory and user arrive exactly as the manifest says.
fn exec_context_arrives_exactly(s: &Stack) {
    let d = probe::one_start(&s.work, "d");
    let manager_env = s.mgr.ok(["show-environment"]);
    let inherited: Vec<&str> = manager_env
        .lines()
        .filter_map(|l| l.split_once('=').map(|(k, _)| k))
        .collect();
    hostile::assert_received(&d, &s.probe, &hostile::dir(&s.work), "nobody", |k| {
        SYSTEMD_ENV.contains(&k) || inherited.contains(&k)
    });
}
