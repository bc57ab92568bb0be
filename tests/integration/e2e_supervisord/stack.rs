//! Checks 1, 2, 5, 6 and 7 on one daemon: autostart and `start|stop STACK:*`, `requires`
//! waits for the dependency's health check (but does not start it), numprocs and named
//! instances, the exact exec context, stopping the group, and nothing left after shutdown.

use std::path::Path;
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};

use super::{Stack, boot, names};
use crate::common::Cli;
use crate::harness::probe::{self, Record};
use crate::harness::supervisord::{ADDED_ENV, Daemon, PYTHON_ENV};
use crate::harness::{SUPERVISORD, WorkDir, free_port, hold, hostile, millis_between, wait_for};

const NAMED: [&str; 3] = ["alpha", "b-2", "c_3"];
/// A working directory that needs quoting everywhere but that supervisor's ini layer can
/// carry (the shared [`hostile::dir`] has ` ;`, an inline comment, which the backend
/// refuses: tested in `supervisord::cases`).
const DIR_NAME: &str = "work dir 100% $HOME 'q' \"dq\" a;#b %%";
/// The processes of the stack, as supervisorctl names them.
const PROCESSES: &[&str] = &[
    "a", "b", "c_0", "c_1", "c_2", "n_alpha", "n_b-2", "n_c_3", "d",
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
    b["restart"] = json!("never");
    let args = ["--instance={instance}", "{instance}"];
    let mut c = probe::service(
        work,
        probe,
        "c",
        &args,
        json!({ "INSTANCE": "{instance}", "PROBE_LABEL": "c@{instance}" }),
    );
    c["instances"] = json!(3);
    let mut n = probe::service(
        work,
        probe,
        "n",
        &args,
        json!({ "INSTANCE": "{instance}", "PROBE_LABEL": "n@{instance}" }),
    );
    n["instances"] = json!(NAMED);
    let pre_log = work.record("pre");
    n["pre_start"] = json!([[
        "/bin/sh",
        "-c",
        "echo \"$1 $(date +%s%N)\" >> \"$2\"",
        "sh",
        "{instance}",
        pre_log
    ]]);
    let mut d = probe::service(work, probe, "d", hostile::ARGS, hostile::env());
    d["user"] = json!("nobody");
    d["working_dir"] = json!(hostile::dir_named(work, DIR_NAME));
    json!({
        "name": "e2e",
        "defaults": { "restart": "always", "stop_timeout": "5s" },
        "services": { "a": a, "b": b, "c": c, "n": n, "d": d },
    })
}

#[test]
fn stack_runs_under_supervisord() {
    let _serial = hold(&SUPERVISORD);
    let port_a = free_port();
    let Some(mut s) = boot("stack", |w, p| stack_manifest(w, p, port_a)) else {
        return;
    };
    let all = names("e2e", PROCESSES);

    // 1. autostart=true: supervisord starts the whole stack at boot …
    let t = s.sv.await_states(&all, "RUNNING", Duration::from_secs(15));
    eprintln!(
        "autostart: all {} processes RUNNING {t:?} after supervisord answered",
        all.len()
    );
    b_waited_for_a(&s, 1);
    // … `stop STACK:*` stops all of it …
    s.sv.ok(["stop", "e2e:*"]);
    stopped_everything(&s.sv, &all);
    // … and `start STACK:*` starts all of it again
    s.sv.ok(["start", "e2e:*"]);
    s.sv.await_states(&all, "RUNNING", Duration::from_secs(10));
    b_waited_for_a(&s, 2);

    instances_get_their_own_argv(&s);
    exec_context_arrives_exactly(&s);

    // 2b. starting B alone does not start A: B's wrapper waits for A's health check …
    s.sv.ok(["stop", "e2e:*"]);
    stopped_everything(&s.sv, &all);
    s.sv.ok(["start", "e2e:b"]);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(s.sv.state("e2e:a"), "STOPPED", "starting B started A");
    assert_eq!(probe::starts(&s.work.record("a")).len(), 2);
    assert_eq!(
        probe::starts(&s.work.record("b")).len(),
        2,
        "B's program started without A"
    );
    assert_eq!(s.sv.state("e2e:b"), "RUNNING", "the waiting wrapper");
    // … until A is started by hand
    s.sv.ok(["start", "e2e:a"]);
    let b3 = b_waited_for_a(&s, 3);
    eprintln!("B alone: its program started {b3:.0} ms after A (started by hand) listened");
    report_says_requires_does_not_start(&s);

    // 7. stopping the group stops everything; after shutdown nothing is left
    s.sv.ok(["stop", "e2e:*"]);
    stopped_everything(&s.sv, &all);
    let daemon = s.sv.pid();
    let cleanup = s.sv.shutdown();
    eprintln!(
        "supervisorctl shutdown: supervisord gone after {:?}",
        cleanup.exit_took
    );
    cleanup.assert_clean();
    assert!(!crate::harness::procs::alive(daemon));
    assert!(s.sv.processes().is_empty());
    no_stray_files(&s);
}

/// The `n`th start of B happened after A's `n`th listen, and B's program found A's port
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

/// Every process in `all` is STOPPED and no process of the test but the daemon lives.
fn stopped_everything(sv: &Daemon, all: &[String]) {
    sv.await_states(all, "STOPPED", Duration::from_secs(10));
    assert!(
        wait_for(Duration::from_secs(5), || sv.processes().is_empty()),
        "processes left after stopping e2e:*: {:?}",
        sv.processes()
    );
}

