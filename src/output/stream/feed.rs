//! The rendering thread's side of `generate --out` while rendering: each artifact's path is
//! checked and its ledger entry made here, then artifacts go to the writing thread in
//! bundles (and parts of a file made in parts at once).

use std::hash::BuildHasher as _;
use std::sync::mpsc;

use hashbrown::{DefaultHashBuilder, HashTable};

use super::parts::Piece;
use super::{BUNDLE, Msg};
use crate::backend::kit::Part;
use crate::backend::{Artifact, Sink};
use crate::lifecycle::ledger::Entry;
use crate::lifecycle::plan::Desired;
use crate::output::{check_link_target, check_relative};

/// The sink of a render into `--out`: checks each artifact's path, hashes it and hands it
/// to the writing thread.
pub struct Feed {
    pub(super) to: mpsc::SyncSender<Msg>,
    /// The contents of files written, back to be freed here (see `spent.rs`).
    pub(super) spent: mpsc::Receiver<Vec<String>>,
    pub(super) bundle: Vec<(Desired, Entry)>,
    /// The paths taken so far, as a 64-bit hash of each: a copy of every path cost 12 MB at
    /// 120,000 files. A hash seen before may be a path seen before; the writing thread,
    /// which has every path, decides ([`Msg::Again`]).
    pub(super) seen: HashTable<u64>,
    /// Whether paths are hashed into [`Self::seen`] (not when the writing thread finds a
    /// path taken twice by itself).
    hashing: bool,
    hasher: DefaultHashBuilder,
    /// The writer stopped (its error is the one reported).
    pub(super) stopped: bool,
}

impl Feed {
    /// A feed handing over to `to`; `hashing`: whether it keeps a hash of each path.
    pub(super) fn new(
        to: mpsc::SyncSender<Msg>,
        spent: mpsc::Receiver<Vec<String>>,
        expected: usize,
        hashing: bool,
    ) -> Self {
        Self {
            to,
            spent,
            bundle: Vec::with_capacity(BUNDLE),
            seen: HashTable::with_capacity(if hashing { expected } else { 0 }),
            hashing,
            hasher: DefaultHashBuilder::default(),
            stopped: false,
        }
    }

    /// Hand over what is bundled; false when the writer stopped.
    pub(super) fn flush(&mut self) -> bool {
        if self.bundle.is_empty() {
            return true;
        }
        let bundle = std::mem::replace(&mut self.bundle, Vec::with_capacity(BUNDLE));
        // free what was written meanwhile: its memory serves the next artifacts
        while let Ok(spent) = self.spent.try_recv() {
            drop(spent);
        }
        self.send(Msg::Whole(bundle))
    }

    /// Send `msg`; false when the writer stopped.
    fn send(&mut self, msg: Msg) -> bool {
        self.stopped |= self.to.send(msg).is_err();
        !self.stopped
    }

    /// The hash of `path` in [`Self::seen`] (in tests, all alike when asked: every path is
    /// then checked by the writing thread).
    fn hash(&self, path: &str) -> u64 {
        #[cfg(test)]
        if ALIKE.get() {
            return 0;
        }
        self.hasher.hash_one(path)
    }

    /// Check the path of an artifact: relative, and not rendered twice (which the writing
    /// thread checks when its hash was seen before: it then refuses the run).
    fn check_path(&mut self, path: &str) -> crate::errors::Result<()> {
        check_relative(path)?;
        if !self.hashing {
            return Ok(());
        }
        let hash = self.hash(path);
        if self.seen.find(hash, |&h| h == hash).is_none() {
            self.seen.insert_unique(hash, hash, |&h| h);
        } else if !self.flush() || !self.send(Msg::Again(path.to_owned())) {
            return Err(stopped());
        }
        Ok(())
    }
}

impl Sink for Feed {
    fn take(&mut self, a: Artifact) -> crate::errors::Result<()> {
        self.check_path(&a.path)?;
        if let Some(link) = a.link_target() {
            check_link_target(&a.path, link)?;
        }
        let d = Desired::from_owned(a);
        let want = d.entry();
        self.bundle.push((d, want));
        if self.bundle.len() >= BUNDLE && !self.flush() {
            return Err(stopped());
        }
        Ok(())
    }

    /// Hand the part on to the writing thread at once (after what is bundled), which
    /// writes and hashes it as it comes.
    fn take_part(&mut self, mut part: Part<'_>) -> crate::errors::Result<()> {
        if part.first {
            self.check_path(part.path)?;
        }
        let piece = Piece::take(&mut part);
        if !self.flush() || !self.send(Msg::Part(piece)) {
            return Err(stopped());
        }
        Ok(())
    }
}

/// The render's error when the writing thread stopped (the writer's own is reported).
fn stopped() -> crate::errors::Error {
    anyhow::anyhow!("the output writer stopped").into()
}

#[cfg(test)]
thread_local! {
    /// Every path has the same hash (see [`Feed::hash`]).
    pub(super) static ALIKE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}
