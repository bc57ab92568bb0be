//! Names → indices (of the services, or of the externals): every name in one buffer, found by
//! its hash. The build resolves references with it, and the view keeps it to answer
//! `service_id`: one allocation for all names instead of a copy of each.

use std::fmt;
use std::hash::BuildHasher as _;

use hashbrown::{DefaultHashBuilder, HashTable};

/// The index (see the module documentation).
#[derive(Clone, Default)]
pub(super) struct NameIndex {
    /// The names one after another.
    text: String,
    /// Where name `i` ends in `text` (it starts where name `i - 1` ends).
    ends: Vec<usize>,
    /// Each name's index, by the hash of the name.
    table: HashTable<usize>,
    hasher: DefaultHashBuilder,
}

impl NameIndex {
    /// The index of `names` (each once; a repeated name keeps its first index).
    pub(super) fn new<'a>(names: impl Iterator<Item = &'a str> + Clone) -> Self {
        let (count, bytes) = names.clone().fold((0, 0), |(n, b), s| (n + 1, b + s.len()));
        let mut index = Self {
            text: String::with_capacity(bytes),
            ends: Vec::with_capacity(count),
            table: HashTable::with_capacity(count),
            hasher: DefaultHashBuilder::default(),
        };
        for name in names {
            if index.get(name).is_some() {
                // keep the indices dense: the repeat is stored, never found
                index.text.push_str(name);
                index.ends.push(index.text.len());
                continue;
            }
            let i = index.ends.len();
            index.text.push_str(name);
            index.ends.push(index.text.len());
            let Self {
                text,
                ends,
                table,
                hasher,
            } = &mut index;
            let hash = hasher.hash_one(name);
            table.insert_unique(hash, i, |&j| hasher.hash_one(slice(text, ends, j)));
        }
        index
    }

    /// Whether no name is repeated.
    pub(super) fn unique(&self) -> bool {
        self.table.len() == self.ends.len()
    }

    /// How many names it holds.
    pub(super) fn len(&self) -> usize {
        self.ends.len()
    }

    /// Every name, in order.
    pub(super) fn names(&self) -> impl ExactSizeIterator<Item = &str> + Clone {
        (0..self.len()).map(|i| self.name(i))
    }

    /// Name `i` (empty beyond the last).
    pub(super) fn name(&self, i: usize) -> &str {
        slice(&self.text, &self.ends, i)
    }

    /// The index of `name`.
    pub(super) fn get(&self, name: &str) -> Option<usize> {
        let hash = self.hasher.hash_one(name);
        // compared as bytes: no character boundaries to check
        let (text, ends, name) = (self.text.as_bytes(), &self.ends[..], name.as_bytes());
        self.table
            .find(hash, |&i| {
                let start = if i == 0 { 0 } else { ends[i - 1] };
                text.get(start..ends[i]) == Some(name)
            })
            .copied()
    }
}

/// Name `i` of `text` cut at `ends`.
fn slice<'t>(text: &'t str, ends: &[usize], i: usize) -> &'t str {
    let start = if i == 0 {
        0
    } else {
        ends.get(i - 1).copied().unwrap_or(0)
    };
    let end = ends.get(i).copied().unwrap_or(start);
    text.get(start..end).unwrap_or("")
}

impl PartialEq for NameIndex {
    fn eq(&self, other: &Self) -> bool {
        // the table and the hasher follow from the names
        self.text == other.text && self.ends == other.ends
    }
}

impl fmt::Debug for NameIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries((0..self.len()).map(|i| self.name(i)))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::NameIndex;

    #[test]
    fn finds_each_name_at_its_place() {
        let names = ["api", "", "rpc-user", "api", "ñ"];
        let ix = NameIndex::new(names.iter().copied());
        assert_eq!(ix.len(), 5);
        assert_eq!(ix.get("api"), Some(0));
        assert_eq!(ix.get(""), Some(1));
        assert_eq!(ix.get("rpc-user"), Some(2));
        assert_eq!(ix.get("ñ"), Some(4));
        assert_eq!(ix.get("rpc"), None);
        assert_eq!((ix.name(3), ix.name(4), ix.name(9)), ("api", "ñ", ""));
        let big = NameIndex::new(
            (0..5000)
                .map(|i| format!("svc-{i}"))
                .collect::<Vec<_>>()
                .iter()
                .map(String::as_str),
        );
        assert!((0..5000).all(|i| big.get(&format!("svc-{i}")) == Some(i)));
        assert_eq!(big, big.clone());
    }
}
