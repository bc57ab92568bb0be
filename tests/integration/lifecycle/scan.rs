//! The whole cycle under a real scan-directory supervisor: runit's `runsvdir -P` and s6's
//! `s6-svscan`, each on a private scan directory of the test ([`Scan`], started empty).
//! openim-init installs the service directories into a work directory (`--sv-dir`) and
//! links them into that scan directory (`--service-dir`); it runs in a private mount
//! namespace of its own whose `/var/lib` is a work directory (the ledger), so nothing of the
//! host (`/etc/sv`, `/etc/service`, `/run/service`, `/var/lib`) is touched.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use super::{by_unit, manifest};
use crate::common::{CLI_BIN, Run, require};
use crate::harness::scan::{self, Kind, Scan, missing};
use crate::harness::{
    RUNIT, S6, WorkDir, free_port, hold, probe, run_timeout, wait_for, write_manifest,
};

const UNITS: [&str; 4] = ["a", "b", "c-0", "c-1"];

struct Env {
    kind: Kind,
    scan: Scan,
    work: WorkDir,
    manifest: PathBuf,
}

impl Env {
    fn backend(&self) -> &'static str {
        match self.kind {
            Kind::Runit => "runit",
            Kind::S6 => "s6",
        }
    }

    fn run(&self, args: &[&str]) -> Run {
        let mut cmd = Command::new("unshare");
        cmd.args(["--mount", "--propagation", "private", "/bin/sh", "-c"])
            .arg("mount --bind \"$0\" /var/lib && exec \"$@\"")
            .arg(self.work.join("var-lib"))
            .arg(CLI_BIN)
            .args(args)
            .args(["--backend", self.backend(), "--manifest"])
            .arg(&self.manifest)
            .arg("--sv-dir")
            .arg(self.sv_dir())
            .arg("--service-dir")
            .arg(&self.scan.dir)
            .env_clear()
            .env("PATH", scan::PATH)
            .env("NO_COLOR", "1");
        run_timeout(&mut cmd, Duration::from_mins(2))
    }

    fn ok(&self, args: &[&str]) -> Run {
        let r = self.run(args);
        assert_eq!(
            r.code,
            0,
            "{args:?}\nstdout:\n{}\nstderr:\n{}\nscan daemon: {}",
            r.stdout,
            r.stderr,
            self.scan.output().replace("..", "")
        );
        r
    }

    fn await_status(&self, code: i32, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
        let mut last = (0, Value::Null);
        let reached = wait_for(Duration::from_secs(30), || {
            let r = self.run(&["status", "--json"]);
            let v = serde_json::from_str(&r.stdout)
                .unwrap_or_else(|e| panic!("status --json: {e}: {}{}", r.stdout, r.stderr));
            last = (r.code, v);
            last.0 == code && ok(&last.1)
        });
        assert!(reached, "{what}: {last:#?}");
        last.1
    }

    fn sv_dir(&self) -> PathBuf {
        self.work.join("sv")
    }

    fn ledger(&self) -> PathBuf {
        self.work.join(format!(
            "var-lib/openim-init/life/{}/ledger.json",
            self.backend()
        ))
    }
}

fn all_running(v: &Value) -> bool {
    let p = by_unit(v);
    UNITS.iter().all(|u| p[*u]["state"] == "running")
}

fn pid(v: &Value, unit: &str) -> i64 {
    by_unit(v)[unit]["pid"].as_i64().unwrap_or_default()
}

/// The entries of `dir` but the scan daemon's own (s6-svscan's `.s6-svscan/`).
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !n.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn boot(kind: Kind) -> Option<(Env, std::sync::MutexGuard<'static, ()>)> {
    let (lock, tools): (_, &[&str]) = match kind {
        Kind::Runit => (&RUNIT, &["runsvdir", "runsv", "sv", "chpst"]),
        Kind::S6 => (
            &S6,
            &[
                "s6-svscan",
                "s6-svc",
                "s6-svstat",
                "s6-svok",
                "s6-svscanctl",
            ],
        ),
    };
    let serial = hold(lock);
    let why = missing(tools);
    if !require(why.is_none(), why.as_deref().unwrap_or_default()) {
        return None;
    }
    let work = WorkDir::new("life-scan");
    let probe_bin = probe::install(&work)?;
    let path = work.join("manifest.toml");
    let m = manifest(&work, &probe_bin, free_port(), free_port());
    crate::harness::write_manifest(&path, &m);
    for d in ["sv", "var-lib", "nothing"] {
        std::fs::create_dir_all(work.join(d)).expect("mkdir");
    }
    // started empty: install links the stack's directories
    let scan = Scan::start(&work, kind, &work.join("nothing"));
    let env = Env {
        kind,
        scan,
        work,
        manifest: path,
    };
    Some((env, serial))
}

/// install --start: the directories installed and linked, every process running (pid and
/// uptime from the supervisor), a healthy; a second install changes and restarts nothing.
fn install(e: &Env) -> Value {
    let first = e.ok(&["install", "--start"]);
    assert!(first.stdout.contains("ran: ln -sfn"), "{}", first.stdout);
    assert_eq!(entries(&e.scan.dir), UNITS, "links");
    assert_eq!(
        std::fs::read_link(e.scan.dir.join("c-1")).expect("link"),
        e.sv_dir().join("c-1")
    );
    let v = e.await_status(0, "all running and healthy", all_running);
    let p = by_unit(&v);
    assert_eq!(p["a"]["health"], "ok", "{v:#}");
    assert_eq!(p["b"]["health"], "none", "{v:#}");
    assert_eq!(p["c-1"]["instance"], "1", "{v:#}");
    for u in UNITS {
        assert!(pid(&v, u) > 0, "{u}: {v:#}");
        assert!(p[u]["uptime_s"].as_u64().is_some(), "{u}: {v:#}");
    }
    let again = e.ok(&["install", "--start"]);
    assert!(again.stdout.contains("0 changed"), "{}", again.stdout);
    let same = e.await_status(0, "still running", all_running);
    for u in UNITS {
        assert_eq!(pid(&same, u), pid(&v, u), "a second install restarted {u}");
    }
    v
}

