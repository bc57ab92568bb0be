//! Reading a `--templates DIR`: every `*.tera` file in it (and one directory down) must
//! replace an embedded template; a misspelled name is an error with "did you mean", never
//! silently ignored. Each file is read with a size cap, whatever kind of file it is.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context as _, Result};

use super::guard::MAX_TEMPLATE_BYTES;
use crate::errors::usage::UsageError;

/// The overrides in `dir` of the `embedded` templates, keyed by their name (`systemd/service.tera`).
///
/// # Errors
/// A `.tera` file that replaces nothing, one that is too large, none at all
/// ([`UsageError`]); a file that cannot be read.
pub fn load(
    dir: &Path,
    embedded: &[(&'static str, &'static str)],
) -> Result<BTreeMap<String, String>> {
    let mut overrides = BTreeMap::new();
    for name in tera_files(dir)? {
        if !embedded.iter().any(|(n, _)| *n == name) {
            let known: Vec<&str> = embedded.iter().map(|(n, _)| *n).collect();
            let hint = match crate::manifest::error::closest(&name, &known) {
                Some(k) => format!("did you mean `{k}`?"),
                None => format!("known templates: {}", known.join(", ")),
            };
            return Err(UsageError(format!(
                "template override {}/{name} replaces no template; {hint}",
                dir.display()
            ))
            .into());
        }
        let path = dir.join(&name);
        let text = crate::manifest::read_file_capped(&path, MAX_TEMPLATE_BYTES)
            .with_context(|| format!("reading template {}", path.display()))?
            .ok_or_else(|| {
                UsageError(format!(
                    "template override {} is larger than {} KiB",
                    path.display(),
                    MAX_TEMPLATE_BYTES >> 10
                ))
            })?;
        let text = String::from_utf8(text).map_err(|_| {
            UsageError(format!("template override {} is not UTF-8", path.display()))
        })?;
        overrides.insert(name, text);
    }
    if overrides.is_empty() {
        return Err(UsageError(format!(
            "{} holds no template overrides (expected e.g. {}/systemd/service.tera)",
            dir.display(),
            dir.display()
        ))
        .into());
    }
    Ok(overrides)
}

/// `*.tera` files in `dir` and its subdirectories (one level), as `/`-joined relative names.
fn tera_files(dir: &Path) -> Result<Vec<String>> {
    let list = |d: &Path| -> Result<Vec<std::fs::DirEntry>> {
        std::fs::read_dir(d)
            .with_context(|| format!("reading template directory {}", d.display()))?
            .collect::<std::io::Result<Vec<_>>>()
            .with_context(|| format!("reading template directory {}", d.display()))
    };
    let mut out = Vec::new();
    for entry in list(dir)? {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if path.is_dir() && !name.starts_with('.') {
            for inner in list(&path)? {
                let file = inner.file_name().to_string_lossy().into_owned();
                if is_tera(&file) {
                    out.push(format!("{name}/{file}"));
                }
            }
        } else if is_tera(&name) {
            out.push(name);
        }
    }
    out.sort();
    Ok(out)
}

/// Whether a file name ends in `.tera` (any case: `X.TERA` is a misspelling to report too).
fn is_tera(name: &str) -> bool {
    Path::new(name)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("tera"))
}
