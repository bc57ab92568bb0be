//! Paths rendered twice, found by the writing thread itself when DIR existed before the
//! run: then every path taken is a step or a mark in the ledger (the journaled way), so
//! the feed keeps no hash of each path (2.4 MB at s6's 120,000 files) and a path taken
//! before is found among the steps by this index, or among the kept paths by their marks.

use std::hash::BuildHasher as _;

use hashbrown::{DefaultHashBuilder, HashTable};

/// The hash of each step's path so far (8 bytes each: the steps wait on disk, see
/// `spilled.rs`, where a path whose hash is here is looked for).
#[derive(Default)]
pub(super) struct Repeats {
    hashes: HashTable<u64>,
    hasher: DefaultHashBuilder,
}

impl Repeats {
    /// Whether `path` may be the path of a step taken: surely not when this says no.
    pub(super) fn may_have(&self, path: &str) -> bool {
        let hash = self.hasher.hash_one(path);
        self.hashes.find(hash, |&h| h == hash).is_some()
    }

    /// Note the path of a step just taken.
    pub(super) fn add(&mut self, path: &str) {
        let hash = self.hasher.hash_one(path);
        if self.hashes.find(hash, |&h| h == hash).is_none() {
            self.hashes.insert_unique(hash, hash, |&h| h);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Repeats;

    #[test]
    fn a_path_added_may_be_there_and_one_never_added_is_not() {
        let mut repeats = Repeats::default();
        for i in 0..1000 {
            repeats.add(&format!("svc-{i}/run"));
        }
        assert!((0..1000).all(|i| repeats.may_have(&format!("svc-{i}/run"))));
        let strays = (0..1000)
            .filter(|i| repeats.may_have(&format!("svc-{i}/finish")))
            .count();
        assert_eq!(
            strays, 0,
            "64-bit hashes of a thousand paths do not collide"
        );
    }
}
