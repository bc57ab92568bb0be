//! The ledger as a run that only looks paths up holds it (`generate --out` into an existing
//! directory): its paths in path order, front coded in one list of bytes (see `code.rs`),
//! and their hashes in another. As a map of strings, a ledger of 84,000 files took 11.5 MB
//! (a node slot and an allocation per path); as one text of paths and a 48-byte slot a
//! file, the 50,000 files of `s6` at 10,000 services took 3.4 MB; this way 2.2 MB.

use std::borrow::Cow;
use std::fmt;

use super::{Entry, Ledger, Owned};
use code::{BLOCK, Builder, Record, Walk};

mod code;
mod read;

/// A ledger's files, sorted by path, looked up by bisection of its blocks.
#[derive(Default, Clone)]
pub struct Compact {
    /// The records of the paths, in path order (each path once).
    paths: Vec<u8>,
    /// Where each block of [`BLOCK`] records starts in `paths`.
    blocks: Vec<u32>,
    /// The hash of each file, in the same order, 32 bytes each (bytes: a ledger read out
    /// of order puts them in the text its paths were gathered in, see `read.rs`).
    hashes: Vec<u8>,
}

/// A ledger with no file.
pub static EMPTY: Compact = Compact::new();

impl Compact {
    /// A ledger with no file.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            paths: Vec::new(),
            blocks: Vec::new(),
            hashes: Vec::new(),
        }
    }

    /// The place of `path` in path order, and its entry.
    #[must_use]
    pub fn find(&self, path: &str) -> Option<(usize, Entry)> {
        let want = path.as_bytes();
        // the last block whose head is not after `path`
        let block = self
            .blocks
            .partition_point(|&at| Record::at(&self.paths, at as usize).rest <= want)
            .checked_sub(1)?;
        let mut at = self.blocks[block] as usize;
        // how many first bytes the record before (which is before `path`) shares with
        // `path`: a record is compared from there, no path made
        let mut matched = 0;
        for place in block * BLOCK..self.len().min((block + 1) * BLOCK) {
            let record = Record::at(&self.paths, at);
            at = record.next;
            if record.shared > matched {
                // the same as the record before where that one is below `path`
                continue;
            }
            let rest = &want[record.shared..];
            match record.rest.cmp(rest) {
                std::cmp::Ordering::Equal => {
                    return Some((place, record.entry(&self.hashes()[place])));
                }
                std::cmp::Ordering::Greater => return None,
                std::cmp::Ordering::Less => {
                    let same = record.rest.iter().zip(rest).take_while(|(a, b)| a == b);
                    matched = record.shared + same.count();
                }
            }
        }
        None
    }

    /// How many files.
    #[must_use]
    pub fn len(&self) -> usize {
        self.hashes().len()
    }

    /// The hash of each file.
    fn hashes(&self) -> &[[u8; 32]] {
        self.hashes.as_chunks().0
    }

    /// Whether it has no file.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// Read the JSON of a ledger from `reader` (about `size` bytes: the lists are sized
    /// from it once, not grown by doubling), through a buffer of its own; read twice when
    /// its files are not in path order (see `read.rs`).
    ///
    /// # Errors
    /// The text is not a ledger, or a read error.
    pub fn read(reader: impl std::io::Read + std::io::Seek, size: u64) -> serde_json::Result<Self> {
        read::read(reader, size)
    }
}

impl Owned for Compact {
    fn get(&self, path: &str) -> Option<Entry> {
        self.find(path).map(|(_, e)| e)
    }

    fn each(&self) -> Box<dyn Iterator<Item = (Cow<'_, str>, Entry)> + '_> {
        let mut walk = Walk::new(self);
        Box::new(std::iter::from_fn(move || {
            let (path, entry) = walk.next()?;
            Some((Cow::Owned(path.to_owned()), entry))
        }))
    }

    fn is_empty(&self) -> bool {
        self.hashes.is_empty()
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

    /// Whether the file at `place` ([`Compact::find`]) is marked.
    #[must_use]
    pub fn has(&self, place: usize) -> bool {
        self.bits[place / 64] & (1 << (place % 64)) != 0
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
    pub fn paths(&self) -> impl Iterator<Item = String> + '_ {
        let mut walk = Walk::new(self.ledger);
        let mut place = 0;
        std::iter::from_fn(move || {
            loop {
                let (path, _) = walk.next()?;
                place += 1;
                if self.has(place - 1) {
                    return Some(path.to_owned());
                }
            }
        })
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
        let mut out = Builder::default();
        for (path, entry) in &ledger.files {
            // a ledger in memory is far below 4 GiB of records; a map's paths are in order
            let _ = out.push(path, entry);
        }
        out.finish()
    }
}

#[cfg(test)]
#[path = "compact_tests.rs"]
mod tests;
