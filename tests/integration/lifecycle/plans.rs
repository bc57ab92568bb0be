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

#[test]
fn launchd_install_plan() {
    let commands = plan("launchd", &["--start"]);
    insta_settings("lifecycle").bind(|| insta::assert_snapshot!("launchd_install_start", commands));
}

#[test]
fn systemd_install_plans() {
    let system = plan("systemd", &["--start"]);
    let user = plan("systemd", &["--user", "--no-enable"]);
    insta_settings("lifecycle").bind(|| {
        insta::assert_snapshot!("systemd_install_start", system);
        insta::assert_snapshot!("systemd_user_install_no_enable", user);
    });
}
