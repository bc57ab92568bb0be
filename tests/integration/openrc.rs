//! OpenRC: the generated scripts parse (`sh -n`), instance links point at their script,
//! the quoting survives OpenRC's `eval` ([`quoting`]), and `verify` works.

mod quoting;

use std::process::Command;

use openim_init::backend::BackendKind;
use openim_init::backend::{Artifact, Rendered};
use openim_init::output;

use crate::common::{Cli, FIXTURES, fixture, generate_into, is_root, optional_tool, require};

/// Every script of every fixture passes `sh -n` (and busybox ash's parser when present);
/// every instance link points at its script.
#[test]
fn generated_scripts_parse() {
    let mut parsers = vec![vec!["sh", "-n"]];
    if optional_tool("busybox", "busybox ash, Alpine's /bin/sh").is_some() {
        parsers.push(vec!["busybox", "sh", "-n"]);
    }
    for name in FIXTURES.iter().copied().chain(["openim"]) {
        let manifest = (name != "openim").then(|| fixture(&format!("{name}.toml")));
        let out = generate_into("openrc", manifest.as_deref(), &[]);
        let dir = out.path().join("init.d");
        let mut scripts = 0;
        for entry in std::fs::read_dir(&dir).expect("init.d") {
            let path = entry.expect("entry").path();
            let meta = std::fs::symlink_metadata(&path).expect("meta");
            if meta.file_type().is_symlink() {
                let target = std::fs::read_link(&path).expect("link");
                assert!(
                    dir.join(&target).is_file(),
                    "{} -> {}",
                    path.display(),
                    target.display()
                );
                continue;
            }
            scripts += 1;
            let text = std::fs::read_to_string(&path).expect("script");
            assert!(
                text.starts_with("#!/sbin/openrc-run\n"),
                "{}",
                path.display()
            );
            for p in &parsers {
                let o = Command::new(p[0])
                    .args(&p[1..])
                    .arg(&path)
                    .output()
                    .expect("parser");
                assert!(
                    o.status.success(),
                    "{p:?} {}: {}",
                    path.display(),
                    String::from_utf8_lossy(&o.stderr)
                );
            }
        }
        assert!(scripts >= 2, "{name}: {scripts} scripts");
    }
}

#[test]
fn verify_passes_on_the_builtin_stack() {
    let r = Cli::new().args(["verify", "--backend", "openrc"]).ok();
    assert!(
        r.stdout.contains("ran: sh -n on 14 script(s)"),
        "{}",
        r.stdout
    );
    let openrc = openim_init::backend::openrc::verify::rc_depend().is_some()
        && which::which("openrc-run").is_ok();
    if require(
        openrc && is_root(),
        "OpenRC installed and root for the dependency check",
    ) {
        assert!(r.stdout.contains("ran: rc-depend -u"), "{}", r.stdout);
        assert!(
            r.stdout.contains("rc-depend start order of openim:"),
            "{}",
            r.stdout
        );
        assert!(r.stdout.contains("openim-msgtransfer.3"), "{}", r.stdout);
    } else {
        assert!(r.stdout.contains("note:"), "{}", r.stdout);
    }
}

#[test]
fn verify_reports_syntax_errors_and_missing_services() {
    let script = |path: &str, body: &str| {
        Artifact::file(path, 0o755, format!("#!/sbin/openrc-run\n{body}\n"))
    };
    let rendered = Rendered {
        artifacts: vec![
            script("init.d/stack", "depend() { want broken needy; }"),
            script("init.d/broken", "depend() { need x"),
            script("init.d/needy", "depend() { need no-such-service; }"),
            Artifact::symlink("init.d/needy.1", "needy"),
        ],
        ..Rendered::default()
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    output::write_all(tmp.path(), &rendered.artifacts, false).expect("write");
    let report = BackendKind::Openrc
        .backend()
        .verify(tmp.path(), &rendered)
        .expect("verifier runs");
    let all = report.findings.join("\n");
    assert!(all.contains("sh -n init.d/broken:"), "{all}");
    let openrc = openim_init::backend::openrc::verify::rc_depend().is_some()
        && which::which("openrc-run").is_ok();
    if require(
        openrc && is_root(),
        "OpenRC installed and root for the dependency check",
    ) {
        assert!(
            all.contains("needs non existent service `no-such-service'"),
            "{all}"
        );
    }
}

/// Instance links are written atomically, replaced on the next run, and a link that
/// openim-init did not write is only replaced with --force (a backup link is kept outside
/// `init.d`).
#[test]
fn instance_links_are_owned_replaced_and_backed_up() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gen_into = |extra: &[&str]| {
        Cli::new()
            .args(["generate", "--backend", "openrc", "--out"])
            .arg(dir.path())
            .args(extra)
            .run()
    };
    let first = gen_into(&[]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert!(
        first.stdout.contains("linked ")
            && first
                .stdout
                .contains("openim-msgtransfer.3 -> openim-msgtransfer"),
        "{}",
        first.stdout
    );
    assert_eq!(gen_into(&[]).code, 0, "a second run replaces its own links");

    let link = dir.path().join("init.d/openim-msgtransfer.0");
    // the ledger forgets the link: it is no longer ours
    let ledger = dir.path().join(".openim-init/ledger.json");
    let mut owned: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&ledger).expect("ledger")).expect("json");
    let files = owned["files"].as_object_mut().expect("files");
    assert!(
        files.remove("init.d/openim-msgtransfer.0").is_some(),
        "{files:?}"
    );
    std::fs::write(&ledger, owned.to_string()).expect("ledger");
    std::fs::remove_file(&link).expect("rm");
    std::os::unix::fs::symlink("/etc/passwd", &link).expect("foreign link");
    let refused = gen_into(&[]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("init.d/openim-msgtransfer.0"),
        "{}",
        refused.stderr
    );
    assert_eq!(
        std::fs::read_link(&link).expect("link"),
        std::path::Path::new("/etc/passwd")
    );

    assert_eq!(gen_into(&["--force"]).code, 0);
    assert_eq!(
        std::fs::read_link(&link).expect("link"),
        std::path::Path::new("openim-msgtransfer")
    );
    let bak = dir
        .path()
        .join(".openim-init/backup/init.d/openim-msgtransfer.0");
    assert_eq!(
        std::fs::read_link(bak).expect("bak"),
        std::path::Path::new("/etc/passwd")
    );
}

fn generate_manifest(text: &str) -> crate::common::Run {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("m.toml");
    std::fs::write(&path, text).expect("manifest");
    Cli::new()
        .args(["generate", "--backend", "openrc", "--manifest"])
        .arg(&path)
        .run()
}

#[test]
fn a_service_name_colliding_with_an_instance_link_is_refused() {
    let r = generate_manifest(
        "name = \"s\"\n[services.w]\ncommand = [\"/bin/w\"]\ninstances = [\"eu\"]\n\
         [services.\"w.eu\"]\ncommand = [\"/bin/x\"]\n",
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("`init.d/w.eu` would be written twice"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_start_limit_supervise_daemon_cannot_reach_is_reported() {
    let r = generate_manifest(
        "name = \"s\"\n[services.a]\ncommand = [\"/bin/a\"]\nrestart = \"always\"\n\
         restart_delay = \"5s\"\nstart_limit = { burst = 5, interval = \"10s\" }\n",
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("respawn_max=4\nrespawn_period=10\n"),
        "{}",
        r.stdout
    );
    assert!(
        r.stderr
            .contains("restart_delay (5s) x 4 respawns exceeds the interval (10s)"),
        "{}",
        r.stderr
    );
}
