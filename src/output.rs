//! Sinks for rendered artifacts: text for stdout, or files written into a directory, never
//! outside it and never over a file openim-init did not write.
//!
//! `--out DIR` goes through the lifecycle layer like an install does: under a lock on DIR it
//! finishes a run that was killed, plans every file against the ledger in
//! `DIR/.openim-init/` and what is on disk, and writes nothing when a check fails (an unsafe
//! path, a symlink or non-file in the way, a foreign or edited file without `--force`).
//! Then it carries the plan out journaled: each file is written atomically, and a run
//! killed at any point is completed by the next one. `generate --out` does the same while
//! the backend renders ([`write_streamed`], in `stream.rs`).

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use hashbrown::HashSet;

use crate::backend::Artifact;
use crate::errors::usage::UsageError;
use crate::lifecycle::fsops::{self, Found};
use crate::lifecycle::journal;
use crate::lifecycle::ledger::{LEGACY_STATE_FILE, OUT_STATE_DIR, Store};
use crate::lifecycle::plan::{self, Desired, Options, Plan, Refused};

pub use crate::lifecycle::fsops::{TEMP_PREFIX, symlink_atomic, write_atomic};

/// All artifacts as one text, each under a `==== path (mode) ====` header.
#[must_use]
pub fn to_text(artifacts: &[Artifact]) -> String {
    let mut out = Vec::new();
    // writing into a Vec cannot fail
    let _ = write_text(artifacts, &mut out);
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Write [`to_text`]'s text to `w`, artifact by artifact (no copy of the whole output).
///
/// # Errors
/// What writing to `w` returns.
pub fn write_text(artifacts: &[Artifact], w: &mut impl std::io::Write) -> std::io::Result<()> {
    artifacts.iter().try_for_each(|a| write_one(a, w))
}

/// Write one artifact as [`to_text`] shows it: a `==== path (mode) ====` header and its
/// contents (newline-terminated), or `==== path -> target ====` for a link.
///
/// # Errors
/// The writer's.
pub fn write_one(a: &Artifact, w: &mut impl std::io::Write) -> std::io::Result<()> {
    if let Some(target) = a.link_target() {
        return writeln!(w, "==== {} -> {target} ====", a.path);
    }
    w.write_all(b"==== ")?;
    w.write_all(a.path.as_bytes())?;
    w.write_all(b" (")?;
    push_octal4(w, a.mode())?;
    w.write_all(b") ====\n")?;
    w.write_all(a.contents().as_bytes())?;
    if !a.contents().ends_with('\n') {
        w.write_all(b"\n")?;
    }
    Ok(())
}

/// `mode` as `format!("{mode:04o}")` writes it (at least four octal digits), without the
/// formatting machinery: a header is written for every artifact.
fn push_octal4(w: &mut (impl std::io::Write + ?Sized), mode: u32) -> std::io::Result<()> {
    let mut digits = [b'0'; 11];
    let mut start = digits.len();
    let mut m = mode;
    while m > 0 || digits.len() - start < 4 {
        start -= 1;
        digits[start] = b'0' + u8::try_from(m & 7).unwrap_or_default();
        m >>= 3;
    }
    w.write_all(&digits[start..])
}

fn refuse(message: String) -> anyhow::Error {
    UsageError(message).into()
}

/// Check that `rel` is a plain relative path: `/`-separated names, none empty, `.` or `..`,
/// no backslash or control character, not openim-init's own state.
///
/// # Errors
/// The path could leave the output directory or clash with openim-init's own files.
pub fn safe_relative(rel: &str) -> Result<PathBuf> {
    check_relative(rel)?;
    Ok(PathBuf::from(rel))
}

/// [`safe_relative`]'s check, without making a path.
fn check_relative(rel: &str) -> Result<()> {
    let plain = !rel.is_empty()
        && rel
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != "..")
        && !rel.contains(|c: char| c == '\\' || c.is_control());
    if !plain {
        return Err(refuse(format!(
            "refusing to write `{}`: not a plain relative path",
            rel.escape_debug()
        )));
    }
    let name = crate::lifecycle::fsops::split_rel(rel).1;
    let first = rel.split('/').next().unwrap_or(rel);
    if name == LEGACY_STATE_FILE || first == OUT_STATE_DIR || name.starts_with(TEMP_PREFIX) {
        return Err(refuse(format!(
            "refusing to write `{rel}`: the name is reserved for openim-init's own files"
        )));
    }
    Ok(())
}

