//! The whole cycle under a real scan-directory supervisor: runit's `runsvdir -P` and s6's
//! `s6-svscan`, each on a private scan directory of the test ([`Scan`], started empty).
//! openim-init installs the service directories into a work directory (`--sv-dir`) and
//! links them into that scan directory (`--service-dir`); it runs in a private mount
//! namespace of its own whose `/var/lib` is a work directory (the ledger), so nothing of the
//! host (`/etc/sv`, `/etc/service`, `/run/service`, `/var/lib`) is touched.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use super::scenario::{Life, drive, reinstall_changes_nothing};
use super::{by_unit, cli_with_private_var_lib, manifest};
use crate::common::{Run, require};
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

impl Life for Env {
    fn units(&self) -> [&'static str; 4] {
        ["a", "b", "c-0", "c-1"]
    }

    fn run(&self, args: &[&str]) -> Run {
        let mut cmd = cli_with_private_var_lib(&self.work);
        cmd.args(args)
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

    fn diagnostics(&self) -> String {
        format!("scan daemon: {}", self.scan.output().replace("..", ""))
    }

    fn counts_restarts(&self) -> bool {
        false
    }

    fn group_stop_output(&self) -> Option<&'static str> {
        Some("stop: c-1\nstop: c-0\n")
    }
}

impl Env {
    fn backend(&self) -> &'static str {
        match self.kind {
            Kind::Runit => "runit",
            Kind::S6 => "s6",
        }
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
    reinstall_changes_nothing(e).0
}

/// A changed file restarts only the units whose directory holds it (c's environment gains
/// a variable: a new `env/` file for runit, a changed `run` for s6); a service that left
/// the manifest is stopped, unlinked and its directory removed; the others keep running.
fn changes(e: &Env) {
    let v = e.await_status(0, "all running", |v| e.all_running(v));
    let before = e.pids(&v);
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
    let v = e.await_status(0, "c restarted", |v| {
        let p = e.pids(v);
        e.all_running(v) && p[2] != before[2] && p[3] != before[3]
    });
    assert_eq!(
        e.pids(&v)[..2],
        before[..2],
        "a or b was restarted:\n{}",
        r.stdout
    );
    let b = e.pid(&v, 1);
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
    assert_eq!(e.pid(&left, 0), before[0], "a was restarted");
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
