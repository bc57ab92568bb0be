//! Carrying out a plan so that a run killed at any point is completed (or, once rolling
//! back, rolled back) by the next run.
//!
//! Order of a run, all under the store's lock:
//! 1. copies of everything about to be replaced or removed go to `STATE/txn/` (to roll
//!    back) and, for forced replacements of foreign or edited files, to `STATE/backup/`
//!    (kept);
//! 2. every new file is written under a temporary name next to its target (the directories
//!    being written into are listed first in `STATE/staging.json`, so that a run killed
//!    before step 3 leaves nothing behind for long), and all are made durable together
//!    (one `syncfs`);
//! 3. the journal (`STATE/journal.json`: every operation with the new file's ledger entry
//!    and temporary name, what was there before, the ledgers before and after) is written
//!    and fsynced: the commit point. The staged files themselves hold the new contents;
//! 4. each staged file is renamed into place (or a path removed), then the directories are
//!    synced: every path holds its old or its new contents at every instant;
//! 5. [`Applied::commit`] writes the new ledger, then deletes the journal and the copies;
//!    [`Applied::rollback`] marks the journal as rolling back, restores the copies and the
//!    old ledger, then deletes the journal.
//!
//! A plan that changes nothing on disk has no journal (steps 1 to 4 do nothing), and its
//! ledger is written only if its text would differ from the file's: an up-to-date run
//! leaves the state directory as it found it (see [`Store::is_canonical`]).
//!
//! [`recover`] (run first by every run) finds a journal left by a killed run and finishes it
//! in its direction (or, with only the staging list, removes the staged files). Each
//! operation is idempotent: a path that already holds its target is skipped, and one that
//! holds neither the old nor the new state (edited after the crash) is left alone (the
//! ledger then shows it as edited).

use std::path::PathBuf;

use anyhow::{Context as _, Result};
use serde::{Deserialize, Serialize};

use super::fsops::{self, Batch, Handle};
use super::ledger::{Kind, Ledger, Lock, NewLedger, Owned, Store, read_regular};
use super::plan::{Action, Plan, Step};
use before::Before;
use ops::{Op, Ops, Saved, StagedName, Target, Written};

const JOURNAL_FILE: &str = "journal.json";
/// The list of directories with staged files, in the state directory (see [`list_staging`]).
pub const STAGING_FILE: &str = "staging.json";
const TXN_DIR: &str = "txn";

/// Testing hook: `OPENIM_INIT_CRASH_AFTER=K` kills the process (SIGKILL) right after its
/// K-th durable step, counted from 0 over every journaled write of the process (per write:
/// the journal, the N file operations, the ledger when it is written; `install` first
/// writes the verifier's scratch copy, then the install itself).
pub const CRASH_ENV: &str = "OPENIM_INIT_CRASH_AFTER";

/// The contents of one path, to write it (a rollback from a saved copy).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Content {
    kind: Kind,
    mode: u32,
    /// Text contents, or a link's target.
    text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Phase {
    Apply,
    Rollback,
}

/// The journal of a run; `ledger_before` is borrowed from the run's own ledger (a copy of
/// 84,000 entries was 27 MB) and owned once read back.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
struct Journal<'l> {
    phase: Phase,
    ops: Ops<'l>,
    ledger_before: Before<'l>,
    /// The ledger after the run; left out when it is `ledger_before` with every operation's
    /// new entry (the usual case: nothing adopted, forgotten or re-recorded besides).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ledger_after: Option<Ledger>,
}

impl Journal<'_> {
    /// The ledger after the run.
    ///
    /// # Errors
    /// An entry of the ledger before cannot be read again.
    fn after(&self) -> std::io::Result<Ledger> {
        if let Some(after) = &self.ledger_after {
            return Ok(after.clone());
        }
        let mut after = Ledger::of(self.ledger_before.owned())?;
        for op in self.ops.iter() {
            match &op.new {
                Some(t) => after.files.insert(op.path.to_string(), t.entry()),
                None => after.files.remove(&*op.path),
            };
        }
        Ok(after)
    }
}

/// Whether the ledger after `plan` is `before` with the new entries of the paths it
/// changes on disk (then the journal need not hold it; with none changed, it is `before`).
///
/// # Errors
/// An entry of `before` cannot be read again.
fn derivable(plan: &Plan, before: &dyn Owned) -> std::io::Result<bool> {
    for s in &plan.steps {
        let derived = match s.action {
            Action::Adopt | Action::Forget | Action::KeepEdited => false,
            Action::Keep => before.get(&s.path)? == s.entry,
            _ => true,
        };
        if !derived {
            return Ok(false);
        }
    }
    Ok(true)
}

