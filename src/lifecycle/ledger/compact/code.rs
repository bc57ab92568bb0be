//! The paths of a [`Compact`] ledger, one after the other in path order, front coded: each
//! path is the number of its first bytes the path before has too, then the rest (the
//! paths of a ledger share long beginnings: `s6/svc-123/log/run`, `s6/svc-123/run`). Every
//! [`BLOCK`]th record starts a block and holds its whole path, so a lookup searches the
//! block heads by bisection and then reads at most one block.
//!
//! A record: the shared length, the rest's length with two flags (a link; a hash that is
//! not a digest), the mode, each as a LEB128 number, then the rest: about 12 bytes a file
//! of `s6`. The hashes are kept apart (see `compact.rs`).

use super::{Compact, Hashes};
use crate::lifecycle::ledger::{ContentHash, Entry, Kind, OtherText};

/// Records a block: the more, the smaller the heads' share and the longer a lookup reads.
pub(super) const BLOCK: usize = 16;

/// The flag of a link, in a record's length of the rest.
pub(super) const SYMLINK: u8 = 1;
/// The flag of an [`OtherText`] in place of a digest.
pub(super) const OTHER: u8 = 2;
/// How far the flags shift the rest's length.
const FLAG_BITS: u32 = 2;

/// Append `n` as LEB128: seven bits a byte, the low ones first.
fn put(out: &mut Vec<u8>, mut n: usize) {
    loop {
        let low = n.to_le_bytes()[0] & 0x7f;
        n >>= 7;
        if n == 0 {
            out.push(low);
            return;
        }
        out.push(low | 0x80);
    }
}

/// The LEB128 number at `*at`, which moves past it.
#[inline]
fn take(bytes: &[u8], at: &mut usize) -> usize {
    // most are one byte (a lookup reads some 20 records of three)
    let first = bytes[*at];
    *at += 1;
    if first < 0x80 {
        return usize::from(first);
    }
    let mut n = usize::from(first & 0x7f);
    let mut shift = 7;
    loop {
        let byte = bytes[*at];
        *at += 1;
        n |= usize::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return n;
        }
        shift += 7;
    }
}

/// An entry as a [`Compact`] ledger keeps it: its flags, its mode, its hash.
pub(super) fn split(entry: &Entry) -> (u8, u32, [u8; 32]) {
    let mut hash = [0; 32];
    let mut flags = 0;
    match &entry.sha256 {
        ContentHash::Sha256(digest) => hash = *digest,
        ContentHash::Other(text) => {
            hash[..4].copy_from_slice(&text.0);
            flags |= OTHER;
        }
    }
    if entry.kind == Kind::Symlink {
        flags |= SYMLINK;
    }
    (flags, entry.mode, hash)
}

/// The entry [`split`] into these.
pub(super) fn join(flags: u8, mode: u32, hash: &[u8; 32]) -> Entry {
    let sha256 = if flags & OTHER == 0 {
        ContentHash::Sha256(*hash)
    } else {
        ContentHash::Other(OtherText([hash[0], hash[1], hash[2], hash[3]]))
    };
    let kind = if flags & SYMLINK == 0 {
        Kind::File
    } else {
        Kind::Symlink
    };
    Entry { kind, mode, sha256 }
}

/// What a record holds of its entry: all but the hash.
#[derive(Clone, Copy)]
pub(super) struct Head {
    /// [`SYMLINK`] and [`OTHER`].
    pub(super) flags: u8,
    pub(super) mode: u32,
}

impl Head {
    /// The entry with this head and `hash`.
    pub(super) fn entry(self, hash: &[u8; 32]) -> Entry {
        join(self.flags, self.mode, hash)
    }

    /// Whether `entry` has this head (an entry read again from the ledger's file).
    pub(super) fn matches(self, entry: &Entry) -> bool {
        let (flags, mode, _) = split(entry);
        (flags, mode) == (self.flags, self.mode)
    }
}

/// One record, read where it starts.
pub(super) struct Record<'c> {
    /// How many bytes of its path the path before has too (0 for a block's head).
    pub(super) shared: usize,
    /// The rest of its path (whole characters: the shared part ends between two).
    pub(super) rest: &'c [u8],
    /// [`SYMLINK`] and [`OTHER`].
    flags: u8,
    mode: u32,
    /// Where the next record starts.
    pub(super) next: usize,
}

