//! The lifecycle commands (`install`, `status`, `start`/`stop`/`restart`, `logs`,
//! `uninstall`) run by the real CLI against real init systems: systemd `--user` (a private
//! manager of the harness, reached through `XDG_RUNTIME_DIR`), OpenRC (openim-init run inside
//! the harness's private mount namespace), and the command plans of backends that cannot run
//! here (launchd), snapshotted.

mod crash;
mod openrc;
mod plans;
mod scan;
mod scenario;
mod staging;
mod supervisord;
mod systemd;

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

use crate::common::CLI_BIN;
use crate::harness::{WorkDir, probe};

/// The stack the lifecycle tests install: `a` (listens on `port`, health-checked over
/// TCP), `b` (logs to a file), `c` (two instances, group `g`); `gate` an external on
/// `gate_port`, `a` wants it.
pub fn manifest(work: &WorkDir, probe_bin: &Path, port: u16, gate_port: u16) -> Value {
    let addr = format!("127.0.0.1:{port}");
    let mut a = probe::service(
        work,
        probe_bin,
        "a",
        &["a"],
        json!({ "PROBE_LISTEN": addr }),
    );
    a["health"] = json!({ "tcp": addr, "interval": "1s", "timeout": "1s", "retries": 5 });
    let b = probe::service(work, probe_bin, "b", &["b"], json!({}));
    let mut c = probe::service(
        work,
        probe_bin,
        "c",
        &["{instance}"],
        json!({ "PROBE_LABEL": "c@{instance}" }),
    );
    c["instances"] = json!(2);
    json!({
        "name": "life",
        "defaults": { "restart": "always", "restart_delay": "1s", "stop_timeout": "5s" },
        "external": { "gate": { "check": { "tcp": format!("127.0.0.1:{gate_port}") } } },
        "services": { "a": a, "b": b, "c": c },
        "groups": { "g": { "services": ["c"] } },
    })
}

/// The `processes` of a `status --json` answer by unit name.
pub fn by_unit(status: &Value) -> std::collections::BTreeMap<String, Value> {
    status["processes"]
        .as_array()
        .expect("processes")
        .iter()
        .map(|p| (p["unit"].as_str().expect("unit").to_owned(), p.clone()))
        .collect()
}

/// openim-init in a private mount namespace of its own whose `/var/lib` (the ledger) is
/// `work`'s `var-lib`: the host's `/var/lib` stays untouched. Add the arguments.
pub fn cli_with_private_var_lib(work: &WorkDir) -> Command {
    let mut cmd = Command::new("unshare");
    cmd.args(["--mount", "--propagation", "private", "/bin/sh", "-c"])
        .arg("mount --bind \"$0\" /var/lib && exec \"$@\"")
        .arg(work.join("var-lib"))
        .arg(CLI_BIN);
    cmd
}
