//! A [`Compact`] ledger read from its JSON as it is parsed: coded at once while its paths
//! come in path order (as every ledger a run rewrites lists them), or else gathered loose
//! and sorted at the end (the ledger of a new directory lists its files as written).

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

use super::Compact;
use super::code::{self, Builder, Walk};
use crate::lifecycle::ledger::Entry;

/// Reads a ledger's JSON object (`whole`: its `files` go into a [`Compact`]), or its
/// `files` object.
pub(super) struct Reader {
    /// The size of the text, to size the lists once.
    pub(super) size: u64,
    pub(super) whole: bool,
}

impl<'de> DeserializeSeed<'de> for Reader {
    type Value = Compact;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Compact, D::Error> {
        de.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Reader {
    type Value = Compact;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.whole {
            "a ledger"
        } else {
            "a map of paths to ledger entries"
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Compact, A::Error> {
        if !self.whole {
            return self.files(map);
        }
        let mut files = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "files" => {
                    let seed = Self {
                        whole: false,
                        ..self
                    };
                    files = Some(map.next_value_seed(seed)?);
                }
                "version" => drop(map.next_value::<u32>()?),
                _ => drop(map.next_value::<IgnoredAny>()?),
            }
        }
        files.ok_or_else(|| de::Error::missing_field("files"))
    }
}

impl Reader {
    /// The entries of a `files` object.
    fn files<'de, A: MapAccess<'de>>(self, mut map: A) -> Result<Compact, A::Error> {
        // an entry is at least 100 bytes of JSON besides its path, its record about an
        // eighth of that (the room left over is never touched)
        let size = usize::try_from(self.size).unwrap_or(usize::MAX);
        let mut coded = Builder::with_capacity(size / 8, size / 100);
        let mut loose: Option<Loose> = None;
        while let Some(path) = map.next_key::<std::borrow::Cow<'_, str>>()? {
            let entry: Entry = map.next_value()?;
            if loose.is_none() && !coded.takes(&path) {
                let so_far = std::mem::take(&mut coded).finish();
                loose = Some(Loose::of(&so_far, size).map_err(de::Error::custom)?);
            }
            match &mut loose {
                Some(loose) => loose.push(&path, &entry),
                None => coded.push(&path, &entry),
            }
            .map_err(de::Error::custom)?;
        }
        match loose {
            Some(loose) => loose.sorted(),
            None => Ok(coded.finish()),
        }
        .map_err(de::Error::custom)
    }
}

/// Files in any order: every path in one text, the flags and mode of each, and the hash
/// of each in the list the ledger keeps, put in path order in place (coded into a new
/// list beside these, a first run over a new `s6` directory of 50,000 files took 1.7 MB
/// more).
struct Loose {
    text: String,
    /// Where each path starts in `text` (it ends where the next starts).
    starts: Vec<u32>,
    flags: Vec<u8>,
    modes: Vec<u32>,
    hashes: Vec<[u8; 32]>,
}

impl Loose {
    /// The files of `so_far` (read in order until then), with room for a ledger of `size`
    /// bytes of JSON.
    fn of(so_far: &Compact, size: usize) -> Result<Self, String> {
        let files = size / 100;
        let mut out = Self {
            text: String::with_capacity(size / 4),
            starts: Vec::with_capacity(files),
            flags: Vec::with_capacity(files),
            modes: Vec::with_capacity(files),
            hashes: Vec::with_capacity(files),
        };
        let mut walk = Walk::new(so_far);
        while let Some((path, entry)) = walk.next() {
            out.push(path, &entry)?;
        }
        Ok(out)
    }

    /// Add `path` with `entry`.
    fn push(&mut self, path: &str, entry: &Entry) -> Result<(), String> {
        let start = u32::try_from(self.text.len()).map_err(|_| "over 4 GiB of paths")?;
        self.text.push_str(path);
        let (flags, mode, hash) = code::split(entry);
        self.starts.push(start);
        self.flags.push(flags);
        self.modes.push(mode);
        self.hashes.push(hash);
        Ok(())
    }

    /// The path of file `i`.
    fn path(&self, i: usize) -> &str {
        let end = self
            .starts
            .get(i + 1)
            .map_or(self.text.len(), |&e| e as usize);
        &self.text[self.starts[i] as usize..end]
    }

    /// The files in path order, each path once (the later of a path given twice wins, as
    /// with a map), coded.
    fn sorted(mut self) -> Result<Compact, String> {
        // read order, in path order; of equal paths, the later stays later
        let mut order: Vec<u32> =
            (0..u32::try_from(self.starts.len()).map_err(|_| "too many files")?).collect();
        order.sort_unstable_by(|&a, &b| {
            self.path(a as usize)
                .cmp(self.path(b as usize))
                .then(a.cmp(&b))
        });
        let dropped = self.drop_repeated(&mut order);
        let mut out = Builder::with_capacity(self.text.len() / 2, 0);
        for &i in &order {
            let i = i as usize;
            out.code(self.path(i), self.flags[i], self.modes[i])?;
        }
        let kept = order.len();
        order.extend(dropped);
        let mut hashes = std::mem::take(&mut self.hashes);
        drop(self);
        gather(&mut hashes, &mut order);
        hashes.truncate(kept);
        Ok(out.finish_with(hashes))
    }

    /// Remove from `order` each file whose path the next one has too; those removed.
    fn drop_repeated(&self, order: &mut Vec<u32>) -> Vec<u32> {
        let mut dropped = Vec::new();
        let mut kept = 0;
        for i in 0..order.len() {
            let this = order[i];
            if order
                .get(i + 1)
                .is_some_and(|&next| self.path(next as usize) == self.path(this as usize))
            {
                dropped.push(this);
            } else {
                order[kept] = this;
                kept += 1;
            }
        }
        order.truncate(kept);
        dropped
    }
}

/// Put `items` in `order` in place: the item at `order[i]` goes to `i` (`order`, a
/// permutation, is used up).
fn gather<T>(items: &mut [T], order: &mut [u32]) {
    const DONE: u32 = u32::MAX;
    for start in 0..order.len() {
        // each cycle of the permutation followed once
        let mut i = start;
        while order[i] != DONE {
            let from = order[i] as usize;
            order[i] = DONE;
            if from != start {
                items.swap(i, from);
            }
            i = from;
        }
    }
}
