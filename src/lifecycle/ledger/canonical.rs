//! Whether the ledger file is already, byte for byte, the text a run would write again
//! ([`Store::is_canonical`]): a run that changes nothing on disk and keeps every entry as
//! it read it then leaves the file alone (no new file, no fsync: it keeps its inode and
//! mtime).
//!
//! The file is read again a chunk at a time and recognised a line at a time (each entry
//! is a line of its own), never held whole (the ledger of `s6` at 10,000 services is
//! 6.6 MB): the lines [`super::write_ledger`] writes for a version-1 ledger, its paths in
//! path order and each once, each entry `{"kind":…,"mode":…,"sha256":…}` as `serde_json`
//! writes it. The text such a file holds is the one written again from it. Writing the
//! text again to compare took five times the instructions (190 million at 50,000 files: a
//! walk reading every entry back, then serialising it; this, 37 million).
//!
//! Only the plain form is recognised: a path with a character JSON escapes, or a hash other
//! than 64 lower-case hex digits, counts as another form, and the ledger is written again
//! as it always was (which is always safe). So is every other form: files in the order
//! written (as versions before 2026-12-04 wrote a new tree's ledger), another version, other
//! fields or spacing.

use std::fs::File;
use std::io;
use std::os::unix::fs::{FileExt as _, PermissionsExt as _};

use super::{LEDGER_FILE, LEGACY_STATE_FILE, Lock, Store, open_regular};
use crate::lifecycle::fsops::{self, Found};

/// The mode a ledger is written with.
pub(super) const LEDGER_MODE: u32 = 0o644;

/// How much of the file is read at a time (a line longer than that is not recognised).
const CHUNK: usize = 1 << 16;

impl Store {
    /// Whether the ledger file holds exactly the text [`Self::prepare_entries`] would write
    /// of the entries it holds, with the mode it would have, and no legacy state file is
    /// left for that rewrite to remove: a run that leaves every entry as it read it may then
    /// leave the ledger as it is. A state file that cannot be looked at or read counts as
    /// another form (the rewrite then reports its own errors).
    #[must_use]
    pub fn is_canonical(&self, _lock: &Lock) -> bool {
        let legacy = fsops::inspect(&self.base.join(LEGACY_STATE_FILE));
        if !matches!(legacy, Ok(Found::Missing)) {
            return false;
        }
        let path = self.state.join(LEDGER_FILE);
        let as_written = std::fs::symlink_metadata(&path)
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o7777 == LEDGER_MODE);
        match open_regular(&path) {
            Ok(Some(file)) if as_written => canonical(&file, CHUNK).unwrap_or(false),
            _ => false,
        }
    }
}

/// Whether `file` holds a version-1 ledger in the plain form [`super::write_ledger`]
/// writes, read `chunk` bytes at a time.
///
/// # Errors
/// Read errors.
pub(super) fn canonical(file: &File, chunk: usize) -> io::Result<bool> {
    let mut lines = Lines::new(file, chunk);
    for head in [&b"{"[..], b"  \"version\": 1,"] {
        if lines.next()? != Some(head) {
            return Ok(false);
        }
    }
    let files = match lines.next()? {
        Some(b"  \"files\": {}") => true,
        Some(b"  \"files\": {") => entries(&mut lines)?,
        _ => false,
    };
    Ok(files && lines.next()? == Some(b"}") && lines.next()?.is_none() && lines.whole())
}

/// Whether the lines that follow are entries in the form, in path order (each path once),
/// then the line that closes `files`.
fn entries(lines: &mut Lines<'_>) -> io::Result<bool> {
    let mut last = Vec::new();
    let mut first = true;
    loop {
        let Some((path, more)) = lines.next()?.and_then(entry) else {
            return Ok(false);
        };
        if !first && path <= last.as_slice() {
            return Ok(false);
        }
        first = false;
        last.clear();
        last.extend_from_slice(path);
        if !more {
            return Ok(lines.next()? == Some(b"  }"));
        }
    }
}

