//! The state file of earlier versions of `generate --out` (a path a line, with an FNV-1a
//! hash), imported into the ledger once.

use std::path::Path;

use anyhow::Result;

use super::{ContentHash, Entry, Kind, Ledger};
use crate::lifecycle::fsops::{self, Found};

/// FNV-1a 64, the hash of the legacy state file.
pub(super) fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Import the legacy state file (`path fnv1a64:HASH` lines, or a bare path): a file that
/// still matches its recorded hash (or has none recorded) is owned as it is on disk; one
/// that does not is entered with an impossible hash, so it counts as edited.
///
/// # Errors
/// A listed file cannot be read.
pub fn import_legacy(text: &str, base: &Path, ledger: &mut Ledger) -> Result<()> {
    for line in text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (rel, hash) = match line.rsplit_once(" fnv1a64:") {
            Some((p, h)) => (p, u64::from_str_radix(h, 16).ok()),
            None => (line, None),
        };
        if ledger.files.contains_key(rel) {
            continue;
        }
        let path = base.join(rel);
        let (kind, bytes, mode) = match fsops::inspect(&path)? {
            Found::File => {
                use std::os::unix::fs::PermissionsExt as _;
                let meta = std::fs::metadata(&path)?;
                let bytes = std::fs::read(&path)?;
                (Kind::File, bytes, meta.permissions().mode() & 0o7777)
            }
            Found::Link => {
                let to = std::fs::read_link(&path)?;
                (
                    Kind::Symlink,
                    to.into_os_string().into_encoded_bytes(),
                    0o777,
                )
            }
            _ => continue,
        };
        let mut entry = Entry::of(kind, mode, &bytes);
        if hash.is_some_and(|h| h != fnv1a64(&bytes)) {
            entry.sha256 = ContentHash::other("edited-since-written");
        }
        ledger.files.insert(rel.to_owned(), entry);
    }
    Ok(())
}
