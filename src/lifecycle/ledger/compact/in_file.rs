//! The hashes of a [`super::Compact`] ledger read from its file, left in that file: held,
//! they were 32 bytes a file (1.6 MB of the 50,000 files of `s6` at 10,000 services, the
//! most a run into an up-to-date directory held); where each entry is in the file is 4.
//! An entry is read again, hash and all, when it is looked up or walked.
//!
//! The file is the one that was read: kept open (a ledger is replaced by a rename, never
//! written over, and only under the lock the run holds), read by offset, and each entry
//! read again must have the kind and mode its record has.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt as _;
use std::sync::{Mutex, PoisonError};

use serde::Deserialize as _;

use super::code::Head;
use crate::lifecycle::ledger::hash::digest_of;
use crate::lifecycle::ledger::{ContentHash, Entry, Kind};

/// How many bytes are read around an entry: a lookup reads what follows it too, and the
/// next lookup is often there (the files of a directory are together in path order, and
/// rendered together); a walk reads a window for every 30 or so files.
pub(super) const WINDOW: usize = 4096;

/// A ledger's file, and where each of its entries is.
pub(super) struct InFile {
    file: File,
    /// Where each entry's JSON begins (right after its path), in path order.
    at: Vec<u32>,
    /// What the last lookup read.
    last: Mutex<Window>,
}

impl InFile {
    /// The entries of `file` that begin at `at`, in path order.
    pub(super) fn new(file: File, at: Vec<u32>) -> Self {
        Self {
            file,
            at,
            last: Mutex::default(),
        }
    }

    /// How many entries.
    pub(super) fn len(&self) -> usize {
        self.at.len()
    }

    /// The entry at `place`, whose record holds `head`.
    ///
    /// # Errors
    /// The file cannot be read, or does not hold that entry there any more.
    pub(super) fn entry(&self, place: usize, head: Head) -> io::Result<Entry> {
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        self.read(&mut last, place, head)
    }

    /// Write `text` over the file, in place (as no ledger is written).
    #[cfg(test)]
    pub(super) fn write_over(&self, text: &[u8]) {
        self.file.set_len(0).expect("cut");
        self.file.write_all_at(text, 0).expect("write");
    }

    /// [`Self::entry`], through `window` (a walk's own).
    ///
    /// # Errors
    /// As [`Self::entry`].
    pub(super) fn read(&self, window: &mut Window, place: usize, head: Head) -> io::Result<Entry> {
        let entry = window.entry(&self.file, u64::from(self.at[place]))?;
        if head.matches(&entry) {
            Ok(entry)
        } else {
            Err(changed("an entry is not the one read"))
        }
    }
}

/// Some bytes of the file, read at once.
#[derive(Default)]
pub(super) struct Window {
    /// Where they begin in the file.
    start: u64,
    /// The bytes read are the first `len`.
    bytes: Vec<u8>,
    len: usize,
    /// Whether they end where the file does.
    to_end: bool,
}

impl Window {
    /// The entry whose JSON begins at `at` in `file` (after the blanks and the colon that
    /// follow its path).
    fn entry(&mut self, file: &File, at: u64) -> io::Result<Entry> {
        if !self.holds(at) {
            self.fill(file, at, WINDOW)?;
        }
        loop {
            let from = usize::try_from(at - self.start).unwrap_or(usize::MAX);
            let text = &self.bytes[from..self.len];
            let value = text
                .iter()
                .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b':'))
                .map_or(&[][..], |i| &text[i..]);
            if let Some(entry) = as_written(value) {
                return Ok(entry);
            }
            let mut de = serde_json::Deserializer::from_slice(value);
            match Entry::deserialize(&mut de) {
                Ok(entry) => return Ok(entry),
                // cut by the window's end: read again from the entry, twice as much if the
                // window began there already
                Err(e) if e.is_eof() && !self.to_end => {
                    let more = if from == 0 { 2 * self.len } else { WINDOW };
                    self.fill(file, at, more)?;
                }
                Err(e) => return Err(changed(&e.to_string())),
            }
        }
    }

    /// Whether the byte at `at` is here.
    fn holds(&self, at: u64) -> bool {
        at.checked_sub(self.start)
            .and_then(|from| usize::try_from(from).ok())
            .is_some_and(|from| from < self.len)
    }

    /// Read `len` bytes of `file` from `at` (fewer at its end).
    fn fill(&mut self, file: &File, at: u64, len: usize) -> io::Result<()> {
        if self.bytes.len() < len {
            self.bytes.resize(len, 0);
        }
        let mut got = 0;
        while got < len {
            match file.read_at(&mut self.bytes[got..len], at + got as u64) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.start = at;
        self.len = got;
        self.to_end = got < len;
        if got == 0 {
            return Err(changed("it is shorter"));
        }
        Ok(())
    }
}

