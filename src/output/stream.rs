//! `generate --out DIR` while rendering: a second thread takes DIR's lock, finishes a run
//! that was killed, reads the ledger, then takes each artifact as the backend makes it:
//! checks its path, looks at the disk, hashes it, decides its step and writes its new
//! contents under a temporary name (each directory listed in the staging file before its
//! first one). Once the render is done and good, the plan is checked as a whole and carried
//! out as [`super::write_all`] does (one `syncfs`, the journal, the renames, the ledger);
//! on any refusal the staged files go, and so does every directory this run created.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use anyhow::Result;

use super::{Report, refuse};
use crate::lifecycle::fsops::{self, Batch, Handle};
use crate::lifecycle::journal;
use crate::lifecycle::ledger::{Compact, EMPTY, Entry, Kind, Lock, Marked, Store};
use crate::lifecycle::plan::{self, Action, Desired, Options, Step};

/// How many artifacts go to the writing thread at a time (one hand-over each, not one per
/// artifact: fewer wake-ups of a thread that waits).
const BUNDLE: usize = 64;

/// How much text a bundle holds at most (it goes with fewer artifacts then): 64 of
/// Kubernetes' 1.4 KB files made a bundle of 90 KB, and with those waiting, being written
/// and written, 700 KB of texts were held at a time at 10,000 services.
const BUNDLE_BYTES: usize = 32 * 1024;

/// How many hand-overs may wait for the writing thread before the rendering thread waits:
/// rendering outruns writing, and unbounded, every text was held at once (56 MB at 10k).
/// Four keep the writer busy; eight held about 1 MB more of launchd's texts at the peak.
const IN_FLIGHT: usize = 4;

mod dirs;
mod feed;
mod finish;
mod fresh;
mod parts;
mod repeats;
mod root;
mod spent;
mod spilled;
mod stager;

use dirs::Dirs;
pub use feed::Feed;
use fresh::Fresh;
use parts::{Open, Piece};
use repeats::Repeats;
use root::{lock, remove_dirs};
use spent::Spent;
use spilled::Spilled;
use stager::Stager;

/// What the rendering thread hands the writing thread.
enum Msg {
    /// Whole artifacts, each with its ledger entry.
    Whole(Vec<(Desired, Entry)>),
    /// A part of a file made in parts.
    Part(Piece),
    /// The next artifact's path has the hash of one taken before: refused if it is one.
    Again(String),
}

/// Render into `dir` with `render`, which hands its artifacts to the [`Feed`] it is given
/// (and may refuse the output, e.g. `--strict`); as [`super::write_all`], but writing while
/// rendering. Returns the render's result and the report for the user (a line per file,
/// then a summary).
/// `expected` is about how many artifacts the render makes: the per-file lists are sized
/// for it once instead of growing by doubling (each copy left behind in the writing
/// thread's arena; room not written to costs no memory).
///
/// # Errors
/// The render's error, a refusal ([`crate::errors::usage::UsageError`]) or an I/O error;
/// nothing is written then.
pub fn write_streamed<R>(
    dir: &Path,
    force: bool,
    expected: usize,
    render: impl FnOnce(&RefCell<Feed>) -> crate::errors::Result<R>,
) -> crate::errors::Result<(R, Report)> {
    let (tx, rx) = mpsc::sync_channel(IN_FLIGHT);
    let (spent, back) = mpsc::channel();
    // DIR there already: the journaled way, where the writing thread finds a path taken
    // twice by itself (see `repeats.rs`); else the feed keeps a hash of each path, which a
    // new DIR's tree needs (it keeps nothing per file)
    let feed_hashes = std::fs::symlink_metadata(dir).is_err();
    let (rendered, staged, stopped) = std::thread::scope(|s| {
        let writer = s.spawn(move || {
            let to = (dir, force, feed_hashes);
            Writer::run(to, expected, &rx, Spent::new(spent))
        });
        let feed = RefCell::new(Feed::new(tx, back, expected, feed_hashes));
        let rendered = render(&feed);
        let mut feed = feed.into_inner();
        if rendered.is_ok() {
            feed.flush();
        }
        let stopped = feed.stopped;
        drop(feed.to); // the end of the stream
        leave(feed.seen);
        let staged = writer
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (rendered, staged, stopped)
    });
    match (rendered, staged) {
        (Err(e), Ok(w)) => {
            w.discard();
            Err(e)
        }
        (Err(e), Err(w)) => Err(if stopped { w.into() } else { e }),
        (Ok(_), Err(w)) => Err(w.into()),
        (Ok(r), Ok(w)) => Ok((r, w.finish()?)),
    }
}

