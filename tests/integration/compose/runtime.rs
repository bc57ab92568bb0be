//! The generated compose.yaml under a real Docker engine ([`Engine`]) and docker-compose:
//! an external run as a container gates its dependents, B starts only after A is healthy,
//! instances get their own `{instance}`, a process killed with SIGKILL is restarted, and
//! `down` leaves nothing of the project.

use std::time::{Duration, Instant};

use serde_json::json;

use super::engine::{ENGINE_LOCK, Engine, IMAGE};
use crate::common::Cli;
use crate::harness::probe::{Record, await_records_within, listens, starts};
use crate::harness::{free_port, hold, wait_for, write_manifest};

const PROJECT: &str = "oict";

/// The stack: `gate` (an external the stack runs; listens after 2 s), `a` (requires gate,
/// listens after 3 s, tcp health), `b` (requires a, checks a's port at start) and `w`
/// (two instances, requires gate). Every process is the probe, recording into `/out`.
fn manifest(engine: &Engine, gate: u16, a: u16) -> serde_json::Value {
    let out = format!("{}:/out", engine.work.join("records").display());
    let env = |label: &str, extra: serde_json::Value| {
        let mut e = json!({ "PROBE_RECORD": format!("/out/{label}.jsonl"), "PROBE_LABEL": label });
        e.as_object_mut()
            .expect("object")
            .extend(extra.as_object().expect("object").clone());
        e
    };
    json!({
        "name": PROJECT,
        "defaults": {
            "restart": "always",
            "stop_timeout": "2s",
            "container": { "image": IMAGE, "volumes": [out] },
        },
        "external": { "gate": {
            "check": { "tcp": format!("127.0.0.1:{gate}") },
            "wait_timeout": "30s",
            "container": {
                "image": IMAGE,
                "command": ["/bin/probe", "gate"],
                "environment": env("gate", json!({ "PROBE_LISTEN": format!("127.0.0.1:{gate}"), "PROBE_LISTEN_DELAY": "2000" })),
                "volumes": [out],
            },
        }},
        "services": {
            "a": {
                "command": ["/bin/probe", "a"],
                "environment": env("a", json!({ "PROBE_LISTEN": format!("127.0.0.1:{a}"), "PROBE_LISTEN_DELAY": "3000" })),
                "requires": ["gate"],
                "health": { "tcp": format!("127.0.0.1:{a}"), "interval": "1s", "timeout": "2s", "retries": 30 },
            },
            "b": {
                "command": ["/bin/probe", "b"],
                "environment": env("b", json!({ "PROBE_REQUIRE": format!("127.0.0.1:{a}") })),
                "requires": ["a"],
            },
            "w": {
                "command": ["/bin/probe", "-i", "{instance}"],
                "instances": 2,
                "environment": env("w-{instance}", json!({ "W": "{instance}" })),
                "requires": ["gate"],
            },
        },
    })
}

fn first(records: &[Record], what: &str) -> u64 {
    records
        .first()
        .unwrap_or_else(|| panic!("no {what} record"))
        .unix_nanos
}

#[test]
fn compose_stack_starts_in_order_heals_and_goes_away() {
    let _lock = hold(&ENGINE_LOCK);
    let t0 = Instant::now();
    let Some(engine) = Engine::start("compose-run") else {
        return;
    };
    let started = t0.elapsed();
    let (gate, a) = (free_port(), free_port());
    let m = engine.work.join("stack.toml");
    write_manifest(&m, &manifest(&engine, gate, a));
    let out = engine.work.join("out");
    Cli::new()
        .args(["generate", "--backend", "compose", "--force", "--manifest"])
        .arg(&m)
        .arg("--out")
        .arg(&out)
        .ok();
    let file = out.join("compose.yaml");
    let t_up = Instant::now();
    let up = engine.compose(PROJECT, &file, &["up", "-d"], Duration::from_secs(90));
    assert_eq!(up.code, 0, "compose up: {}{}", up.stdout, up.stderr);
    let up_took = t_up.elapsed();
    let rec = |l: &str| engine.work.record(l);
    let deadline = Duration::from_secs(20);

    // the external's container gates its dependents: a and w start after gate listens
    let gate_listen = first(
        &await_records_within(&rec("gate"), "listen", 1, deadline),
        "gate listen",
    );
    let a_start = first(
        &await_records_within(&rec("a"), "start", 1, deadline),
        "a start",
    );
    assert!(
        a_start > gate_listen,
        "a started before the external gate listened"
    );
    for i in ["0", "1"] {
        let w = await_records_within(&rec(&format!("w-{i}")), "start", 1, deadline);
        assert!(
            w[0].unix_nanos > gate_listen,
            "w-{i} started before gate listened"
        );
        assert_eq!(w[0].argv, ["/bin/probe", "-i", i], "instance {i} argv");
        assert_eq!(
            w[0].env.get("W").map(String::as_str),
            Some(i),
            "instance {i} env"
        );
    }
    // B after A is healthy: a listened, then b started and reached a's port
    let a_listen = first(
        &await_records_within(&rec("a"), "listen", 1, deadline),
        "a listen",
    );
    let b = await_records_within(&rec("b"), "start", 1, deadline);
    assert!(b[0].unix_nanos > a_listen, "b started before a was healthy");
    assert_eq!(
        b[0].require_ok,
        Some(true),
        "b could not reach a at its start"
    );

    // kill -9 of a's process (not `docker kill`: a manual stop) → restarted, healthy again
    let ca = engine.container_of(PROJECT, "a");
    let init_pid = engine.inspect(&ca, "{{.State.Pid}}");
    let children = std::fs::read_to_string(format!("/proc/{init_pid}/task/{init_pid}/children"))
        .expect("children of the container's init");
    let probe_pid: i32 = children
        .split_whitespace()
        .next()
        .expect("a's process")
        .parse()
        .expect("pid");
    let t_kill = Instant::now();
    crate::harness::procs::kill(probe_pid, libc::SIGKILL);
    let healed = wait_for(Duration::from_secs(30), || {
        engine.inspect(
            &ca,
            "{{.RestartCount}} {{.State.Running}} {{.State.Health.Status}}",
        ) == "1 true healthy"
    });
    assert!(
        healed,
        "a was not restarted and healthy again: {}",
        engine.inspect(
            &ca,
            "{{.RestartCount}} {{.State.Status}} {{.State.Health.Status}}"
        )
    );
    assert_eq!(starts(&rec("a")).len(), 2, "a's process started twice");
    assert!(listens(&rec("a")).len() >= 2, "a listens again");
    let heal_took = t_kill.elapsed();

    let t_down = Instant::now();
    let down = engine.compose(
        PROJECT,
        &file,
        &["down", "-v", "-t", "2"],
        Duration::from_mins(1),
    );
    assert_eq!(down.code, 0, "compose down: {}{}", down.stdout, down.stderr);
    let left = engine.project_containers(PROJECT);
    let filter = format!("label=com.docker.compose.project={PROJECT}");
    let nets = engine.docker(&["network", "ls", "-q", "--filter", &filter]);
    assert!(left.is_empty(), "down left containers {left:?}");
    assert!(
        nets.stdout.trim().is_empty(),
        "down left networks {}",
        nets.stdout
    );
    eprintln!(
        "compose run: engine+image {started:.1?}, up {up_took:.1?}, kill -9 → healthy {heal_took:.1?}, down {:.1?}, total {:.1?}",
        t_down.elapsed(),
        t0.elapsed()
    );
}
