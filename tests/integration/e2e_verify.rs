//! The backends' own verifiers over the artifacts of every fixture, through
//! `openim-init verify`. The fixtures name programs that are not installed here
//! (`/opt/openim/bin/*`, `/opt/full/bin/*`); `systemd-analyze verify` rightly reports a
//! missing `ExecStart`= binary, so the verifier runs in a private mount namespace where
//! those programs exist as stubs ([`crate::harness::stubs`]). The verifier itself is not
//! weakened: any output from it is a finding and fails the test.

use std::ffi::OsString;

use openim_init::model::Model;

use crate::common::{CLI_BIN, FIXTURES, fixture, is_root, require};
use crate::harness::stubs::{missing_programs, run_with_stubs};

/// (name, `--manifest` path or None for the built-in, model) of every fixture.
fn fixtures() -> Vec<(String, Option<std::path::PathBuf>, Model)> {
    let mut out = vec![("openim (built-in)".to_owned(), None, Model::builtin())];
    for name in FIXTURES {
        let path = fixture(&format!("{name}.toml"));
        let text = std::fs::read_to_string(&path).expect("fixture");
        let model = Model::from_toml(name, &text).expect("fixture valid");
        out.push(((*name).to_owned(), Some(path), model));
    }
    out
}

/// Run `openim-init verify --backend BACKEND` on every fixture with its missing programs
/// stubbed; every run must pass with no finding.
fn verify_every_fixture(backend: &str) {
    for (name, manifest, model) in fixtures() {
        let scratch = tempfile::tempdir().expect("scratch");
        let mut argv: Vec<OsString> = vec![
            CLI_BIN.into(),
            "verify".into(),
            "--backend".into(),
            backend.into(),
        ];
        if let Some(m) = manifest {
            argv.push("--manifest".into());
            argv.push(m.into());
        }
        let stubs = missing_programs(&model);
        let r = run_with_stubs(scratch.path(), &stubs, &argv);
        assert!(
            r.code == 0 && r.stdout.contains("ok: ") && !r.stdout.contains("finding:"),
            "{backend} verify of {name} (stubs {stubs:?}) exited {}:\n{}{}",
            r.code,
            r.stdout,
            r.stderr
        );
    }
}

#[test]
fn systemd_analyze_accepts_every_fixture() {
    let ok = is_root() && which::which("unshare").is_ok();
    if !require(
        ok,
        "stub programs need root and unshare (a private mount namespace)",
    ) || !require(
        which::which("systemd-analyze").is_ok(),
        "systemd-analyze is not installed (apt package systemd)",
    ) {
        return;
    }
    verify_every_fixture("systemd");
}

#[test]
fn runit_service_directories_pass_their_verifier() {
    verify_every_fixture("runit");
}

#[test]
fn s6_service_directories_pass_their_verifier() {
    verify_every_fixture("s6");
}
