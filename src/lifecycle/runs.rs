//! Records keyed by path as they come, put in path order a bounded piece at a time: each
//! piece is sorted in memory and written out as a sorted run into a file no one sees, and
//! the runs are merged when they are read (as often as needed). Memory stays that of one
//! piece and a read buffer per run, whatever the number of records. A new tree's ledger
//! (`ledger::Log`) and the steps of a `--out` run (`output::stream`) wait in runs.
//!
//! A record's bytes: its path's length (4 bytes, little-endian) and path, then its
//! payload's length and payload, which the caller encodes and decodes.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write as _};
use std::os::unix::fs::FileExt as _;

/// The bytes of records a piece holds before it is written out as a run. With 4 KiB read
/// while merging, the most either takes is least at about the square root of the records'
/// size times the buffer: 128 KiB for the 3.3 MB of a ledger of 50,000 files (26 runs).
/// (The default: see [`Runs::with_piece`].)
const PIECE_BYTES: usize = 128 << 10;
/// The read buffer of each run while they are merged (and the write buffer of the runs).
const RUN_BUFFER: usize = 4 << 10;

/// Sorted runs of records, and the piece still in memory.
pub struct Runs {
    out: BufWriter<File>,
    /// Where each run written ends in the file.
    ends: Vec<u64>,
    /// The records of the piece, in the order they came.
    piece: Vec<u8>,
    /// The bytes of records the piece holds before it is written out.
    piece_bytes: usize,
    /// Where each record of the piece starts.
    starts: Vec<u32>,
    /// Bytes of runs written so far.
    written: u64,
}

impl Runs {
    /// Runs kept in `file` (empty, seen by no one else).
    #[must_use]
    pub fn new(file: File) -> Self {
        Self::with_piece(file, PIECE_BYTES)
    }

    /// Runs kept in `file`, of pieces of `piece_bytes` (for runs written while memory is
    /// at its peak and read when it is not: smaller pieces, more runs to merge).
    #[must_use]
    pub fn with_piece(file: File, piece_bytes: usize) -> Self {
        Self {
            out: BufWriter::with_capacity(RUN_BUFFER, file),
            ends: Vec::new(),
            piece: Vec::new(),
            piece_bytes,
            starts: Vec::new(),
            written: 0,
        }
    }

    /// Add `path` with its `payload`.
    ///
    /// # Errors
    /// Writing a full piece out, or a record or a piece over 4 GiB.
    pub fn add(&mut self, path: &str, payload: &[u8]) -> io::Result<()> {
        let len = 8 + path.len() + payload.len();
        u32::try_from(len).map_err(io::Error::other)?;
        // the piece is spilled before it would grow: it never takes more than its room (a
        // record larger than a piece has a piece of its own)
        if self.piece.capacity() == 0 {
            self.piece.reserve_exact(self.piece_bytes.max(len));
        } else if self.piece.len() + len > self.piece.capacity() {
            self.spill()?;
            self.piece.reserve_exact(len);
        }
        let start = u32::try_from(self.piece.len()).map_err(io::Error::other)?;
        self.starts.push(start);
        bytes::put_bytes(&mut self.piece, path.as_bytes());
        bytes::put_bytes(&mut self.piece, payload);
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
        while let Some((added, _)) = all.next()? {
            if added == path {
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
    #[must_use]
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

/// A record: its path and payload.
pub type Record = (String, Vec<u8>);

/// A run's next record, ordered by path then run (an earlier run first).
struct Head(Record, usize);

impl Head {
    fn key(&self) -> (&str, usize) {
        (&self.0.0, self.1)
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
    pub fn next_record(&mut self) -> io::Result<Option<Record>> {
        loop {
            let Some(Reverse(Head(record, run))) = self.heads.pop() else {
                return Ok(None);
            };
            if let Some(next) = self.runs[run].next()? {
                self.heads.push(Reverse(Head(next, run)));
            }
            // the same path in a later run: that one is kept
            let later = self.heads.peek().is_some_and(|h| h.0.0.0 == record.0);
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
        let path = String::from_utf8(read_text(&mut self.from, len)?).map_err(io::Error::other)?;
        self.from.read_exact(&mut len)?;
        Ok(Some((path, read_text(&mut self.from, len)?)))
    }
}

/// The `len` (little-endian) bytes that follow in `from`.
fn read_text(from: &mut impl Read, len: [u8; 4]) -> io::Result<Vec<u8>> {
    let mut bytes = vec![0; u32::from_le_bytes(len) as usize];
    from.read_exact(&mut bytes)?;
    Ok(bytes)
}

/// Where the length-prefixed bytes that start `bytes` end.
fn text_end(bytes: &[u8]) -> usize {
    4 + u32::from_le_bytes(bytes[..4].try_into().expect("4 bytes")) as usize
}

/// The path of the record at `start` of `piece`.
fn path_at(piece: &[u8], start: usize) -> &[u8] {
    &piece[start + 4..start + text_end(&piece[start..])]
}

/// How long the record that starts `record` is.
fn record_len(record: &[u8]) -> usize {
    let path = text_end(record);
    path + text_end(&record[path..])
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

pub mod bytes;

#[cfg(test)]
mod tests;
