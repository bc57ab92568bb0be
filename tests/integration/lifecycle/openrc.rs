//! The whole cycle under real OpenRC (Debian's openrc with `supervise-daemon`), with
//! openim-init itself run *inside* the harness's private mount namespace (`nsenter -t
//! HOLDER -m -- openim-init …`): its `/etc/init.d`, `/etc/runlevels` and `/run/openrc` are
//! the test's, and `/var/lib` (the ledger) is a work directory bind-mounted there. The host's
//! OpenRC files are never touched.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use super::{by_unit, manifest};
use crate::common::{CLI_BIN, Run};
use crate::harness::openrc::{OpenRc, require_openrc};
use crate::harness::{OPENRC, WorkDir, free_port, hold, probe, run_timeout, wait_for};

const UNITS: [&str; 4] = ["a", "b", "c.0", "c.1"];

struct Env {
    rc: OpenRc,
    work: WorkDir,
    manifest: PathBuf,
}

impl Env {
    fn run(&self, args: &[&str]) -> Run {
        let manifest = self.manifest.display().to_string();
        let mut words = vec![CLI_BIN];
        words.extend_from_slice(args);
        words.extend(["--backend", "openrc", "--manifest", &manifest]);
        let mut cmd = self.rc.command(&words);
        cmd.env("NO_COLOR", "1");
        run_timeout(&mut cmd, Duration::from_mins(2))
    }

    fn ok(&self, args: &[&str]) -> Run {
        let r = self.run(args);
        assert_eq!(
            r.code,
            0,
            "{args:?}\nstdout:\n{}\nstderr:\n{}\n{}",
            r.stdout,
            r.stderr,
            self.rc.diagnostics()
        );
        r
    }

    fn status(&self) -> (i32, Value) {
        let r = self.run(&["status", "--json"]);
        let v = serde_json::from_str(&r.stdout)
            .unwrap_or_else(|e| panic!("status --json: {e}: {}{}", r.stdout, r.stderr));
        (r.code, v)
    }

    fn await_status(&self, code: i32, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
        let mut last = (0, Value::Null);
        let reached = wait_for(Duration::from_secs(30), || {
            last = self.status();
            last.0 == code && ok(&last.1)
        });
        assert!(reached, "{what}: {last:#?}\n{}", self.rc.diagnostics());
        last.1
    }

    fn init_d(&self) -> PathBuf {
        self.rc.dir.join("init.d")
    }

    fn ledger(&self) -> PathBuf {
        self.work
            .join("var-lib/openim-init/life/openrc/ledger.json")
    }
}

fn all_running(v: &Value) -> bool {
    let p = by_unit(v);
    UNITS.iter().all(|u| p[*u]["state"] == "running")
}

fn pid(v: &Value, unit: &str) -> i64 {
    by_unit(v)[unit]["pid"].as_i64().unwrap_or_default()
}

fn boot() -> Option<(Env, std::sync::MutexGuard<'static, ()>)> {
    let serial = hold(&OPENRC);
    if !require_openrc() {
        return None;
    }
    let work = WorkDir::new("life-openrc");
    let probe_bin = probe::install(&work)?;
    let path = work.join("manifest.toml");
    crate::harness::write_manifest(
        &path,
        &manifest(&work, &probe_bin, free_port(), free_port()),
    );
    let empty = work.join("nothing-generated");
    std::fs::create_dir_all(&empty).expect("mkdir");
    // no stack to stop at shutdown: uninstall has removed it
    let rc = OpenRc::start(&work, &empty, "");
    let var_lib = work.join("var-lib");
    std::fs::create_dir_all(&var_lib).expect("mkdir");
    let var_lib = var_lib.display().to_string();
    let bind = rc.run(&["mount", "--bind", &var_lib, "/var/lib"]);
    assert_eq!(bind.code, 0, "bind /var/lib: {}", bind.stderr);
    let env = Env {
        rc,
        work,
        manifest: path,
    };
    Some((env, serial))
}

/// install --start: scripts and instance links in the namespace's init.d, the stack in
/// the default runlevel, every process running (pid and uptime from supervise-daemon), a
/// healthy; a second install changes and restarts nothing.
fn install(e: &Env) -> Value {
    let first = e.ok(&["install", "--start"]);
    assert!(
        first.stdout.contains("changed (7 created"),
        "{}",
        first.stdout
    );
    assert!(
        first.stdout.contains("ran: rc-update add life default"),
        "{}",
        first.stdout
    );
    assert_eq!(
        std::fs::read_link(e.init_d().join("c.1"))
            .expect("link")
            .to_str(),
        Some("c")
    );
    assert!(
        e.rc.dir
            .join("runlevels/default/life")
            .symlink_metadata()
            .is_ok()
    );
    let v = e.await_status(0, "all running and healthy", all_running);
    let p = by_unit(&v);
    assert_eq!(p["a"]["health"], "ok");
    assert_eq!(p["b"]["health"], "none");
    assert_eq!(p["c.1"]["instance"], "1");
    for u in UNITS {
        assert!(pid(&v, u) > 0, "{u}: {v:#}");
        assert!(p[u]["uptime_s"].as_u64().is_some(), "{u}: {v:#}");
        assert_eq!(p[u]["restarts"], 0, "{u}: {v:#}");
    }
    let again = e.ok(&["install", "--start"]);
    assert!(again.stdout.contains("0 changed"), "{}", again.stdout);
    let same = e.await_status(0, "still running", all_running);
    for u in UNITS {
        assert_eq!(pid(&same, u), pid(&v, u), "a second install restarted {u}");
    }
    v
}