/// The entry at the start of `text` when it is written as a ledger writes one,
/// `{"kind":"file","mode":420,"sha256":"<64 hex digits>"}`, read without the JSON parser
/// (which took about 2,600 instructions an entry); `None` for any other text, which the
/// parser reads.
fn as_written(text: &[u8]) -> Option<Entry> {
    let (kind, rest) = match text.strip_prefix(br#"{"kind":"file","mode":"#) {
        Some(rest) => (Kind::File, rest),
        None => (
            Kind::Symlink,
            text.strip_prefix(br#"{"kind":"symlink","mode":"#)?,
        ),
    };
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    // (a leading zero is not JSON: the parser says so)
    if digits == 0 || (digits > 1 && rest[0] == b'0') {
        return None;
    }
    let mode = std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()?;
    let rest = rest[digits..].strip_prefix(br#","sha256":""#)?;
    let (hex, rest) = rest.split_at_checked(64)?;
    if !rest.starts_with(br#""}"#) {
        return None;
    }
    let sha256 = ContentHash::Sha256(digest_of(hex)?);
    Some(Entry { kind, mode, sha256 })
}

/// The error of a ledger file that no longer holds what was read from it.
fn changed(why: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("the ledger changed since it was read: {why}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_as_written_is_read_as_the_parser_reads_it_and_any_other_is_left_to_it() {
        let digest = "ab".repeat(32);
        let written = [
            Entry::of(Kind::File, 0o644, b"text"),
            Entry::of(Kind::Symlink, 0o777, b"target"),
            Entry::of(Kind::File, u32::MAX, b""),
            Entry::of(Kind::File, 0, b"zero"),
        ];
        for entry in &written {
            let text = serde_json::to_vec(entry).expect("json");
            assert_eq!(as_written(&text).as_ref(), Some(entry));
            // what follows it is not read
            let more = [&text[..], b",\n    \"next\": {}"].concat();
            assert_eq!(as_written(&more).as_ref(), Some(entry));
        }
        for other in [
            format!(
                r#"{{"kind":"file","mode":420,"sha256":"{}"}}"#,
                digest.to_uppercase()
            ),
            format!(
                r#"{{"kind":"file","mode":420,"sha256":"{}"}}"#,
                &digest[1..]
            ),
            format!(r#"{{"kind":"file","mode":420,"sha256":"{digest}0"}}"#),
            format!(r#"{{"kind":"file","mode":0420,"sha256":"{digest}"}}"#),
            format!(r#"{{"kind":"file","mode":4294967296,"sha256":"{digest}"}}"#),
            format!(r#"{{"kind":"file","mode":,"sha256":"{digest}"}}"#),
            format!(r#"{{"kind": "file","mode":420,"sha256":"{digest}"}}"#),
            format!(r#"{{"mode":420,"kind":"file","sha256":"{digest}"}}"#),
            format!(r#"{{"kind":"file","mode":420,"sha256":"{digest}","x":1}}"#),
            format!(r#"{{"kind":"fifo","mode":420,"sha256":"{digest}"}}"#),
            r#"{"kind":"file","mode":420,"sha256":"edited-since-written"}"#.to_owned(),
            String::new(),
        ] {
            assert_eq!(as_written(other.as_bytes()), None, "{other}");
        }
    }
}
