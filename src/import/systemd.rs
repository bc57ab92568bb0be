//! systemd units → manifest: `.service` files (templates `NAME@.service` get their
//! instances from the targets' and units' `Wants=`/`Requires=`), `.target` files (the
//! stack's, and groups from the others), openim-init's own gates read back as externals and
//! health checks.

mod parts;
mod sandbox;
mod service;
mod values;

use std::path::PathBuf;

use super::draft::{Entry, strings};
use super::{Draft, Failure, Files, Imported, Options, Report, at, sanitize_name};

/// One `Key=Value` line of a unit file.
#[derive(Debug, Clone)]
pub struct Directive {
    /// `Unit`, `Service`, `Install`, ….
    pub section: String,
    /// The key.
    pub key: String,
    /// The raw value (continuation lines joined).
    pub value: String,
    /// Line number, 1-based.
    pub line: usize,
}

/// What systemd strips around keys and values (ASCII only: a no-break space is kept).
const BLANKS: &[char] = &[' ', '\t', '\r', '\n'];

/// Split a unit file into directives (comments and blank lines skipped, `\` continuations
/// joined).
#[must_use]
pub fn parse_unit(text: &str) -> Vec<Directive> {
    let mut out = Vec::new();
    let mut section = String::new();
    let mut pending: Option<(String, usize)> = None;
    for (i, raw) in text.lines().enumerate() {
        let (mut line, start) = match pending.take() {
            Some((acc, start)) => (format!("{acc} {}", raw.trim_matches(BLANKS)), start),
            None => (raw.trim_matches(BLANKS).to_owned(), i + 1),
        };
        if line.starts_with(['#', ';']) || line.is_empty() {
            continue;
        }
        if line.ends_with('\\') {
            line.pop();
            pending = Some((line, start));
            continue;
        }
        if let Some(s) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            s.clone_into(&mut section);
        } else if let Some((k, v)) = line.split_once('=') {
            out.push(Directive {
                section: section.clone(),
                key: k.trim_matches(BLANKS).to_owned(),
                value: v.trim_matches(BLANKS).to_owned(),
                line: start,
            });
        }
    }
    out
}

/// A unit file read in.
pub(super) struct Unit {
    path: PathBuf,
    /// `foo` of `foo.service`, `foo@.service`, `foo.target`.
    stem: String,
    template: bool,
    target: bool,
    directives: Vec<Directive>,
}

impl Unit {
    fn values<'a>(&'a self, section: &'a str, key: &'a str) -> impl Iterator<Item = &'a Directive> {
        self.directives
            .iter()
            .filter(move |d| d.section == section && d.key == key)
    }

    /// The unit names of a list directive (all assignments, an empty one resets).
    fn names(&self, section: &str, key: &str) -> Vec<String> {
        let mut out = Vec::new();
        for d in self.values(section, key) {
            if d.value.is_empty() {
                out.clear();
            }
            out.extend(d.value.split_whitespace().map(str::to_owned));
        }
        out
    }

    fn last<'a>(&'a self, section: &'a str, key: &'a str) -> Option<&'a Directive> {
        self.values(section, key).last()
    }

    fn place(&self, d: &Directive) -> String {
        format!("{} {}=", at(&self.path, d.line), d.key)
    }
}

/// `NAME.service` / `NAME@INST.service` → (NAME, INST).
fn service_ref(unit: &str) -> Option<(&str, Option<&str>)> {
    let base = unit.strip_suffix(".service")?;
    Some(match base.split_once('@') {
        Some((n, "")) => (n, None),
        Some((n, i)) => (n, Some(i)),
        None => (base, None),
    })
}

fn read_units(
    paths: &[PathBuf],
    files: &dyn Files,
    report: &mut Report,
) -> Result<Vec<Unit>, Failure> {
    let mut units = Vec::new();
    for path in paths {
        let text = files
            .read(path)
            .map_err(|e| Failure(format!("{}: {e}", path.display())))?;
        let file = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let (stem, target) = if let Some(s) = file.strip_suffix(".target") {
            (s.to_owned(), true)
        } else if let Some(s) = file.strip_suffix(".service") {
            (s.to_owned(), false)
        } else {
            report.drop(
                path.display().to_string(),
                "only .service and .target units are imported",
            );
            continue;
        };
        let template = stem.ends_with('@');
        let stem = stem.trim_end_matches('@').to_owned();
        if !target && stem.contains('@') {
            report.drop(
                path.display().to_string(),
                "an instance unit file: import its template `NAME@.service` instead",
            );
            continue;
        }
        units.push(Unit {
            path: path.clone(),
            stem,
            template,
            target,
            directives: parse_unit(&text),
        });
    }
    Ok(units)
}