/// SIGKILL (the test plays the crash) healed by the supervisor; a group stopped and
/// started; restart; one instance; logs; the table.
fn drive(e: &Env, v: &Value) {
    let b = pid(v, "b");
    crate::harness::procs::kill(i32::try_from(b).expect("pid"), libc::SIGKILL);
    e.await_status(0, "b restarted", |v| all_running(v) && pid(v, "b") != b);
    let stop = e.ok(&["stop", "g"]);
    assert_eq!(stop.stdout, "stop: c-1\nstop: c-0\n", "reverse order");
    e.await_status(3, "g stopped, others running", |v| {
        let p = by_unit(v);
        p["c-0"]["state"] == "stopped"
            && p["c-1"]["state"] == "stopped"
            && p["c-0"]["pid"].is_null()
            && p["a"]["state"] == "running"
            && p["b"]["state"] == "running"
    });
    e.ok(&["start", "g"]);
    let v = e.await_status(0, "g running again", all_running);
    let a = pid(&v, "a");
    e.ok(&["restart", "a"]);
    e.await_status(0, "a restarted", |v| all_running(v) && pid(v, "a") != a);
    e.ok(&["stop", "c@1"]);
    e.await_status(3, "c-1 stopped", |v| {
        by_unit(v)["c-1"]["state"] == "stopped"
    });
    e.ok(&["start", "c@1"]);
    e.await_status(0, "c-1 running again", all_running);
    let logs = e.ok(&["logs", "b", "-n", "5"]);
    assert!(logs.stdout.lines().count() <= 5, "{}", logs.stdout);
    let table = e.ok(&["status"]).stdout;
    assert!(
        table.contains("c-0") && table.contains("running"),
        "{table}"
    );
    println!("{table}");
}

/// A changed file restarts only the units whose directory holds it (c's environment gains
/// a variable: a new `env/` file for runit, a changed `run` for s6); a service that left
/// the manifest is stopped, unlinked and its directory removed; the others keep running.
fn changes(e: &Env) {
    let v = e.await_status(0, "all running", all_running);
    let before: Vec<i64> = UNITS.iter().map(|u| pid(&v, u)).collect();
    let mut m: Value =
        toml::from_str(&std::fs::read_to_string(&e.manifest).expect("read")).expect("manifest");
    m["services"]["c"]["environment"]["V"] = "2".into();
    write_manifest(&e.manifest, &m);
    let r = e.ok(&["install"]);
    let restarted: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.contains(" -r ") || l.contains("try-restart"))
        .filter_map(|l| l.rsplit('/').next())
        .collect();
    assert_eq!(restarted, ["c-0", "c-1"], "{}", r.stdout);
    let now = |v: &Value| UNITS.map(|u| pid(v, u));
    let v = e.await_status(0, "c restarted", |v| {
        let p = now(v);
        all_running(v) && p[2] != before[2] && p[3] != before[3]
    });
    assert_eq!(
        now(&v)[..2],
        before[..2],
        "a or b was restarted:\n{}",
        r.stdout
    );
    let b = pid(&v, "b");
    m["services"].as_object_mut().expect("services").remove("b");
    write_manifest(&e.manifest, &m);
    let r = e.ok(&["install"]);
    assert!(r.stdout.contains("removed"), "{}", r.stdout);
    assert_eq!(entries(&e.scan.dir), ["a", "c-0", "c-1"], "links");
    assert_eq!(entries(&e.sv_dir()), ["a", "c-0", "c-1"], "directories");
    let left = e.await_status(0, "a and c running, b gone", |v| {
        let p = by_unit(v);
        !p.contains_key("b")
            && ["a", "c-0", "c-1"]
                .iter()
                .all(|u| p[*u]["state"] == "running")
    });
    assert_eq!(pid(&left, "a"), before[0], "a was restarted");
    assert!(
        wait_for(Duration::from_secs(30), || !Path::new(&format!(
            "/proc/{b}"
        ))
        .exists()),
        "b's process {b} still runs"
    );
}

/// uninstall: no link, no directory, no ledger, no process of the stack; the daemon
/// then shuts down with nothing to kill.
fn uninstall(e: &mut Env) {
    let r = e.ok(&["uninstall"]);
    assert!(r.stdout.contains("ran: rm -f"), "{}", r.stdout);
    assert!(
        entries(&e.scan.dir).is_empty(),
        "{:?}",
        entries(&e.scan.dir)
    );
    assert!(
        entries(&e.sv_dir()).is_empty(),
        "{:?}",
        entries(&e.sv_dir())
    );
    assert!(!e.ledger().exists(), "ledger left");
    assert!(
        wait_for(Duration::from_secs(10), || e.scan.processes().is_empty()),
        "processes left: {:?}",
        e.scan.processes()
    );
    let c = e.scan.shutdown();
    assert!(c.is_clean(), "{c:#?}");
}

fn cycle(kind: Kind) {
    let Some((mut e, _serial)) = boot(kind) else {
        return;
    };
    let v = install(&e);
    assert!(e.ledger().exists());
    drive(&e, &v);
    changes(&e);
    uninstall(&mut e);
}

#[test]
fn runit_install_status_crash_stop_uninstall() {
    cycle(Kind::Runit);
}

#[test]
fn s6_install_status_crash_stop_uninstall() {
    cycle(Kind::S6);
}
