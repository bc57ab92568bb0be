//! docker compose: the verifiers accept every fixture, and the generated file runs under a
//! real Docker engine (see [`engine`]).

mod engine;
mod runtime;

use crate::common::{Cli, FIXTURES, fixture, require};

/// `openim-init verify --backend compose` (docker-compose config -q and dclint) passes for
/// the built-in manifest and every fixture.
#[test]
fn compose_verifiers_accept_every_fixture() {
    let tools = which::which("docker-compose").is_ok()
        && openim_init::backend::compose::verify::dclint().is_some();
    if !require(
        tools,
        "docker-compose (apt) and dclint (npm) are not installed",
    ) {
        return;
    }
    let mut manifests = vec![None];
    manifests.extend(FIXTURES.iter().map(|f| Some(fixture(&format!("{f}.toml")))));
    for m in manifests {
        let mut cli = Cli::new().args(["verify", "--backend", "compose"]);
        if let Some(path) = &m {
            cli = cli.arg("--manifest").arg(path);
        }
        let r = cli.run();
        assert!(
            r.code == 0
                && r.stdout.contains("docker-compose, dclint")
                && !r.stdout.contains("finding:"),
            "verify of {m:?} exited {}:\n{}{}",
            r.code,
            r.stdout,
            r.stderr
        );
    }
}

/// `strict`: every capability dropped but the listed one, no new privileges, a read-only
/// root with a tmpfs for /tmp and the writable paths a writable volume does not cover;
/// `off` adds nothing.
#[test]
fn sandbox_confines_containers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let m = dir.path().join("s.toml");
    std::fs::write(
        &m,
        r#"name = "s"
[defaults.container]
image = "busybox"
volumes = ["data:/var/lib/a", "/etc/a:/etc/a:ro"]
[services.a]
command = ["/bin/a"]
user = "app"
sandbox = "strict"
working_dir = "/var/lib/a/work"
writable_paths = ["/srv/a", "/etc/a"]
capabilities = ["CAP_NET_BIND_SERVICE"]
[services.b]
command = ["/bin/b"]
sandbox = "off"
"#,
    )
    .expect("write");
    let r = Cli::new()
        .args(["generate", "--backend", "compose", "--manifest"])
        .arg(&m)
        .ok();
    let doc: serde_json::Value = serde_norway::from_str(
        r.stdout
            .split_once(") ====\n")
            .map_or(r.stdout.as_str(), |(_, y)| y),
    )
    .unwrap_or_else(|e| panic!("{e}:\n{}", r.stdout));
    let a = &doc["services"]["a"];
    assert_eq!(a["cap_drop"], serde_json::json!(["ALL"]), "{a}");
    assert_eq!(a["cap_add"], serde_json::json!(["NET_BIND_SERVICE"]), "{a}");
    assert_eq!(
        a["security_opt"],
        serde_json::json!(["no-new-privileges:true"])
    );
    assert_eq!(a["read_only"], serde_json::json!(true));
    // /var/lib/a/work lies in a writable volume; /etc/a's volume is read-only
    assert_eq!(
        a["tmpfs"],
        serde_json::json!(["/tmp", "/srv/a", "/etc/a"]),
        "{a}"
    );
    let b = doc["services"]["b"].as_object().expect("b");
    for key in ["cap_drop", "cap_add", "security_opt", "read_only", "tmpfs"] {
        assert!(!b.contains_key(key), "{key} in {b:?}");
    }
}
