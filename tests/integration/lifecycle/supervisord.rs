//! The whole cycle under a real supervisord (`PyPI` supervisor in the venv, `supervisord -n`
//! on a main configuration the test writes, with `[include] files = conf.d/*.ini`). Each
//! openim-init runs with `--supervisord-conf FILE` in a private mount namespace of its own
//! whose `/var/lib` is a work directory (the ledger; the host's `/var/lib` stays untouched);
//! it finds the include directory and the socket in FILE and drives supervisord with
//! `supervisorctl -c FILE -s unix://SOCKET`.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use super::scenario::{Life, drive, reinstall_changes_nothing};
use super::{cli_with_private_var_lib, manifest};
use crate::common::Run;
use crate::harness::supervisord::{self as sv, Daemon, DaemonPaths, require_daemon};
use crate::harness::{SUPERVISORD, WorkDir, free_port, hold, probe, run_timeout, wait_for};

struct Env {
    daemon: Daemon,
    work: WorkDir,
    conf: PathBuf,
    manifest: PathBuf,
}

impl Life for Env {
    fn units(&self) -> [&'static str; 4] {
        ["life:a", "life:b", "life:c_0", "life:c_1"]
    }

    fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, true)
    }

    fn diagnostics(&self) -> String {
        self.daemon.diagnostics()
    }

    /// supervisord counts no restarts: a crash shows as a new pid.
    fn counts_restarts(&self) -> bool {
        false
    }
}

impl Env {
    fn run_with(&self, args: &[&str], backend: bool) -> Run {
        let path = format!("{}:{}", sv::venv().join("bin").display(), sv::PATH);
        let mut cmd = cli_with_private_var_lib(&self.work);
        cmd.args(args)
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

    /// As [`Life::ok`]; without `backend`, openim-init must detect supervisord itself (its
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

    fn include(&self) -> PathBuf {
        self.work.join("conf.d")
    }
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
    reinstall_changes_nothing(e).0
}

/// The shared day of an operator, then `status` without `--backend` detects supervisord
/// (its socket, named in `--supervisord-conf`, answers).
fn drive_and_detect(e: &Env, v: &Value) {
    drive(e, v);
    let table = e.ok_with(&["status"], false).stdout;
    assert!(table.contains("(supervisord)"), "detected: {table}");
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
    drive_and_detect(&e, &v);
    uninstall(&mut e);
}