/// A plan whose files are on disk; the ledger is not yet updated.
#[must_use = "commit or roll back (a dropped run is completed by the next one)"]
#[derive(Debug)]
pub struct Applied<'a> {
    store: &'a Store,
    lock: &'a Lock,
    journal: Journal<'a>,
    /// The ledger once committed, written beside the old one; none when the old one is
    /// already the very text (nothing changes on disk).
    after: Option<NewLedger>,
    /// Backups of foreign or edited files kept for the user: (path, backup).
    pub backups: Vec<(String, PathBuf)>,
}

/// Durable steps taken so far by this process.
static STEPS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// A durable step was taken: the testing hook's chance to kill the process.
fn crash_point() {
    let step = STEPS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    if crash_hook() == Some(step) {
        let me = rustix::process::getpid();
        let _ = rustix::process::kill_process(me, rustix::process::Signal::KILL);
    }
}

/// Whether the testing hook is set (see [`CRASH_ENV`]).
#[must_use]
pub fn crash_hook_set() -> bool {
    crash_hook().is_some()
}

/// The step the testing hook kills the process after, if it is set.
fn crash_hook() -> Option<usize> {
    static AT: std::sync::OnceLock<Option<usize>> = std::sync::OnceLock::new();
    *AT.get_or_init(|| std::env::var(CRASH_ENV).ok().and_then(|v| v.parse().ok()))
}

fn journal_path(store: &Store) -> PathBuf {
    store.state.join(JOURNAL_FILE)
}

/// A journal as its file holds it.
#[derive(Serialize)]
struct JournalFile<'a, 'l, 's> {
    phase: Phase,
    ops: Written<'a, 'l, 's>,
    ledger_before: &'a Before<'l>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ledger_after: Option<&'a Ledger>,
}

/// Write `journal`, each operation with the temporary name `staged` gives it.
fn write_journal(
    store: &Store,
    journal: &Journal<'_>,
    staged: Option<StagedName<'_>>,
) -> Result<()> {
    std::fs::create_dir_all(&store.state)
        .with_context(|| format!("creating {}", store.state.display()))?;
    // streamed: with the ledger before, a journal of 200,000 paths was a 34 MB text
    fsops::write_atomic_with(&journal_path(store), 0o600, |w| {
        let file = JournalFile {
            phase: journal.phase,
            ops: Written {
                ops: &journal.ops,
                staged,
            },
            ledger_before: &journal.ledger_before,
            ledger_after: journal.ledger_after.as_ref(),
        };
        Ok(serde_json::to_writer(w, &file)?)
    })
}

/// Carry out `plan` (which must have no refusals) over the files of `store`: copies, staged
/// files, journal, then every file operation. `before` is the ledger the plan was made from,
/// as read from `store` under `lock` (a plan that keeps it as it is keeps its file).
///
/// # Errors
/// The plan has refusals, or an I/O error (the journal then lets the next run finish).
pub fn apply<'a>(
    store: &'a Store,
    lock: &'a Lock,
    plan: &'a Plan,
    before: &'a dyn Owned,
) -> Result<Applied<'a>> {
    apply_with(store, lock, plan, before, None)
}

/// Files staged before the plan was made, and the handle of each path's file.
pub type Prestaged<'h> = (Batch, &'h dyn Fn(&str) -> Option<Handle>);

/// [`apply`], with the new files already staged in `batch` (under the staging list, see
/// [`list_staging`]): `staged.1` gives the handle of each path the plan writes.
///
/// # Errors
/// As [`apply`]; a path the plan writes was not staged.
pub fn apply_staged<'a>(
    store: &'a Store,
    lock: &'a Lock,
    plan: &'a Plan,
    before: &'a dyn Owned,
    staged: Prestaged<'_>,
) -> Result<Applied<'a>> {
    apply_with(store, lock, plan, before, Some(staged))
}

