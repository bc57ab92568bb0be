//! `detect` and `backends` through the real CLI: on fake trees (`--fs-root`) and on this
//! machine, where what the kernel says must agree with the verdict.

use std::path::Path;

use crate::common::Cli;

fn detect_json(extra: &[&str], root: Option<&Path>) -> serde_json::Value {
    let mut cli = Cli::new().args(["detect", "--json"]).args(extra);
    if let Some(r) = root {
        cli = cli.arg("--fs-root").arg(r);
    }
    let r = cli.ok();
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout))
}

fn running(v: &serde_json::Value) -> Vec<String> {
    v["running"]
        .as_array()
        .expect("running")
        .iter()
        .map(|r| r["system"].as_str().expect("name").to_owned())
        .collect()
}

#[test]
fn a_fake_openrc_container_with_a_supervisord_socket() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    for dir in ["proc/1", "run/openrc", "srv"] {
        std::fs::create_dir_all(root.join(dir)).expect("dirs");
    }
    std::fs::write(root.join("proc/1/comm"), "init\n").expect("comm");
    std::fs::write(root.join("run/openrc/softlevel"), "default").expect("softlevel");
    std::fs::write(root.join("run/.containerenv"), "").expect("podman");
    std::fs::write(
        root.join("srv/sv.conf"),
        "[unix_http_server]\nfile=%(here)s/sv.sock ; comment\n",
    )
    .expect("conf");
    let _sock = std::os::unix::net::UnixListener::bind(root.join("srv/sv.sock")).expect("listen");
    let v = detect_json(&["--supervisord-conf", "/srv/sv.conf"], Some(root));
    assert_eq!(running(&v), ["openrc", "supervisord"]);
    assert_eq!(v["recommended"], "openrc");
    assert_eq!(v["container"], true);
    assert_eq!(v["evidence"]["supervisord"][0]["socket"], "/srv/sv.sock");
    let text = Cli::new()
        .args(["detect", "--supervisord-conf", "/srv/sv.conf", "--fs-root"])
        .arg(root)
        .ok()
        .stdout;
    assert!(text.starts_with("running: openrc ("), "{text}");
    assert!(text.contains("use:     --backend openrc\n"), "{text}");
    assert!(
        text.contains("supervisord: /srv/sv.conf → /srv/sv.sock (answers)"),
        "{text}"
    );
    assert!(
        text.contains("container: yes (/run/.containerenv)"),
        "{text}"
    );
}

/// On this machine: a system manager counts only with its runtime marker, never because it
/// is installed; `backends` says the same as `detect`.
#[test]
fn this_machine_agrees_with_its_kernel() {
    let v = detect_json(&[], None);
    let found = running(&v);
    let pid1 = std::fs::read_to_string("/proc/1/comm").expect("comm");
    assert_eq!(v["evidence"]["pid1_comm"], pid1.trim_end());
    assert_eq!(
        found.contains(&"systemd".to_owned()),
        Path::new("/run/systemd/system").is_dir() && pid1.trim_end() == "systemd",
        "{v:#}"
    );
    assert_eq!(
        found.contains(&"openrc".to_owned()),
        Path::new("/run/openrc/softlevel").exists(),
        "{v:#}"
    );
    if Path::new("/.dockerenv").exists() {
        assert_eq!(v["container"], true, "{v:#}");
    }
    let backends = Cli::new().arg("backends").ok().stdout;
    let line = backends
        .lines()
        .find(|l| l.starts_with("this machine: "))
        .expect("a machine line");
    match v["recommended"].as_str() {
        Some(b) => assert!(line.contains(&format!("`--backend {b}`")), "{line}"),
        None => assert!(line.contains("no init system running"), "{line}"),
    }
}
