//! A ledger entry as the runs of a [`super::Log`] hold it, after its path (see
//! `lifecycle::runs`): a byte (1 when a link's target follows), the entry (see
//! [`put_entry`]), then the target's length and target if any. The runs live as long as
//! the process, so a recorded text's place holds.

use std::io;

use crate::lifecycle::ledger::{ContentHash, Entry, Kind, OtherText};
use crate::lifecycle::runs::bytes::{put_text, take_array, take_text, take_u8, take_u32};

const LINK: u8 = 1;
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
    /// The record of a run's `path` and `payload` (as `encode` made it).
    ///
    /// # Errors
    /// A payload that is not one.
    pub fn decode(path: String, payload: &[u8]) -> io::Result<Self> {
        let mut from = payload;
        let has_target = take_u8(&mut from)? == 1;
        let entry = take_entry(&mut from)?;
        let target = if has_target {
            Some(take_text(&mut from)?)
        } else {
            None
        };
        Ok(Self {
            path,
            entry,
            target,
        })
    }
}

/// Append the payload of a file written as `entry` (a link to `target`) to `out`.
pub fn encode(out: &mut Vec<u8>, entry: &Entry, target: Option<&str>) {
    out.push(u8::from(target.is_some()));
    put_entry(out, entry);
    if let Some(target) = target {
        put_text(out, target);
    }
}

/// Append `entry`'s bytes to `out`: a flags byte (bit 0 a link, bit 2 a recorded text in
/// place of a digest), the mode (4 bytes, little-endian), then the digest (32 bytes) or the
/// recorded text's place (4).
pub fn put_entry(out: &mut Vec<u8>, entry: &Entry) {
    let mut flags = 0;
    if entry.kind == Kind::Symlink {
        flags |= LINK;
    }
    if let ContentHash::Other(_) = entry.sha256 {
        flags |= OTHER;
    }
    out.push(flags);
    out.extend_from_slice(&entry.mode.to_le_bytes());
    match &entry.sha256 {
        ContentHash::Sha256(digest) => out.extend_from_slice(digest),
        ContentHash::Other(OtherText(place)) => out.extend_from_slice(place),
    }
}

/// The entry [`put_entry`] wrote at the start of `from`.
///
/// # Errors
/// Bytes cut short.
pub fn take_entry(from: &mut &[u8]) -> io::Result<Entry> {
    let flags = take_u8(from)?;
    let mode = take_u32(from)?;
    let sha256 = if flags & OTHER == 0 {
        ContentHash::Sha256(take_array(from)?)
    } else {
        ContentHash::Other(OtherText(take_array(from)?))
    };
    let kind = if flags & LINK == 0 {
        Kind::File
    } else {
        Kind::Symlink
    };
    Ok(Entry { kind, mode, sha256 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_and_targets_come_back_as_they_went_in() {
        let mut odd = Entry::of(Kind::File, 0o644, b"x");
        odd.sha256 = ContentHash::other("edited-since-written");
        let cases = [
            (Entry::of(Kind::Symlink, 0o777, b"../t"), Some("../t")),
            (odd, None),
            (Entry::of(Kind::File, 0o755, b"run"), None),
        ];
        for (entry, target) in cases {
            let mut payload = Vec::new();
            encode(&mut payload, &entry, target);
            let record = Record::decode("a/b".into(), &payload).expect("decoded");
            assert_eq!(record.entry, entry);
            assert_eq!(record.target.as_deref(), target);
            assert!(Record::decode("a/b".into(), &payload[..payload.len() - 1]).is_err());
        }
    }
}
