//! Procfile → manifest, by foreman's and honcho's rule: a line `NAME: COMMAND`
//! (`^([A-Za-z0-9_-]+):\s*(.+)$`) is a process, every other line is ignored (and reported).
//! A `.env` beside the Procfile becomes each service's `environment`.

use std::path::{Path, PathBuf};

use super::draft::{Entry, strings};
use super::{Draft, Failure, Files, Imported, Options, Report, at, sanitize_name};
use crate::escape::sh;

/// One `NAME: COMMAND` line, or `None` for a line foreman ignores.
#[must_use]
pub fn parse_line(line: &str) -> Option<(&str, &str)> {
    let (name, rest) = line.split_once(':')?;
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let command = rest
        .trim_start_matches([' ', '\t'])
        .trim_end_matches(['\r', '\n']);
    (ok && !command.is_empty()).then_some((name, command))
}

/// A `.env` file: `KEY=value` lines, `#` comments, optional `export `, one pair of
/// enclosing quotes removed (`"…"` with `\n` and `\"` escapes).
fn dotenv(path: &Path, text: &str, report: &mut Report) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((k, v)) = line.split_once('=') else {
            report.drop(at(path, i + 1), "not a KEY=value line");
            continue;
        };
        let v = v.trim();
        let v = if let Some(q) = v.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
            q.replace("\\n", "\n").replace("\\\"", "\"")
        } else if let Some(q) = v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
            q.to_owned()
        } else {
            v.to_owned()
        };
        if v.contains('$') {
            report.note(
                at(path, i + 1),
                "`$` is kept literally (the manifest expands nothing)",
            );
        }
        out.retain(|(key, _)| key != k.trim());
        out.push((k.trim().to_owned(), v));
    }
    out
}

/// The argv of a Procfile command, with notes on what was decided.
fn argv(
    place: &str,
    line: &str,
    opts: &Options,
    e: &mut Entry,
    report: &mut Report,
) -> Vec<String> {
    let mut words = match sh::split(line) {
        Ok(w) if !w.is_empty() => w,
        Ok(_) => return Vec::new(),
        Err(why) => {
            report.note(
                place,
                format!("shell syntax ({why}): runs as /bin/sh -c LINE"),
            );
            e.comment(
                "command",
                format!("runs through /bin/sh because of {why}: an argv without a shell is safer"),
            );
            return vec!["/bin/sh".into(), "-c".into(), line.to_owned()];
        }
    };
    if !words[0].starts_with('/') {
        let found = if opts.resolve {
            which::which(&words[0]).ok()
        } else {
            None
        };
        if let Some(p) = found {
            report.note(place, format!("`{}` resolved to {}", words[0], p.display()));
            words[0] = p.display().to_string();
        } else {
            {
                let why = if opts.resolve {
                    "was not found in PATH"
                } else {
                    "is not an absolute path (--resolve looks it up in PATH)"
                };
                report.drop(place, format!("the program `{}` {why}", words[0]));
                e.comment(
                    "command",
                    format!(
                        "TODO: `{}` is looked up in PATH by env: give its absolute path",
                        words[0]
                    ),
                );
                words.insert(0, "/usr/bin/env".to_owned());
            }
        }
    }
    words
}

/// Import a Procfile.
///
/// # Errors
/// A file that cannot be read.
pub fn import(paths: &[PathBuf], files: &dyn Files, opts: &Options) -> Result<Imported, Failure> {
    let mut report = Report::default();
    let mut draft = Draft {
        name: opts.name.clone().unwrap_or_else(|| {
            let dir = paths
                .first()
                .and_then(|p| p.canonicalize().ok().or_else(|| Some(p.clone())));
            sanitize_name(
                &dir.as_deref()
                    .and_then(Path::parent)
                    .and_then(Path::file_name)
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            )
        }),
        comments: vec![
            "Imported by `openim-init import procfile`; review the comments below.".into(),
        ],
        ..Draft::default()
    };
    for path in paths {
        let text = files
            .read(path)
            .map_err(|e| Failure(format!("{}: {e}", path.display())))?;
        let env_path = path.with_file_name(".env");
        let env = files
            .read(&env_path)
            .map(|t| dotenv(&env_path, &t, &mut report))
            .unwrap_or_default();
        for (i, line) in text.lines().enumerate() {
            let place = at(path, i + 1);
            let Some((name, command)) = parse_line(line) else {
                if !line.trim().is_empty() && !line.trim_start().starts_with('#') {
                    report.drop(
                        &place,
                        format!("skipped: `{}` is not `NAME: COMMAND`", line.escape_debug()),
                    );
                }
                continue;
            };
            let mut e = Entry::new(&sanitize_name(name));
            let argv = argv(&place, command, opts, &mut e, &mut report);
            e.set("command", strings(&argv));
            for (k, v) in &env {
                e.set_in("environment", k, v.clone());
            }
            draft.services.push(e);
        }
    }
    Ok(Imported { draft, report })
}
