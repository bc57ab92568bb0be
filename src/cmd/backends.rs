//! `backends`: the backends, the one this machine most likely runs, and the capability matrix.

use std::fmt::Write as _;

use crate::backend::{BackendKind, Feature, Support};
use crate::cli::BackendsArgs;
use crate::errors::Result;
use crate::stdout;

/// The capability matrix as JSON: per backend, per feature id, the support and how.
#[must_use]
pub fn matrix_json() -> serde_json::Value {
    let report: Vec<serde_json::Value> = BackendKind::ALL
        .iter()
        .map(|k| {
            let b = k.backend();
            let features: serde_json::Map<String, serde_json::Value> = Feature::ALL
                .iter()
                .map(|f| {
                    let mut v = serde_json::to_value(b.support(*f)).unwrap_or_default();
                    if let Some(o) = v.as_object_mut() {
                        o.insert("key".into(), f.key().into());
                    }
                    (f.id().to_owned(), v)
                })
                .collect();
            serde_json::json!({ "name": k.name(), "summary": b.summary(), "features": features })
        })
        .collect();
    serde_json::Value::Array(report)
}

/// The capability matrix as a table, then how each emulated feature works and what each
/// unsupported one loses.
#[must_use]
pub fn matrix_text() -> String {
    let mut out = String::new();
    let _ = writeln!(out, "capabilities (native / emulated / unsupported):");
    let _ = write!(out, "{:<20}", "feature");
    for k in BackendKind::ALL {
        let _ = write!(out, " {:<12}", k.name());
    }
    out.push('\n');
    for f in Feature::ALL {
        let _ = write!(out, "{:<20}", f.key());
        for k in BackendKind::ALL {
            let _ = write!(out, " {:<12}", k.backend().support(*f).label());
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "\nhow emulated features work and what unsupported ones lose:"
    );
    for k in BackendKind::ALL {
        for f in Feature::ALL {
            let s = k.backend().support(*f);
            if let Support::Emulated(how) | Support::Unsupported(how) = s {
                let _ = writeln!(out, "  {}: {} ({}): {how}", k.name(), f.key(), s.label());
            }
        }
    }
    out
}

/// `backends [--json]`.
pub(super) fn backends(args: &BackendsArgs) -> Result<()> {
    if args.json {
        stdout::line(serde_json::to_string_pretty(&matrix_json()).map_err(anyhow::Error::from)?)?;
        return Ok(());
    }
    let mut out = String::new();
    for k in BackendKind::ALL {
        let _ = writeln!(out, "{:<12} {}", k.name(), k.backend().summary());
    }
    let detection = super::detect::detect_here(None, None);
    let _ = writeln!(
        out,
        "\nthis machine: {}; {}",
        os_info::get(),
        super::detect::verdict(&detection)
    );
    out.push('\n');
    out.push_str(&matrix_text());
    stdout::write_str(&out)?;
    Ok(())
}
