//! A [`Compact`] ledger read from its JSON as it is parsed: coded at once while its paths
//! come in path order (as every ledger a run rewrites lists them). Out of order (the
//! ledger of a new directory lists its files as written), its paths are gathered, sorted
//! and coded, then the text is read again for the hashes, each put in its place in the
//! memory the paths were gathered in: held beside the paths (as the slots of (path, entry)
//! were), they made a first run over a new `s6` directory of 50,000 files take 0.8 MB more.

use std::cell::Cell;
use std::fmt;
use std::io::{BufReader, Read, Seek, SeekFrom};

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

use super::Compact;
use super::code::{self, Builder, Walk};
use crate::lifecycle::ledger::Entry;

/// The place in path order of a file given again later (the later one counts).
const DROPPED: u32 = u32::MAX;

/// Read the JSON of a ledger from `reader` (about `size` bytes), twice if its files are not
/// in path order.
///
/// # Errors
/// The text is not a ledger, or a read error.
pub(super) fn read(mut reader: impl Read + Seek, size: u64) -> serde_json::Result<Compact> {
    let sorted = match read_once(&mut reader, size, None)? {
        Found::Coded(ledger) => return Ok(ledger),
        Found::Sorted(sorted) => sorted,
        Found::Hashes(_) => return Err(changed()),
    };
    reader
        .seek(SeekFrom::Start(0))
        .map_err(serde_json::Error::io)?;
    match read_once(&mut reader, size, Some(&sorted))? {
        Found::Hashes(hashes) => Ok(sorted.coded.finish_with(hashes)),
        _ => Err(changed()),
    }
}

/// One reading of the text of `reader`: the first (`second` is `None`), or the second.
fn read_once(
    reader: &mut impl Read,
    size: u64,
    second: Option<&Sorted>,
) -> serde_json::Result<Found> {
    // read a byte at a time: a `BufReader` itself takes the short way (through a
    // reference to one, each byte was a call to `read`, 3 times the instructions)
    let buffered = BufReader::with_capacity(1 << 16, reader);
    let mut de = serde_json::Deserializer::from_reader(buffered);
    let seed = Reader {
        size,
        whole: true,
        second,
    };
    let found = seed.deserialize(&mut de)?;
    de.end()?;
    Ok(found)
}

/// The error of a text that is not the same the second time.
const CHANGED: &str = "the ledger changed while it was read";

/// [`CHANGED`], as the reading's error.
fn changed() -> serde_json::Error {
    de::Error::custom(CHANGED)
}

/// What one reading found.
enum Found {
    /// The ledger (its files came in path order).
    Coded(Compact),
    /// Its paths, sorted and coded; the hashes are for a second reading.
    Sorted(Sorted),
    /// The hashes of the second reading, in path order, 32 bytes each.
    Hashes(Vec<u8>),
}

/// The paths of a ledger read out of order, coded in path order, and where each file as
/// read goes in that order ([`DROPPED`] for a path given again later).
struct Sorted {
    coded: Builder,
    places: Vec<u32>,
    /// The text the paths were gathered in, for the hashes.
    room: Cell<Vec<u8>>,
}

/// Reads a ledger's JSON object (`whole`: its `files` are coded), or its `files` object.
#[derive(Clone, Copy)]
struct Reader<'p> {
    /// The size of the text, to size the lists once.
    size: u64,
    whole: bool,
    /// The second reading: the paths the first found.
    second: Option<&'p Sorted>,
}

