//! The manifests, checked without a cluster (no API server can be installed here):
//! `kubernetes-validate --strict` (`PyPI`; the official `OpenAPI` schemas, bundled, offline)
//! against Kubernetes 1.28 — the first with the pod-index label — and its newest bundled
//! version, then the [`super::semantic`] checks over the same files, and the
//! kustomization's list against the files.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result, bail};

use super::KUSTOMIZATION;
use super::semantic::{self, Doc};
use crate::backend::kit::{Rendered, Report};
use crate::backend::shared::tools::run_tool;

/// The venv the CI script creates (and `OPENIM_INIT_VENV` overrides).
pub const DEFAULT_VENV: &str = "/opt/openim-init-venv";

/// The oldest Kubernetes the manifests are for.
pub const MIN_VERSION: &str = "1.28.0";

/// `kubernetes-validate`: in `$OPENIM_INIT_VENV`, the CI venv, or on PATH.
#[must_use]
pub fn validator() -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(venv) = std::env::var_os("OPENIM_INIT_VENV") {
        candidates.push(Path::new(&venv).join("bin/kubernetes-validate"));
    }
    candidates.push(Path::new(DEFAULT_VENV).join("bin/kubernetes-validate"));
    candidates
        .into_iter()
        .find(|p| p.is_file())
        .or_else(|| which::which("kubernetes-validate").ok())
}

/// Verify the manifests written to `dir`.
///
/// # Errors
/// The validator is not installed or cannot run, or a file cannot be read.
pub fn check(dir: &Path, rendered: &Rendered) -> Result<Report> {
    let Some(kv) = validator() else {
        bail!(
            "the verifier `kubernetes-validate` is not installed (`pip install kubernetes-validate`, e.g. into {DEFAULT_VENV}, or set OPENIM_INIT_VENV); nothing was verified"
        );
    };
    let files: Vec<&str> = rendered
        .artifacts
        .iter()
        .map(|a| a.path.as_str())
        .filter(|p| *p != KUSTOMIZATION)
        .collect();
    let mut report = Report::default();
    for version in [Some(MIN_VERSION), None] {
        let mut cmd = Command::new(&kv);
        cmd.args(["--strict", "--quiet"]).current_dir(dir);
        if let Some(v) = version {
            cmd.args(["-k", v]);
        }
        cmd.args(&files);
        let (code, stdout, stderr) = run_tool(&mut cmd)?;
        let against = version.map_or_else(|| "its newest".to_owned(), |v| format!("-k {v}"));
        report
            .ran
            .push(format!("kubernetes-validate --strict ({against})"));
        let before = report.findings.len();
        report.findings.extend(
            stdout
                .lines()
                .chain(stderr.lines())
                .filter(|l| !l.trim().is_empty() && !l.starts_with("INFO"))
                .map(|l| format!("kubernetes-validate: {l}")),
        );
        if code != 0 && report.findings.len() == before {
            report
                .findings
                .push(format!("kubernetes-validate exited with {code}"));
        }
    }
    let docs = read(dir, &files)?;
    report.ran.push("semantic checks".to_owned());
    report.findings.extend(semantic::check(&docs));
    report.findings.extend(kustomization(dir, &files)?);
    Ok(report)
}

/// Every document of `files` in `dir`.
///
/// # Errors
/// A file cannot be read or is not YAML.
pub fn read(dir: &Path, files: &[&str]) -> Result<Vec<Doc>> {
    let mut docs = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(dir.join(f)).with_context(|| format!("reading {f}"))?;
        for doc in serde_norway::Deserializer::from_str(&text) {
            let v: serde_json::Value =
                serde::Deserialize::deserialize(doc).with_context(|| format!("parsing {f}"))?;
            if !v.is_null() {
                docs.push(((*f).to_owned(), v));
            }
        }
    }
    Ok(docs)
}

/// The kustomization lists exactly the object files.
fn kustomization(dir: &Path, files: &[&str]) -> Result<Vec<String>> {
    let docs = read(dir, &[KUSTOMIZATION])?;
    let listed: Vec<&str> = docs
        .first()
        .and_then(|(_, d)| d["resources"].as_array())
        .map(|a| a.iter().filter_map(|r| r.as_str()).collect())
        .unwrap_or_default();
    let mut out = Vec::new();
    for f in files {
        if !listed.contains(f) {
            out.push(format!("{KUSTOMIZATION}: {f} is not listed in resources"));
        }
    }
    for l in &listed {
        if !files.contains(l) {
            out.push(format!(
                "{KUSTOMIZATION}: resource {l} is not a generated file"
            ));
        }
    }
    Ok(out)
}
