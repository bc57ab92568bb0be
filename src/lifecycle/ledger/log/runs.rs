//! The entries of a new tree's ledger as they come, put in path order a bounded piece at a
//! time: each piece is sorted in memory and written out as a sorted run into a file no one
//! sees, and the runs are merged when the ledger is written (and again for the report).
//! Memory stays that of one piece and a read buffer per run, whatever the number of files.
//!
//! A record: its path's length (4 bytes, little-endian) and path, a flags byte (bit 0 a
//! link, bit 1 a target follows, bit 2 a recorded text in place of a digest), the mode (4
//! bytes), the digest (32 bytes) or the text's place (4), then the target's length and
//! target if any. The file lives as long as the process, so a recorded text's place holds.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write as _};
use std::os::unix::fs::FileExt as _;

use crate::lifecycle::ledger::{ContentHash, Entry, Kind, OtherText};

/// The bytes of records a piece holds before it is written out as a run, at least.
const PIECE_BYTES: usize = 128 << 10;
/// The read buffer of each run while they are merged.
const RUN_BUFFER: usize = 8 << 10;

const LINK: u8 = 1;
const TARGET: u8 = 2;
const OTHER: u8 = 4;

/// One file as a run holds it.
#[derive(Debug, PartialEq, Eq)]
pub struct Record {
    /// Relative path.
    pub path: String,
    /// Its entry.
    pub entry: Entry,
    /// A link's target, when given.
    pub target: Option<String>,
}

/// Sorted runs of records, and the piece still in memory.
pub struct Runs {
    out: BufWriter<File>,
    /// Where each run written ends in the file.
    ends: Vec<u64>,
    /// The records of the piece, in the order they came.
    piece: Vec<u8>,
    /// Where each record of the piece starts.
    starts: Vec<u32>,
    /// Bytes of runs written so far.
    written: u64,
}

impl Runs {
    /// Runs kept in `file` (empty, seen by no one else).
    pub fn new(file: File) -> Self {
        Self {
            out: BufWriter::with_capacity(RUN_BUFFER, file),
            ends: Vec::new(),
            piece: Vec::new(),
            starts: Vec::new(),
            written: 0,
        }
    }

    /// Add `path`, written as `entry` (a link to `target`).
    ///
    /// # Errors
    /// Writing a full piece out, or a piece over 4 GiB.
    pub fn add(&mut self, path: &str, entry: &Entry, target: Option<&str>) -> io::Result<()> {
        let start = u32::try_from(self.piece.len()).map_err(io::Error::other)?;
        self.starts.push(start);
        encode(&mut self.piece, path, entry, target);
        // a piece grows with what was written (a sixteenth of it): runs stay few
        let room = usize::try_from(self.written / 16).unwrap_or(usize::MAX);
        if self.piece.len() >= PIECE_BYTES.max(room) {
            self.spill()?;
        }
        Ok(())
    }

    /// Write the piece out as a run: sorted by path (of a path given twice, the later).
    fn spill(&mut self) -> io::Result<()> {
        if self.starts.is_empty() {
            return Ok(());
        }
        let piece = &self.piece;
        let path = |start: u32| path_at(piece, start as usize);
        // a stable sort: of equal paths, the later stays later
        self.starts.sort_by(|a, b| path(*a).cmp(path(*b)));
        let mut kept = self.starts.iter().peekable();
        while let Some(&start) = kept.next() {
            if kept.peek().is_some_and(|&&next| path(next) == path(start)) {
                continue;
            }
            let record = &piece[start as usize..];
            let len = record_len(record);
            self.out.write_all(&record[..len])?;
            self.written += len as u64;
        }
        self.ends.push(self.written);
        self.piece.clear();
        self.starts.clear();
        Ok(())
    }

    /// Whether `path` was added.
    ///
    /// # Errors
    /// Writing out or reading back the runs.
    pub fn contains(&mut self, path: &str) -> io::Result<bool> {
        let piece = &self.piece;
        if self
            .starts
            .iter()
            .any(|&s| path_at(piece, s as usize) == path.as_bytes())
        {
            return Ok(true);
        }
        self.out.flush()?;
        let mut all = Run::new(self.out.get_ref(), 0, self.written);
        while let Some(record) = all.next()? {
            if record.path == path {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Every run written out, merged from here on.
    ///
    /// # Errors
    /// Writing the last piece out.
    pub fn seal(mut self) -> io::Result<Sealed> {
        self.spill()?;
        let file = self
            .out
            .into_inner()
            .map_err(io::IntoInnerError::into_error)?;
        Ok(Sealed {
            file,
            ends: self.ends,
        })
    }
}

/// Runs all written out.
pub struct Sealed {
    file: File,
    ends: Vec<u64>,
}

impl Sealed {
    /// How many runs.
    #[cfg(test)]
    pub fn count(&self) -> usize {
        self.ends.len()
    }

    /// Every record in path order (of a path given twice, the later).
    ///
    /// # Errors
    /// Reading a run, or a run that is not one.
    pub fn merge(&self) -> io::Result<Merge<'_>> {
        let mut runs = Vec::with_capacity(self.ends.len());
        let mut heads = BinaryHeap::with_capacity(self.ends.len());
        let mut begin = 0;
        for (i, &end) in self.ends.iter().enumerate() {
            let mut run = Run::new(&self.file, begin, end);
            if let Some(record) = run.next()? {
                heads.push(Reverse(Head(record, i)));
            }
            runs.push(run);
            begin = end;
        }
        Ok(Merge { runs, heads })
    }
}

/// A run's next record, ordered by path then run (an earlier run first).
struct Head(Record, usize);

impl Head {
    fn key(&self) -> (&str, usize) {
        (&self.0.path, self.1)
    }
}

impl PartialEq for Head {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for Head {}

impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Head {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

/// The records of every run, merged.
pub struct Merge<'f> {
    runs: Vec<Run<'f>>,
    heads: BinaryHeap<Reverse<Head>>,
}

impl Merge<'_> {
    /// The next record in path order; `None` after the last.
    ///
    /// # Errors
    /// Reading a run, or a run that is not one.
    pub fn next(&mut self) -> io::Result<Option<Record>> {
        loop {
            let Some(Reverse(Head(record, run))) = self.heads.pop() else {
                return Ok(None);
            };
            if let Some(next) = self.runs[run].next()? {
                self.heads.push(Reverse(Head(next, run)));
            }
            // the same path in a later run: that one is kept
            let later = self.heads.peek().is_some_and(|h| h.0.0.path == record.path);
            if !later {
                return Ok(Some(record));
            }
        }
    }
}

/// One run being read.
struct Run<'f> {
    from: BufReader<Region<'f>>,
}

impl<'f> Run<'f> {
    /// The run in `file` from `begin` to `end`.
    fn new(file: &'f File, begin: u64, end: u64) -> Self {
        Self {
            from: BufReader::with_capacity(
                RUN_BUFFER,
                Region {
                    file,
                    at: begin,
                    end,
                },
            ),
        }
    }

