//! Command plans, recorded by `--dry-run` and snapshotted: what install would run for
//! backends whose init system cannot run here (launchd), and for systemd system-wide.
//! A dry run changes nothing: the fresh HOME and state stay empty.

use crate::common::{Cli, insta_settings};

/// `install --dry-run` of the built-in manifest in a fresh home; returns the command plan.
fn plan(backend: &str, extra: &[&str]) -> String {
    let home = tempfile::tempdir().expect("home");
    let r = Cli::new()
        .args(["install", "--dry-run", "--force", "--backend", backend])
        .args(extra)
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join(".config"))
        .env("XDG_STATE_HOME", home.path().join(".state"))
        .ok();
    let empty = std::fs::read_dir(home.path())
        .expect("home")
        .next()
        .is_none();
    assert!(empty, "a dry run wrote into HOME");
    let (_, commands) = r
        .stdout
        .split_once("commands that would run:\n")
        .unwrap_or_else(|| panic!("no command plan:\n{}", r.stdout));
    commands.to_owned()
}

/// Whether this machine has no `openim` user and no /data/openim (host installs then plan
/// to create them; the plans below are snapshotted for such a machine).
fn no_openim_here() -> bool {
    let user = std::process::Command::new("getent")
        .args(["passwd", "openim"])
        .output()
        .is_ok_and(|o| o.status.success());
    let missing = !user && !std::path::Path::new("/data/openim").exists();
    if !missing {
        eprintln!("skipped: this machine has an openim user or /data/openim");
    }
    missing
}

/// A host install creates the missing user, group and directories (`BusyBox` tools only
/// where there is no useradd): openrc and supervisord with useradd and install -d.
#[test]
fn host_install_plans_create_the_missing_user_and_directories() {
    if !no_openim_here() {
        return;
    }
    let openrc = plan("openrc", &["--start"]);
    let shown = Cli::new()
        .args(["install", "--dry-run", "--backend", "supervisord"])
        .args(["--supervisord-conf", "/dev/null/none"])
        .run();
    assert_eq!(
        shown.code, 1,
        "a missing --supervisord-conf is an error: {shown:?}"
    );
    let home = tempfile::tempdir().expect("home");
    let conf = home.path().join("supervisord.conf");
    std::fs::write(&conf, "[include]\nfiles = conf.d/*.ini\n").expect("conf");
    let shown = Cli::new()
        .args([
            "install",
            "--dry-run",
            "--backend",
            "supervisord",
            "--supervisord-conf",
        ])
        .arg(&conf)
        .ok()
        .stdout;
    for line in [
        "would create group openim",
        "would create user openim",
        "would create directory /data/openim",
        "useradd -r -M -d /data/openim",
    ] {
        assert!(shown.contains(line), "{line}: {shown}");
    }
    let ini = format!("create: {}/conf.d/openim.ini", home.path().display());
    assert!(shown.contains(&ini), "{ini}: {shown}");
    insta_settings("lifecycle").bind(|| insta::assert_snapshot!("openrc_install_start", openrc));
}

/// launchd: every job enabled, then bootstrapped (which starts it); `--user` drives the
/// user's `gui/UID` domain (the uid shown as `<uid>`) with the plists in
/// `~/Library/LaunchAgents`.
#[test]
fn launchd_install_plan() {
    let commands = plan("launchd", &["--start"]);
    let uid = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        })
        .expect("uid");
    let user = plan("launchd", &["--user"]).replace(&format!("gui/{uid}"), "gui/<uid>");
    let home = tilde_home(&user);
    insta_settings("lifecycle").bind(|| {
        insta::assert_snapshot!("launchd_install_start", commands);
        insta::assert_snapshot!("launchd_user_install", home);
    });
}

/// The temporary HOME in a plan replaced by `~`.
fn tilde_home(plan: &str) -> String {
    plan.lines()
        .map(|l| match l.find("/Library/LaunchAgents/") {
            Some(at) => {
                let start = l[..at].rfind(' ').map_or(0, |s| s + 1);
                format!("{}~{}", &l[..start], &l[at..])
            }
            None => l.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn systemd_install_plans() {
    if !no_openim_here() {
        return;
    }
    let system = plan("systemd", &["--start"]);
    let user = plan("systemd", &["--user", "--no-enable"]);
    insta_settings("lifecycle").bind(|| {
        insta::assert_snapshot!("systemd_install_start", system);
        insta::assert_snapshot!("systemd_user_install_no_enable", user);
    });
}
