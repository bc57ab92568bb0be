//! Carrying out a plan so that a run killed at any point is completed (or, once rolling
//! back, rolled back) by the next run.
//!
//! Order of a run, all under the store's lock:
//! 1. copies of everything about to be replaced or removed go to `STATE/txn/` (to roll
//!    back) and, for forced replacements of foreign or edited files, to `STATE/backup/`
//!    (kept);
//! 2. the journal (`STATE/journal.json`: every operation with its new contents, what was
//!    there before, the ledgers before and after) is written and fsynced: the commit point;
//! 3. every new file is written under a temporary name, all are made durable together
//!    (one `syncfs`), then each is renamed into place (or removed) and the directories are
//!    synced: every path holds its old or its new contents at every instant;
//! 4. [`Applied::commit`] writes the new ledger, then deletes the journal and the copies;
//!    [`Applied::rollback`] marks the journal as rolling back, restores the copies and the
//!    old ledger, then deletes the journal.
//!
//! [`recover`] (run first by every run) finds a journal left by a killed run and finishes it
//! in its direction. Each operation is idempotent: a path that already holds its target is
//! skipped, and one that holds neither the old nor the new state (edited after the crash) is
//! left alone (the ledger then shows it as edited).

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use serde::{Deserialize, Serialize};

use super::fsops;
use super::ledger::{Entry, Kind, Ledger, Lock, Store, read_regular};
use super::plan::{Action, Desired, OnDisk, Plan};

const JOURNAL_FILE: &str = "journal.json";
const TXN_DIR: &str = "txn";

/// Testing hook: `OPENIM_INIT_CRASH_AFTER=K` kills the process (SIGKILL) right after its
/// K-th durable step, counted from 0 over every journaled write of the process (per write:
/// the journal, the N file operations, the ledger; `install` first writes the verifier's
/// scratch copy, then the install itself).
pub const CRASH_ENV: &str = "OPENIM_INIT_CRASH_AFTER";

/// The state of one path: desired contents, or absent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Content {
    kind: Kind,
    mode: u32,
    /// Text contents, or a link's target.
    text: String,
}

/// One file operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Op {
    path: String,
    /// What goes there (`None`: removed).
    new: Option<Content>,
    /// What was there when planned (`None`: nothing).
    before: Option<Entry>,
    /// Where the copy of what was there is kept during the run (relative to the state dir).
    saved: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Phase {
    Apply,
    Rollback,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Journal {
    phase: Phase,
    ops: Vec<Op>,
    ledger_before: Ledger,
    ledger_after: Ledger,
}

/// A plan whose files are on disk; the ledger is not yet updated.
#[must_use = "commit or roll back (a dropped run is completed by the next one)"]
#[derive(Debug)]
pub struct Applied<'a> {
    store: &'a Store,
    lock: &'a Lock,
    journal: Journal,
    /// Backups of foreign or edited files kept for the user: (path, backup).
    pub backups: Vec<(String, PathBuf)>,
}

/// Durable steps taken so far by this process.
static STEPS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// A durable step was taken: the testing hook's chance to kill the process.
fn crash_point() {
    let step = STEPS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let hit = std::env::var(CRASH_ENV)
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        == Some(step);
    if hit {
        let me = rustix::process::getpid();
        let _ = rustix::process::kill_process(me, rustix::process::Signal::KILL);
    }
}

fn journal_path(store: &Store) -> PathBuf {
    store.state.join(JOURNAL_FILE)
}

fn write_journal(store: &Store, journal: &Journal) -> Result<()> {
    std::fs::create_dir_all(&store.state)
        .with_context(|| format!("creating {}", store.state.display()))?;
    let text = serde_json::to_vec(journal)?;
    fsops::write_atomic(&journal_path(store), &text, 0o600)
}

/// Put `content` at `path` (or remove what is there), creating parent directories.
fn put(store: &Store, rel: &str, content: Option<&Content>) -> Result<()> {
    match stage(store, rel, content)? {
        None => fsops::remove(&store.path_of(rel)),
        Some(staged) => {
            fsops::sync_staged([&staged])?;
            let dir = staged.dir().to_path_buf();
            staged.place()?;
            fsops::sync_dir(&dir);
            Ok(())
        }
    }
}

/// Write `content` next to `rel` under a temporary name, creating parent directories
/// (`None` for a removal).
fn stage(store: &Store, rel: &str, content: Option<&Content>) -> Result<Option<fsops::Staged>> {
    let Some(c) = content else {
        return Ok(None);
    };
    if store.confined
        && let Some(why) = fsops::blocked_parent(&store.base, Path::new(rel))?
    {
        anyhow::bail!("refusing to write {rel}: {why}");
    }
    let path = store.path_of(rel);
    let parent = fsops::parent_of(&path);
    std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    Ok(Some(match c.kind {
        Kind::File => fsops::Staged::file(&path, c.text.as_bytes(), c.mode)?,
        Kind::Symlink => fsops::Staged::link(&path, &c.text)?,
    }))
}

