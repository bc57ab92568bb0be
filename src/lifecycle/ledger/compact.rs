//! The ledger as a run that only looks paths up holds it (`generate --out` into an existing
//! directory): its paths in path order, front coded in one list of bytes (see `code.rs`),
//! and, for a ledger read from its file, where each entry is in that file (see
//! `in_file.rs`). As a map of strings, a ledger of 84,000 files took 11.5 MB (a node slot
//! and an allocation per path); as one text of paths and a 48-byte slot a file, the 50,000
//! files of `s6` at 10,000 services took 3.4 MB; with the hashes held, 2.2 MB; this way
//! 0.8 MB.

use std::borrow::Cow;
use std::fmt;
use std::io;

use super::{Entry, Ledger, Owned};
use code::{BLOCK, Builder, Head, Record, Walk};
use in_file::{InFile, Window};

mod code;
mod in_file;
mod read;

/// A ledger's files, sorted by path, looked up by bisection of its blocks.
#[derive(Default)]
pub struct Compact {
    /// The records of the paths, in path order (each path once).
    paths: Vec<u8>,
    /// Where each block of [`BLOCK`] records starts in `paths`.
    blocks: Vec<u32>,
    /// The hash of each file, in the same order.
    hashes: Hashes,
}

/// Where the hashes of a [`Compact`] ledger are.
enum Hashes {
    /// Here, 32 bytes each: a ledger made in memory (or imported from the legacy state
    /// file).
    Held(Vec<u8>),
    /// In the file the ledger was read from.
    InFile(InFile),
}

impl Hashes {
    /// How many.
    fn len(&self) -> usize {
        match self {
            Self::Held(hashes) => hashes.len() / 32,
            Self::InFile(file) => file.len(),
        }
    }
}

impl Default for Hashes {
    fn default() -> Self {
        Self::Held(Vec::new())
    }
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
            hashes: Hashes::Held(Vec::new()),
        }
    }

    /// The place of `path` in path order, and its entry.
    ///
    /// # Errors
    /// The entry cannot be read again from the ledger's file, or is not the one read.
    pub fn find(&self, path: &str) -> io::Result<Option<(usize, Entry)>> {
        let Some((place, head)) = self.locate(path) else {
            return Ok(None);
        };
        let entry = match &self.hashes {
            Hashes::Held(hashes) => head.entry(&hashes.as_chunks().0[place]),
            Hashes::InFile(file) => file.entry(place, head)?,
        };
        Ok(Some((place, entry)))
    }

    /// The place of `path` in path order (its entry not read).
    #[must_use]
    pub fn place(&self, path: &str) -> Option<usize> {
        self.locate(path).map(|(place, _)| place)
    }

    /// The place of `path` in path order, and what its record holds of its entry.
    fn locate(&self, path: &str) -> Option<(usize, Head)> {
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
                std::cmp::Ordering::Equal => return Some((place, record.head())),
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
        self.hashes.len()
    }

    /// Whether it has no file.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Read the JSON of a ledger from `file` (about `size` bytes: the lists are sized from
    /// it once, not grown by doubling), through a buffer of its own; the file is kept, to
    /// read the entries again (see `in_file.rs`).
    ///
    /// # Errors
    /// The text is not a ledger, or a read error.
    pub fn read(file: std::fs::File, size: u64) -> serde_json::Result<Self> {
        read::read(file, size)
    }

    /// The records in order.
    fn walk(&self) -> Walk<'_> {
        Walk::new(&self.paths, self.len())
    }
}

impl Owned for Compact {
    fn get(&self, path: &str) -> io::Result<Option<Entry>> {
        Ok(self.find(path)?.map(|(_, e)| e))
    }

    fn each(&self) -> Box<dyn Iterator<Item = io::Result<(Cow<'_, str>, Entry)>> + '_> {
        let mut walk = self.walk();
        let mut window = Window::default();
        Box::new(std::iter::from_fn(move || {
            let (path, place, head) = walk.next()?;
            let entry = match &self.hashes {
                Hashes::Held(hashes) => Ok(head.entry(&hashes.as_chunks().0[place])),
                Hashes::InFile(file) => file.read(&mut window, place, head),
            };
            Some(entry.map(|e| (Cow::Owned(path.to_owned()), e)))
        }))
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
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
        let mut walk = self.ledger.walk();
        std::iter::from_fn(move || {
            loop {
                let (path, place, _) = walk.next()?;
                if self.has(place) {
                    return Some(path.to_owned());
                }
            }
        })
    }
}

impl PartialEq for Compact {
    /// (An entry that cannot be read again equals none.)
    fn eq(&self, other: &Self) -> bool {
        self.each().map(Result::ok).eq(other.each().map(Result::ok))
    }
}

impl Eq for Compact {}

impl fmt::Debug for Compact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.each().map_while(Result::ok))
            .finish()
    }
}

impl From<Ledger> for Compact {
    fn from(ledger: Ledger) -> Self {
        let mut out = Builder::default();
        let mut hashes = Vec::with_capacity(ledger.files.len() * 32);
        for (path, entry) in &ledger.files {
            let (flags, mode, hash) = code::split(entry);
            // a ledger in memory is far below 4 GiB of records; a map's paths are in order
            let _ = out.code(path, flags, mode);
            hashes.extend_from_slice(&hash);
        }
        out.finish(Hashes::Held(hashes))
    }
}

#[cfg(test)]
#[path = "compact_tests.rs"]
mod tests;
