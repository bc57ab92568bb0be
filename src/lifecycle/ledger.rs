//! The ledger: the record of every file openim-init owns for one stack and backend (its path
//! relative to the tree it was written into, its type, mode and SHA-256), kept in a state
//! directory together with the journal of the run in progress and the backups.
//!
//! State directories: `/var/lib/openim-init/STACK/BACKEND/` (inside `--root` when staging),
//! and `DIR/.openim-init/` for `generate --out DIR`. Never a directory an init system scans.

use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use serde::{Deserialize, Serialize};

use super::fsops::{self, Found};
use crate::errors::usage::UsageError;

/// The state directory's name inside an output directory.
pub const OUT_STATE_DIR: &str = ".openim-init";
/// The state file of earlier versions in an output directory, imported once then removed.
pub const LEGACY_STATE_FILE: &str = ".openim-init-files";
/// Where system installs keep their ledgers (under `--root` when staging).
pub const SYSTEM_STATE_DIR: &str = "var/lib/openim-init";
const LEDGER_FILE: &str = "ledger.json";

/// The SHA-256 of `bytes`, lower-case hex, as the ledger's JSON holds it.
#[must_use]
pub fn sha256(bytes: &[u8]) -> String {
    ContentHash::of(bytes).to_string()
}

/// What kind of file an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A regular file.
    File,
    /// A symbolic link (its hash is that of the target's bytes).
    Symlink,
}

/// One owned file as it was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// File or symlink.
    pub kind: Kind,
    /// Permission bits (0o777 for a link).
    pub mode: u32,
    /// SHA-256 of the contents (of the target, for a link).
    pub sha256: ContentHash,
}

impl Entry {
    /// The entry for `bytes` written with this kind and mode.
    #[must_use]
    pub fn of(kind: Kind, mode: u32, bytes: &[u8]) -> Self {
        Self {
            kind,
            mode: if kind == Kind::Symlink { 0o777 } else { mode },
            sha256: ContentHash::of(bytes),
        }
    }
}

/// The files owned, by path relative to the tree they were written into.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ledger {
    /// Format version (1).
    pub version: u32,
    /// Owned files.
    #[serde(deserialize_with = "bulk::files")]
    pub files: BTreeMap<String, Entry>,
}

/// Where a ledger lives and what its paths are relative to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Store {
    /// The state directory: ledger, journal, backups.
    pub state: PathBuf,
    /// The tree the ledger's paths are relative to (`DIR`, `/` or `--root`).
    pub base: PathBuf,
    /// Whether files must stay inside `base` through real directories only (no symlinked
    /// directory on the way): true for output directories; system trees have legitimate
    /// links such as `/lib` → `usr/lib`.
    pub confined: bool,
}

/// A ledger written beside the one in place ([`Store::prepare_entries`]), removed if
/// dropped before [`NewLedger::commit`].
#[derive(Debug)]
pub struct NewLedger {
    file: fsops::Pending,
    /// The legacy state file it replaces too.
    legacy: PathBuf,
}

impl NewLedger {
    /// Put it in place of the ledger (durably), then drop the legacy state file.
    ///
    /// # Errors
    /// I/O errors.
    pub fn commit(self) -> Result<()> {
        self.file.commit()?;
        fsops::remove(&self.legacy)
    }
}

/// An exclusive lock on a store, held until dropped; every read or change of the ledger
/// happens under it.
#[derive(Debug)]
pub struct Lock {
    file: File,
}

