//! Finishing a run that was killed: the journal says which direction (apply or rollback),
//! and every step is replayed idempotently; staged leftovers are removed first.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context as _, Result};

use super::{Content, Journal, Op, Phase, content_of, finish, journal_path, put, read_regular};
use crate::lifecycle::fsops;
use crate::lifecycle::ledger::{Entry, Lock, Store};
use crate::lifecycle::plan::OnDisk;

/// The target of `op` in `phase`: the new contents, or the saved copy of what was there.
fn target_of(store: &Store, op: &Op, phase: Phase) -> Result<Option<Content>> {
    if phase == Phase::Apply {
        return Ok(op.new.clone());
    }
    let Some(saved) = &op.saved else {
        return Ok(None);
    };
    let found = crate::lifecycle::plan::scan(&store.state, [saved.as_str()], false)?;
    match found.get(saved) {
        Some(f @ (OnDisk::File { .. } | OnDisk::Symlink { .. })) => Ok(content_of(f)),
        _ => anyhow::bail!(
            "the saved copy {} is missing: cannot roll back {}",
            store.state.join(saved).display(),
            op.path
        ),
    }
}

/// Bring every path of the journal to its target for the journal's phase, skipping those
/// already there and leaving alone those changed by someone else since.
pub(super) fn replay(store: &Store, journal: &Journal) -> Result<Vec<String>> {
    let mut untouched = Vec::new();
    for op in &journal.ops {
        let target = target_of(store, op, journal.phase)?;
        let (from, to) = match journal.phase {
            Phase::Apply => (op.before.clone(), entry_of(target.as_ref())),
            Phase::Rollback => (entry_of(op.new.as_ref()), op.before.clone()),
        };
        let found = crate::lifecycle::plan::scan(&store.base, [op.path.as_str()], false)?;
        let now = found.get(&op.path).and_then(OnDisk::entry);
        if now == to {
            continue;
        }
        if now == from {
            put(store, &op.path, target.as_ref())?;
        } else {
            untouched.push(op.path.clone());
        }
    }
    Ok(untouched)
}

fn entry_of(c: Option<&Content>) -> Option<Entry> {
    c.map(|c| Entry::of(c.kind, c.mode, c.text.as_bytes()))
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
        return Ok(None);
    };
    let journal: Journal = serde_json::from_slice(&bytes)
        .with_context(|| format!("reading the journal {}", path.display()))?;
    // a run killed between staging and renaming leaves its staged files beside their
    // targets (in a directory an init system may scan): they go before anything else
    let dirs: std::collections::BTreeSet<PathBuf> = journal
        .ops
        .iter()
        .map(|op| fsops::parent_of(&store.path_of(&op.path)).to_path_buf())
        .collect();
    let _ = fsops::remove_leftovers(dirs);
    let untouched = replay(store, &journal)?;
    let (ledger, what) = match journal.phase {
        Phase::Apply => (&journal.ledger_after, "completed"),
        Phase::Rollback => (&journal.ledger_before, "rolled back"),
    };
    store.write(lock, ledger)?;
    finish(store)?;
    let mut line = format!(
        "{what} an interrupted run ({} file operation(s))",
        journal.ops.len()
    );
    if !untouched.is_empty() {
        let _ = write!(
            line,
            "; changed by someone else since, left alone: {}",
            untouched.join(", ")
        );
    }
    Ok(Some(line))
}
