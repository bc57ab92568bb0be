//! A record of the runs (see `runs.rs`): its path's length (4 bytes, little-endian) and
//! path, a flags byte (bit 0 a link, bit 1 a target follows, bit 2 a recorded text in
//! place of a digest), the mode (4 bytes), the digest (32 bytes) or the text's place (4),
//! then the target's length and target if any. The runs live as long as the process, so a
//! recorded text's place holds.

use std::io::{self, Read};

use crate::lifecycle::ledger::{ContentHash, Entry, Kind, OtherText};

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

impl Record {
    /// The next record of `from`; `None` at its end.
    ///
    /// # Errors
    /// `from`'s, or a record cut short.
    pub fn read(from: &mut impl Read) -> io::Result<Option<Self>> {
        let mut len = [0u8; 4];
        match from.read(&mut len[..1])? {
            0 => return Ok(None),
            _ => from.read_exact(&mut len[1..])?,
        }
        let path = string(from, u32::from_le_bytes(len))?;
        let mut fixed = [0u8; 5];
        from.read_exact(&mut fixed)?;
        let [flags, mode @ ..] = fixed;
        let sha256 = if flags & OTHER == 0 {
            let mut digest = [0u8; 32];
            from.read_exact(&mut digest)?;
            ContentHash::Sha256(digest)
        } else {
            let mut place = [0u8; 4];
            from.read_exact(&mut place)?;
            ContentHash::Other(OtherText(place))
        };
        let target = if flags & TARGET == 0 {
            None
        } else {
            from.read_exact(&mut len)?;
            Some(string(from, u32::from_le_bytes(len))?)
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
        Ok(Some(Self {
            path,
            entry,
            target,
        }))
    }
}

/// A text of `len` bytes from `from`.
fn string(from: &mut impl Read, len: u32) -> io::Result<String> {
    let mut bytes = vec![0; len as usize];
    from.read_exact(&mut bytes)?;
    String::from_utf8(bytes).map_err(io::Error::other)
}

/// Append the record of `path` to `out`.
pub fn encode(out: &mut Vec<u8>, path: &str, entry: &Entry, target: Option<&str>) {
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

/// How many bytes [`encode`] appends.
pub fn encoded_len(path: &str, entry: &Entry, target: Option<&str>) -> usize {
    let hash = match entry.sha256 {
        ContentHash::Sha256(_) => 32,
        ContentHash::Other(_) => 4,
    };
    4 + path.len() + 1 + 4 + hash + target.map_or(0, |t| 4 + t.len())
}

/// Append `text`'s length and bytes.
fn push_text(out: &mut Vec<u8>, text: &str) {
    let len = u32::try_from(text.len()).expect("a path under 4 GiB");
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(text.as_bytes());
}

/// Where the text that starts `bytes` ends.
fn text_end(bytes: &[u8]) -> usize {
    4 + u32::from_le_bytes(bytes[..4].try_into().expect("4 bytes")) as usize
}

/// The path of the record at `start` of `piece`.
pub fn path_at(piece: &[u8], start: usize) -> &[u8] {
    &piece[start + 4..start + text_end(&piece[start..])]
}

/// How long the record that starts `record` is.
pub fn record_len(record: &[u8]) -> usize {
    let mut len = text_end(record);
    let flags = record[len];
    len += 1 + 4 + if flags & OTHER == 0 { 32 } else { 4 };
    if flags & TARGET != 0 {
        len += text_end(&record[len..]);
    }
    len
}
