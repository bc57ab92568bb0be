//! supervisor's own parser over the generated file: `ServerOptions().realize()` and
//! `Subprocess.get_execv_args()` for every process, through a Python helper embedded in the
//! binary (`src/verify/supervisord-parse.py`). A conf.d file is wrapped in a minimal main
//! configuration that `[include]`s it, as a distribution's supervisord.conf does.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result, bail};
use serde::Deserialize;

use crate::backend::kit::Rendered;
use crate::backend::kit::Report;
use crate::backend::shared::tools::run_tool;

/// The helper script run with a Python that has `supervisor`.
pub const HELPER: &str = include_str!("supervisord-parse.py");

/// The venv the CI script creates (and `OPENIM_INIT_VENV` overrides).
pub const DEFAULT_VENV: &str = "/opt/openim-init-venv";

/// What the helper prints.
#[derive(Debug, Deserialize)]
pub struct Parsed {
    /// Rejected by supervisor, or keys it would silently ignore.
    pub errors: Vec<String>,
    /// supervisor's own parse warnings.
    pub warnings: Vec<String>,
    /// Facts about this machine (a missing user, directory or executable).
    pub notes: Vec<String>,
    /// `GROUP:PROCESS` → what supervisord would run, as JSON.
    pub processes: serde_json::Map<String, serde_json::Value>,
}

/// A Python that can `import supervisor`: `$OPENIM_INIT_VENV/bin/python`, then
/// `/opt/openim-init-venv/bin/python`, then `python3` on PATH.
///
/// # Errors
/// None of them has supervisor; the message says how to install it.
pub fn python() -> Result<PathBuf> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(venv) = std::env::var_os("OPENIM_INIT_VENV") {
        candidates.push(Path::new(&venv).join("bin/python"));
    }
    candidates.push(Path::new(DEFAULT_VENV).join("bin/python"));
    if let Ok(p) = which::which("python3") {
        candidates.push(p);
    }
    first_with_supervisor(&candidates)
}

/// The first of `candidates` that can `import supervisor`.
fn first_with_supervisor(candidates: &[PathBuf]) -> Result<PathBuf> {
    for c in candidates {
        let ok = Command::new(c)
            .args(["-c", "import supervisor.options"])
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            return Ok(c.clone());
        }
    }
    let tried: Vec<String> = candidates.iter().map(|c| c.display().to_string()).collect();
    bail!(
        "the verifier needs Python with supervisor, which is not installed: `pip install supervisor` \
         (e.g. `python3 -m venv {DEFAULT_VENV} && {DEFAULT_VENV}/bin/pip install supervisor`), \
         or set OPENIM_INIT_VENV to a venv that has it (tried {}); nothing was verified",
        tried.join(", ")
    )
}

/// Parse one configuration file with supervisor.
///
/// # Errors
/// The helper could not run or printed something that is not its JSON.
pub fn parse(python: &Path, file: &Path) -> Result<Parsed> {
    let (code, stdout, stderr) = run_tool(Command::new(python).arg("-c").arg(HELPER).arg(file))?;
    if code != 0 {
        bail!(
            "the supervisor parse helper exited with {code}: {}",
            stderr.trim()
        );
    }
    serde_json::from_str(&stdout)
        .with_context(|| format!("reading the helper's output: {}", stderr.trim()))
}

/// Verify the files in `dir`.
///
/// # Errors
/// No Python with supervisor, or the helper failed.
pub fn check(dir: &Path, rendered: &Rendered) -> Result<Report> {
    let python = python()?;
    let mut report = Report::default();
    for a in &rendered.artifacts {
        let file = dir.join(&a.path);
        report.ran.push(format!(
            "{} <embedded supervisord-parse.py> {}",
            python.display(),
            file.display()
        ));
        let parsed = parse(&python, &file)?;
        let at = |m: &String| format!("{}: {m}", a.path);
        report.findings.extend(parsed.errors.iter().map(at));
        report.findings.extend(
            parsed
                .warnings
                .iter()
                .map(|w| format!("{}: supervisor warns: {w}", a.path)),
        );
        report.notes.extend(
            parsed
                .notes
                .iter()
                .map(|n| format!("{}: {n} (not a problem of the file)", a.path)),
        );
        report.notes.push(format!(
            "{}: supervisor parsed {} process(es)",
            a.path,
            parsed.processes.len()
        ));
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_supervisor_names_the_install_command() {
        let err = first_with_supervisor(&[PathBuf::from("/nonexistent/bin/python")])
            .expect_err("no python there");
        let msg = err.to_string();
        assert!(msg.contains("pip install supervisor"), "{msg}");
        assert!(msg.contains("/nonexistent/bin/python"), "{msg}");
        assert!(msg.contains("OPENIM_INIT_VENV"), "{msg}");
    }
}
