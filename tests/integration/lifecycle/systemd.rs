//! The whole cycle under a real `systemd --user` manager (the harness's, never PID 1, in a
//! private mount namespace): openim-init installs into the manager's unit directory
//! (`$XDG_CONFIG_HOME/systemd/user`) and drives it with `systemctl --user`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use super::manifest;
use super::scenario::{Life, drive, reinstall_changes_nothing};
use crate::common::{Cli, Run};
use crate::harness::systemd::{UserManager, require_manager};
use crate::harness::{SYSTEMD, WorkDir, free_port, hold, probe, wait_for, write_manifest};

/// A manager plus the environment that points openim-init at it.
struct Env {
    mgr: UserManager,
    work: WorkDir,
    units: PathBuf,
    manifest: PathBuf,
}

impl Life for Env {
    fn units(&self) -> [&'static str; 4] {
        UNITS
    }

    fn run(&self, args: &[&str]) -> Run {
        self.cli(args).run()
    }

    fn diagnostics(&self) -> String {
        self.mgr.diagnostics()
    }
}

impl Env {
    fn cli(&self, args: &[&str]) -> Cli {
        let dir = self.work.join("systemd");
        Cli::new()
            .args(args)
            .args(["--backend", "systemd", "--user", "--manifest"])
            .arg(&self.manifest)
            .env("HOME", dir.join("home"))
            .env("XDG_CONFIG_HOME", dir.join("home/.config"))
            .env("XDG_RUNTIME_DIR", dir.join("run"))
            .env("XDG_STATE_HOME", self.work.join("state"))
            .env("NO_COLOR", "1")
    }

    fn state_dir(&self) -> PathBuf {
        self.work.join("state/openim-init/life/systemd")
    }
}

fn boot(name: &str) -> Option<(Env, std::sync::MutexGuard<'static, ()>)> {
    let serial = hold(&SYSTEMD);
    if !require_manager() {
        return None;
    }
    let work = WorkDir::new(&format!("life-{name}"));
    let probe_bin = probe::install(&work)?;
    let units = work.join("systemd/home/.config/systemd/user");
    std::fs::create_dir_all(&units).expect("unit dir");
    let m = manifest(&work, &probe_bin, free_port(), free_port());
    let path = work.join("manifest.toml");
    write_manifest(&path, &m);
    let mgr = UserManager::start(&work, &units);
    let env = Env {
        mgr,
        work,
        units,
        manifest: path,
    };
    Some((env, serial))
}

const UNITS: [&str; 4] = ["a.service", "b.service", "c@0.service", "c@1.service"];

fn pids(e: &Env) -> Vec<i32> {
    UNITS.iter().map(|u| e.mgr.main_pid(u)).collect()
}

/// A dry run writes nothing and shows the diff and the commands; install --start brings
/// everything up (status: running, a healthy, b and c without a check); a second install
/// changes and restarts nothing.
fn install_and_reinstall(e: &Env) -> Value {
    let dry = e.ok(&["install", "--dry-run", "--start"]);
    assert!(dry.stdout.contains("create: /"), "{}", dry.stdout);
    assert!(dry.stdout.contains("+ExecStart="), "{}", dry.stdout);
    assert!(
        dry.stdout.contains(
            "commands that would run:\nsystemctl --user daemon-reload\n\
             systemctl --user enable life.target\nsystemctl --user start life.target\n"
        ),
        "{}",
        dry.stdout
    );
    assert!(!e.units.join("a.service").exists() && !e.state_dir().exists());

    let first = e.ok(&["install", "--start"]);
    assert!(
        first.stdout.contains("5 changed (5 created"),
        "{}",
        first.stdout
    );
    let (v, again) = reinstall_changes_nothing(e);
    assert!(!again.contains("daemon-reload"), "{again}");
    assert_eq!(v["externals"][0]["reachable"], false, "{v:#}");
    let table = e.ok(&["status"]).stdout;
    assert!(
        table.contains("UNIT") && table.contains("c@0.service  running"),
        "{table}"
    );
    v
}