/// A process killed with SIGKILL (the test plays the crash) is respawned by supervise-daemon and
/// counted; `stop g` stops only the group's instances; `start g` brings them back.
fn drive(e: &Env, v: &Value) {
    let b = pid(v, "b");
    crate::harness::procs::kill(i32::try_from(b).expect("pid"), libc::SIGKILL);
    e.await_status(0, "b respawned", |v| {
        let p = by_unit(v);
        all_running(v) && pid(v, "b") != b && p["b"]["restarts"].as_u64() >= Some(1)
    });
    e.ok(&["stop", "g"]);
    let v = e.await_status(3, "g stopped, others running", |v| {
        let p = by_unit(v);
        p["c.0"]["state"] == "stopped"
            && p["c.1"]["state"] == "stopped"
            && p["a"]["state"] == "running"
            && p["b"]["state"] == "running"
    });
    assert_eq!(by_unit(&v)["c.0"]["pid"], Value::Null);
    e.ok(&["start", "g"]);
    let v = e.await_status(0, "g running again", all_running);
    let a = pid(&v, "a");
    e.ok(&["restart", "a"]);
    e.await_status(0, "a restarted", |v| all_running(v) && pid(v, "a") != a);
    e.ok(&["stop", "c@1"]);
    e.await_status(3, "c.1 stopped", |v| {
        by_unit(v)["c.1"]["state"] == "stopped"
    });
    e.ok(&["start", "c@1"]);
    e.await_status(0, "c.1 running again", all_running);
    let logs = e.ok(&["logs", "b", "-n", "5"]);
    assert!(logs.stdout.lines().count() <= 5, "{}", logs.stdout);
    let table = e.ok(&["status"]).stdout;
    assert!(
        table.contains("c.0") && table.contains("running"),
        "{table}"
    );
    println!("{table}");
}

/// A changed script restarts only its service (`rc-service b --ifstarted restart`): b gets
/// a new process, a and the c instances keep theirs.
fn changed_file_restarts_only_its_units(e: &Env) {
    let (_, before) = e.status();
    let mut m: Value =
        toml::from_str(&std::fs::read_to_string(&e.manifest).expect("read")).expect("manifest");
    m["services"]["b"]["environment"]["V"] = "2".into();
    crate::harness::write_manifest(&e.manifest, &m);
    let r = e.ok(&["install"]);
    assert!(
        r.stdout.contains("1 changed (0 created, 1 updated"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("ran: rc-service b --ifstarted restart"),
        "{}",
        r.stdout
    );
    let after = e.await_status(0, "b restarted", |v| {
        all_running(v) && pid(v, "b") != pid(&before, "b")
    });
    for u in ["a", "c.0", "c.1"] {
        assert_eq!(pid(&after, u), pid(&before, u), "{u} was restarted");
    }
}

/// uninstall: no script, no runlevel entry, no ledger, no process of the stack.
fn uninstall(e: &mut Env) {
    let r = e.ok(&["uninstall"]);
    assert!(
        r.stdout.contains("removed /etc/init.d/life"),
        "{}",
        r.stdout
    );
    let left: Vec<_> = std::fs::read_dir(e.init_d())
        .expect("init.d")
        .map(|d| d.expect("entry").file_name())
        .collect();
    assert!(left.is_empty(), "left in init.d: {left:?}");
    assert!(
        std::fs::read_dir(e.rc.dir.join("runlevels/default"))
            .expect("runlevel")
            .next()
            .is_none()
    );
    assert!(!e.ledger().exists(), "ledger left");
    assert!(
        wait_for(Duration::from_secs(10), || e.rc.processes().is_empty()),
        "processes left: {:?}",
        e.rc.processes()
    );
    e.rc.shutdown().assert_clean();
    assert!(
        !Path::new("/run/openrc/softlevel").exists(),
        "softlevel on the host"
    );
    assert!(
        !Path::new("/etc/init.d/life").exists(),
        "a script reached the host"
    );
}

#[test]
fn openrc_install_status_crash_stop_uninstall() {
    let Some((mut e, _serial)) = boot() else {
        return;
    };
    let v = install(&e);
    assert!(e.ledger().exists());
    drive(&e, &v);
    changed_file_restarts_only_its_units(&e);
    uninstall(&mut e);
}
