//! The whole cycle under a real supervisord (`PyPI` supervisor in the venv, `supervisord -n`
//! on a main configuration the test writes, with `[include] files = conf.d/*.ini`). Each
//! openim-init runs with `--supervisord-conf FILE` in a private mount namespace of its own
//! whose `/var/lib` is a work directory (the ledger; the host's `/var/lib` stays untouched);
//! it finds the include directory and the socket in FILE and drives supervisord with
//! `supervisorctl -c FILE -s unix://SOCKET`.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use super::{by_unit, manifest};
use crate::common::{CLI_BIN, Run};
use crate::harness::supervisord::{self as sv, Daemon, DaemonPaths, require_daemon};
use crate::harness::{SUPERVISORD, WorkDir, free_port, hold, probe, run_timeout, wait_for};

const UNITS: [&str; 4] = ["life:a", "life:b", "life:c_0", "life:c_1"];

struct Env {
    daemon: Daemon,
    work: WorkDir,
    conf: PathBuf,
    manifest: PathBuf,
}

impl Env {
    fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, true)
    }

    fn run_with(&self, args: &[&str], backend: bool) -> Run {
        let path = format!("{}:{}", sv::venv().join("bin").display(), sv::PATH);
        let mut cmd = Command::new("unshare");
        cmd.args(["--mount", "--propagation", "private", "/bin/sh", "-c"])
            .arg("mount --bind \"$0\" /var/lib && exec \"$@\"")
            .arg(self.work.join("var-lib"))
            .arg(CLI_BIN)
            .args(args)
            .args(if backend {
                &["--backend", "supervisord"][..]
            } else {
                &[]
            })
            .arg("--supervisord-conf")
            .arg(&self.conf)
            .arg("--manifest")
            .arg(&self.manifest)
            .env_clear()
            .env("PATH", path)
            .env("NO_COLOR", "1");
        run_timeout(&mut cmd, Duration::from_mins(2))
    }

    fn ok(&self, args: &[&str]) -> Run {
        self.ok_with(args, true)
    }

    /// As [`Env::ok`]; without `backend`, openim-init must detect supervisord itself (its
    /// socket, named in `--supervisord-conf`, answers).
    fn ok_with(&self, args: &[&str], backend: bool) -> Run {
        let r = self.run_with(args, backend);
        assert_eq!(
            r.code,
            0,
            "{args:?}\nstdout:\n{}\nstderr:\n{}\n{}",
            r.stdout,
            r.stderr,
            self.daemon.diagnostics()
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
        assert!(reached, "{what}: {last:#?}\n{}", self.daemon.diagnostics());
        last.1
    }

    fn include(&self) -> PathBuf {
        self.work.join("conf.d")
    }
}

fn all_running(v: &Value) -> bool {
    let p = by_unit(v);
    UNITS.iter().all(|u| p[*u]["state"] == "running")
}

fn pid(v: &Value, unit: &str) -> i64 {
    by_unit(v)[unit]["pid"].as_i64().unwrap_or_default()
}

/// The main configuration: socket, daemon files, and `[include]` relative to it. The
/// `[supervisorctl]` section is only for the harness (openim-init passes the socket itself).
fn main_conf(paths: &DaemonPaths) -> String {
    format!(
        "[unix_http_server]\nfile={sock} ; the socket\n\
         [supervisord]\nlogfile={log}\npidfile={pid}\nchildlogdir={dir}\n\
         [rpcinterface:supervisor]\n\
         supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\
         [supervisorctl]\nserverurl=unix://{sock}\n\
         [include]\nfiles = conf.d/*.ini\n",
        sock = paths.socket.display(),
        log = paths.logfile.display(),
        pid = paths.pidfile.display(),
        dir = paths.dir.display(),
    )
}

fn boot() -> Option<(Env, std::sync::MutexGuard<'static, ()>)> {
    let serial = hold(&SUPERVISORD);
    if !require_daemon() {
        return None;
    }
    let work = WorkDir::new("life-sv");
    let probe_bin = probe::install(&work)?;
    let path = work.join("manifest.toml");
    let m = manifest(&work, &probe_bin, free_port(), free_port());
    crate::harness::write_manifest(&path, &m);
    for d in ["conf.d", "var-lib"] {
        std::fs::create_dir_all(work.join(d)).expect("mkdir");
    }
    let paths = DaemonPaths::new(&work);
    let conf = work.join("supervisord.conf");
    std::fs::write(&conf, main_conf(&paths)).expect("write conf");
    let daemon = Daemon::start(&work, &conf, &paths);
    let env = Env {
        daemon,
        work,
        conf,
        manifest: path,
    };
    Some((env, serial))
}

