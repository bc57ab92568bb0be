//! compose.yaml, checked without an engine: `docker-compose config -q` (Debian's compose 1.29,
//! which loads, interpolates and validates the file offline) or `docker compose config -q`
//! (v2), and `dclint` (npm `dclint`, the compose-spec schema and lint rules).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Result;

use super::FILE;
use crate::backend::kit::{Rendered, Report};
use crate::backend::shared::tools::run_tool;

/// Where the CI script installs dclint (`OPENIM_INIT_NODE` overrides).
pub const DEFAULT_NODE: &str = "/opt/openim-init-node";

/// The dclint executable: `$OPENIM_INIT_NODE/node_modules/.bin/dclint`, then the CI
/// location, then `dclint` on PATH.
#[must_use]
pub fn dclint() -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(dir) = std::env::var_os("OPENIM_INIT_NODE") {
        candidates.push(Path::new(&dir).join("node_modules/.bin/dclint"));
    }
    candidates.push(Path::new(DEFAULT_NODE).join("node_modules/.bin/dclint"));
    candidates
        .into_iter()
        .find(|p| p.is_file())
        .or_else(|| which::which("dclint").ok())
}

/// The compose command: `docker-compose` (v1 or a v2 standalone binary) as an argv prefix.
#[must_use]
pub fn compose_command() -> Option<Vec<PathBuf>> {
    which::which("docker-compose").ok().map(|p| vec![p])
}

/// Verify `compose.yaml` in `dir`.
///
/// # Errors
/// Neither tool is installed, or one cannot run.
pub fn check(dir: &Path, _rendered: &Rendered) -> Result<Report> {
    let file = dir.join(FILE);
    let mut report = Report::default();
    let compose = compose_command();
    let lint = dclint();
    if compose.is_none() && lint.is_none() {
        anyhow::bail!(
            "the verifiers `docker-compose` (apt install docker-compose) and `dclint` (npm install dclint) are not installed; nothing was verified"
        );
    }
    if let Some(argv) = compose {
        let mut cmd = Command::new(&argv[0]);
        cmd.args(&argv[1..])
            .arg("-f")
            .arg(&file)
            .args(["config", "-q"])
            .current_dir(dir);
        let (code, stdout, stderr) = run_tool(&mut cmd)?;
        report
            .ran
            .push(format!("docker-compose -f {FILE} config -q"));
        // compose reads env_file on the machine that runs it: a missing one is a fact about
        // this machine, not a fault of the file
        let missing: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("Couldn't find env file"))
            .collect();
        if missing.len() == stderr.lines().filter(|l| !l.trim().is_empty()).count()
            && !missing.is_empty()
        {
            report.notes.extend(
                missing
                    .iter()
                    .map(|l| format!("docker-compose: {l} (it must exist where compose runs)")),
            );
        } else {
            collect(&mut report, "docker-compose", code, &stdout, &stderr);
        }
    } else {
        report
            .notes
            .push("docker-compose not found (apt install docker-compose); skipped".to_owned());
    }
    if let Some(dclint) = lint {
        let (code, stdout, stderr) = run_tool(
            Command::new(dclint)
                .args(["-q", "--color=false"])
                .arg(&file)
                .current_dir(dir),
        )?;
        report.ran.push(format!("dclint -q {FILE}"));
        collect(&mut report, "dclint", code, &stdout, &stderr);
    } else {
        report
            .notes
            .push("dclint not found (npm install dclint); skipped".to_owned());
    }
    Ok(report)
}

/// Any output or a failing exit is a finding.
fn collect(report: &mut Report, tool: &str, code: i32, stdout: &str, stderr: &str) {
    let before = report.findings.len();
    report.findings.extend(
        stdout
            .lines()
            .chain(stderr.lines())
            .filter(|l| !l.trim().is_empty())
            .map(|l| format!("{tool}: {l}")),
    );
    if code != 0 && report.findings.len() == before {
        report.findings.push(format!("{tool} exited with {code}"));
    }
}