/// Check 2: the capability report and generate's warnings say that `requires` does not start
/// the required service.
fn report_says_requires_does_not_start(s: &Stack) {
    let report = Cli::new().args(["backends", "--json"]).ok().stdout;
    let report: Value = serde_json::from_str(&report).expect("backends --json is JSON");
    let sv = report
        .as_array()
        .and_then(|b| b.iter().find(|b| b["name"] == "supervisord"))
        .expect("supervisord in the report");
    let requires = &sv["features"]["requires"];
    assert_eq!(requires["support"], "emulated");
    let how = requires["how"].as_str().expect("how");
    assert!(
        how.contains("does not start the required service"),
        "the report must say so: {how}"
    );
    let warning = s
        .warnings
        .lines()
        .find(|l| l.starts_with("warning: supervisord: requires"))
        .unwrap_or_else(|| panic!("no requires warning: {}", s.warnings));
    assert!(
        warning.contains(how) && warning.ends_with("(b)"),
        "{warning}"
    );
}

/// Check 5: three numprocs instances and three named instances, each with its own `{instance}`
/// in argv and env; the named ones ran their `pre_start` first.
fn instances_get_their_own_argv(s: &Stack) {
    assert_eq!(s.conf.matches("\n[program:c]\n").count(), 1, "{}", s.conf);
    assert_eq!(s.conf.matches("\nnumprocs=3\n").count(), 1, "{}", s.conf);
    for i in NAMED {
        assert!(
            s.conf.contains(&format!("\n[program:n_{i}]\n")),
            "{}",
            s.conf
        );
    }
    let pre = std::fs::read_to_string(s.work.record("pre")).expect("pre_start ran");
    for (svc, insts) in [("c", vec!["0", "1", "2"]), ("n", NAMED.to_vec())] {
        let starts = probe::await_records(&s.work.record(svc), "start", 2 * insts.len());
        assert_eq!(starts.len(), 2 * insts.len(), "{starts:#?}");
        for inst in insts {
            let label = format!("{svc}@{inst}");
            let mine: Vec<&Record> = starts.iter().filter(|r| r.label == label).collect();
            assert_eq!(mine.len(), 2, "{label}: {starts:#?}");
            let r = mine[1];
            let want = [
                s.probe.display().to_string(),
                format!("--instance={inst}"),
                inst.to_owned(),
            ];
            assert_eq!(r.argv, want, "{label}");
            assert_eq!(r.env["INSTANCE"], inst, "{label}");
            let process = format!("{svc}_{inst}");
            assert_eq!(r.env["SUPERVISOR_PROCESS_NAME"], process);
            if svc == "n" {
                let runs: Vec<u64> = pre
                    .lines()
                    .filter_map(|l| l.strip_prefix(&format!("{inst} "))?.parse().ok())
                    .collect();
                assert_eq!(runs.len(), 2, "pre_start of {label} once per start: {pre}");
                assert!(
                    runs[1] <= r.unix_nanos,
                    "{label} started before its pre_start"
                );
            } else {
                let pid = s.sv.process_pid(&format!("e2e:{process}"));
                assert_eq!(i64::from(pid), i64::from(r.pid), "{label}: no wrapper");
            }
        }
    }
}

/// Check 6: argv, environment, working directory and user arrive exactly as the manifest says;
/// the only other variables are the daemon's own environment (as started, plus Python's
/// locale coercion), what supervisord adds, and `PWD` (exported by the /bin/sh wrapper that
/// carries what `environment=` cannot quote).
fn exec_context_arrives_exactly(s: &Stack) {
    let d = &probe::await_records(&s.work.record("d"), "start", 2)[1];
    let inherited: Vec<&str> = s.sv.env().iter().map(|(k, _)| *k).collect();
    let wrapped = s.conf.contains("export \"$1\"");
    hostile::assert_received(
        d,
        &s.probe,
        &hostile::dir_named(&s.work, DIR_NAME),
        "nobody",
        |k| {
            inherited.contains(&k)
                || ADDED_ENV.contains(&k)
                || PYTHON_ENV.iter().any(|(p, _)| *p == k)
                || (wrapped && k == "PWD")
        },
    );
    for (k, v) in PYTHON_ENV {
        if let Some(got) = d.env.get(*k) {
            assert_eq!(got, v, "{k} set by Python's locale coercion");
        }
    }
    for (k, v) in s.sv.env() {
        assert_eq!(d.env.get(*k), Some(v), "{k} inherited from supervisord");
    }
    assert_eq!(d.env["SUPERVISOR_GROUP_NAME"], "e2e");
    assert_eq!(d.env["SUPERVISOR_PROCESS_NAME"], "d");
}

/// Nothing was written outside the work dir: not the standalone default paths, and no
/// supervisor log or temp file in /tmp since the test began.
fn no_stray_files(s: &Stack) {
    for p in [
        "/run/e2e-supervisord.sock",
        "/run/e2e-supervisord.pid",
        "/var/log/supervisor/e2e-supervisord.log",
    ] {
        assert!(
            !Path::new(p).exists(),
            "{p} exists: the override did not apply"
        );
    }
    let began = std::fs::metadata(s.work.path())
        .and_then(|m| m.created().or_else(|_| m.modified()))
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let stray: Vec<String> = std::fs::read_dir(std::env::temp_dir())
        .expect("temp dir")
        .flatten()
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.contains("supervisor")
                && e.metadata()
                    .and_then(|m| m.modified())
                    .is_ok_and(|t| t >= began)
        })
        .map(|e| e.path().display().to_string())
        .collect();
    assert!(
        stray.is_empty(),
        "supervisor files outside the work dir: {stray:?}"
    );
    let logs = std::fs::read_dir(s.work.join("supervisord")).expect("daemon dir");
    let names: Vec<String> = logs
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().any(|n| n == "supervisord.log"), "{names:?}");
}
