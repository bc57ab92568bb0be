//! `generate`, `validate` and `verify`.

use std::fmt::Write as _;
use std::io::Write as _;

use anyhow::Context as _;

use super::{load_model, render_for};
use crate::backend::{BackendKind, Rendered};
use crate::cli::{GenerateArgs, ManifestArg};
use crate::errors::{Error, Result};
use crate::output;

/// `generate`: print the artifacts, or write them into `--out DIR`.
pub(super) fn generate(args: &GenerateArgs) -> Result<()> {
    let (_, rendered) = render_for(&args.render)?;
    match &args.out {
        None => print!("{}", output::to_text(&rendered.artifacts)),
        Some(dir) => {
            let written = output::write_all(dir, &rendered.artifacts, args.force)?;
            for w in written {
                println!("{w}");
            }
        }
    }
    for note in &rendered.notes {
        eprintln!("note: {note}");
    }
    Ok(())
}

/// `validate`: a summary of the stack and its start order.
pub(super) fn validate(args: &ManifestArg) -> Result<()> {
    let model = load_model(args)?;
    println!(
        "ok: stack `{}`: {} services ({} processes), {} externals, {} groups",
        model.name,
        model.services.len(),
        model.view.processes().len(),
        model.externals.len(),
        model.groups.len()
    );
    let order: Vec<&str> = model
        .start_order()
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    println!("start order: {}", order.join(" → "));
    Ok(())
}

/// `verify`: write into a temporary directory, run the backend's verifier, print its report.
pub(super) fn verify(kind: BackendKind, rendered: &Rendered) -> Result<()> {
    let tmp = tempfile::tempdir().context("creating a temporary directory")?;
    let dir = tmp.path().join("out");
    output::write_all(&dir, &rendered.artifacts, false)?;
    let report = kind.backend().verify(&dir, rendered)?;
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
            "ok: {} artifact(s) passed {} verifier run(s)",
            rendered.artifacts.len(),
            report.ran.len()
        );
    }
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .context("writing the report")?;
    if report.findings.is_empty() {
        Ok(())
    } else {
        Err(Error::Verify(report.findings.len()))
    }
}
