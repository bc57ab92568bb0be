//! A [`Compact`] ledger read from its JSON as it is parsed: coded at once while its paths
//! come in path order (as every ledger openim-init writes lists them). Out of order (a
//! new directory's ledger as earlier versions wrote it, in the order its files came, or
//! one edited by hand), its paths are gathered, sorted and coded. Either way, where each entry begins in the text is kept, not its hash (see
//! `in_file.rs`).

use std::cell::Cell;
use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt as _;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

use super::code::{self, Builder};
use super::in_file::InFile;
use super::{Compact, Hashes};
use crate::lifecycle::ledger::Entry;

/// Read the JSON of a ledger from `file` (about `size` bytes), and keep the file.
///
/// # Errors
/// The text is not a ledger, or a read error.
pub(super) fn read(file: File, size: u64) -> serde_json::Result<Compact> {
    let given = Cell::new(0);
    let (coded, at) = {
        let buffer = usize::try_from(size.saturating_add(1)).map_or(1 << 16, |s| s.min(1 << 16));
        let counted = Counted::new(&file, buffer, &given);
        let mut de = serde_json::Deserializer::from_reader(counted);
        let seed = Reader {
            size,
            whole: true,
            given: &given,
        };
        let found = seed.deserialize(&mut de)?;
        de.end()?;
        found
    };
    Ok(coded.finish(Hashes::InFile(InFile::new(file, at))))
}

/// A buffered reader of a file from its start (wherever its cursor is) that counts the
/// bytes it gives. The parser reads a byte at a time: the way to a byte is kept short, to
/// be inlined into the parser's reading (under a `BufReader`, a counting reader took twice
/// the instructions a ledger read without it took; this way, a quarter more).
struct Counted<'c> {
    file: &'c File,
    buf: Box<[u8]>,
    /// The bytes of `buf` given so far, and those read into it.
    pos: usize,
    filled: usize,
    /// How many bytes given in all: where the next is in the file.
    given: &'c Cell<u64>,
}

impl<'c> Counted<'c> {
    /// Through a buffer of `len` bytes.
    fn new(file: &'c File, len: usize, given: &'c Cell<u64>) -> Self {
        Self {
            file,
            buf: vec![0; len].into_boxed_slice(),
            pos: 0,
            filled: 0,
            given,
        }
    }

    /// [`Read::read`] past the end of the buffer, or of more than a byte.
    #[cold]
    #[inline(never)]
    fn read_more(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.filled {
            let at = self.given.get();
            self.filled = loop {
                match self.file.read_at(&mut self.buf, at) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    read => break read?,
                }
            };
            self.pos = 0;
        }
        let n = out.len().min(self.filled - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        self.given.set(self.given.get() + n as u64);
        Ok(n)
    }
}

impl Read for Counted<'_> {
    #[inline]
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        // the parser's byte, kept small enough to be inlined into its reading
        match (out, self.buf.get(self.pos)) {
            ([byte], Some(&next)) if self.pos < self.filled => {
                *byte = next;
                self.pos += 1;
                self.given.set(self.given.get() + 1);
                Ok(1)
            }
            (out, _) => self.read_more(out),
        }
    }
}

/// The paths of a ledger, coded in path order, and where the entry of each begins in the
/// text.
type Found = (Builder, Vec<u32>);

/// Reads a ledger's JSON object (`whole`: its `files` are coded), or its `files` object.
#[derive(Clone, Copy)]
struct Reader<'c> {
    /// The size of the text, to size the lists once.
    size: u64,
    whole: bool,
    /// How many bytes of the text the parser has taken so far.
    given: &'c Cell<u64>,
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
            return self.files(map);
        }
        let mut files = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
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
    /// The entries of a `files` object.
    fn files<'de, A: MapAccess<'de>>(self, mut map: A) -> Result<Found, A::Error> {
        // an entry is at least 100 bytes of JSON besides its path, its record about an
        // eighth of that (the room left over is never touched)
        let size = usize::try_from(self.size).unwrap_or(usize::MAX);
        let mut coded = Builder::with_capacity(size / 8, size / 100);
        let mut at = Vec::with_capacity(size / 100);
        let mut loose: Option<Loose> = None;
        while let Some(path) = map.next_key::<std::borrow::Cow<'_, str>>()? {
            // the parser has taken the path and nothing after it but the colon, if that
            let begins = u32::try_from(self.given.get())
                .map_err(|_| de::Error::custom("a ledger over 4 GiB"))?;
            let entry: Entry = map.next_value()?;
            let (flags, mode, _) = code::split(&entry);
            if loose.is_none() && !coded.takes(&path) {
                let so_far = (std::mem::take(&mut coded), std::mem::take(&mut at));
                loose = Some(Loose::of(&so_far, size).map_err(de::Error::custom)?);
            }
            match &mut loose {
                Some(loose) => loose.push(&path, flags, mode, begins),
                None => coded.code(&path, flags, mode).map(|()| at.push(begins)),
            }
            .map_err(de::Error::custom)?;
        }
        match loose {
            Some(loose) => loose.sorted().map_err(de::Error::custom),
            None => Ok((coded, at)),
        }
    }
}

/// Paths in any order, in one text, with the flags and mode of each and where its entry
/// begins.
struct Loose {
    text: String,
    /// Where each path starts in `text` (it ends where the next starts).
    starts: Vec<u32>,
    flags: Vec<u8>,
    modes: Vec<u32>,
    at: Vec<u32>,
}

impl Loose {
    /// The files of `so_far` (read in order until then), with room for a ledger of `size`
    /// bytes of JSON.
    fn of((coded, at): &Found, size: usize) -> Result<Self, String> {
        let files = size / 100;
        let mut out = Self {
            text: String::with_capacity(size / 4),
            starts: Vec::with_capacity(files),
            flags: Vec::with_capacity(files),
            modes: Vec::with_capacity(files),
            at: Vec::with_capacity(files),
        };
        let mut walk = coded.walk();
        while let Some((path, place, head)) = walk.next() {
            out.push(path, head.flags, head.mode, at[place])?;
        }
        Ok(out)
    }

    /// Add `path`, with these flags and mode, its entry beginning at `at`.
    fn push(&mut self, path: &str, flags: u8, mode: u32, at: u32) -> Result<(), String> {
        let start = u32::try_from(self.text.len()).map_err(|_| "over 4 GiB of paths")?;
        self.text.push_str(path);
        self.starts.push(start);
        self.flags.push(flags);
        self.modes.push(mode);
        self.at.push(at);
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

    /// The paths in path order, each once (the later of a path given twice wins, as with a
    /// map), coded, and where the entry of each begins.
    fn sorted(self) -> Result<Found, String> {
        let count = u32::try_from(self.starts.len()).map_err(|_| "too many files")?;
        // of equal paths, the later stays later, and is kept
        let mut order: Vec<u32> = (0..count).collect();
        let path = |i: &u32| self.path(*i as usize);
        order.sort_unstable_by(|a, b| path(a).cmp(path(b)).then(a.cmp(b)));
        order.dedup_by(|later, kept| {
            let same = path(later) == path(kept);
            if same {
                std::mem::swap(later, kept);
            }
            same
        });
        let mut coded = Builder::with_capacity(self.text.len() / 2, order.len());
        for &i in &order {
            let i = i as usize;
            coded.code(self.path(i), self.flags[i], self.modes[i])?;
        }
        // the order becomes where each entry begins (no list more while all are held)
        for i in &mut order {
            *i = self.at[*i as usize];
        }
        Ok((coded, order))
    }
}