/// The writing thread's state: the lock, the ledger, the steps so far and the staged files.
struct Writer {
    root: PathBuf,
    store: Store,
    lock: Lock,
    /// Directories this run created, in order (removed, in reverse, when it is refused).
    created: Vec<PathBuf>,
    /// Whether the state directory was there before.
    had_state: bool,
    /// The line about a run that was killed and is now finished.
    recovered: Option<String>,
    /// The ledger as this run found it, left to the process's exit (see [`Self::record`]).
    ledger: &'static Compact,
    opts: Options,
    /// The directories looked at lately, and those files are staged in.
    dirs: Dirs,
    /// The staging list, once a file is staged in DIR.
    staging: Option<journal::StagingList>,
    batch: Batch,
    /// The other thread staging files.
    stager: Stager,
    /// The texts written, back to the rendering thread.
    spent: Spent,
    /// The file staged for the artifact being taken, until its step is recorded.
    staged_now: Option<Handle>,
    /// The file being written in parts.
    open: Option<Open>,
    /// The steps so far, each with its staged file: on disk until the render is done.
    steps: Spilled,
    /// The paths rendered as the ledger has them and found so on disk: a mark in the
    /// ledger each, no [`Step`] (see [`Self::record`]).
    kept: Marked<'static>,
    /// A step is refused: nothing more is staged (the run will be refused as a whole).
    refused: bool,
    /// DIR is new: its tree is built next to it and put in place whole (see `fresh.rs`).
    fresh: Option<Fresh>,
    /// The steps by path, when the feed keeps no hashes (a path taken twice is found here).
    repeats: Option<Repeats>,
}

impl Writer {
    /// Prepare `dir`, then take every artifact from `rx` until the render ends. Stops at the
    /// first error (having removed what it wrote). `feed_hashes`: whether the feed keeps a
    /// hash of each path (else this thread finds a path taken twice, and DIR is not built
    /// as a new tree).
    fn run(
        (dir, force, feed_hashes): (&Path, bool, bool),
        expected: usize,
        rx: &mpsc::Receiver<Msg>,
        spent: Spent,
    ) -> Result<Self> {
        let (root, store, created, had_state, lock) = lock(dir)?;
        let mut w = Self {
            recovered: None,
            ledger: &EMPTY,
            root,
            store,
            lock,
            created,
            had_state,
            opts: Options {
                force,
                prune: false,
            },
            dirs: Dirs::default(),
            staging: None,
            batch: Batch::default(),
            stager: Stager::new(spent.share()),
            spent,
            staged_now: None,
            open: None,
            steps: Spilled::default(),
            kept: Marked::new(&EMPTY),
            refused: false,
            fresh: None,
            repeats: (!feed_hashes).then(Repeats::default),
        };
        let taken = w.prepare(expected).and_then(|()| {
            rx.iter().try_for_each(|msg| match msg {
                Msg::Whole(bundle) => bundle.into_iter().try_for_each(|(d, want)| w.take(d, want)),
                Msg::Part(piece) => w.take_piece(&piece),
                Msg::Again(path) => {
                    let place = w.ledger.place(&path);
                    w.refuse_twice(&path, place)
                }
            })
        });
        // every file handed over is staged (or failed) and recorded before anything else
        let settled = w.stager.finish(&mut w.batch);
        match taken.and(settled) {
            Ok(()) => Ok(w),
            Err(e) => {
                w.discard();
                Err(e)
            }
        }
    }

    /// Finish a killed run, read the ledger, and build a new DIR in a tree of its own
    /// (else make room for about `expected` staged files).
    fn prepare(&mut self, expected: usize) -> Result<()> {
        self.recovered = journal::recover(&self.store, &self.lock)?;
        self.ledger = ledger_for_the_run(self.store.read_compact(&self.lock)?);
        self.kept = Marked::new(self.ledger);
        fresh::remove_leftover(&self.root);
        // DIR was made by this run (`created` ends with it); the testing hook counts the
        // journal's steps, which a fresh tree has none of
        let new = !self.created.is_empty() && self.recovered.is_none();
        if new && self.repeats.is_none() && self.ledger.is_empty() && !journal::crash_hook_set() {
            self.fresh = Fresh::begin(&self.root);
        }
        if self.fresh.is_none() {
            // (room not written to costs no memory)
            self.batch.reserve(expected);
        }
        Ok(())
    }

