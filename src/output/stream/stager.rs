//! A second thread that stages files while the writing thread goes on planning: on two
//! cores a large `--out` spends most of its time creating and writing files, and on tmpfs
//! two threads create files in one directory nearly twice as fast as one (renames gain less
//! from a second thread, see `journal::files::place_all`: they hold the directory's lock
//! longer).
//!
//! The writing thread hands a file over only while this thread keeps up (fewer than
//! [`BACKLOG`] waiting), and stages it itself otherwise; small outputs never start it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;

use anyhow::Result;

use super::leave;
use super::spent::Spent;
use crate::lifecycle::fsops::{Batch, Detached, Handle, TempName};

/// Files the writing thread stages itself before it starts the other thread.
const START_AFTER: usize = 64;
/// Files handed over at a time (one wake-up each).
const BUNDLE: usize = 16;
/// Files waiting for the other thread beyond which the writing thread stages its own.
const BACKLOG: usize = 4 * BUNDLE;

/// The temporary names of the files of one bundle the other thread staged, sent back as
/// each bundle is done: collected at the end, they were 24 bytes a file (0.8 MB, with the
/// copies a list grown by doubling leaves behind, for s6's 20,000).
type Staged = Vec<(Handle, TempName)>;

/// A file to stage, and its handle in the batch (none for a new tree: nothing is recorded).
type Handed = (Option<Handle>, Detached);

/// The other staging thread, started once enough files were staged.
pub struct Stager {
    /// Files staged before it started (counted up to [`START_AFTER`]).
    seen: usize,
    bundle: Vec<Handed>,
    thread: Option<Running>,
    /// Where the texts written go (to the thread when it starts).
    spent: Option<Spent>,
}

struct Running {
    to: mpsc::Sender<Vec<Handed>>,
    /// What it staged, a bundle at a time.
    back: mpsc::Receiver<Staged>,
    waiting: Arc<AtomicUsize>,
    /// Its first error.
    handle: JoinHandle<Option<anyhow::Error>>,
}

impl Stager {
    /// A stager that hands the texts it wrote back through `spent`.
    pub fn new(spent: Spent) -> Self {
        Self {
            seen: 0,
            bundle: Vec::new(),
            thread: None,
            spent: Some(spent),
        }
    }

    /// Whether the next file should be handed over (the other thread runs or is due, and
    /// keeps up).
    pub fn wants(&mut self) -> bool {
        if let Some(t) = &self.thread {
            return t.waiting.load(Ordering::Relaxed) < BACKLOG;
        }
        self.seen += 1;
        self.seen > START_AFTER
    }

    /// Hand `job` (the file `h` of the batch, if it is one) over.
    pub fn hand(&mut self, h: Option<Handle>, job: Detached) {
        self.bundle.push((h, job));
        if self.bundle.len() >= BUNDLE {
            self.send();
        }
    }

    fn send(&mut self) {
        if self.bundle.is_empty() {
            return;
        }
        let spent = &mut self.spent;
        let t = self
            .thread
            .get_or_insert_with(|| spawn(spent.take().expect("spent")));
        let bundle = std::mem::replace(&mut self.bundle, Vec::with_capacity(BUNDLE));
        t.waiting.fetch_add(bundle.len(), Ordering::Relaxed);
        if let Err(mpsc::SendError(bundle)) = t.to.send(bundle) {
            // the thread is gone (it panicked): `finish` reports it; the files stay
            // unstaged
            leave(bundle);
        }
    }

    /// Record in `batch` the temporary names of the files the other thread has staged so
    /// far (what it sends back stays a few bundles).
    pub fn settle(&mut self, batch: &mut Batch) {
        if let Some(t) = &self.thread {
            record(&t.back, batch);
        }
    }

    /// Wait for every file handed over and record its temporary name in `batch`.
    ///
    /// # Errors
    /// The first error staging a file (the files staged before are recorded, so that
    /// discarding the batch removes them).
    pub fn finish(&mut self, batch: &mut Batch) -> Result<()> {
        self.send();
        let Some(t) = self.thread.take() else {
            return Ok(());
        };
        drop(t.to);
        let error = t
            .handle
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        record(&t.back, batch);
        error.map_or(Ok(()), Err)
    }
}

/// Record in `batch` what the other thread has sent back so far.
fn record(back: &mpsc::Receiver<Staged>, batch: &mut Batch) {
    for (h, tmp) in back.try_iter().flatten() {
        batch.settle(h, tmp);
    }
}

fn spawn(mut spent: Spent) -> Running {
    let (to, from) = mpsc::channel::<Vec<Handed>>();
    let (done, back) = mpsc::channel::<Staged>();
    let waiting = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&waiting);
    let handle = std::thread::spawn(move || {
        let mut error = None;
        for bundle in from {
            let n = bundle.len();
            let mut staged = Vec::with_capacity(n);
            for (h, job) in bundle {
                if error.is_none() {
                    match (job.stage(), h) {
                        (Ok(tmp), Some(h)) => staged.push((h, tmp)),
                        (Ok(_), None) => {}
                        (Err(e), _) => error = Some(e),
                    }
                }
                spent.give(job.into_contents());
            }
            // sent before the count drops: what the writing thread no longer waits for
            // is on its way back
            if !staged.is_empty() {
                let _ = done.send(staged);
            }
            count.fetch_sub(n, Ordering::Relaxed);
        }
        error
    });
    Running {
        to,
        back,
        waiting,
        handle,
    }
}

#[cfg(test)]
#[path = "stager_tests.rs"]
mod tests;
