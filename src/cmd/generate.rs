//! `generate`, `validate` and `verify`.

use std::fmt::Write as _;

use anyhow::Context as _;

use super::{load_model, out_for, print_for, release};
use crate::backend::{BackendKind, Rendered};
use crate::cli::{GenerateArgs, ValidateArgs};
use crate::errors::{Error, Result};
use crate::{output, stdout};

/// `generate`: print the artifacts, or write them into `--out DIR`.
pub(super) fn generate(args: &GenerateArgs) -> Result<()> {
    let rendered = match &args.out {
        None => print_for(&args.render)?,
        Some(dir) => {
            let (rendered, written) = out_for(&args.render, dir, args.force)?;
            stdout::write_with(|w| written.write_to(w))?;
            release(written);
            rendered
        }
    };
    for note in &rendered.notes {
        stdout::diag(format_args!("note: {note}"));
    }
    release(rendered);
    Ok(())
}

/// `validate`: a summary of the stack and its start order.
pub(super) fn validate(args: &ValidateArgs) -> Result<()> {
    let model = load_model(&args.manifest)?;
    if args.json {
        let json = serde_json::to_string_pretty(&summary(&model)).map_err(anyhow::Error::from)?;
        release(model);
        return Ok(stdout::line(json)?);
    }
    stdout::line(format_args!(
        "ok: stack `{}`: {} services ({} processes), {} externals, {} groups",
        model.name,
        model.services.len(),
        model.view.processes().len(),
        model.externals.len(),
        model.groups.len()
    ))?;
    let order: Vec<&str> = model.start_order().iter().map(|s| &*s.name).collect();
    stdout::line(format_args!("start order: {}", order.join(" → ")))?;
    drop(order);
    release(model);
    Ok(())
}

/// The stack as `validate --json` prints it.
fn summary(model: &crate::model::Model) -> serde_json::Value {
    let services: Vec<serde_json::Value> = model
        .services
        .iter()
        .map(|s| {
            serde_json::json!({
                "name": s.name,
                "instances": s.instances.as_deref(),
                "processes": s.instances.as_deref().map_or(1, <[String]>::len),
            })
        })
        .collect();
    let order: Vec<&str> = model.start_order().iter().map(|s| &*s.name).collect();
    let layers: Vec<usize> = model
        .view
        .order()
        .iter()
        .map(|&s| model.view.layer(s))
        .collect();
    serde_json::json!({
        "stack": model.name,
        "description": model.description,
        "services": services,
        "processes": model.view.processes().len(),
        "externals": model.externals.iter().map(|e| &e.name).collect::<Vec<_>>(),
        "groups": model.groups.iter().map(|g| serde_json::json!({"name": g.name, "services": g.services})).collect::<Vec<_>>(),
        "start_order": order,
        "start_layers": layers,
    })
}

/// `verify`: write into a temporary directory, run the backend's verifier, print its report;
/// with `strict`, what the verifier reports for `--strict` counts as a finding.
pub(super) fn verify(kind: BackendKind, rendered: &Rendered, strict: bool) -> Result<()> {
    let tmp = tempfile::tempdir().context("creating a temporary directory")?;
    let dir = tmp.path().join("out");
    output::write_all(&dir, &rendered.artifacts, false)?;
    let mut report = kind.backend().verify(&dir, rendered)?;
    let strict_findings = std::mem::take(&mut report.strict_findings);
    if strict {
        report.findings.extend(strict_findings);
    } else {
        report.notes.extend(strict_findings);
    }
    let mut text = String::new();
    for r in &report.ran {
        let _ = writeln!(text, "ran: {r}");
    }
    for n in &report.notes {
        let _ = writeln!(text, "note: {n}");
    }
    for f in &report.findings {
        let _ = writeln!(text, "finding: {f}");
    }
    if report.findings.is_empty() {
        let _ = writeln!(
            text,
            "ok: {} artifact(s) passed {}",
            rendered.artifacts.len(),
            programs(&report.ran).join(", ")
        );
    }
    stdout::write_str(&text)?;
    if report.findings.is_empty() {
        Ok(())
    } else {
        Err(Error::Verify(report.findings.len()))
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
