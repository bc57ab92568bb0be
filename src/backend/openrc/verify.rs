//! Verify OpenRC scripts: `sh -n` on every script (needs only a shell), then, when OpenRC is
//! installed and we are root, OpenRC's own dependency pass (`rc-depend -u`) over exactly the
//! generated scripts, inside a private mount namespace (tmpfs `/run`, the scripts
//! bind-mounted over `/etc/init.d`), so the host's `/run/openrc` and `/etc/init.d` are never
//! touched. `rc-depend -u` exits 0 even when a script is broken or needs a missing
//! service, so every line it prints on stderr is a finding.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Result;

use super::DIR;
use crate::backend::kit::Rendered;
use crate::backend::kit::Report;
use crate::backend::shared::tools::run_tool;

/// Where OpenRC keeps `rc-depend` (it is not on PATH).
const RC_BIN_DIRS: &[&str] = &["/lib/rc/bin", "/usr/libexec/rc/bin"];

/// The shell script that runs inside the private mount namespace: `$0` is the generated
/// `init.d`, `$1` is `rc-depend`, `$2` the stack's meta-service (its start order is printed).
const IN_NAMESPACE: &str = r#"set -e
mount -t tmpfs openim-init-verify /run
mkdir -p /run/openrc
mount --bind "$0" /etc/init.d
set +e
"$1" -u >/dev/null
echo "order: $("$1" -t iwant "$2" 2>/dev/null | tr '\n' ' ')""#;

/// `rc-depend`, if OpenRC is installed.
#[must_use]
pub fn rc_depend() -> Option<PathBuf> {
    which::which("rc-depend").ok().or_else(|| {
        RC_BIN_DIRS
            .iter()
            .map(|d| Path::new(d).join("rc-depend"))
            .find(|p| p.is_file())
    })
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find(|l| l.starts_with("Uid:"))
            .is_some_and(|l| l.split_whitespace().nth(2) == Some("0"))
    })
}

/// Verify the scripts written to `dir`.
///
/// # Errors
/// `sh` or `unshare` could not be started.
pub fn check(dir: &Path, rendered: &Rendered) -> Result<Report> {
    let mut report = Report::default();
    let scripts: Vec<&str> = rendered
        .artifacts
        .iter()
        .filter(|a| a.link_target().is_none())
        .map(|a| a.path.as_str())
        .collect();
    for path in &scripts {
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
    }
    report
        .ran
        .push(format!("sh -n on {} script(s)", scripts.len()));

    let (Some(rc_depend), Some(_)) = (rc_depend(), which::which("openrc-run").ok()) else {
        report.notes.push(
            "OpenRC is not installed (Debian: apt-get install openrc; Alpine: apk add openrc): only `sh -n` ran, the dependency check was skipped".into(),
        );
        return Ok(report);
    };
    if !is_root() {
        report.notes.push(
            "not root: the dependency check (rc-depend -u in a private mount namespace) was skipped; only `sh -n` ran".into(),
        );
        return Ok(report);
    }
    // the first artifact is the stack's meta-service
    let stack = scripts
        .first()
        .and_then(|p| p.strip_prefix(&format!("{DIR}/")))
        .unwrap_or_default();
    let init_d = dir.join(DIR);
    let out = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "/bin/sh", "-c"])
        .arg(IN_NAMESPACE)
        .arg(&init_d)
        .arg(&rc_depend)
        .arg(stack)
        .output()?;
    report.ran.push(format!(
        "rc-depend -u in a private mount namespace over {}",
        init_d.display()
    ));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    report.findings.extend(
        stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| format!("rc-depend: {l}")),
    );
    if !out.status.success() && stderr.trim().is_empty() {
        report
            .findings
            .push(format!("the dependency check exited with {}", out.status));
    }
    if let Some(order) = stdout.lines().find_map(|l| l.strip_prefix("order: ")) {
        report.notes.push(format!(
            "rc-depend start order of {stack}: {}",
            order.trim()
        ));
    }
    Ok(report)
}
