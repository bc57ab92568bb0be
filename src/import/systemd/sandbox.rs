//! The hardening directives openim-init writes for `sandbox = "basic" | "strict"` read back
//! into `sandbox`, `capabilities` and `writable_paths`: recognised only when the unit holds
//! exactly what a level gives; otherwise every one of them is reported as dropped. A unit
//! without any of them, or with a set no level gives, becomes `sandbox = "off"` (the others
//! reported): importing never adds confinement the unit did not have.

use super::super::Report;
use super::super::draft::{Entry, strings};
use super::{Directive, Unit};
use crate::backend::systemd::sandbox::{BASIC, STRICT};
use crate::escape::systemd as esc;

/// Keys whose value the level decides (beyond the fixed lines of [`BASIC`]/[`STRICT`]).
const VARIABLE: &[&str] = &[
    "CapabilityBoundingSet",
    "AmbientCapabilities",
    "ProtectSystem",
    "ProtectHome",
    "ReadWritePaths",
    "PrivateTmp",
];

/// Whether `key` is one of the sandbox directives (then it is collected, not handled alone).
#[must_use]
pub(super) fn is_sandbox_key(key: &str) -> bool {
    VARIABLE.contains(&key)
        || BASIC
            .iter()
            .chain(STRICT)
            .any(|l| l.split_once('=').is_some_and(|(k, _)| k == key))
}

/// Carry the collected sandbox directives `lines` of `unit` into `e`, or report them.
pub(super) fn carry(unit: &Unit, lines: &[Directive], e: &mut Entry, report: &mut Report) {
    if lines.is_empty() {
        e.set("sandbox", "off");
        return;
    }
    let Some((level, caps, writable)) = recognise(lines, e) else {
        // what cannot be said as a level is not half-said: no confinement is added
        e.set("sandbox", "off");
        for d in lines {
            report.drop(
                unit.place(d),
                "a hardening directive that no `sandbox` level gives as a whole",
            );
        }
        return;
    };
    e.set("sandbox", level);
    if !caps.is_empty() {
        e.set("capabilities", strings(&caps));
    }
    if !writable.is_empty() {
        e.set("writable_paths", strings(&writable));
    }
}

type Recognised = (&'static str, Vec<String>, Vec<String>);

/// The level, capabilities and declared writable paths, when `lines` are exactly a level's.
fn recognise(lines: &[Directive], e: &Entry) -> Option<Recognised> {
    // Some(value or None when absent); None when the key is written twice
    let get = |key: &str| -> Option<Option<&str>> {
        let mut found = lines.iter().filter(|d| d.key == key);
        let first = found.next().map(|d| d.value.as_str());
        found.next().is_none().then_some(first)
    };
    let (level, fixed): (&'static str, Vec<&str>) = match get("ProtectSystem")? {
        Some("strict") => ("strict", BASIC.iter().chain(STRICT).copied().collect()),
        Some("full") => ("basic", BASIC.to_vec()),
        _ => return None,
    };
    for line in &fixed {
        let (k, v) = line.split_once('=')?;
        if get(k)? != Some(v) {
            return None;
        }
    }
    let known = |d: &&Directive| {
        VARIABLE.contains(&d.key.as_str())
            || fixed
                .iter()
                .any(|l| l.split_once('=').is_some_and(|(k, _)| k == d.key))
    };
    if !lines.iter().all(|d| known(&d)) {
        return None;
    }
    let caps: Vec<String> = get("CapabilityBoundingSet")??
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let ambient = get("AmbientCapabilities")?.map(str::split_whitespace);
    if ambient.map(Iterator::collect::<Vec<_>>).unwrap_or_default() != caps {
        return None;
    }
    if !matches!(get("ProtectHome")?, Some("yes" | "read-only"))
        || !matches!(get("PrivateTmp")?, None | Some("yes"))
    {
        return None;
    }
    let writable = match get("ReadWritePaths")? {
        None => Vec::new(),
        Some(v) => declared_paths(v, e)?,
    };
    Some((level, caps, writable))
}

/// The paths of `ReadWritePaths=` the manifest declares: the working directory and the log
/// files' directories are added by openim-init itself and are left out.
fn declared_paths(value: &str, e: &Entry) -> Option<Vec<String>> {
    let mut auto: Vec<String> = e
        .str("working_dir")
        .map(str::to_owned)
        .into_iter()
        .collect();
    if let Some(toml::Value::Table(logs)) = e.table.get("logs") {
        for f in logs.values().filter_map(toml::Value::as_str) {
            auto.push(parent(f));
        }
    }
    let words = esc::split_words(value).ok()?;
    Some(
        words
            .iter()
            .map(|w| w.strip_prefix('-').unwrap_or(w).replace("%%", "%"))
            .filter(|p| !auto.contains(p))
            .collect(),
    )
}

/// The directory of `path` (as the model derives the log directories).
fn parent(path: &str) -> String {
    match path.trim_end_matches('/').rsplit_once('/') {
        Some(("", _)) | None => "/".to_owned(),
        Some((dir, _)) => dir.to_owned(),
    }
}
