//! The ledger's files read a slice at a time, each slice built into the map at once:
//! inserted one by one in path order (as the file lists them), a B-tree's nodes split half
//! full, and a ledger of 84,000 files held 11.5 MB instead of about 6; read whole into a
//! list first, the list was as large again while the map was built.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{Deserializer, MapAccess, Visitor};

use super::Entry;

/// Deserialize the `files` map of a ledger (a later duplicate path wins, as before).
///
/// # Errors
/// The deserializer's.
pub(super) fn files<'de, D: Deserializer<'de>>(de: D) -> Result<BTreeMap<String, Entry>, D::Error> {
    de.deserialize_map(Files)
}

/// The visitor of [`files`].
struct Files;

impl<'de> Visitor<'de> for Files {
    type Value = BTreeMap<String, Entry>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map of paths to ledger entries")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut files = BTreeMap::new();
        let mut slice: Vec<(String, Entry)> = Vec::new();
        loop {
            let pair = map.next_entry()?;
            let end = pair.is_none();
            if let Some(pair) = pair {
                slice.push(pair);
            }
            if slice.len() >= slice_len(files.len()) || (end && !slice.is_empty()) {
                // sorted (stably, the later of equal paths kept) and built with full nodes;
                // then both maps are merged into one of full nodes, each node of the old one
                // freed as it is passed (the later slice wins a path in both)
                let mut next: BTreeMap<String, Entry> = slice.drain(..).collect();
                files.append(&mut next);
            }
            if end {
                return Ok(files);
            }
        }
    }
}

/// How many entries are read before they go into a map of `len`: an eighth of it (each
/// merge walks the whole map, so it grows by a constant factor: linear in all), at least
/// 4,096.
fn slice_len(len: usize) -> usize {
    (len / 8).max(4096)
}
