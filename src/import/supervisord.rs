//! supervisord ini → manifest: the given files and the `[include] files=` they name (globs
//! relative to the including file, as supervisor reads them: one level, sorted), read as
//! supervisor's own `configparser` reads them. `[program:x]` → services (`numprocs` →
//! instances; openim-init's own `/bin/sh` wrapper read back into gates, the environment
//! file, limits and `pre_start`), `[group:x]` → groups (the stack's own group gives its
//! members), `priority` → `after` (each priority level after the one below it).

mod assemble;
mod logs;
mod program;
mod reader;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{Failure, Files, Imported, Options, Report, at};
use crate::escape::supervisord::{IniSection, interpolate, parse_ini};

/// A section and the file it came from.
pub(super) struct Section {
    path: PathBuf,
    sec: IniSection,
}

impl Section {
    /// `FILE:LINE key=` of `key`, or of the header.
    fn place(&self, key: &str) -> String {
        let line = self.sec.get(key).map_or(self.sec.line, |v| v.line);
        format!("{} [{}] {key}=", at(&self.path, line), self.sec.name)
    }

    /// The directory `%(here)s` stands for.
    fn here(&self) -> String {
        self.path
            .parent()
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    }
}

/// Whether `name` matches the shell pattern `pat` (`*`, `?`, `[…]`, as `fnmatch`).
fn fnmatch(pat: &[char], name: &[char]) -> bool {
    match pat.first() {
        None => name.is_empty(),
        Some('*') => (0..=name.len()).any(|i| fnmatch(&pat[1..], &name[i..])),
        Some('?') => !name.is_empty() && fnmatch(&pat[1..], &name[1..]),
        Some('[') if pat.iter().skip(2).any(|c| *c == ']') => {
            let close = 2 + pat[2..].iter().position(|c| *c == ']').unwrap_or(0);
            let (neg, set) = match pat[1] {
                '!' => (true, &pat[2..close]),
                _ => (false, &pat[1..close]),
            };
            let Some(c) = name.first() else { return false };
            let mut hit = false;
            let mut i = 0;
            while i < set.len() {
                if i + 2 < set.len() && set[i + 1] == '-' {
                    hit |= (set[i]..=set[i + 2]).contains(c);
                    i += 3;
                } else {
                    hit |= set[i] == *c;
                    i += 1;
                }
            }
            hit != neg && fnmatch(&pat[close + 1..], &name[1..])
        }
        Some(p) => name.first() == Some(p) && fnmatch(&pat[1..], &name[1..]),
    }
}

/// The files an include pattern names (a pattern only in the file name), sorted.
fn glob(pattern: &Path, files: &dyn Files) -> Option<Vec<PathBuf>> {
    let dir = pattern.parent()?;
    if dir.to_string_lossy().contains(['*', '?', '[']) {
        return None;
    }
    let pat: Vec<char> = pattern.file_name()?.to_string_lossy().chars().collect();
    Some(
        files
            .list(dir)
            .into_iter()
            .filter(|p| {
                p.file_name().is_some_and(|n| {
                    let n: Vec<char> = n.to_string_lossy().chars().collect();
                    fnmatch(&pat, &n)
                })
            })
            .collect(),
    )
}

/// Read `path` into `out` (a section seen before is merged, as supervisor's parser does).
fn read(
    path: &Path,
    files: &dyn Files,
    out: &mut Vec<Section>,
    report: &mut Report,
) -> Result<(), Failure> {
    let text = files
        .read(path)
        .map_err(|e| Failure(format!("{}: {e}", path.display())))?;
    let ini = parse_ini(&text);
    for (line, msg) in ini.errors {
        report.drop(
            at(path, line),
            format!("supervisor rejects this line: {msg}"),
        );
    }
    for sec in ini.sections {
        if let Some(old) = out.iter_mut().find(|s| s.sec.name == sec.name) {
            report.note(
                at(path, sec.line),
                format!("[{}] again: its keys are merged into the first", sec.name),
            );
            for v in sec.values {
                old.sec.values.retain(|o| o.key != v.key);
                old.sec.values.push(v);
            }
        } else {
            out.push(Section {
                path: path.to_owned(),
                sec,
            });
        }
    }
    Ok(())
}

/// The files of `[include] files=` in `main` (read at `first..`), read in.
fn includes(
    first: usize,
    env: &BTreeMap<String, String>,
    files: &dyn Files,
    out: &mut Vec<Section>,
    report: &mut Report,
) -> Result<(), Failure> {
    let Some(inc) = out[first..]
        .iter()
        .find(|s| s.sec.name == "include" && s.path == out[first].path)
    else {
        return Ok(());
    };
    let place = inc.place("files");
    let base = inc.path.parent().map(Path::to_path_buf).unwrap_or_default();
    let here = inc.here();
    let raw = inc
        .sec
        .get("files")
        .map(|v| v.value.clone())
        .unwrap_or_default();
    let text = raw.replace("%(here)s", &here);
    let lookup = |n: &str| n.strip_prefix("ENV_").and_then(|k| env.get(k).cloned());
    let list = match interpolate(&text, &lookup) {
        Ok(t) => t,
        Err(m) => {
            report.drop(place, m);
            return Ok(());
        }
    };
    for pattern in list.split_whitespace() {
        let Some(found) = glob(&base.join(pattern), files) else {
            report.drop(
                place.clone(),
                format!("`{pattern}`: only the file name may hold wildcards"),
            );
            continue;
        };
        if found.is_empty() {
            report.note(place.clone(), format!("no file matches `{pattern}`"));
        }
        for f in found {
            report.note(place.clone(), format!("included {}", f.display()));
            read(&f, files, out, report)?;
        }
    }
    Ok(())
}

/// Import a supervisord configuration (each file given, and the files it includes).
///
/// # Errors
/// A file that cannot be read.
pub fn import(paths: &[PathBuf], files: &dyn Files, opts: &Options) -> Result<Imported, Failure> {
    let mut report = Report::default();
    let mut sections = Vec::new();
    let env: BTreeMap<String, String> = opts.env.iter().cloned().collect();
    for path in paths {
        let first = sections.len();
        read(path, files, &mut sections, &mut report)?;
        if first < sections.len() {
            includes(first, &env, files, &mut sections, &mut report)?;
        }
    }
    let draft = assemble::draft(paths, &sections, &env, opts, &mut report);
    Ok(Imported { draft, report })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_as_fnmatch() {
        let m = |p: &str, n: &str| {
            fnmatch(
                &p.chars().collect::<Vec<_>>(),
                &n.chars().collect::<Vec<_>>(),
            )
        };
        assert!(m("*.conf", "a.conf"));
        assert!(!m("*.conf", "a.ini"));
        assert!(m("[a-c]?.ini", "bx.ini"));
        assert!(!m("[!a-c]?.ini", "bx.ini"));
        assert!(m("*", ""));
    }
}