impl<'c> Record<'c> {
    /// The record at `at` in `bytes`.
    #[inline]
    pub(super) fn at(bytes: &'c [u8], mut at: usize) -> Self {
        let shared = take(bytes, &mut at);
        let head = take(bytes, &mut at);
        // written from a u32
        let mode = u32::try_from(take(bytes, &mut at)).unwrap_or(u32::MAX);
        let rest_len = head >> FLAG_BITS;
        Self {
            shared,
            rest: &bytes[at..at + rest_len],
            flags: head.to_le_bytes()[0] & (SYMLINK | OTHER),
            mode,
            next: at + rest_len,
        }
    }

    /// What it holds of its entry.
    pub(super) fn head(&self) -> Head {
        Head {
            flags: self.flags,
            mode: self.mode,
        }
    }

    /// `path` (the path before) made this record's.
    pub(super) fn apply(&self, path: &mut String) {
        path.truncate(self.shared);
        // (always whole characters)
        path.push_str(std::str::from_utf8(self.rest).unwrap_or_default());
    }
}

/// The paths of a [`Compact`] ledger, given in increasing order.
#[derive(Default)]
pub(super) struct Builder {
    paths: Vec<u8>,
    blocks: Vec<u32>,
    /// How many records.
    count: usize,
    /// The last path given.
    last: String,
}

impl Builder {
    /// Room for about `bytes` of paths and `files` files.
    pub(super) fn with_capacity(bytes: usize, files: usize) -> Self {
        Self {
            paths: Vec::with_capacity(bytes),
            blocks: Vec::with_capacity(files.div_ceil(BLOCK)),
            count: 0,
            last: String::new(),
        }
    }

    /// Whether `path` can be added: it comes after every path so far.
    pub(super) fn takes(&self, path: &str) -> bool {
        self.count == 0 || path > self.last.as_str()
    }

    /// Add the record of `path` (which [`Self::takes`]) with these flags and mode; its
    /// hash is for the caller to keep ([`Self::finish`]).
    ///
    /// # Errors
    /// Over 4 GiB of paths.
    pub(super) fn code(&mut self, path: &str, flags: u8, mode: u32) -> Result<(), String> {
        debug_assert!(self.takes(path), "{path} given out of order");
        let shared = if self.count.is_multiple_of(BLOCK) {
            let start = u32::try_from(self.paths.len()).map_err(|_| "over 4 GiB of paths")?;
            self.blocks.push(start);
            0
        } else {
            shared(&self.last, path)
        };
        let rest = &path[shared..];
        put(&mut self.paths, shared);
        put(
            &mut self.paths,
            rest.len() << FLAG_BITS | usize::from(flags),
        );
        put(&mut self.paths, mode as usize);
        self.paths.extend_from_slice(rest.as_bytes());
        self.count += 1;
        self.last.truncate(shared);
        self.last.push_str(rest);
        Ok(())
    }

    /// The records so far, in order.
    pub(super) fn walk(&self) -> Walk<'_> {
        Walk::new(&self.paths, self.count)
    }

    /// The ledger of these records and `hashes` (one for each, in order).
    pub(super) fn finish(self, hashes: Hashes) -> Compact {
        debug_assert_eq!(hashes.len(), self.count);
        Compact {
            paths: self.paths,
            blocks: self.blocks,
            hashes,
        }
    }
}

/// How many bytes `b` begins with that `a` begins with too, ending between two characters.
fn shared(a: &str, b: &str) -> usize {
    let mut n = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    while !b.is_char_boundary(n) {
        n -= 1;
    }
    n
}

/// The records of a [`Compact`] ledger read in order, each path made in one buffer.
pub(super) struct Walk<'c> {
    paths: &'c [u8],
    count: usize,
    at: usize,
    place: usize,
    path: String,
}

impl<'c> Walk<'c> {
    /// From the first of the `count` records in `paths`.
    pub(super) fn new(paths: &'c [u8], count: usize) -> Self {
        Self {
            paths,
            count,
            at: 0,
            place: 0,
            path: String::new(),
        }
    }

    /// The next path, its place and what its record holds of its entry.
    pub(super) fn next(&mut self) -> Option<(&str, usize, Head)> {
        if self.place == self.count {
            return None;
        }
        let record = Record::at(self.paths, self.at);
        record.apply(&mut self.path);
        self.at = record.next;
        self.place += 1;
        Some((&self.path, self.place - 1, record.head()))
    }
}