/// A changed unit file restarts only its units: c's environment changes, so `c@.service`
/// is rewritten and both instances get new processes; a and b keep theirs.
fn changed_file_restarts_only_its_units(e: &Env) {
    let before = pids(e);
    let mut m: Value =
        toml::from_str(&std::fs::read_to_string(&e.manifest).expect("read")).expect("manifest");
    m["services"]["c"]["environment"]["V"] = "2".into();
    write_manifest(&e.manifest, &m);
    let r = e.ok(&["install"]);
    assert!(
        r.stdout.contains("1 changed (0 created, 1 updated"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("try-restart c@0.service"), "{}", r.stdout);
    e.await_status(0, "c restarted", |v| {
        e.all_running(v) && pids(e)[2..] != before[2..]
    });
    let after = pids(e);
    assert_eq!(after[..2], before[..2], "a or b was restarted");
    assert!(
        after[2] != before[2] && after[3] != before[3],
        "{before:?} → {after:?}"
    );
}

/// Without b in the manifest: b is stopped and its unit removed; a and c keep their
/// processes.
fn manifest_change(e: &Env) {
    let keep = [e.mgr.main_pid("a.service"), e.mgr.main_pid("c@0.service")];
    let mut m: Value =
        toml::from_str(&std::fs::read_to_string(&e.manifest).expect("read")).expect("manifest");
    m["services"].as_object_mut().expect("services").remove("b");
    write_manifest(&e.manifest, &m);
    let r = e.ok(&["install"]);
    assert!(r.stdout.contains("1 removed"), "{}", r.stdout);
    assert!(!e.units.join("b.service").exists());
    assert_eq!(e.mgr.show("b.service", "LoadState"), "not-found");
    assert_eq!(
        [e.mgr.main_pid("a.service"), e.mgr.main_pid("c@0.service")],
        keep,
        "untouched units were restarted"
    );
}

/// An edited unit is refused on install, kept on uninstall (with a warning); everything
/// else goes, the ledger too, and no process is left.
fn edited_and_uninstall(e: &mut Env) {
    let edited = e.units.join("c@.service");
    let text = std::fs::read_to_string(&edited).expect("read") + "# local edit\n";
    std::fs::write(&edited, &text).expect("edit");
    let m: Value =
        toml::from_str(&std::fs::read_to_string(&e.manifest).expect("read")).expect("manifest");
    let mut changed = m.clone();
    changed["services"]["c"]["environment"]["X"] = "1".into();
    write_manifest(&e.manifest, &changed);
    let refused = e.run(&["install"]);
    assert_eq!(refused.code, 2, "{refused:?}");
    assert!(
        refused.stderr.contains("edited since"),
        "{}",
        refused.stderr
    );
    assert_eq!(std::fs::read_to_string(&edited).expect("kept"), text);
    write_manifest(&e.manifest, &m);

    let r = e.ok(&["uninstall"]);
    assert!(r.stdout.contains("warning: kept"), "{}", r.stdout);
    assert_eq!(std::fs::read_to_string(&edited).expect("kept"), text);
    for f in ["a.service", "life.target", "g.target"] {
        assert!(!e.units.join(f).exists(), "{f} left");
    }
    assert!(!e.state_dir().join("ledger.json").exists());
    assert!(
        wait_for(Duration::from_secs(10), || e.mgr.processes().is_empty()),
        "{:?}",
        e.mgr.processes()
    );
    std::fs::remove_file(&edited).expect("rm");
    e.mgr.shutdown().assert_clean();
}

#[test]
fn install_status_drive_change_uninstall() {
    let Some((mut e, _serial)) = boot("cycle") else {
        return;
    };
    let v = install_and_reinstall(&e);
    drive(&e, &v);
    changed_file_restarts_only_its_units(&e);
    manifest_change(&e);
    edited_and_uninstall(&mut e);
}

/// Installing into a directory the ledger does not own never replaces a foreign file.
#[test]
fn a_foreign_unit_is_never_replaced_without_force() {
    let Some((mut e, _serial)) = boot("foreign") else {
        return;
    };
    let foreign = e.units.join("a.service");
    std::fs::write(&foreign, "[Unit]\nDescription=not ours\n").expect("write");
    let r = e.run(&["install"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        !e.units.join("b.service").exists(),
        "a refused run wrote something"
    );
    let forced = e.ok(&["install", "--force"]);
    assert!(forced.stdout.contains("replaced"), "{}", forced.stdout);
    let backup = e
        .state_dir()
        .join("backup")
        .join(Path::new(&foreign).strip_prefix("/").expect("absolute"));
    assert_eq!(
        std::fs::read_to_string(&backup).expect("backup kept"),
        "[Unit]\nDescription=not ours\n"
    );
    e.ok(&["uninstall", "--purge"]);
    assert!(!e.state_dir().exists());
    e.mgr.shutdown().assert_clean();
}
