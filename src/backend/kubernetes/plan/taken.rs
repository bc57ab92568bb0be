//! The names of the plan's objects: all in one list, and the table of those taken so far
//! (which finds a name taken twice).

use std::hash::BuildHasher as _;

use hashbrown::{DefaultHashBuilder, HashTable};

use crate::errors::{Refusal, Result};

/// `n` as an index or offset of the plan.
pub(super) fn index(n: usize) -> u32 {
    u32::try_from(n).expect("fewer than 4 billion objects and 4 GiB of names")
}

/// Names in one text, each found by its index (a `String` each took 24 bytes and an
/// allocation of 32 a name).
#[derive(Debug)]
pub(super) struct NameList {
    text: String,
    /// Where each name ends in `text`.
    ends: Vec<u32>,
}

impl NameList {
    /// Room for `names` names of `bytes` bytes together.
    pub(super) fn with_capacity(names: usize, bytes: usize) -> Self {
        Self {
            text: String::with_capacity(bytes),
            ends: Vec::with_capacity(names),
        }
    }

    /// Add `name` at the end.
    pub(super) fn push(&mut self, name: &str) {
        self.text.push_str(name);
        self.ends.push(index(self.text.len()));
    }

    /// How many names there are.
    pub(super) fn len(&self) -> usize {
        self.ends.len()
    }

    /// The bytes the list holds on the heap.
    #[cfg(test)]
    pub(super) fn held(&self) -> usize {
        self.text.capacity() + 4 * self.ends.capacity()
    }

    /// Name `k`.
    pub(super) fn get(&self, k: usize) -> &str {
        let start = k
            .checked_sub(1)
            .map_or(0, |before| self.ends[before] as usize);
        &self.text[start..self.ends[k] as usize]
    }
}

/// The object names taken so far, as indices (externals, then workloads) hashed on the
/// name: 4 bytes a name, in a table sized once (one of the index and the field of each,
/// grown as they came, held 1 MB at 10,000 services).
pub(super) struct Taken {
    taken: HashTable<u32>,
    hasher: DefaultHashBuilder,
}

impl Taken {
    /// Room for about `objects` names.
    pub(super) fn new(objects: usize) -> Self {
        Self {
            taken: HashTable::with_capacity(objects),
            hasher: DefaultHashBuilder::default(),
        }
    }

    /// Take `name` for index `k`, the object of `at` (the field: "external"/"services" and
    /// the entry's name, written out only for a refusal, as `at_of` gives it for an index
    /// taken before); `name_of` gives the name of an index taken before.
    pub(super) fn claim<'n>(
        &mut self,
        k: usize,
        name: &str,
        at: (&'static str, &str),
        at_of: impl Fn(usize) -> (&'static str, &'n str),
        name_of: impl Fn(usize) -> &'n str,
    ) -> Result<()> {
        let hash = self.hasher.hash_one(name);
        if let Some(&other) = self.taken.find(hash, |&i| name_of(i as usize) == name) {
            let other = at_of(other as usize);
            return Err(Refusal::new(
                format!("{}.{}", at.0, at.1),
                format!(
                    "its Kubernetes name `{name}` is also the name of {}.{}",
                    other.0, other.1
                ),
            )
            .hint("Kubernetes names are lowercase with - for _ and .: rename one of them")
            .into());
        }
        let hasher = &self.hasher;
        self.taken
            .insert_unique(hash, index(k), |&i| hasher.hash_one(name_of(i as usize)));
        Ok(())
    }
}
