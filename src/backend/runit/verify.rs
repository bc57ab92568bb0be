//! Verify daemontools-style service directories (runit's `sv/`, s6's `s6/`) as written to
//! disk: `sh -n` on every script, and a structural lint of what the supervisor needs — each
//! directory has an executable `run`, every other script is executable, every env-dir file
//! is named like a variable, and every sibling a script names (`../DEP`) exists.

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Command;

use anyhow::Result;

use crate::backend::kit::{Rendered, Report};
use crate::backend::shared::tools::run_tool;

/// Files run as programs, by name inside a service directory.
const SCRIPTS: &[&str] = &[
    "run",
    "finish",
    "check",
    "log/run",
    "control/t",
    "data/check",
];

/// `sh -n` on `path` (relative to `dir`); findings are prefixed with the path.
///
/// # Errors
/// `sh` could not be started.
pub fn sh_n(dir: &Path, path: &str, report: &mut Report) -> Result<()> {
    let (code, _, stderr) = run_tool(Command::new("sh").arg("-n").arg(dir.join(path)))?;
    report.findings.extend(
        stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| format!("sh -n {path}: {l}")),
    );
    if code != 0 && stderr.trim().is_empty() {
        report
            .findings
            .push(format!("sh -n {path}: exited with {code}"));
    }
    Ok(())
}

/// Whether `key` is a portable environment variable name.
fn is_var_name(key: &str) -> bool {
    let mut chars = key.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The siblings (`../NAME`) a script names.
#[must_use]
pub fn siblings(script: &str) -> Vec<String> {
    let mut out = Vec::new();
    let separator =
        |c: char| c.is_whitespace() || matches!(c, '\'' | '"' | ';' | '&' | '|' | '(' | ')');
    for word in script.split(separator) {
        if let Some(name) = word.strip_prefix("../")
            && !name.is_empty()
            && !name.contains('/')
        {
            out.push(name.to_owned());
        }
    }
    out
}

/// Verify the service directories under `dir/sub` that `rendered` wrote.
///
/// # Errors
/// `sh` could not be started.
pub fn check(dir: &Path, rendered: &Rendered, sub: &str) -> Result<Report> {
    let mut report = Report::default();
    let prefix = format!("{sub}/");
    let mut services: BTreeSet<String> = BTreeSet::new();
    let mut scripts = 0;
    for a in &rendered.artifacts {
        let Some(rest) = a.path.strip_prefix(&prefix) else {
            continue;
        };
        let Some((svc, file)) = rest.split_once('/') else {
            continue;
        };
        services.insert(svc.to_owned());
        let on_disk = dir.join(&a.path);
        let mode = std::fs::metadata(&on_disk).map(|m| m.permissions().mode());
        if SCRIPTS.contains(&file) {
            scripts += 1;
            match mode {
                Ok(m) if m & 0o111 != 0 => {}
                Ok(_) => report.findings.push(format!("{}: not executable", a.path)),
                Err(e) => report.findings.push(format!("{}: {e}", a.path)),
            }
            sh_n(dir, &a.path, &mut report)?;
        } else if let Some(key) = file.strip_prefix("env/")
            && !is_var_name(key)
        {
            report
                .findings
                .push(format!("{}: `{key}` is not a variable name", a.path));
        }
    }
    for svc in &services {
        let run = format!("{prefix}{svc}/run");
        if !rendered.artifacts.iter().any(|a| a.path == run) {
            report
                .findings
                .push(format!("{prefix}{svc}: no run script"));
        }
    }
    for a in &rendered.artifacts {
        let Some(file) = a.path.strip_prefix(&prefix) else {
            continue;
        };
        if !SCRIPTS.iter().any(|s| file.ends_with(&format!("/{s}"))) {
            continue;
        }
        for dep in siblings(a.contents()) {
            if !services.contains(&dep) {
                report.findings.push(format!(
                    "{}: names ../{dep}, which is not a generated service directory",
                    a.path
                ));
            }
        }
    }
    report.ran.push(format!(
        "sh -n on {scripts} script(s); structure of {} service director{} (run present, scripts executable, env names, sibling references)",
        services.len(),
        if services.len() == 1 { "y" } else { "ies" }
    ));
    Ok(report)
}
