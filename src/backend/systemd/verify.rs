//! `systemd-analyze verify` over generated units. Any output on stderr is a finding,
//! because unknown keys and bad values only warn (exit code 0). Then the exposure of every
//! service unit (`systemd-analyze security --offline=yes`): a note when it is at most
//! [`security::THRESHOLD`], a finding under `--strict` above it.

use std::path::Path;
use std::process::Command;

use anyhow::Result;

use crate::backend::kit::Rendered;
use crate::backend::kit::Report;
use crate::backend::shared::tools::{require_tool, run_tool};
use crate::backend::systemd::security;

/// Verify the units in `dir`. Template units are checked through their first instance.
///
/// # Errors
/// `systemd-analyze` is missing or cannot run.
pub fn check(dir: &Path, rendered: &Rendered) -> Result<Report> {
    let tool = require_tool("systemd-analyze", "install the `systemd` package")?;
    let mut args: Vec<String> = vec!["verify".into(), "--man=no".into()];
    for a in &rendered.artifacts {
        let path = if let Some(prefix) = a.path.strip_suffix("@.service") {
            format!("{prefix}@0.service")
        } else {
            a.path.clone()
        };
        args.push(dir.join(path).display().to_string());
    }
    let (code, stdout, stderr) = run_tool(Command::new(&tool).args(&args).current_dir(dir))?;
    let mut report = Report {
        ran: vec![format!("systemd-analyze {}", args.join(" "))],
        ..Report::default()
    };
    report.findings.extend(
        stderr
            .lines()
            .chain(stdout.lines())
            .filter(|l| !l.trim().is_empty())
            .map(str::to_owned),
    );
    if code != 0 && report.findings.is_empty() {
        report
            .findings
            .push(format!("systemd-analyze exited with {code}"));
    }
    for rated in security::rate(&tool, dir, rendered, &mut report.ran)? {
        match rated {
            Ok(e) => {
                let line = format!("exposure {:.1} {} {}", e.score, e.rating, e.unit);
                if e.score > security::THRESHOLD {
                    report.strict_findings.push(format!(
                        "{line}: above {:.1} (systemd-analyze security {}; set `sandbox = \"strict\"`)",
                        security::THRESHOLD, e.unit
                    ));
                } else {
                    report.notes.push(line);
                }
            }
            Err(e) => report.findings.push(e),
        }
    }
    Ok(report)
}
