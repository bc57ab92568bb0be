//! Paths rendered twice, found by the writing thread itself when DIR existed before the
//! run: then every path taken is a step or a mark in the ledger (the journaled way), so
//! the feed keeps no hash of each path (2.4 MB at s6's 120,000 files) and a path taken
//! before is found among the steps by this index, or among the kept paths by their marks.

use std::hash::BuildHasher as _;

use hashbrown::{DefaultHashBuilder, HashTable};

use crate::lifecycle::plan::Step;

/// The steps taken so far, by path: an index into the writer's steps each (4 bytes, no
/// copy of the path).
#[derive(Default)]
pub(super) struct Repeats {
    steps: HashTable<u32>,
    hasher: DefaultHashBuilder,
}

impl Repeats {
    /// Whether `path` is the path of one of `steps`.
    pub(super) fn has(&self, steps: &[Step], path: &str) -> bool {
        let hash = self.hasher.hash_one(path);
        self.steps
            .find(hash, |&i| *steps[i as usize].path == *path)
            .is_some()
    }

    /// Note the last of `steps`, just taken.
    pub(super) fn add_last(&mut self, steps: &[Step]) {
        let Some(last) = steps.len().checked_sub(1) else {
            return;
        };
        let index = u32::try_from(last).expect("fewer than 4 billion steps");
        let hasher = &self.hasher;
        let hash = hasher.hash_one(&steps[last].path);
        self.steps
            .insert_unique(hash, index, |&i| hasher.hash_one(&steps[i as usize].path));
    }
}
