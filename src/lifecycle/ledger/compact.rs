//! The ledger as a run that only looks paths up holds it (`generate --out` into an existing
//! directory): every path in one text, and a sorted list of (where the path is, its entry).
//! As a map of strings, a ledger of 84,000 files took 11.5 MB (a node slot and an
//! allocation per path); this way about 6.5 MB.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

use super::{Entry, Ledger, Owned};

/// A ledger's files, sorted by path, looked up by binary search.
#[derive(Default, Clone)]
pub struct Compact {
    /// Every path, one after the other.
    paths: String,
    /// Where each path is in `paths` and its entry, in path order (each path once).
    slots: Vec<Slot>,
}

/// One file of a [`Compact`] ledger.
#[derive(Clone)]
struct Slot {
    start: u32,
    end: u32,
    entry: Entry,
}

/// A ledger with no file.
pub static EMPTY: Compact = Compact::new();

impl Compact {
    /// A ledger with no file.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            paths: String::new(),
            slots: Vec::new(),
        }
    }

    /// The path of `slot`.
    fn path(&self, slot: &Slot) -> &str {
        &self.paths[slot.start as usize..slot.end as usize]
    }

    /// The place of `path` in path order, and its entry.
    #[must_use]
    pub fn find(&self, path: &str) -> Option<(usize, &Entry)> {
        let i = self
            .slots
            .binary_search_by(|s| self.path(s).cmp(path))
            .ok()?;
        Some((i, &self.slots[i].entry))
    }

    /// How many files.
    #[must_use]
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether it has no file.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Read the JSON of a ledger from `reader` (about `size` bytes: the lists are sized
    /// from it once, not grown by doubling).
    ///
    /// # Errors
    /// The text is not a ledger, or a read error.
    pub fn read(reader: impl std::io::Read, size: u64) -> serde_json::Result<Self> {
        let mut de = serde_json::Deserializer::from_reader(reader);
        let ledger = Reader { size, whole: true }.deserialize(&mut de)?;
        de.end()?;
        Ok(ledger)
    }

    /// Add `path` with `entry` (in any order until [`Self::sorted`]).
    fn push(&mut self, path: &str, entry: Entry) -> Result<(), String> {
        let offset = |n: usize| u32::try_from(n).map_err(|_| "over 4 GiB of paths".to_owned());
        let start = offset(self.paths.len())?;
        self.paths.push_str(path);
        let end = offset(self.paths.len())?;
        self.slots.push(Slot { start, end, entry });
        Ok(())
    }

    /// In path order, each path once (the later of a path given twice wins, as with a map).
    fn sorted(mut self) -> Self {
        let paths = std::mem::take(&mut self.paths);
        let at = |s: &Slot| &paths[s.start as usize..s.end as usize];
        if !self.slots.is_sorted_by(|a, b| at(a) < at(b)) {
            // of equal paths, the later stays later: a path added later starts later in
            // `paths`. In place: a stable sort's buffer was 6.7 MB for the 120,000 files of
            // a ledger written in render order (a new DIR's)
            self.slots
                .sort_unstable_by(|a, b| at(a).cmp(at(b)).then(a.start.cmp(&b.start)));
            self.slots.dedup_by(|later, kept| {
                let same = at(later) == at(kept);
                if same {
                    std::mem::swap(later, kept);
                }
                same
            });
        }
        self.paths = paths;
        self
    }
}

impl Owned for Compact {
    fn get(&self, path: &str) -> Option<&Entry> {
        self.find(path).map(|(_, e)| e)
    }

    fn each(&self) -> Box<dyn Iterator<Item = (&str, &Entry)> + '_> {
        Box::new(self.slots.iter().map(|s| (self.path(s), &s.entry)))
    }

    fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }
}

/// Some files of a [`Compact`] ledger, a bit each (a list of their paths was 16 bytes a
/// file).
#[derive(Clone)]
pub struct Marked<'l> {
    ledger: &'l Compact,
    bits: Vec<u64>,
    count: usize,
}

impl<'l> Marked<'l> {
    /// None of the files of `ledger`.
    #[must_use]
    pub fn new(ledger: &'l Compact) -> Self {
        Self {
            ledger,
            bits: vec![0; ledger.len().div_ceil(64)],
            count: 0,
        }
    }

    /// Mark the file at `place` ([`Compact::find`]).
    pub fn mark(&mut self, place: usize) {
        let (word, bit) = (place / 64, 1u64 << (place % 64));
        if self.bits[word] & bit == 0 {
            self.bits[word] |= bit;
            self.count += 1;
        }
    }

    /// Whether `path` is marked.
    #[must_use]
    pub fn has(&self, path: &str) -> bool {
        self.ledger
            .find(path)
            .is_some_and(|(i, _)| self.bits[i / 64] & (1 << (i % 64)) != 0)
    }

    /// How many are marked.
    #[must_use]
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether none is.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The paths marked, in path order.
    pub fn paths(&self) -> impl Iterator<Item = &'l str> + '_ {
        let ledger = self.ledger;
        (0..ledger.len())
            .filter(|&i| self.bits[i / 64] & (1 << (i % 64)) != 0)
            .map(move |i| ledger.path(&ledger.slots[i]))
    }
}

impl PartialEq for Compact {
    fn eq(&self, other: &Self) -> bool {
        self.each().eq(other.each())
    }
}

impl Eq for Compact {}

impl fmt::Debug for Compact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.each()).finish()
    }
}

impl From<Ledger> for Compact {
    fn from(ledger: Ledger) -> Self {
        let mut out = Self::default();
        for (path, entry) in ledger.files {
            // a ledger in memory is far below 4 GiB of paths
            let _ = out.push(&path, entry);
        }
        out
    }
}

/// Reads a ledger's JSON object (`whole`: its `files` go into a [`Compact`]), or its
/// `files` object.
struct Reader {
    /// The size of the text, to size the lists once.
    size: u64,
    whole: bool,
}

impl<'de> DeserializeSeed<'de> for Reader {
    type Value = Compact;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Compact, D::Error> {
        de.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Reader {
    type Value = Compact;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.whole {
            "a ledger"
        } else {
            "a map of paths to ledger entries"
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Compact, A::Error> {
        if !self.whole {
            return self.files(map);
        }
        let mut files = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "files" => {
                    let seed = Self {
                        whole: false,
                        ..self
                    };
                    files = Some(map.next_value_seed(seed)?);
                }
                "version" => drop(map.next_value::<u32>()?),
                _ => drop(map.next_value::<IgnoredAny>()?),
            }
        }
        files.ok_or_else(|| de::Error::missing_field("files"))
    }
}

impl Reader {
    /// The entries of a `files` object.
    fn files<'de, A: MapAccess<'de>>(self, mut map: A) -> Result<Compact, A::Error> {
        // an entry is at least 100 bytes of JSON besides its path
        let size = usize::try_from(self.size).unwrap_or(usize::MAX);
        let mut out = Compact {
            paths: String::with_capacity(size / 2),
            slots: Vec::with_capacity(size / 100),
        };
        while let Some(path) = map.next_key::<std::borrow::Cow<'_, str>>()? {
            let entry: Entry = map.next_value()?;
            out.push(&path, entry).map_err(de::Error::custom)?;
        }
        Ok(out.sorted())
    }
}

#[cfg(test)]
#[path = "compact_tests.rs"]
mod tests;
