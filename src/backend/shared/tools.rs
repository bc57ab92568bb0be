//! Running the verifiers' external tools: find them, run them, capture what they say.

use std::process::Command;

use anyhow::Context as _;

/// Find a program on PATH or explain how to get it.
///
/// # Errors
/// The tool is not installed; the message names the package.
pub fn require_tool(tool: &str, package_hint: &str) -> anyhow::Result<std::path::PathBuf> {
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
pub fn run_tool(cmd: &mut Command) -> anyhow::Result<(i32, String, String)> {
    let out = cmd.output().with_context(|| format!("running {cmd:?}"))?;
    Ok((
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}