    /// Its next record; `None` at its end.
    fn next(&mut self) -> io::Result<Option<Record>> {
        let mut len = [0u8; 4];
        match self.from.read(&mut len[..1])? {
            0 => return Ok(None),
            _ => self.from.read_exact(&mut len[1..])?,
        }
        let path = self.string(u32::from_le_bytes(len))?;
        let mut fixed = [0u8; 5];
        self.from.read_exact(&mut fixed)?;
        let [flags, mode @ ..] = fixed;
        let sha256 = if flags & OTHER == 0 {
            let mut digest = [0u8; 32];
            self.from.read_exact(&mut digest)?;
            ContentHash::Sha256(digest)
        } else {
            let mut place = [0u8; 4];
            self.from.read_exact(&mut place)?;
            ContentHash::Other(OtherText(place))
        };
        let target = if flags & TARGET == 0 {
            None
        } else {
            self.from.read_exact(&mut len)?;
            Some(self.string(u32::from_le_bytes(len))?)
        };
        let kind = if flags & LINK == 0 {
            Kind::File
        } else {
            Kind::Symlink
        };
        let entry = Entry {
            kind,
            mode: u32::from_le_bytes(mode),
            sha256,
        };
        Ok(Some(Record {
            path,
            entry,
            target,
        }))
    }

    /// A text of `len` bytes.
    fn string(&mut self, len: u32) -> io::Result<String> {
        let mut bytes = vec![0; len as usize];
        self.from.read_exact(&mut bytes)?;
        String::from_utf8(bytes).map_err(io::Error::other)
    }
}

/// Part of a file, read from where it begins without moving the file's cursor.
struct Region<'f> {
    file: &'f File,
    at: u64,
    end: u64,
}

impl Read for Region<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let left = usize::try_from(self.end - self.at).unwrap_or(usize::MAX);
        let n = out.len().min(left);
        let n = self.file.read_at(&mut out[..n], self.at)?;
        self.at += n as u64;
        Ok(n)
    }
}

/// Append the record of `path` to `out`.
fn encode(out: &mut Vec<u8>, path: &str, entry: &Entry, target: Option<&str>) {
    let mut flags = 0;
    if entry.kind == Kind::Symlink {
        flags |= LINK;
    }
    if target.is_some() {
        flags |= TARGET;
    }
    if let ContentHash::Other(_) = entry.sha256 {
        flags |= OTHER;
    }
    push_text(out, path);
    out.push(flags);
    out.extend_from_slice(&entry.mode.to_le_bytes());
    match &entry.sha256 {
        ContentHash::Sha256(digest) => out.extend_from_slice(digest),
        ContentHash::Other(OtherText(place)) => out.extend_from_slice(place),
    }
    if let Some(target) = target {
        push_text(out, target);
    }
}

/// Append `text`'s length and bytes.
fn push_text(out: &mut Vec<u8>, text: &str) {
    let len = u32::try_from(text.len()).expect("a path under 4 GiB");
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(text.as_bytes());
}

/// The length of the text that starts `bytes`, and where it ends.
fn text_at(bytes: &[u8]) -> (usize, usize) {
    let len = u32::from_le_bytes(bytes[..4].try_into().expect("4 bytes")) as usize;
    (len, 4 + len)
}

/// The path of the record at `start` of `piece`.
fn path_at(piece: &[u8], start: usize) -> &[u8] {
    let (_, end) = text_at(&piece[start..]);
    &piece[start + 4..start + end]
}

/// How long the record that starts `record` is.
fn record_len(record: &[u8]) -> usize {
    let (_, mut len) = text_at(record);
    let flags = record[len];
    len += 1 + 4 + if flags & OTHER == 0 { 32 } else { 4 };
    if flags & TARGET != 0 {
        len += text_at(&record[len..]).1;
    }
    len
}
