//! `systemd-analyze security --offline=yes` over every generated service unit: the overall
//! exposure per unit (0.0 safest … 10.0), and which units exceed [`THRESHOLD`].

use std::path::Path;
use std::process::Command;

use anyhow::Result;

use crate::backend::kit::Rendered;
use crate::backend::shared::tools::run_tool;

/// The highest exposure `verify --strict` accepts: systemd's "OK" band starts below it.
pub const THRESHOLD: f64 = 2.0;

/// The exposure of one unit as `systemd-analyze security` rates it.
#[derive(Debug, Clone, PartialEq)]
pub struct Exposure {
    /// The unit file checked (a template through its instance `@0`).
    pub unit: String,
    /// The overall exposure level.
    pub score: f64,
    /// systemd's word for it: `OK`, `MEDIUM`, `EXPOSED`, `UNSAFE`.
    pub rating: String,
}

/// The unit files of `rendered` that `security` can rate: services, templates as `@0`.
#[must_use]
pub fn service_units(rendered: &Rendered) -> Vec<String> {
    rendered
        .artifacts
        .iter()
        .filter(|a| a.path.ends_with(".service"))
        .map(|a| match a.path.strip_suffix("@.service") {
            Some(prefix) => format!("{prefix}@0.service"),
            None => a.path.clone(),
        })
        .collect()
}

/// Parse `→ Overall exposure level for UNIT: 1.5 OK 🙂`.
#[must_use]
pub fn parse_overall(output: &str) -> Option<(f64, String)> {
    let line = output
        .lines()
        .find(|l| l.contains("Overall exposure level for"))?;
    let (_, rest) = line.rsplit_once(": ")?;
    let mut words = rest.split_whitespace();
    let score = words.next()?.parse().ok()?;
    Some((score, words.next().unwrap_or_default().to_owned()))
}

/// Rate each service unit in `dir` with `tool` (`systemd-analyze`); `ran` gets the command
/// lines, the result the exposures (a unit the tool could not rate is an error line).
///
/// # Errors
/// The tool cannot run.
pub fn rate(
    tool: &Path,
    dir: &Path,
    rendered: &Rendered,
    ran: &mut Vec<String>,
) -> Result<Vec<Result<Exposure, String>>> {
    let mut out = Vec::new();
    for unit in service_units(rendered) {
        let args = ["security", "--offline=yes", "--no-pager"];
        let arg = format!("./{unit}");
        let (_, stdout, stderr) =
            run_tool(Command::new(tool).args(args).arg(&arg).current_dir(dir))?;
        ran.push(format!("systemd-analyze {} {arg}", args.join(" ")));
        out.push(match parse_overall(&stdout) {
            Some((score, rating)) => Ok(Exposure {
                unit,
                score,
                rating,
            }),
            None => Err(format!(
                "{unit}: systemd-analyze security gave no overall exposure: {}",
                stderr.trim()
            )),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::parse_overall;

    #[test]
    fn reads_the_overall_line() {
        let text = "✗ UMask= ...  0.1\n\n→ Overall exposure level for a.service: 9.2 UNSAFE 😨\n";
        assert_eq!(parse_overall(text), Some((9.2, "UNSAFE".to_owned())));
        assert_eq!(parse_overall("nothing"), None);
    }
}
