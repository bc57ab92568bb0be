//! Paths rendered twice, found by the writing thread itself when DIR existed before the
//! run: then every path taken is a step or a mark in the ledger (the journaled way), so
//! the feed keeps no hash of each path (2.4 MB at s6's 120,000 files) and a path taken
//! before is found among the steps by this index, or among the kept paths by their marks.

use std::hash::BuildHasher as _;

use hashbrown::{DefaultHashBuilder, HashTable};

/// A 32-bit hash of each step's path so far (5 bytes a step with the table's own: the
/// steps wait on disk, see `spilled.rs`, where a path whose hash is here is looked for; at
/// 20,000 steps one path in 200,000 not among them is looked for there in vain).
#[derive(Default)]
pub(super) struct Repeats {
    hashes: HashTable<u32>,
    hasher: DefaultHashBuilder,
}

impl Repeats {
    /// Whether `path` may be the path of a step taken: surely not when this says no.
    pub(super) fn may_have(&self, path: &str) -> bool {
        let short = self.short(path);
        self.hashes.find(spread(short), |&h| h == short).is_some()
    }

    /// Note the path of a step just taken.
    pub(super) fn add(&mut self, path: &str) {
        let short = self.short(path);
        if self.hashes.find(spread(short), |&h| h == short).is_none() {
            self.hashes
                .insert_unique(spread(short), short, |&h| spread(h));
        }
    }

    fn short(&self, path: &str) -> u32 {
        // (the high half: the table's control bytes take a hash's top bits)
        (self.hasher.hash_one(path) >> 32) as u32
    }
}

/// A table hash of a short one, spread over 64 bits (the table places by the low bits and
/// marks by the top ones).
fn spread(short: u32) -> u64 {
    u64::from(short).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

#[cfg(test)]
mod tests {
    use super::Repeats;

    #[test]
    fn a_path_added_may_be_there_and_few_never_added_seem_to_be() {
        let mut repeats = Repeats::default();
        for i in 0..1000 {
            repeats.add(&format!("svc-{i}/run"));
        }
        assert!((0..1000).all(|i| repeats.may_have(&format!("svc-{i}/run"))));
        let strays = (0..1000)
            .filter(|i| repeats.may_have(&format!("svc-{i}/finish")))
            .count();
        assert!(
            strays <= 1,
            "{strays} of a thousand paths never added seemed to be"
        );
    }
}
