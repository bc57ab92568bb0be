//! The rendering thread's side of `generate --out` while rendering: each artifact's path is
//! checked and its ledger entry made here, then artifacts go to the writing thread in
//! bundles (and parts of a file made in parts at once).

use std::hash::BuildHasher as _;
use std::sync::mpsc;

use fastbloom::BloomFilter;
use hashbrown::DefaultHashBuilder;

use super::parts::Piece;
use super::{BUNDLE, BUNDLE_BYTES, Msg};
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
    /// The bytes of text in `bundle`.
    bundled: usize,
    /// The paths taken so far, as a Bloom filter of a 64-bit hash of each (when the feed
    /// hashes paths): a copy of every path cost 12 MB at 120,000 files, a hash table of
    /// the hashes 1.2 MB at 50,000. A path the filter may have seen may be a path seen
    /// before; the writing thread, which has every path, decides ([`Msg::Again`]).
    pub(super) seen: Option<BloomFilter>,
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
            bundled: 0,
            seen: hashing.then(|| seen_filter(expected)),
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
        self.bundled = 0;
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
        if self.seen.is_none() {
            return Ok(());
        }
        let hash = self.hash(path);
        let maybe_seen = self
            .seen
            .as_mut()
            .is_some_and(|seen| seen.insert_hash(hash));
        if maybe_seen && (!self.flush() || !self.send(Msg::Again(path.to_owned()))) {
            return Err(stopped());
        }
        Ok(())
    }
}

/// A filter for about `expected` paths. A false positive costs the writing thread a read
/// of what it wrote so far, so the rate falls with the count: under one read in eight
/// per run, whatever its size (about 28 bits a path at 80,000).
fn seen_filter(expected: usize) -> BloomFilter {
    let expected = expected.max(1);
    #[allow(clippy::cast_precision_loss)] // a rate: a count's precision beyond 2^52 is moot
    let rate = 1.0 / (8.0 * expected as f64);
    BloomFilter::with_false_pos(rate).expected_items(expected)
}

impl Sink for Feed {
    fn take(&mut self, a: Artifact) -> crate::errors::Result<()> {
        self.check_path(&a.path)?;
        if let Some(link) = a.link_target() {
            check_link_target(&a.path, link)?;
        }
        let d = Desired::from_owned(a);
        let want = d.entry();
        self.bundled += d.contents.len();
        self.bundle.push((d, want));
        let full = self.bundle.len() >= BUNDLE || self.bundled >= BUNDLE_BYTES;
        if full && !self.flush() {
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

#[cfg(test)]
mod filter_tests {
    use super::seen_filter;

    /// Well-mixed 64-bit hashes, all distinct (splitmix64 of 0, 1, 2, ...).
    fn hashes(n: u64) -> impl Iterator<Item = u64> {
        (0..n).map(|i| {
            let mut z = i.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D1_049B_33EB_8DA4);
            z ^ (z >> 31)
        })
    }

    #[test]
    fn distinct_paths_are_seldom_taken_for_seen_and_the_filter_stays_small() {
        let n = 100_000;
        let mut seen = seen_filter(n);
        let n = n as u64;
        let false_positives = hashes(n).filter(|&h| seen.insert_hash(h)).count();
        // about one in eight runs meets one; a hash table of the hashes held 64 bits and
        // more a path
        assert!(false_positives <= 2, "{false_positives} false positives");
        assert!(seen.num_bits() <= 30 * 100_000, "{} bits", seen.num_bits());
        // and a hash met again is always found
        assert!(hashes(n).all(|h| seen.contains_hash(h)));
    }
}

#[cfg(test)]
mod bundle_tests {
    use std::sync::mpsc;

    use super::{BUNDLE, Feed, Msg};
    use crate::backend::{Artifact, Sink as _};

    #[test]
    fn a_bundle_goes_once_it_holds_enough_text_or_enough_artifacts() {
        let (to, from) = mpsc::sync_channel(16);
        let (_spent, back) = mpsc::channel();
        let mut feed = Feed::new(to, back, 100, true);
        let mut take = |name: String, text: String| {
            let a = Artifact::file(name, 0o644, text);
            feed.take(a).expect("taken");
        };
        for i in 0..8 {
            take(format!("large-{i}"), "x".repeat(10 * 1024));
        }
        for i in 0..BUNDLE {
            take(format!("small-{i}"), "x".to_owned());
        }
        let sizes: Vec<usize> = from
            .try_iter()
            .map(|m| match m {
                Msg::Whole(bundle) => bundle.len(),
                Msg::Part(_) | Msg::Again(_) => 0,
            })
            .collect();
        assert_eq!(sizes, [4, 4, BUNDLE]);
    }
}
