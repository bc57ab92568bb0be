//! The manifests the scenarios run, the same for every init system (only the restart
//! delay and the hostile working directory are the driver's), and their unit names.

use std::path::Path;

use serde_json::{Value, json};

use super::driver::Driver;
use crate::harness::{WorkDir, hostile, probe};

/// The stack's name: its target, meta-service or group.
pub const STACK: &str = "e2e";
/// Numbered instances of `c` (`instances = 3`).
pub const NUMBERED: [&str; 3] = ["0", "1", "2"];
/// Named instances of `n`, which also has a `pre_start`.
pub const NAMED: [&str; 3] = ["alpha", "b-2", "c_3"];
/// How long A takes to listen after it started, in ms.
pub const A_LISTEN_DELAY_MS: u64 = 1500;

/// The stack: A (listens after [`A_LISTEN_DELAY_MS`], health-checked, exits 255 on SIGTERM,
/// which `success_exit_codes` makes a success), B (requires A, checks A's port at its start,
/// restart = never), C (three numbered instances), N (three named instances with a
/// `pre_start`), D (hostile argv, environment and working directory, user `nobody`).
pub fn stack<D: Driver>(work: &WorkDir, probe: &Path, port_a: u16) -> Value {
    let a_addr = format!("127.0.0.1:{port_a}");
    let mut a = probe::service(
        work,
        probe,
        "a",
        &["a"],
        json!({
            "PROBE_LISTEN": a_addr,
            "PROBE_LISTEN_DELAY": A_LISTEN_DELAY_MS.to_string(),
            "PROBE_ON_SIGTERM_EXIT": "255",
        }),
    );
    a["success_exit_codes"] = json!([255]);
    a["health"] = json!({ "tcp": a_addr, "interval": "1s", "timeout": "1s", "retries": 10 });
    let mut b = probe::service(work, probe, "b", &["b"], json!({ "PROBE_REQUIRE": a_addr }));
    b["requires"] = json!(["a"]);
    b["restart"] = json!("never");
    let args = ["--instance={instance}", "{instance}"];
    let instance_env = |svc: &str| json!({ "INSTANCE": "{instance}", "PROBE_LABEL": format!("{svc}@{{instance}}") });
    let mut c = probe::service(work, probe, "c", &args, instance_env("c"));
    c["instances"] = json!(NUMBERED.len());
    let mut n = probe::service(work, probe, "n", &args, instance_env("n"));
    n["instances"] = json!(NAMED);
    n["pre_start"] = json!([[
        "/bin/sh",
        "-c",
        "echo \"$1 $(date +%s%N)\" >> \"$2\"",
        "sh",
        "{instance}",
        pre_log(work)
    ]]);
    let mut d = probe::service(work, probe, "d", hostile::ARGS, hostile::env());
    d["user"] = json!("nobody");
    d["working_dir"] = json!(D::hostile_dir(work));
    json!({
        "name": STACK,
        // the strictest sandbox, with the work dir (records, logs, D's directory) writable
        "defaults": {
            "restart": "always", "restart_delay": "1s", "stop_timeout": "5s",
            "sandbox": "strict", "writable_paths": [work.path()],
        },
        "services": { "a": a, "b": b, "c": c, "n": n, "d": d },
    })
}

/// Where N's `pre_start` appends `INSTANCE UNIX_NANOS` lines.
pub fn pre_log(work: &WorkDir) -> std::path::PathBuf {
    work.join("records/pre.log")
}

/// Every unit of [`stack`]: A, B, the instances of C and N, D.
pub fn stack_units<D: Driver>(d: &D) -> Vec<String> {
    let mut units = vec![d.unit("a", None), d.unit("b", None)];
    units.extend(NUMBERED.iter().map(|i| d.unit("c", Some(i))));
    units.extend(NAMED.iter().map(|i| d.unit("n", Some(i))));
    units.push(d.unit("d", None));
    units
}

/// Stack `ext` with one service `e` that requires the external `gate` (TCP on `port`).
pub fn external(work: &WorkDir, probe: &Path, port: u16) -> Value {
    let mut e = probe::service(work, probe, "e", &["e"], json!({}));
    e["requires"] = json!(["gate"]);
    json!({
        "name": "ext",
        "external": { "gate": { "check": { "tcp": format!("127.0.0.1:{port}") }, "wait_timeout": "30s" } },
        "services": { "e": e },
    })
}