/// A link target must be a plain name in the link's own directory.
fn check_link_target(path: &str, target: &str) -> Result<()> {
    let plain = !target.is_empty()
        && target != "."
        && target != ".."
        && !target.contains(|c: char| c == '/' || c == '\\' || c.is_control());
    if plain {
        Ok(())
    } else {
        Err(refuse(format!(
            "refusing to link `{path}` to `{}`: a link must name a file in its own directory",
            target.escape_debug()
        )))
    }
}

/// The output directory, created if missing and resolved once (it may be a symlink).
fn prepare_root(dir: &Path) -> Result<PathBuf> {
    match fsops::inspect(dir)? {
        Found::File => {
            return Err(refuse(format!(
                "refusing to write into {}: it is a file",
                dir.display()
            )));
        }
        Found::Missing => {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        Found::Dir | Found::Link | Found::Other => {}
    }
    let root = dir
        .canonicalize()
        .with_context(|| format!("resolving {}", dir.display()))?;
    if !root.is_dir() {
        return Err(refuse(format!(
            "refusing to write into {}: it is not a directory",
            root.display()
        )));
    }
    Ok(root)
}

/// Refuse the whole run when any step is refused: blocked paths first, then foreign or
/// edited files (which `--force` would replace).
fn refuse_conflicts(root: &Path, store: &Store, plan: &Plan) -> Result<()> {
    let conflicts = match plan.refused(str::to_owned) {
        None => return Ok(()),
        Some(Refused::Blocked(message)) => return Err(refuse(message)),
        Some(Refused::Conflicts(paths)) => paths,
    };
    Err(refuse(format!(
        "refusing to overwrite file(s) in {} that openim-init did not write or that were \
         changed since: {}; nothing was written (use --force to replace them; a backup is \
         kept under {})",
        root.display(),
        conflicts.join(", "),
        store.backup_dir().display()
    )))
}

/// Write every artifact under `dir`. Checks everything first and writes nothing when a check
/// fails: an unsafe path, a symlink or non-file in the way, or a file openim-init did not
/// write (or that was edited since) unless `force`, which keeps a backup of it under
/// `DIR/.openim-init/backup/`. Files already right are left alone; owned files no longer
/// rendered are kept. Concurrent runs on one directory wait for each other; a run killed
/// earlier is completed first. Returns one line per file for the user, then a summary.
///
/// # Errors
/// A refusal ([`UsageError`], exit code 2) or an I/O error.
pub fn write_all(dir: &Path, artifacts: &[Artifact], force: bool) -> Result<Vec<String>> {
    write_all_owned(dir, artifacts.to_vec(), force)
}

/// [`write_all`], taking the artifacts (their texts are kept, not copied).
///
/// # Errors
/// As [`write_all`].
pub fn write_all_owned(dir: &Path, artifacts: Vec<Artifact>, force: bool) -> Result<Vec<String>> {
    let mut seen = HashSet::with_capacity(artifacts.len());
    for a in &artifacts {
        check_relative(&a.path)?;
        if !seen.insert(a.path.as_str()) {
            return Err(refuse(format!("refusing to write {} twice", a.path)));
        }
        if let Some(link) = a.link_target() {
            check_link_target(&a.path, link)?;
        }
    }
    let root = prepare_root(dir)?;
    let store = Store::for_out_dir(&root);
    let lock = store.lock(&root)?;
    let mut made = Vec::new();
    if let Some(line) = journal::recover(&store, &lock)? {
        made.extend_from_slice(line.as_bytes());
        made.push(b'\n');
    }
    let ledger = store.read(&lock)?;
    drop(seen);
    let desired: Vec<Desired> = artifacts.into_iter().map(Desired::from_owned).collect();
    let disk = plan::scan(&root, desired.iter().map(|d| d.path.as_str()), true)?;
    let plan = plan::plan_owned(
        desired,
        &ledger,
        &disk,
        Options {
            force,
            prune: false,
        },
    );
    refuse_conflicts(&root, &store, &plan)?;
    let applied = journal::apply(&store, &lock, &plan, &ledger)?;
    let backups = applied.backups.clone();
    applied.commit()?;
    Ok(Report::new(
        made,
        Some(Rest::Plan(Done {
            root,
            plan,
            kept: crate::lifecycle::ledger::Marked::new(&crate::lifecycle::ledger::EMPTY),
            backups,
        })),
    )
    .lines())
}

mod report;
mod stream;

pub use report::Report;
use report::{Done, Rest};
pub use stream::{Feed, write_streamed};

#[cfg(test)]
mod tests;