/// Import systemd units.
///
/// # Errors
/// A file that cannot be read.
pub fn import(paths: &[PathBuf], files: &dyn Files, opts: &Options) -> Result<Imported, Failure> {
    let mut report = Report::default();
    let units = read_units(paths, files, &mut report)?;
    let (services, targets): (Vec<&Unit>, Vec<&Unit>) = units.iter().partition(|u| !u.target);
    let stack = opts
        .name
        .as_deref()
        .and_then(|n| targets.iter().find(|t| t.stem == n))
        .or_else(|| {
            targets
                .iter()
                .find(|t| t.last("Install", "WantedBy").is_some())
        })
        .or_else(|| targets.first())
        .copied();
    let name = opts.name.clone().unwrap_or_else(|| {
        sanitize_name(stack.map_or_else(
            || services.first().map_or("imported", |s| s.stem.as_str()),
            |t| t.stem.as_str(),
        ))
    });
    let mut draft = Draft {
        name,
        comments: vec![format!(
            "Imported by `openim-init import systemd` from {} unit file(s); review the comments below.",
            units.len()
        )],
        ..Draft::default()
    };
    let known: Vec<&str> = services.iter().map(|s| s.stem.as_str()).collect();
    let target_names: Vec<&str> = targets.iter().map(|t| t.stem.as_str()).collect();
    for svc in &services {
        let ctx = service::Context {
            known: &known,
            targets: &target_names,
        };
        let entry = service::convert(svc, &ctx, &mut draft, &mut report);
        draft.services.push(entry);
    }
    instances(&units, &mut draft, &mut report);
    if let Some(t) = stack {
        // the stack target lists the services in the manifest's order
        let order: Vec<String> = t
            .names("Unit", "Wants")
            .iter()
            .filter_map(|n| service_ref(n).map(|(s, _)| sanitize_name(s)))
            .collect();
        draft.services.sort_by_key(|e| {
            order
                .iter()
                .position(|n| *n == e.name)
                .unwrap_or(usize::MAX)
        });
    }
    targets_to_groups(stack, &targets, &known, &mut draft, &mut report);
    Ok(Imported { draft, report })
}

/// Instances of templates, from every `Wants=`/`Requires=` naming `NAME@INST.service`.
fn instances(units: &[Unit], draft: &mut Draft, report: &mut Report) {
    for tpl in units.iter().filter(|u| u.template && !u.target) {
        let mut found: Vec<String> = Vec::new();
        for u in units {
            for key in ["Wants", "Requires"] {
                for n in u.names("Unit", key) {
                    if let Some((s, Some(i))) = service_ref(&n)
                        && s == tpl.stem
                        && !found.iter().any(|f| f == i)
                    {
                        found.push(i.to_owned());
                    }
                }
            }
        }
        let Some(entry) = draft.service_mut(&sanitize_name(&tpl.stem)) else {
            continue;
        };
        if found.is_empty() {
            report.note(
                tpl.path.display().to_string(),
                "a template no target wants: imported with one instance `0`",
            );
            entry.comment(
                "instances",
                "no unit wanted an instance of this template: list the instances to run",
            );
            found.push("0".into());
        }
        let counted = found.iter().enumerate().all(|(i, n)| *n == i.to_string());
        if counted {
            entry.set("instances", i64::try_from(found.len()).unwrap_or(i64::MAX));
        } else {
            entry.set("instances", strings(&found));
        }
    }
}

/// The stack target's members and description; every other target becomes a group.
fn targets_to_groups(
    stack: Option<&Unit>,
    targets: &[&Unit],
    known: &[&str],
    draft: &mut Draft,
    report: &mut Report,
) {
    let members = |t: &Unit, report: &mut Report| -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for n in t
            .names("Unit", "Wants")
            .into_iter()
            .chain(t.names("Unit", "Requires"))
        {
            match service_ref(&n) {
                Some((s, _)) if known.contains(&s) => {
                    let s = sanitize_name(s);
                    if !out.contains(&s) {
                        out.push(s);
                    }
                }
                _ => report.drop(
                    format!("{} Wants={n}", t.path.display()),
                    "not an imported service",
                ),
            }
        }
        out
    };
    for t in targets {
        let description = t.last("Unit", "Description").map(|d| {
            crate::escape::systemd::unspecify(&d.value, &|c| Ok(format!("%{c}")))
                .unwrap_or_else(|_| d.value.clone())
        });
        let list = members(t, report);
        if stack.is_some_and(|s| std::ptr::eq(s, *t)) {
            draft.description.clone_from(&description);
            let all: Vec<String> = draft.services.iter().map(|s| s.name.clone()).collect();
            if list == all {
                continue;
            }
        }
        let mut g = Entry::new(&sanitize_name(&t.stem));
        if let Some(d) = description {
            g.set("description", d);
        }
        g.set("services", strings(&list));
        draft.groups.push(g);
        for d in t.directives.iter().filter(|d| {
            !matches!(
                d.key.as_str(),
                "Description" | "Wants" | "Requires" | "WantedBy"
            )
        }) {
            report.drop(
                t.place(d),
                "not carried over (a target only gives a group its members and description)",
            );
        }
    }
}
