//! Finishing a run that was killed: the journal says which direction (apply or rollback),
//! and every step is replayed idempotently; staged leftovers are removed after.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use super::{
    Content, Journal, Op, Phase, STAGING_FILE, content_of, finish, journal_path, put, read_regular,
    staging_dirs,
};
use crate::lifecycle::fsops;
use crate::lifecycle::ledger::{Entry, Ledger, Lock, Store};
use crate::lifecycle::plan::{OnDisk, scan};

/// The target of `op` in `phase`: the new contents, or the saved copy of what was there.
fn target_of(store: &Store, op: &Op, phase: Phase) -> Result<Option<Content>> {
    if phase == Phase::Apply {
        return Ok(op.new.as_ref().and_then(|t| {
            t.text.as_ref().map(|text| Content {
                kind: t.kind,
                mode: t.mode,
                text: text.clone(),
            })
        }));
    }
    let Some(saved) = &op.saved else {
        return Ok(None);
    };
    let found = scan(&store.state, [saved.as_str()], false)?;
    match found.get(saved) {
        Some(f @ (OnDisk::File { .. } | OnDisk::Symlink { .. })) => Ok(content_of(f)),
        _ => anyhow::bail!(
            "the saved copy {} is missing: cannot roll back {}",
            store.state.join(saved).display(),
            op.path
        ),
    }
}

/// What a replay could not do.
#[derive(Debug, Default)]
pub(super) struct Replayed {
    /// Paths changed by someone else since (left alone).
    pub untouched: Vec<String>,
    /// Paths whose staged file is gone or changed (left as they were).
    pub incomplete: Vec<String>,
}

/// What `path` (relative to `dir`) holds, as a ledger entry.
fn entry_at(dir: &Path, rel: &str) -> Result<Option<Entry>> {
    Ok(scan(dir, [rel], false)?.get(rel).and_then(OnDisk::entry))
}

/// Rename the staged file of `op` into place if it holds `to`; false when it does not.
fn place_staged(store: &Store, op: &Op, to: Option<&Entry>) -> Result<bool> {
    let (Some(tmp), Some(to)) = (&op.staged, to) else {
        return Ok(false);
    };
    let path = store.path_of(&op.path);
    let dir = fsops::parent_of(&path);
    if entry_at(dir, tmp)?.as_ref() != Some(to) {
        return Ok(false);
    }
    std::fs::rename(dir.join(tmp), &path)
        .with_context(|| format!("renaming into {}", path.display()))?;
    fsops::sync_dir(dir);
    Ok(true)
}

/// Bring every path of the journal to its target for the journal's phase, skipping those
/// already there and leaving alone those changed by someone else since.
pub(super) fn replay(store: &Store, journal: &Journal) -> Result<Replayed> {
    let mut out = Replayed::default();
    for op in journal.ops.iter() {
        let op = &*op;
        let target = target_of(store, op, journal.phase)?;
        let new = op.new.as_ref().map(super::Target::entry);
        let (from, to) = match journal.phase {
            Phase::Apply => (op.before.clone(), new),
            Phase::Rollback => (new, op.before.clone()),
        };
        let now = entry_at(&store.base, &op.path)?;
        if now == to {
            continue;
        }
        if now != from {
            out.untouched.push(op.path.to_string());
        } else if target.is_some() || to.is_none() {
            put(store, &op.path, target.as_ref())?;
        } else if !place_staged(store, op, to.as_ref())? {
            out.incomplete.push(op.path.to_string());
        }
    }
    Ok(out)
}

/// Remove the staged files of a run killed before its journal was written (the staging
/// file lists their directories); a line for the user when there were some.
fn discard_staged(store: &Store) -> Result<Option<String>> {
    let list = store.state.join(STAGING_FILE);
    let Some(bytes) = read_regular(&list)? else {
        return Ok(None);
    };
    let dirs = staging_dirs(&bytes);
    let removed = fsops::remove_leftovers(dirs.iter().map(|d| store.base.join(d)));
    fsops::remove(&list)?;
    Ok((!removed.is_empty()).then(|| {
        format!(
            "removed {} file(s) staged by an interrupted run that had changed nothing yet",
            removed.len()
        )
    }))
}

/// Finish a run that was killed: complete it, or complete its rollback. Returns a line for
/// the user when there was one, naming paths changed by someone else meanwhile (left alone).
///
/// # Errors
/// The journal cannot be read, or an I/O error.
pub fn recover(store: &Store, lock: &Lock) -> Result<Option<String>> {
    let _ = fsops::remove_leftovers([store.state.clone()]);
    let path = journal_path(store);
    let Some(bytes) = read_regular(&path)? else {
        return discard_staged(store);
    };
    let journal: Journal = serde_json::from_slice(&bytes)
        .with_context(|| format!("reading the journal {}", path.display()))?;
    let done = replay(store, &journal)?;
    // staged files not renamed (paths left alone) and any older leftovers: beside their
    // targets, in a directory an init system may scan
    let dirs: BTreeSet<PathBuf> = journal
        .ops
        .iter()
        .map(|op| store.base.join(fsops::split_rel(&op.path).0))
        .collect();
    let _ = fsops::remove_leftovers(dirs);
    let (mut ledger, what) = match journal.phase {
        Phase::Apply => (journal.after()?, "completed"),
        Phase::Rollback => (Ledger::of(journal.ledger_before.owned())?, "rolled back"),
    };
    for path in &done.incomplete {
        match journal.ledger_before.owned().get(path)? {
            Some(e) => ledger.files.insert(path.clone(), e),
            None => ledger.files.remove(path),
        };
    }
    store.write(lock, &ledger)?;
    finish(store)?;
    let mut line = format!(
        "{what} an interrupted run ({} file operation(s))",
        journal.ops.len()
    );
    if !done.untouched.is_empty() {
        let _ = write!(
            line,
            "; changed by someone else since, left alone: {}",
            done.untouched.join(", ")
        );
    }
    if !done.incomplete.is_empty() {
        let _ = write!(
            line,
            "; staged copy gone, left as it was: {}",
            done.incomplete.join(", ")
        );
    }
    Ok(Some(line))
}
