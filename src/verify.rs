//! `verify`: render into a temporary directory and run the backend's own tools on it.

pub mod launchd;
pub mod openrc;
pub mod supervisord;
pub mod systemd;

use std::path::Path;
use std::process::Command;

use anyhow::{Context as _, Result, bail};

use crate::backend::{Backend, Rendered};
use crate::errors::VerifyFailed;
use crate::{output, stdout};

/// What one verifier said.
#[derive(Debug, Default)]
pub struct Report {
    /// The tool and arguments that ran, for the user.
    pub ran: Vec<String>,
    /// Problems found (each line of a finding).
    pub findings: Vec<String>,
    /// Remarks that are not failures (e.g. a binary not installed on this machine).
    pub notes: Vec<String>,
}

/// Find a program on PATH or explain how to get it.
///
/// # Errors
/// The tool is not installed; the message names the package.
pub fn require_tool(tool: &str, package_hint: &str) -> Result<std::path::PathBuf> {
    which::which(tool).map_err(|_| {
        anyhow::anyhow!(
            "the verifier `{tool}` is not installed ({package_hint}); nothing was verified"
        )
    })
}

/// Run a command, returning (exit code, stdout, stderr).
///
/// # Errors
/// The command could not be started.
pub fn run_tool(cmd: &mut Command) -> Result<(i32, String, String)> {
    let out = cmd.output().with_context(|| format!("running {cmd:?}"))?;
    Ok((
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

/// Verify rendered artifacts with the backend's own tools and print the report.
///
/// # Errors
/// The verifier is missing ([`require_tool`]), or it reported findings ([`VerifyFailed`]).
pub fn run(backend: &dyn Backend, rendered: &Rendered) -> Result<()> {
    let tmp = tempfile::tempdir().context("creating a temporary directory")?;
    let dir = tmp.path().join("out");
    output::write_all(&dir, &rendered.artifacts, false)?;
    let report = check(backend.name(), &dir, rendered)?;
    for r in &report.ran {
        stdout::line(format_args!("ran: {r}"))?;
    }
    for n in &report.notes {
        stdout::line(format_args!("note: {n}"))?;
    }
    if report.findings.is_empty() {
        stdout::line(format_args!(
            "ok: {} artifact(s) passed {}",
            rendered.artifacts.len(),
            programs(&report.ran).join(", ")
        ))?;
        Ok(())
    } else {
        for f in &report.findings {
            stdout::line(format_args!("finding: {f}"))?;
        }
        Err(VerifyFailed(report.findings.len()).into())
    }
}

/// The programs that actually ran (each `ran` entry starts with one), without their
/// directories, once each: what a success message may claim, and nothing skipped.
#[must_use]
pub fn programs(ran: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in ran {
        let first = r.split_whitespace().next().unwrap_or_default();
        let name = first.rsplit('/').next().unwrap_or(first).to_owned();
        if !name.is_empty() && !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

/// Run the verifier of backend `name` over the artifacts already written to `dir`.
///
/// # Errors
/// The verifier is missing or could not run.
pub fn check(name: &str, dir: &Path, rendered: &Rendered) -> Result<Report> {
    match name {
        "systemd" => systemd::check(dir, rendered),
        "launchd" => launchd::check(dir, rendered),
        "supervisord" => supervisord::check(dir, rendered),
        "openrc" => openrc::check(dir, rendered),
        other => bail!("no verifier for backend {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::programs;

    #[test]
    fn names_only_the_programs_that_ran() {
        let ran = [
            "python3 launchd-lint.py on 2 file(s)".to_owned(),
            "/usr/bin/python3 <embedded> x".to_owned(),
            "plistutil -i FILE -o FILE.bin".to_owned(),
        ];
        assert_eq!(programs(&ran), ["python3", "plistutil"]);
        assert!(programs(&[]).is_empty());
    }
}
