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
    // the refusal's hint works as written
    assert!(r.stderr.contains("use --force"), "{}", r.stderr);
    Cli::new()
        .args(["templates", "dump", "--force"])
        .arg(dir.path())
        .ok();
    let restored = std::fs::read_to_string(&tpl).expect("restored");
    assert!(restored.contains("[Service]"), "{restored}");
    // the edit is kept as a backup outside the template tree
    let bak = dir.path().join(".openim-init/backup/systemd/service.tera");
    assert_eq!(
        std::fs::read_to_string(&bak).expect("backup kept"),
        "# my edits\n"
    );
}

#[test]
fn manifest_dash_reads_stdin() {
    let text = std::fs::read(fixture("minimal.toml")).expect("fixture");
    let tmp = tempfile::NamedTempFile::new().expect("tempfile");
    std::fs::write(tmp.path(), &text).expect("write");
    let stdin = std::fs::File::open(tmp.path()).expect("open");
    let r = Cli::new()
        .args(["validate", "--manifest", "-"])
        .stdin(stdin)
        .ok();
    let direct = Cli::new()
        .args(["validate", "--manifest"])
        .arg(fixture("minimal.toml"))
        .ok();
    assert_eq!(r.stdout, direct.stdout);
    // errors name stdin
    let stdin = std::fs::File::open("/dev/null").expect("open");
    let r = Cli::new().args(["validate", "-m", "-"]).stdin(stdin).run();
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("error: <stdin>:1:1: name:"),
        "{}",
        r.stderr
    );
}

#[test]
fn manifest_size_is_capped_whatever_the_file() {
    let r = Cli::new().args(["validate", "-m", "/dev/zero"]).run();
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("larger than 16 MiB"), "{}", r.stderr);
    // a sparse regular file is refused by its size, without reading it
    let big = tempfile::NamedTempFile::new().expect("tempfile");
    big.as_file().set_len(17 << 20).expect("set_len");
    let r = Cli::new().args(["validate", "-m"]).arg(big.path()).run();
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("larger than 16 MiB"), "{}", r.stderr);
    // stdin too
    let r = Cli::new()
        .args(["validate", "-m", "-"])
        .stdin(std::fs::File::open("/dev/zero").expect("/dev/zero"))
        .run();
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("larger than 16 MiB"), "{}", r.stderr);
}

#[test]
fn a_fifo_manifest_is_read_and_a_missing_writer_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("m.fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo");
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let text = std::fs::read(fixture("minimal.toml")).expect("fixture");
            std::fs::write(fifo, text).expect("write to the fifo");
        })
    };
    Cli::new().args(["validate", "-m"]).arg(&fifo).ok();
    writer.join().expect("writer");
    // without a writer it waits, and says what for
    let mut child = std::process::Command::new(crate::common::CLI_BIN)
        .args(["validate", "-m"])
        .arg(&fifo)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    std::thread::sleep(std::time::Duration::from_secs(3));
    child.kill().expect("kill");
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("waiting for a writer"), "{stderr}");
}

#[test]
fn verify_names_only_the_verifiers_that_ran() {
    if !crate::common::require(which_python(), "python3 for the launchd verifier") {
        return;
    }
    for backend in ["launchd", "openrc"] {
        let r = Cli::new().args(["verify", "--backend", backend]).run();
        assert_eq!(r.code, 0, "{backend}: {}\n{}", r.stdout, r.stderr);
        let ok = r
            .stdout
            .lines()
            .find(|l| l.starts_with("ok: "))
            .unwrap_or_else(|| panic!("{backend}: no ok line: {}", r.stdout));
        for tool in ["plutil", "plistutil", "rc-depend"] {
            let ran = r
                .stdout
                .lines()
                .any(|l| l.starts_with("ran: ") && l.contains(&format!("{tool} ")));
            let claimed = ok
                .trim_start_matches("ok: ")
                .split([',', ' '])
                .any(|w| w == tool);
            assert_eq!(ran, claimed, "{backend}: {tool}: {}", r.stdout);
        }
    }
}

fn which_python() -> bool {
    std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn the_longest_durations_add_up_without_wrapping() {
    // three externals at the longest wait accepted, and a health window: TimeoutStartSec is
    // their sum (+30s), not a wrapped remainder
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = dir.path().join("m.toml");
    let mut text = String::from("name = \"x\"\n");
    for (i, e) in ["a", "b", "c"].iter().enumerate() {
        text.push_str(&format!(
            "[external.{e}]\ncheck = {{ tcp = \"127.0.0.1:{}\" }}\nwait_timeout = \"30d\"\n",
            i + 1
        ));
    }
    text.push_str(
        "[services.api]\ncommand = [\"/bin/api\"]\nrequires = [\"a\", \"b\", \"c\"]\n\
         health = { tcp = \"127.0.0.1:9\", interval = \"30d\", timeout = \"30d\", retries = 1000 }\n",
    );
    std::fs::write(&manifest, text).expect("write");
    let r = Cli::new()
        .args(["generate", "-b", "systemd", "-m"])
        .arg(&manifest)
        .ok();
    let day = 86_400_u64;
    let want = 3 * 30 * day + (30 * day * 1000 + 30 * day) + 30;
    assert!(
        r.stdout.contains(&format!("TimeoutStartSec={want}s")),
        "{}",
        r.stdout
    );
    for backend in ["openrc", "supervisord", "launchd"] {
        Cli::new()
            .args(["generate", "-b", backend, "-m"])
            .arg(&manifest)
            .ok();
    }
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