fn content_of(found: &OnDisk) -> Option<Content> {
    match found {
        OnDisk::File { mode, bytes } => Some(Content {
            kind: Kind::File,
            mode: *mode,
            text: String::from_utf8_lossy(bytes).into_owned(),
        }),
        OnDisk::Symlink { target } => Some(Content {
            kind: Kind::Symlink,
            mode: 0o777,
            text: String::from_utf8_lossy(target).into_owned(),
        }),
        OnDisk::Missing | OnDisk::Blocked(_) => None,
    }
}

/// A copy of `found` under `dir/rel` (with `.N` added when taken), byte for byte.
fn save(dir: &Path, rel: &str, found: &OnDisk) -> Result<Option<PathBuf>> {
    let mut path = dir.join(rel);
    for n in 1.. {
        if fsops::inspect(&path)? == fsops::Found::Missing {
            break;
        }
        path = dir.join(format!("{rel}.{n}"));
    }
    let parent = fsops::parent_of(&path);
    std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    match found {
        OnDisk::File { mode, bytes } => fsops::write_atomic(&path, bytes, *mode)?,
        OnDisk::Symlink { target } => {
            let to = <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(target);
            std::os::unix::fs::symlink(to, &path)
                .with_context(|| format!("saving the link {rel}"))?;
        }
        OnDisk::Missing | OnDisk::Blocked(_) => return Ok(None),
    }
    Ok(Some(path))
}

fn new_content(d: Option<&Desired>) -> Option<Content> {
    d.map(|d| Content {
        kind: d.kind,
        mode: d.mode,
        text: d.contents.clone(),
    })
}

/// Carry out `plan` (which must have no refusals) over the files of `store`: copies, journal,
/// then every file operation. `before` is the ledger the plan was made from.
///
/// # Errors
/// The plan has refusals, or an I/O error (the journal then lets the next run finish).
pub fn apply<'a>(
    store: &'a Store,
    lock: &'a Lock,
    plan: &Plan,
    before: &Ledger,
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
        ops: Vec::new(),
        ledger_before: before.clone(),
        ledger_after: plan.ledger_after(before),
    };
    let mut backups = Vec::new();
    for step in plan.steps.iter().filter(|s| s.action.changes_disk()) {
        let saved = save(&txn, &step.path, &step.found)?;
        if matches!(step.action, Action::Force(_))
            && let Some(kept) = save(&store.backup_dir(), &step.path, &step.found)?
        {
            backups.push((step.path.clone(), kept));
        }
        journal.ops.push(Op {
            path: step.path.clone(),
            new: new_content(step.desired.as_ref()),
            before: step.found.entry(),
            saved: saved.map(|p| {
                p.strip_prefix(&store.state)
                    .unwrap_or(&p)
                    .display()
                    .to_string()
            }),
        });
    }
    if journal.ops.is_empty() {
        return Ok(Applied {
            store,
            lock,
            journal,
            backups,
        });
    }
    fsops::sync_dir(&txn);
    write_journal(store, &journal)?;
    crash_point();
    write_all(store, &journal)?;
    Ok(Applied {
        store,
        lock,
        journal,
        backups,
    })
}

/// Every operation of `journal`: all new files written and made durable before the first
/// rename (one flush for the run instead of one per file; the journal already holds every
/// new content), then the renames and removals, then each directory synced once.
fn write_all(store: &Store, journal: &Journal) -> Result<()> {
    let staged = journal
        .ops
        .iter()
        .map(|op| stage(store, &op.path, op.new.as_ref()))
        .collect::<Result<Vec<_>>>()?;
    fsops::sync_staged(staged.iter().flatten())?;
    let mut dirs = std::collections::BTreeSet::new();
    for (op, staged) in journal.ops.iter().zip(staged) {
        match staged {
            Some(s) => {
                dirs.insert(s.dir().to_path_buf());
                s.place()?;
            }
            None => fsops::remove(&store.path_of(&op.path))?,
        }
        crash_point();
    }
    for dir in &dirs {
        fsops::sync_dir(dir);
    }
    Ok(())
}

impl Applied<'_> {
    /// Record the new ledger and end the run: the journal and the copies go.
    ///
    /// # Errors
    /// I/O errors (the journal is kept: the next run finishes).
    pub fn commit(self) -> Result<()> {
        self.store.write(self.lock, &self.journal.ledger_after)?;
        crash_point();
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
        write_journal(self.store, &self.journal)?;
        replay(self.store, &self.journal)?;
        self.store.write(self.lock, &self.journal.ledger_before)?;
        finish(self.store)
    }
}

fn finish(store: &Store) -> Result<()> {
    fsops::remove(&journal_path(store))?;
    let txn = store.state.join(TXN_DIR);
    match std::fs::remove_dir_all(&txn) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("removing {}", txn.display()))
        }
        _ => Ok(()),
    }
}

mod recover;

pub use recover::recover;
use recover::replay;

#[cfg(test)]
mod tests;