/// install --start into the include directory; all running, a healthy; a second install
/// changes and restarts nothing.
fn install(e: &Env) -> Value {
    let first = e.ok(&["install", "--start"]);
    assert!(first.stdout.contains("wrote /"), "{}", first.stdout);
    assert!(e.include().join("life.ini").is_file(), "{}", first.stdout);
    let sock = format!(
        "-s unix://{}",
        e.work.join("supervisord/supervisor.sock").display()
    );
    assert!(first.stdout.contains(&sock), "{}", first.stdout);
    let v = e.await_status(0, "all running and healthy", all_running);
    assert_eq!(by_unit(&v)["life:a"]["health"], "ok");
    assert!(UNITS.iter().all(|u| pid(&v, u) > 0), "{v:#}");
    let again = e.ok(&["install", "--start"]);
    assert!(again.stdout.contains("0 changed"), "{}", again.stdout);
    let same = e.await_status(0, "still running", all_running);
    assert!(
        UNITS.iter().all(|u| pid(&same, u) == pid(&v, u)),
        "restarted: {same:#}"
    );
    v
}

/// SIGKILL healed, a group stopped and started, restart, one instance, logs.
fn drive(e: &Env, v: &Value) {
    // the test plays the crash; supervisord restarts it (it counts no restarts: a new pid)
    let b = pid(v, "life:b");
    crate::harness::procs::kill(i32::try_from(b).expect("pid"), libc::SIGKILL);
    e.await_status(0, "b restarted", |v| {
        all_running(v) && pid(v, "life:b") != b
    });

    e.ok(&["stop", "g"]);
    e.await_status(3, "g stopped, others running", |v| {
        let p = by_unit(v);
        p["life:c_0"]["state"] == "stopped"
            && p["life:c_1"]["state"] == "stopped"
            && p["life:a"]["state"] == "running"
            && p["life:b"]["state"] == "running"
    });
    e.ok(&["start", "g"]);
    let v = e.await_status(0, "g running again", all_running);
    let a = pid(&v, "life:a");
    e.ok(&["restart", "a"]);
    e.await_status(0, "a restarted", |v| {
        all_running(v) && pid(v, "life:a") != a
    });
    e.ok(&["stop", "c@1"]);
    e.await_status(3, "c_1 stopped", |v| {
        by_unit(v)["life:c_1"]["state"] == "stopped"
    });
    e.ok(&["start", "c@1"]);
    e.await_status(0, "c_1 running again", all_running);
    let logs = e.ok(&["logs", "b", "-n", "5"]);
    assert!(logs.stdout.lines().count() <= 5, "{}", logs.stdout);
    let table = e.ok_with(&["status"], false).stdout;
    assert!(table.contains("(supervisord)"), "detected: {table}");
    println!("{table}");
}

/// uninstall: no program file, no ledger, no process, supervisord knows nothing of it.
fn uninstall(e: &mut Env) {
    let gone = e.ok(&["uninstall"]);
    assert!(gone.stdout.contains("removed /"), "{}", gone.stdout);
    assert!(!e.include().join("life.ini").exists());
    assert!(
        !e.work
            .join("var-lib/openim-init/life/supervisord/ledger.json")
            .exists()
    );
    assert!(
        wait_for(Duration::from_secs(10), || e.daemon.processes().is_empty()),
        "left: {:?}",
        e.daemon.processes()
    );
    assert!(
        e.daemon.status().is_empty(),
        "supervisord still knows: {:?}",
        e.daemon.status()
    );
    e.daemon.shutdown().assert_clean();
}

#[test]
fn supervisord_install_status_crash_stop_uninstall() {
    let Some((mut e, _serial)) = boot() else {
        return;
    };
    let v = install(&e);
    drive(&e, &v);
    uninstall(&mut e);
}