impl<'de> DeserializeSeed<'de> for Reader<'_> {
    type Value = Found;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Found, D::Error> {
        de.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Reader<'_> {
    type Value = Found;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.whole {
            "a ledger"
        } else {
            "a map of paths to ledger entries"
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Found, A::Error> {
        if !self.whole {
            return match self.second {
                Some(sorted) => hashes(map, sorted).map(Found::Hashes),
                None => self.files(map),
            };
        }
        let mut files = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                // (twice, the first would be read for the second's hashes)
                "files" if files.is_some() => return Err(de::Error::duplicate_field("files")),
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

impl Reader<'_> {
    /// The entries of a `files` object, the first time.
    fn files<'de, A: MapAccess<'de>>(self, mut map: A) -> Result<Found, A::Error> {
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
            Some(loose) => loose.sorted().map(Found::Sorted),
            None => Ok(Found::Coded(coded.finish())),
        }
        .map_err(de::Error::custom)
    }
}

/// The hashes of the entries of a `files` object read again, each at its place in path
/// order.
fn hashes<'de, A: MapAccess<'de>>(mut map: A, sorted: &Sorted) -> Result<Vec<u8>, A::Error> {
    let places = &sorted.places;
    let kept = places.iter().filter(|&&p| p != DROPPED).count();
    let mut out = sorted.room.take();
    out.clear();
    out.resize(kept * 32, 0);
    let slots = out.as_chunks_mut::<32>().0;
    let mut read = 0;
    while map.next_key::<IgnoredAny>()?.is_some() {
        let entry: Entry = map.next_value()?;
        let place = *places.get(read).ok_or_else(|| de::Error::custom(CHANGED))?;
        if place != DROPPED {
            slots[place as usize] = code::split(&entry).2;
        }
        read += 1;
    }
    if read != places.len() {
        return Err(de::Error::custom(CHANGED));
    }
    Ok(out)
}

/// Paths in any order, in one text, with the flags and mode of each.
struct Loose {
    text: String,
    /// Where each path starts in `text` (it ends where the next starts).
    starts: Vec<u32>,
    flags: Vec<u8>,
    modes: Vec<u32>,
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
        };
        let mut walk = Walk::new(so_far);
        while let Some((path, entry)) = walk.next() {
            out.push(path, &entry)?;
        }
        Ok(out)
    }

    /// Add `path` with (the flags and mode of) `entry`.
    fn push(&mut self, path: &str, entry: &Entry) -> Result<(), String> {
        let start = u32::try_from(self.text.len()).map_err(|_| "over 4 GiB of paths")?;
        self.text.push_str(path);
        let (flags, mode, _) = code::split(entry);
        self.starts.push(start);
        self.flags.push(flags);
        self.modes.push(mode);
        Ok(())
    }

    /// The path of file `i`.
    fn path(&self, i: u32) -> &str {
        let i = i as usize;
        let end = self
            .starts
            .get(i + 1)
            .map_or(self.text.len(), |&e| e as usize);
        &self.text[self.starts[i] as usize..end]
    }

    /// The paths in path order, each once (the later of a path given twice wins, as with a
    /// map), coded, and the place of each file.
    fn sorted(self) -> Result<Sorted, String> {
        let count = u32::try_from(self.starts.len()).map_err(|_| "too many files")?;
        // of equal paths, the later stays later, and is kept
        let mut order: Vec<u32> = (0..count).collect();
        order.sort_unstable_by(|&a, &b| self.path(a).cmp(self.path(b)).then(a.cmp(&b)));
        order.dedup_by(|later, kept| {
            let same = self.path(*later) == self.path(*kept);
            if same {
                std::mem::swap(later, kept);
            }
            same
        });
        let mut coded = Builder::with_capacity(self.text.len() / 2, 0);
        for &i in &order {
            coded.code(self.path(i), self.flags[i as usize], self.modes[i as usize])?;
        }
        // the rest freed first, for the places to take
        let Self {
            text,
            starts,
            flags,
            modes,
        } = self;
        drop((starts, flags, modes));
        let room = Cell::new(text.into_bytes());
        let mut places = vec![DROPPED; count as usize];
        for (place, &i) in (0..).zip(&order) {
            places[i as usize] = place;
        }
        Ok(Sorted {
            coded,
            places,
            room,
        })
    }
}
