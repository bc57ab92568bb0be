//! The `--dry-run` view of a plan: one line per path that changes or is refused, with a
//! unified diff of every file that would change.

use std::fmt::Write as _;

use similar::TextDiff;

use super::{Action, Conflict, OnDisk, Plan, Step};
use crate::lifecycle::ledger::Kind;

/// What a file or link reads as in a diff: a link as `-> target`.
fn shown(kind: Kind, text: &str) -> String {
    match kind {
        Kind::Symlink => format!("-> {text}\n"),
        Kind::File => text.to_owned(),
    }
}

fn current(found: &OnDisk) -> String {
    match found {
        OnDisk::Symlink { .. } => shown(Kind::Symlink, &found.text().unwrap_or_default()),
        _ => found.text().unwrap_or_default(),
    }
}

fn verb(step: &Step) -> String {
    let desired = step.desired.is_some();
    let why = |c: &Conflict| c.why(&step.found);
    match &step.action {
        Action::Create => "create".into(),
        Action::Update => "update".into(),
        Action::Remove => "remove".into(),
        Action::Force(c) if desired => format!("replace ({}; a backup is kept)", why(c)),
        Action::Force(c) => format!("remove ({}; a backup is kept)", why(c)),
        Action::Refuse(c) => format!("refuse ({})", why(c)),
        Action::KeepEdited => "keep (edited since; no longer owned)".into(),
        Action::Adopt => "adopt (already as desired)".into(),
        Action::Forget => "forget (already gone)".into(),
        Action::Keep | Action::Retain => "keep".into(),
    }
}

/// The dry-run report of `plan`: a line per path that is not simply kept, and for every file
/// that would change a unified diff (`a/PATH` → `b/PATH`), then the summary line. Paths are
/// shown under `base` (e.g. the output directory or `/`).
#[must_use]
pub fn render_dry_run(plan: &Plan, base: &str) -> String {
    let mut out = String::new();
    let base = base.trim_end_matches('/');
    for step in &plan.steps {
        if matches!(step.action, Action::Keep | Action::Retain) {
            continue;
        }
        let _ = writeln!(out, "{}: {base}/{}", verb(step), step.path);
        if !step.action.changes_disk() {
            continue;
        }
        let old = current(&step.found);
        let new = step
            .desired
            .as_ref()
            .map(|d| shown(d.kind, &d.contents))
            .unwrap_or_default();
        let mode_change = match (&step.found, &step.desired) {
            (OnDisk::File { mode, .. }, Some(d)) if *mode != d.mode && old == new => {
                Some((*mode, d.mode))
            }
            _ => None,
        };
        if let Some((from, to)) = mode_change {
            let _ = writeln!(out, "mode {from:04o} → {to:04o}");
            continue;
        }
        let diff = TextDiff::from_lines(&old, &new);
        let a = if matches!(step.found, OnDisk::Missing) {
            "/dev/null".to_owned()
        } else {
            format!("a/{}", step.path)
        };
        let b = if step.desired.is_some() {
            format!("b/{}", step.path)
        } else {
            "/dev/null".to_owned()
        };
        let _ = write!(
            out,
            "{}",
            diff.unified_diff().context_radius(3).header(&a, &b)
        );
    }
    let _ = writeln!(out, "{}", plan.summary());
    out
}