fn apply_with<'a>(
    store: &'a Store,
    lock: &'a Lock,
    plan: &'a Plan,
    before: &'a dyn Owned,
    staged: Option<Prestaged<'_>>,
) -> Result<Applied<'a>> {
    anyhow::ensure!(
        plan.refusals().is_empty(),
        "a plan with refusals was applied"
    );
    anyhow::ensure!(
        read_regular(&journal_path(store))?.is_none(),
        "an interrupted run must be recovered first"
    );
    let txn = store.state.join(TXN_DIR);
    let _ = std::fs::remove_dir_all(&txn);
    let mut journal = Journal {
        phase: Phase::Apply,
        ops: Ops::Read(Vec::new()),
        ledger_before: Before::Borrowed(before),
        ledger_after: None,
    };
    // (only a plan that changes the disk writes its journal)
    let (changes, derived) = (plan.changed() > 0, derivable(plan, before)?);
    if changes && !derived {
        journal.ledger_after = Some(plan.ledger_after(before)?);
    }
    // an up-to-date run, its ledger already the very text it would be written as: left as
    // it is (rewritten, it was a new file and an fsync of a 6.6 MB text for nothing)
    let kept = !changes && derived && store.is_canonical(lock);
    // the new ledger, written beside the old one on another thread while the files are
    // carried out (a large plan's ledger takes as long to write as its journal)
    let text = || store.prepare_entries(lock, plan.entries_after(before));
    let (backups, after) = std::thread::scope(|s| {
        let other = (!kept && plan.steps.len() >= 1024).then(|| s.spawn(text));
        let backups = carry_out(store, plan, &mut journal, staged)?;
        let after = match other {
            Some(t) => Some(t.join().unwrap_or_else(|p| std::panic::resume_unwind(p))?),
            None if kept => None,
            None => Some(text()?),
        };
        anyhow::Ok((backups, after))
    })?;
    Ok(Applied {
        store,
        lock,
        journal,
        after,
        backups,
    })
}

/// Copies, staged files, journal, then every file operation of `plan` (see [`apply`]);
/// returns the backups kept for the user.
fn carry_out<'a>(
    store: &Store,
    plan: &'a Plan,
    journal: &mut Journal<'a>,
    staged: Option<Prestaged<'_>>,
) -> Result<Vec<(String, PathBuf)>> {
    let txn = store.state.join(TXN_DIR);
    let mut backups = Vec::new();
    let steps: Vec<&Step> = plan
        .steps
        .iter()
        .filter(|s| s.action.changes_disk())
        .collect();
    let mut saved_as = Saved::default();
    let mut made = PathBuf::new();
    for (i, step) in steps.iter().enumerate() {
        let from = store.path_of(&step.path);
        if let Some(p) = copy_for_rollback(&txn, &from, &step.path, &step.found, &mut made)? {
            saved_as.push(i, &step.path, p.strip_prefix(&store.state).unwrap_or(&p));
        }
        if matches!(step.action, Action::Force(_))
            && let Some(kept) = save(&store.backup_dir(), &from, &step.path, &step.found)?
        {
            backups.push((step.path.to_string(), kept));
        }
    }
    if steps.is_empty() {
        return Ok(backups);
    }
    if !saved_as.is_empty() {
        fsops::sync_tree(&txn)?;
    }
    let (batch, handles) = match staged {
        None => stage_all(store, &steps)?,
        Some((batch, handle)) => take_staged(batch, handle, &steps)?,
    };
    journal.ops = Ops::Planned {
        steps,
        saved: saved_as,
    };
    let name = |i: usize| handles[i].map(|h| batch.temp(h));
    write_journal(store, journal, Some(&name))?;
    crash_point();
    place_all(store, journal, &batch, &handles)?;
    Ok(backups)
}

impl Applied<'_> {
    /// Record the new ledger and end the run: the journal and the copies go.
    ///
    /// # Errors
    /// I/O errors (the journal is kept: the next run finishes).
    pub fn commit(self) -> Result<()> {
        if let Some(after) = self.after {
            after.commit()?;
            crash_point();
        }
        finish(self.store)
    }

    /// Put every file back as it was and keep the old ledger (e.g. activation failed).
    ///
    /// # Errors
    /// I/O errors (the journal, now rolling back, lets the next run finish).
    pub fn rollback(mut self) -> Result<()> {
        self.journal.phase = Phase::Rollback;
        if self.journal.ops.is_empty() {
            return Ok(());
        }
        write_journal(self.store, &self.journal, None)?;
        replay(self.store, &self.journal)?;
        self.store
            .write_owned(self.lock, self.journal.ledger_before.owned())?;
        finish(self.store)
    }
}

fn finish(store: &Store) -> Result<()> {
    fsops::remove(&journal_path(store))?;
    fsops::remove(&store.state.join(STAGING_FILE))?;
    let txn = store.state.join(TXN_DIR);
    match std::fs::remove_dir_all(&txn) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("removing {}", txn.display()))
        }
        _ => Ok(()),
    }
}

mod before;
mod files;
mod ops;
mod recover;

pub use files::{StagingList, list_staging, staging_dirs};
use files::{content_of, copy_for_rollback, place_all, put, save, stage_all, take_staged};

pub use recover::recover;
use recover::replay;

#[cfg(test)]
#[path = "journal/known_tests.rs"]
mod known_tests;
#[cfg(test)]
mod tests;