    /// Plan the path of `d` (whose ledger entry is `want`), and stage it when it is to be
    /// written.
    fn take(&mut self, mut d: Desired, want: Entry) -> Result<()> {
        if self.fresh.is_some() {
            return self.take_new(d, &want);
        }
        let owned = self.ledger.find(&d.path)?;
        if self.repeats.is_some() {
            self.refuse_twice(&d.path, owned.as_ref().map(|(place, _)| *place))?;
        }
        let found = self.found_at(&d.path)?;
        let action = plan::desired_step(&want, owned.as_ref().map(|o| &o.1), &found, self.opts);
        if matches!(action, Action::Refuse(_)) {
            self.refused = true;
        } else if action.changes_disk() && !self.refused {
            self.stage(&mut d)?;
        }
        if d.kind == Kind::File {
            // written: only a link's target is shown in the report
            self.spent.give(std::mem::take(&mut d.contents));
        }
        let (path, content) = d.split();
        let step = Step {
            path: path.into(),
            found,
            action,
            desired: Some(content),
            entry: Some(want),
        };
        self.record(step, owned)
    }

    /// Keep `step` for the end, or only a mark in the ledger when it leaves a file exactly
    /// as the ledger has it (an up-to-date tree of 84,000 files held a 224-byte step each,
    /// 19 MB), as neither the journal nor the new ledger needs a step for it. `owned` is
    /// what [`Compact::find`] gave for its path (looked up once: a lookup reads a block of
    /// front-coded paths). A step kept waits on disk (see `spilled.rs`).
    ///
    /// # Errors
    /// Keeping the step on disk.
    fn record(&mut self, mut step: Step, owned: Option<(usize, Entry)>) -> Result<()> {
        if step.action == Action::Keep
            && let Some(want) = &step.entry
            && let Some((place, owned)) = owned
            && owned == *want
        {
            debug_assert!(self.staged_now.is_none(), "a file kept as it is was staged");
            self.kept.mark(place);
            return Ok(());
        }
        if let Some(want) = &step.entry {
            step.found = step.found.settled(&step.action, want);
        }
        let handle = self.staged_now.take();
        self.steps.add(&self.store.state, &step, handle)?;
        if let Some(repeats) = &mut self.repeats {
            repeats.add(&step.path);
        }
        Ok(())
    }

    /// Refuse the run if `path` was taken before (asked when the feed saw its hash before,
    /// or for every path when the feed keeps none); `place` is its place in the ledger.
    fn refuse_twice(&mut self, path: &str, place: Option<usize>) -> Result<()> {
        let open = self.open.as_ref().is_some_and(|o| o.path == path);
        let taken = if let Some(fresh) = &mut self.fresh {
            fresh.has(path)?
        } else {
            // (a hash seen before: looked for among the steps on disk)
            let stepped = match &self.repeats {
                Some(repeats) if !repeats.may_have(path) => false,
                _ => self.steps.contains(path)?,
            };
            stepped || place.is_some_and(|p| self.kept.has(p))
        };
        if open || taken {
            return Err(refuse(format!("refusing to write {path} twice")));
        }
        Ok(())
    }

    /// Remove what this run wrote: the staged files, the staging list, and the directories
    /// it created (each only if empty).
    fn discard(&self) {
        if let Some(f) = &self.fresh {
            f.discard();
        }
        self.batch.discard();
        let _ = fsops::remove(&self.store.state.join(journal::STAGING_FILE));
        if !self.had_state {
            let _ = std::fs::remove_dir(&self.store.state);
        }
        remove_dirs(&self.created);
    }
}

/// `ledger`, left to the process's exit (as [`leave`] leaves the writer) so the paths kept
/// can be its own: one per run (freed by no test either, a few small ones).
fn ledger_for_the_run(ledger: Compact) -> &'static Compact {
    if ledger.is_empty() {
        return &EMPTY;
    }
    Box::leak(Box::new(ledger))
}

/// Leave `value` to the process's exit rather than free it piece by piece (as
/// `cmd::release` does): much of it was allocated by the other thread, and freeing it from
/// this one contends with that thread's allocator.
fn leave<T>(value: T) {
    if cfg!(test) {
        drop(value);
    } else {
        std::mem::forget(value);
    }
}

#[cfg(test)]
mod tests;