impl Lock {
    /// Whether the locked file is still the one at `path` (a directory removed and made
    /// again while this run waited is another one).
    #[must_use]
    pub fn is_at(&self, path: &Path) -> bool {
        use std::os::unix::fs::MetadataExt as _;
        match (self.file.metadata(), std::fs::metadata(path)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
}

impl Store {
    /// The store of `generate --out DIR`.
    #[must_use]
    pub fn for_out_dir(dir: &Path) -> Self {
        Self {
            state: dir.join(OUT_STATE_DIR),
            base: dir.to_path_buf(),
            confined: true,
        }
    }

    /// The store of an install of `stack` with `backend` into `root` (`/` on the host).
    #[must_use]
    pub fn for_install(root: &Path, stack: &str, backend: &str) -> Self {
        Self {
            state: root.join(SYSTEM_STATE_DIR).join(stack).join(backend),
            base: root.to_path_buf(),
            confined: false,
        }
    }

    /// The path of a ledger path on disk.
    #[must_use]
    pub fn path_of(&self, rel: &str) -> PathBuf {
        self.base.join(rel)
    }

    /// The directory kept backups of replaced foreign or edited files go to.
    #[must_use]
    pub fn backup_dir(&self) -> PathBuf {
        self.state.join("backup")
    }

    /// Take the exclusive lock on `on` (a directory or file that exists: the output
    /// directory, or the state directory, created here for installs), waiting for another
    /// run to finish.
    ///
    /// # Errors
    /// `on` cannot be opened or locked.
    pub fn lock(&self, on: &Path) -> Result<Lock> {
        if on == self.state {
            std::fs::create_dir_all(on).with_context(|| format!("creating {}", on.display()))?;
        }
        let file = File::open(on).with_context(|| format!("opening {}", on.display()))?;
        file.lock()
            .with_context(|| format!("locking {}", on.display()))?;
        Ok(Lock { file })
    }

    /// Read the ledger; none yet is an empty one. Entries of the legacy state file of an
    /// output directory are imported (see [`import_legacy`]).
    ///
    /// # Errors
    /// The ledger is not a regular file or cannot be read or parsed.
    pub fn read(&self, _lock: &Lock) -> Result<Ledger> {
        let path = self.state.join(LEDGER_FILE);
        // read as it is parsed: the text of a ledger of 84,000 files is 11 MB, and held
        // whole it was the peak of regenerating them
        let mut ledger = match open_regular(&path)? {
            None => Ledger::default(),
            Some(file) => serde_json::from_reader(std::io::BufReader::with_capacity(1 << 16, file))
                .with_context(|| {
                    format!(
                        "reading the ledger {} (move it away to start afresh)",
                        path.display()
                    )
                })?,
        };
        ledger.version = 1;
        if let Some(text) = read_regular(&self.base.join(LEGACY_STATE_FILE))? {
            import_legacy(&String::from_utf8_lossy(&text), &self.base, &mut ledger)?;
        }
        Ok(ledger)
    }

    /// [`Self::read`], into a [`Compact`] ledger (for a run that only looks paths up).
    ///
    /// # Errors
    /// As [`Self::read`].
    pub fn read_compact(&self, lock: &Lock) -> Result<Compact> {
        let path = self.state.join(LEDGER_FILE);
        if fsops::inspect(&self.base.join(LEGACY_STATE_FILE))? != Found::Missing {
            // imported once, through the map
            return self.read(lock).map(Compact::from);
        }
        match open_regular(&path)? {
            None => Ok(Compact::default()),
            Some(file) => {
                let size = file.metadata().map_or(0, |m| m.len());
                Compact::read(file, size).with_context(|| {
                    format!(
                        "reading the ledger {} (move it away to start afresh)",
                        path.display()
                    )
                })
            }
        }
    }

    /// Write the ledger atomically (and durably), then drop the legacy state file.
    ///
    /// # Errors
    /// I/O errors.
    pub fn write(&self, lock: &Lock, ledger: &Ledger) -> Result<()> {
        self.write_with(lock, |w| write_ledger(ledger, w))
    }

    /// [`Self::write`] of the version-1 ledger of `files`.
    ///
    /// # Errors
    /// I/O errors.
    pub fn write_owned(&self, lock: &Lock, files: &dyn Owned) -> Result<()> {
        self.write_with(lock, |w| write_files(1, files.each(), w))
    }

    /// The version-1 ledger of `files` (in path order, never collected into a
    /// [`Ledger`]) written beside the ledger, to take its place at [`NewLedger::commit`].
    ///
    /// # Errors
    /// I/O errors, and those of `files` (then nothing is left beside the ledger).
    pub fn prepare_entries<'e>(
        &self,
        _lock: &Lock,
        files: impl Iterator<Item = Item<'e>>,
    ) -> Result<NewLedger> {
        std::fs::create_dir_all(&self.state)
            .with_context(|| format!("creating {}", self.state.display()))?;
        let file = fsops::write_pending(&self.state.join(LEDGER_FILE), LEDGER_MODE, |w| {
            write_files(1, files, w)
        })?;
        Ok(NewLedger {
            file,
            legacy: self.base.join(LEGACY_STATE_FILE),
        })
    }

    /// Write the ledger file atomically (and durably) from what `write` writes (streamed:
    /// the text of a large ledger is never held whole), then drop the legacy state file.
    fn write_with(
        &self,
        _lock: &Lock,
        write: impl FnOnce(&mut dyn std::io::Write) -> Result<()>,
    ) -> Result<()> {
        std::fs::create_dir_all(&self.state)
            .with_context(|| format!("creating {}", self.state.display()))?;
        fsops::write_atomic_with(&self.state.join(LEDGER_FILE), LEDGER_MODE, write)?;
        fsops::remove(&self.base.join(LEGACY_STATE_FILE))
    }
}

/// Write the ledger to `out` as JSON, one file per line (readable, and quick to write at
/// 100,000 files), as it is made.
///
/// # Errors
/// `out`'s errors.
pub fn write_ledger(ledger: &Ledger, out: &mut dyn std::io::Write) -> Result<()> {
    let files = ledger.files.iter().map(|(p, e)| Ok((p.as_str(), e)));
    write_files(ledger.version, files, out)
}

/// [`write_ledger`] of the ledger of this `version` and `files` (in path order); stops at
/// the first error of `files`.
fn write_files<P: AsRef<str>, E: Borrow<Entry>>(
    version: u32,
    files: impl Iterator<Item = std::io::Result<(P, E)>>,
    out: &mut dyn std::io::Write,
) -> Result<()> {
    write!(out, "{{\n  \"version\": {version},\n  \"files\": {{")?;
    let mut empty = true;
    for file in files {
        let (path, entry) = file?;
        out.write_all(if empty { b"\n    " } else { b",\n    " })?;
        empty = false;
        serde_json::to_writer(&mut *out, path.as_ref())?;
        out.write_all(b": ")?;
        serde_json::to_writer(&mut *out, entry.borrow())?;
    }
    out.write_all(if empty { b"}\n}\n" } else { b"\n  }\n}\n" })?;
    Ok(())
}

/// The bytes of `path` if it is a regular file; `None` if it does not exist.
///
/// # Errors
/// It is a symlink or not a regular file (a refusal), or cannot be read.
pub fn read_regular(path: &Path) -> Result<Option<Vec<u8>>> {
    match fsops::inspect(path)? {
        Found::Missing => Ok(None),
        Found::File => Ok(Some(
            std::fs::read(path).with_context(|| format!("reading {}", path.display()))?,
        )),
        _ => Err(not_regular(path)),
    }
}

/// `path` opened for reading if it is a regular file; `None` if it does not exist.
///
/// # Errors
/// It is a symlink or not a regular file (a refusal), or cannot be opened.
fn open_regular(path: &Path) -> Result<Option<File>> {
    use std::os::unix::fs::OpenOptionsExt as _;
    match fsops::inspect(path)? {
        Found::Missing => Ok(None),
        // (not followed, should it have become a link since)
        Found::File => Ok(Some(
            std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_NOFOLLOW)
                .open(path)
                .with_context(|| format!("reading {}", path.display()))?,
        )),
        _ => Err(not_regular(path)),
    }
}

/// The refusal of a state file that is not a regular file.
fn not_regular(path: &Path) -> anyhow::Error {
    UsageError(format!(
        "refusing to use {}: it is not a regular file",
        path.display()
    ))
    .into()
}

mod bulk;
mod canonical;
mod compact;
mod hash;
mod legacy;
mod log;
mod owned;
#[cfg(test)]
mod tests;

use canonical::LEDGER_MODE;
pub use compact::{Compact, EMPTY, Marked};
pub use hash::{ContentHash, OtherText};
#[cfg(test)]
use legacy::fnv1a64;
pub use legacy::import_legacy;
pub use log::{Log, Record, Written, put_entry, take_entry};
pub use owned::{Item, Owned};