/// The path of an entry's line in the form, and whether another entry follows (its
/// comma); `None` for any other line.
fn entry(line: &[u8]) -> Option<(&[u8], bool)> {
    let rest = line.strip_prefix(b"    \"")?;
    let (path, rest) = rest.split_at(memchr::memchr(b'"', rest)?);
    // a backslash begins an escape (another form); a control character is not JSON
    let plain = every(path, |b| b >= 0x20 && b != b'\\');
    if !plain || std::str::from_utf8(path).is_err() {
        return None;
    }
    let rest = rest[1..].strip_prefix(b": {\"kind\":\"")?;
    let rest = rest
        .strip_prefix(b"file")
        .or_else(|| rest.strip_prefix(b"symlink"))?;
    let rest = rest.strip_prefix(b"\",\"mode\":")?;
    let (mode, rest) = rest.split_at(rest.iter().take_while(|b| b.is_ascii_digit()).count());
    let rest = rest.strip_prefix(b",\"sha256\":\"")?;
    let (hash, rest) = rest.split_at_checked(64)?;
    let hex = every(hash, |b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if !(is_u32(mode) && hex) {
        return None;
    }
    match rest {
        b"\"}," => Some((path, true)),
        b"\"}" => Some((path, false)),
        _ => None,
    }
}

/// Whether `good` holds for every byte of `bytes`, each looked at (with no early exit, the
/// compiler looks at many at once: stopping at the first bad one took 10 instructions a
/// byte, most of a ledger's recognition).
fn every(bytes: &[u8], good: impl Fn(u8) -> bool) -> bool {
    bytes.iter().fold(true, |ok, &b| ok & good(b))
}

/// Whether `digits` (ASCII digits) are a `u32` as written: no leading zero, not too many.
fn is_u32(digits: &[u8]) -> bool {
    matches!(digits, [b'0'] | [b'1'..=b'9', ..])
        && std::str::from_utf8(digits).is_ok_and(|d| d.parse::<u32>().is_ok())
}

/// The lines of a file, read a chunk at a time.
struct Lines<'f> {
    file: &'f File,
    buf: Vec<u8>,
    /// The bytes read and not yet given are `buf[start..end]`.
    start: usize,
    end: usize,
    /// Where in the file the next read begins.
    at: u64,
    /// The file was read to its end.
    ended: bool,
}

impl<'f> Lines<'f> {
    /// The lines of `file`, read `chunk` bytes at a time.
    fn new(file: &'f File, chunk: usize) -> Self {
        Self {
            file,
            buf: vec![0; chunk.max(1)],
            start: 0,
            end: 0,
            at: 0,
            ended: false,
        }
    }

    /// The next line, without its newline; `None` at the end, or at a line longer than
    /// the chunk (then [`Self::whole`] is false).
    fn next(&mut self) -> io::Result<Option<&[u8]>> {
        loop {
            if let Some(len) = memchr::memchr(b'\n', &self.buf[self.start..self.end]) {
                let line = self.start..self.start + len;
                self.start += len + 1;
                return Ok(Some(&self.buf[line]));
            }
            if !self.fill()? {
                return Ok(None);
            }
        }
    }

    /// Read more after the bytes not yet given (moved to the front); false at the file's
    /// end, or when the chunk is full.
    fn fill(&mut self) -> io::Result<bool> {
        self.buf.copy_within(self.start..self.end, 0);
        (self.start, self.end) = (0, self.end - self.start);
        if self.ended || self.end == self.buf.len() {
            return Ok(false);
        }
        let read = loop {
            match self.file.read_at(&mut self.buf[self.end..], self.at) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                read => break read?,
            }
        };
        self.ended = read == 0;
        self.end += read;
        self.at += read as u64;
        Ok(read > 0)
    }

    /// Whether the file was read to its end and every byte given in a line.
    fn whole(&self) -> bool {
        self.ended && self.start == self.end
    }
}

#[cfg(test)]
#[path = "canonical_tests.rs"]
mod tests;
