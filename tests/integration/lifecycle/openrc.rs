//! The whole cycle under real OpenRC (Debian's openrc with `supervise-daemon`), with
//! openim-init itself run *inside* the harness's private mount namespace (`nsenter -t
//! HOLDER -m -- openim-init …`): its `/etc/init.d`, `/etc/runlevels` and `/run/openrc` are
//! the test's, and `/var/lib` (the ledger) is a work directory bind-mounted there. The host's
//! OpenRC files are never touched.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use super::manifest;
use super::scenario::{Life, drive, reinstall_changes_nothing};
use crate::common::{CLI_BIN, Run};
use crate::harness::openrc::{OpenRc, require_openrc};
use crate::harness::{OPENRC, WorkDir, free_port, hold, probe, run_timeout, wait_for};

struct Env {
    rc: OpenRc,
    work: WorkDir,
    manifest: PathBuf,
}

impl Life for Env {
    fn units(&self) -> [&'static str; 4] {
        ["a", "b", "c.0", "c.1"]
    }

    fn run(&self, args: &[&str]) -> Run {
        let manifest = self.manifest.display().to_string();
        let mut words = vec![CLI_BIN];
        words.extend_from_slice(args);
        words.extend(["--backend", "openrc", "--manifest", &manifest]);
        let mut cmd = self.rc.command(&words);
        cmd.env("NO_COLOR", "1");
        run_timeout(&mut cmd, Duration::from_mins(2))
    }

    fn diagnostics(&self) -> String {
        self.rc.diagnostics()
    }
}

impl Env {
    fn init_d(&self) -> PathBuf {
        self.rc.dir.join("init.d")
    }

    fn ledger(&self) -> PathBuf {
        self.work
            .join("var-lib/openim-init/life/openrc/ledger.json")
    }
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
    reinstall_changes_nothing(e).0
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
        e.all_running(v) && e.pid(v, 1) != e.pid(&before, 1)
    });
    for i in [0, 2, 3] {
        assert_eq!(e.pid(&after, i), e.pid(&before, i), "{i} was restarted");
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
