//! What the disk holds at each planned path: the one part of planning that reads the disk.
//! Paths are taken a directory at a time: its parents are checked once, and a directory with
//! many planned paths is listed once instead of asking for each path (most are missing in a
//! fresh directory).

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::Path;

use anyhow::{Context as _, Result};

use super::OnDisk;
use super::listing::Listing;
use crate::lifecycle::fsops::{self, Found};
use crate::lifecycle::ledger::{ContentHash, Entry, Kind};

/// From how many planned paths in one directory it is listed rather than asked path by path.
const LIST_FROM: usize = 8;

/// The entries of `dir` by name with their types (not following links); an empty listing
/// when it does not exist; `None` when it cannot be listed (then each path is asked).
fn list(dir: &Path) -> Option<Listing> {
    match Listing::read(dir) {
        Ok(listing) => Some(listing),
        Err(e)
            if e.kind() == std::io::ErrorKind::NotFound
                || e.kind() == std::io::ErrorKind::NotADirectory =>
        {
            Some(Listing::default())
        }
        Err(_) => None,
    }
}

/// A regular file's mode and bytes (`keep`), or its entry ([`OnDisk::Known`]: its bytes
/// hashed as they are read, not held); `None` if it went away meanwhile.
fn read_file(path: &Path, keep: bool) -> Result<Option<OnDisk>> {
    use std::os::unix::fs::PermissionsExt as _;
    let read = || format!("reading {}", path.display());
    let mut file = match std::fs::File::open(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        r => r.with_context(read)?,
    };
    let meta = file.metadata().with_context(read)?;
    let mode = meta.permissions().mode() & 0o7777;
    if !keep {
        let sha256 = ContentHash::of_reader(&mut file, |_| Ok(())).with_context(read)?;
        let kind = Kind::File;
        return Ok(Some(OnDisk::Known(Entry { kind, mode, sha256 })));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.read_to_end(&mut bytes).with_context(read)?;
    Ok(Some(OnDisk::File { mode, bytes }))
}

/// What `path` holds, knowing (from a listing) what kind of entry it is.
fn read_one(path: &Path, kind: Found) -> Result<OnDisk> {
    Ok(match kind {
        Found::Missing => OnDisk::Missing,
        Found::File => read_file(path, true)?.unwrap_or(OnDisk::Missing),
        Found::Link => OnDisk::Symlink {
            target: std::fs::read_link(path)
                .with_context(|| format!("reading the link {}", path.display()))?
                .into_os_string()
                .into_encoded_bytes(),
        },
        Found::Dir => OnDisk::Blocked(format!("{} is a directory", path.display())),
        Found::Other => OnDisk::Blocked(format!("{} is not a regular file", path.display())),
    })
}

/// Read what each of `paths` (relative to `base`) holds. With `confined`, a symlink or
/// non-directory among the directories between `base` and the path blocks it.
///
/// # Errors
/// A path cannot be inspected or read.
pub fn scan<'a>(
    base: &Path,
    paths: impl IntoIterator<Item = &'a str>,
    confined: bool,
) -> Result<BTreeMap<String, OnDisk>> {
    let mut by_dir: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for rel in paths {
        let (dir, _) = fsops::split_rel(rel);
        by_dir.entry(dir).or_default().push(rel);
    }
    // gathered, then built into the map in one pass (sorted once, not 10,000 inserts)
    let mut out = Vec::new();
    for (dir, rels) in by_dir {
        let blocked = match rels.first() {
            Some(first) if confined => fsops::blocked_parent(base, Path::new(first))?,
            _ => None,
        };
        if let Some(why) = blocked {
            out.extend(
                rels.into_iter()
                    .map(|rel| (rel.to_owned(), OnDisk::Blocked(why.clone()))),
            );
            continue;
        }
        let listing = (rels.len() >= LIST_FROM)
            .then(|| list(&base.join(dir)))
            .flatten();
        for rel in rels {
            let name = std::ffi::OsStr::new(fsops::split_rel(rel).1);
            let listed = listing.as_ref().filter(|_| !name.is_empty());
            let on_disk = match listed.map(|l| l.get(name)) {
                Some(None) => OnDisk::Missing,
                Some(Some(found)) => read_one(&base.join(rel), found)?,
                None => {
                    let path = base.join(rel);
                    read_one(&path, fsops::inspect(&path)?)?
                }
            };
            out.push((rel.to_owned(), on_disk));
        }
    }
    Ok(out.into_iter().collect())
}

/// What one directory of planned paths holds, looked at once, for a caller that learns the
/// paths one at a time ([`Dir::at`] then answers as [`scan`] would).
#[derive(Debug)]
pub enum Dir {
    /// Every path in it is blocked, and why.
    Blocked(String),
    /// Its entries by name (empty when it does not exist), or `None` if it cannot be listed.
    Listed(Option<Listing>),
}

impl Dir {
    /// Look at the directory of `rel` (relative to `base`) once: with `confined`, whether a
    /// symlink or non-directory on the way blocks it; otherwise its listing.
    ///
    /// # Errors
    /// A directory on the way cannot be inspected.
    pub fn of(base: &Path, rel: &str, confined: bool) -> Result<Self> {
        if confined && let Some(why) = fsops::blocked_parent(base, Path::new(rel))? {
            return Ok(Self::Blocked(why));
        }
        let (dir, _) = fsops::split_rel(rel);
        Ok(Self::Listed(list(&base.join(dir))))
    }

    /// What `rel` (in this directory) holds; a regular file as its entry
    /// ([`OnDisk::Known`]: hashed as it is read, its contents not kept).
    ///
    /// # Errors
    /// It cannot be inspected or read.
    pub fn at(&self, base: &Path, rel: &str) -> Result<OnDisk> {
        let name = std::ffi::OsStr::new(fsops::split_rel(rel).1);
        let (path, kind) = match self {
            Self::Blocked(why) => return Ok(OnDisk::Blocked(why.clone())),
            Self::Listed(Some(listing)) => match listing.get(name) {
                None => return Ok(OnDisk::Missing),
                Some(found) => (base.join(rel), found),
            },
            Self::Listed(None) => {
                let path = base.join(rel);
                let kind = fsops::inspect(&path)?;
                (path, kind)
            }
        };
        match kind {
            Found::File => Ok(read_file(&path, false)?.unwrap_or(OnDisk::Missing)),
            _ => read_one(&path, kind),
        }
    }
}
