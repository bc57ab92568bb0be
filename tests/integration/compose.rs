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
