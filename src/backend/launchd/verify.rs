//! launchd plists, checked without launchd: python3's plistlib with the embedded key/type lint
//! (`src/verify/launchd-lint.py`), `plutil -lint` where it exists (macOS), and libplist's
//! `plistutil` converting each plist to binary, which plistlib must read back equal.
//! `plistutil` exits 0 on malformed input, so any output from it is a finding.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result};

use crate::backend::kit::Rendered;
use crate::backend::kit::Report;
use crate::backend::shared::tools::{require_tool, run_tool};

/// The lint, run as `python3 -c LINT FILE...`; prints `FILE: OK` or `FILE: problems`.
pub const LINT: &str = include_str!("launchd-lint.py");

/// Compares each XML plist with its binary conversion: `python3 -c ROUND_TRIP XML BIN ...`.
const ROUND_TRIP: &str = r#"import plistlib, sys
a = sys.argv[1:]
for x, b in zip(a[::2], a[1::2]):
    with open(x, "rb") as f: src = plistlib.load(f)
    with open(b, "rb") as f: out = plistlib.load(f)
    if src != out: print("%s: plistutil's binary conversion differs from the source" % x)
"#;

/// Verify the plists in `dir`.
///
/// # Errors
/// `python3` is missing or a tool cannot run.
pub fn check(dir: &Path, rendered: &Rendered) -> Result<Report> {
    let python = require_tool(
        "python3",
        "install Python 3: plistlib is in its standard library",
    )?;
    let files: Vec<PathBuf> = rendered
        .artifacts
        .iter()
        .filter(|a| {
            std::path::Path::new(&a.path)
                .extension()
                .is_some_and(|e| e == "plist")
        })
        .map(|a| dir.join(&a.path))
        .collect();
    let mut report = Report::default();

    let (code, stdout, stderr) = run_tool(Command::new(&python).arg("-c").arg(LINT).args(&files))?;
    report.ran.push(format!(
        "python3 launchd-lint.py (plistlib + launchd.plist(5) keys and types) on {} file(s)",
        files.len()
    ));
    collect(&mut report, "lint", code, &stdout, &stderr);

    match which::which("plutil") {
        Ok(plutil) => {
            let (code, stdout, stderr) = run_tool(Command::new(&plutil).arg("-lint").args(&files))?;
            report
                .ran
                .push(format!("plutil -lint on {} file(s)", files.len()));
            collect(&mut report, "plutil", code, &stdout, &stderr);
        }
        Err(_) => report
            .notes
            .push("plutil not found (it ships with macOS); skipped".to_owned()),
    }

    match which::which("plistutil") {
        Ok(plistutil) => plistutil_round_trip(&mut report, &python, &plistutil, &files)?,
        Err(_) => report.notes.push(
            "plistutil not found (install libplist-utils for a second parser); skipped".to_owned(),
        ),
    }
    Ok(report)
}

/// Findings from a tool that prints `FILE: OK` per good file.
fn collect(report: &mut Report, tool: &str, code: i32, stdout: &str, stderr: &str) {
    let before = report.findings.len();
    report.findings.extend(
        stdout
            .lines()
            .chain(stderr.lines())
            .filter(|l| !l.trim().is_empty() && !l.ends_with(": OK"))
            .map(|l| format!("{tool}: {l}")),
    );
    if code != 0 && report.findings.len() == before {
        report.findings.push(format!("{tool} exited with {code}"));
    }
}

fn plistutil_round_trip(
    report: &mut Report,
    python: &Path,
    plistutil: &Path,
    files: &[PathBuf],
) -> Result<()> {
    let tmp = tempfile::tempdir().context("creating a temporary directory")?;
    let mut pairs: Vec<PathBuf> = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let bin = tmp.path().join(format!("{i}.bin"));
        let (code, stdout, stderr) = run_tool(
            Command::new(plistutil)
                .arg("-i")
                .arg(f)
                .arg("-o")
                .arg(&bin)
                .args(["-f", "bin"]),
        )?;
        let said: Vec<&str> = stdout
            .lines()
            .chain(stderr.lines())
            .filter(|l| !l.trim().is_empty())
            .collect();
        let written = std::fs::metadata(&bin).is_ok_and(|m| m.len() > 0);
        if code != 0 || !said.is_empty() || !written {
            report.findings.push(format!(
                "plistutil: {}: {} (exit {code})",
                f.display(),
                if said.is_empty() {
                    "no binary written".to_owned()
                } else {
                    said.join("; ")
                }
            ));
        } else {
            pairs.push(f.clone());
            pairs.push(bin);
        }
    }
    report.ran.push(format!(
        "plistutil -i FILE -o FILE.bin -f bin on {} file(s), binary read back with plistlib",
        files.len()
    ));
    if !pairs.is_empty() {
        let (code, stdout, stderr) =
            run_tool(Command::new(python).arg("-c").arg(ROUND_TRIP).args(&pairs))?;
        collect(report, "round trip", code, &stdout, &stderr);
    }
    Ok(())
}
