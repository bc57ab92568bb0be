//! The command line as users run it.

use crate::common::{Cli, fixture};

#[test]
fn generate_prints_every_file_with_a_header() {
    let r = Cli::new().args(["generate", "--backend", "systemd"]).ok();
    assert!(r.stdout.contains("==== openim.target (0644) ===="));
    assert!(
        r.stdout
            .contains("==== openim-msgtransfer@.service (0644) ====")
    );
    assert!(
        r.stdout.contains(
            "ExecStart=/opt/openim/bin/openim-msgtransfer -i \"%i\" -c /etc/openim/config/"
        )
    );
}

#[test]
fn generate_out_writes_files_and_lists_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let r = Cli::new()
        .args(["generate", "--backend", "systemd", "--out"])
        .arg(dir.path())
        .ok();
    for f in [
        "openim.target",
        "openim-msgtransfer@.service",
        "openim-api.service",
        "openim-rpc.target",
    ] {
        assert!(dir.path().join(f).is_file(), "{f} missing");
        assert!(r.stdout.contains(f), "{f} not listed");
    }
}

#[test]
fn unknown_backend_is_a_usage_error() {
    let r = Cli::new().args(["generate", "--backend", "upstart"]).run();
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("invalid value 'upstart'")
            && r.stderr
                .contains("possible values: systemd, openrc, supervisord, launchd"),
        "{}",
        r.stderr
    );
}

#[test]
fn invalid_manifest_exits_2_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "name = \"x\"\n[services.a]\ncommand = [\"/bin/a\"]\nrequires = [\"nope\"]\n",
    )
    .expect("write");
    let out = dir.path().join("out");
    let r = Cli::new()
        .args(["generate", "--backend", "systemd", "--manifest"])
        .arg(&bad)
        .arg("--out")
        .arg(&out)
        .run();
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("bad.toml:4:13: services.a.requires[0]: `nope` is not a service or external"),
        "{}",
        r.stderr
    );
    assert!(
        !out.exists(),
        "nothing may be written for an invalid manifest"
    );
}

#[test]
fn validate_reports_the_stack() {
    let r = Cli::new()
        .args(["validate", "--manifest"])
        .arg(fixture("full.toml"))
        .ok();
    assert!(
        r.stdout.contains("stack `full`: 4 services (7 processes)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("start order: api → worker → indexer → cron"),
        "{}",
        r.stdout
    );
}

#[test]
fn manifest_show_prints_the_builtin_manifest_which_validates() {
    let r = Cli::new().args(["manifest", "show"]).ok();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("openim.toml");
    std::fs::write(&path, &r.stdout).expect("write");
    let v = Cli::new().args(["validate", "--manifest"]).arg(&path).ok();
    assert!(
        v.stdout.contains("12 services (15 processes), 5 externals"),
        "{}",
        v.stdout
    );
}

#[test]
fn templates_dump_then_override_changes_the_output() {
    let dir = tempfile::tempdir().expect("tempdir");
    Cli::new().args(["templates", "dump"]).arg(dir.path()).ok();
    let tpl = dir.path().join("systemd/target.tera");
    let text = std::fs::read_to_string(&tpl).expect("dumped");
    std::fs::write(&tpl, text.replace("[Unit]", "[Unit]\n# site override")).expect("write");
    let r = Cli::new()
        .args(["generate", "--backend", "systemd", "--templates"])
        .arg(dir.path())
        .ok();
    assert!(r.stdout.contains("# site override"));
}

#[test]
fn backends_lists_the_capability_matrix() {
    let r = Cli::new().arg("backends").ok();
    assert!(r.stdout.contains("systemd"));
    assert!(r.stdout.contains("health"));
    let j = Cli::new().args(["backends", "--json"]).ok();
    let v: serde_json::Value = serde_json::from_str(&j.stdout).expect("json");
    assert_eq!(v[0]["name"], "systemd");
    assert_eq!(v[0]["features"]["restart"]["support"], "native");
}

#[test]
fn strict_turns_warnings_into_exit_3_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let r = Cli::new()
        .args(["generate", "--backend", "systemd", "--strict", "--out"])
        .arg(&out)
        .run();
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("health"), "{}", r.stderr);
    assert!(!out.exists());
}

#[test]
fn templates_dump_never_overwrites_an_edited_template() {
    let dir = tempfile::tempdir().expect("tempdir");
    Cli::new().args(["templates", "dump"]).arg(dir.path()).ok();
    Cli::new().args(["templates", "dump"]).arg(dir.path()).ok(); // unchanged: fine
    let tpl = dir.path().join("systemd/service.tera");
    std::fs::write(&tpl, "# my edits\n").expect("edit");
    let r = Cli::new().args(["templates", "dump"]).arg(dir.path()).run();
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&tpl).expect("kept"), "# my edits\n");
}

#[test]
fn a_flag_of_another_backend_is_a_usage_error() {
    for (backend, flag) in [
        ("systemd", vec!["--standalone"]),
        ("openrc", vec!["--label-prefix", "com.example"]),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let r = Cli::new()
            .args(["generate", "--backend", backend])
            .args(&flag)
            .arg("--out")
            .arg(dir.path())
            .run();
        assert_eq!(r.code, 2, "{backend} {flag:?}: {}", r.stderr);
        assert!(r.stderr.contains("applies to --backend"), "{}", r.stderr);
        assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0);
    }
}
