//! Many files staged at once: each directory is created, checked and opened once, every file
//! is written under a temporary name through the directory's descriptor (one path component
//! to resolve, no per-file `stat`), all are made durable together (one `syncfs` per file
//! system), then renamed into place, then each directory is synced once. A [`Tree`] no one
//! sees yet takes each file under its own name and places nothing.
//!
//! Only the last [`OPEN_DIRS`] directories keep their descriptor: a tree of thousands of
//! directories (runit and s6 give each service its own) would otherwise run out of
//! descriptors (1,024 by default). One let go is opened again by path for each later use.

use std::ffi::OsStr;
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use anyhow::{Context as _, Result};
use hashbrown::{DefaultHashBuilder, HashTable};
use rustix::fs::{Mode, OFlags};

/// The process's umask, read once (from `/proc`, or by setting it and putting it back).
fn umask() -> u32 {
    static MASK: OnceLock<u32> = OnceLock::new();
    *MASK.get_or_init(|| {
        let from_proc = std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("Umask:"))
                    .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
            });
        from_proc.unwrap_or_else(|| {
            let old = rustix::process::umask(Mode::from_raw_mode(0o022));
            rustix::process::umask(old);
            old.as_raw_mode()
        })
    })
}

/// A staged file: 16 bytes (a run keeps one per file it writes until the end).
struct Item {
    /// Its directory's index (fewer than 4 billion: one per file at most).
    dir: u32,
    /// Where it is staged.
    tmp: PackedTemp,
    /// Where its file name is in the batch's names (one text for every name: a name of its
    /// own was 32 bytes a file).
    name: Span,
}

impl Item {
    /// Its directory's index.
    fn dir(&self) -> usize {
        self.dir as usize
    }
}

/// The name a file is staged under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TempName {
    /// None yet: it is being staged on another thread.
    Pending,
    /// Its own (a [`Tree`]'s file, written where it stays).
    Own,
    /// The temporary name of this number (the prefix, the process id and the number), in
    /// its target's directory.
    Numbered(u32),
}

/// What one staged entry holds.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    /// A regular file with these contents and permission bits.
    File(&'a [u8], u32),
    /// A symbolic link to this target.
    Link(&'a str),
}

/// One entry to stage: the target's directory (from [`Batch::dir`]), its name, what it holds.
#[derive(Debug, Clone, Copy)]
pub struct Job<'a> {
    /// The directory's index in the batch.
    pub dir: usize,
    /// The target's file name.
    pub name: &'a OsStr,
    /// The contents.
    pub source: Source<'a>,
}

/// Files and links written under temporary names, not yet durable or in place.
#[derive(Default)]
pub struct Batch {
    dirs: Vec<Slot>,
    /// The paths of the directories, one after the other.
    dir_paths: Pieces,
    /// The index of each directory, hashed on its path (kept once, in `dir_paths`).
    by_path: HashTable<u32>,
    hasher: DefaultHashBuilder,
    /// The directories keeping their descriptor (at most [`OPEN_DIRS`]), oldest first.
    open: std::collections::VecDeque<(usize, Arc<Dir>)>,
    /// The file systems of the directories (a directory's is its place here).
    devices: Vec<u64>,
    items: Vec<Item>,
    /// The file names of the items (a name shared by recent items kept once).
    names: Names,
}

impl std::fmt::Debug for Batch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch")
            .field("dirs", &self.dirs.len())
            .field("items", &self.items.len())
            .finish_non_exhaustive()
    }
}

/// Create `source` under a fresh temporary name in `dir` (retried under another name when
/// one is taken), or under `name` itself in a [`Tree`]; returns the name, and for a
/// file its descriptor (still empty).
fn create(dir: &Dir, name: &OsStr, source: Source<'_>) -> Result<(TempName, Option<OwnedFd>)> {
    let context = || format!("creating a file in {}", dir.path.display());
    let fd = dir.fd()?;
    for _ in 0..100 {
        let tmp = if dir.direct {
            TempName::Own
        } else {
            TempName::Numbered(temp_number())
        };
        let text = match tmp {
            TempName::Numbered(n) => Some(TempText::of(n)),
            _ => None,
        };
        let at = text.as_ref().map_or(name, |t| OsStr::new(t.as_str()));
        let created = match source {
            Source::Link(target) => rustix::fs::symlinkat(target, &*fd, at).map(|()| None),
            Source::File(_, mode) => {
                rustix::fs::openat(&*fd, at, FLAGS, Mode::from_raw_mode(mode)).map(Some)
            }
        };
        match created {
            Ok(fd) => return Ok((tmp, fd)),
            Err(rustix::io::Errno::EXIST) if !dir.direct => {}
            Err(e) => return Err(std::io::Error::from(e)).with_context(context),
        }
    }
    Err(anyhow::anyhow!("no free temporary name")).with_context(context)
}

/// Fill the file `fd` created in `dir` for `name` from `source`.
fn fill(dir: &Dir, name: &OsStr, source: Source<'_>, fd: &OwnedFd) -> Result<()> {
    let Source::File(contents, mode) = source else {
        return Ok(());
    };
    write_file(fd, contents, mode, dir.acl)
        .map_err(std::io::Error::from)
        .with_context(|| format!("writing {}", dir.path.join(name).display()))
}

/// Create `source` in `dir` (under a fresh temporary name, or its own in a [`Tree`])
/// and fill it: the name it has.
fn stage_one(dir: &Dir, name: &OsStr, source: Source<'_>) -> Result<TempName> {
    let (tmp, fd) = create(dir, name, source)?;
    if let Some(fd) = fd {
        fill(dir, name, source, &fd)?; // closed here
    }
    Ok(tmp)
}

const FLAGS: OFlags = OFlags::CREATE
    .union(OFlags::EXCL)
    .union(OFlags::WRONLY)
    .union(OFlags::CLOEXEC);

/// Set the mode where the umask cleared bits of it (open ignores the special bits) or a
/// default ACL may have changed it, then write the contents.
fn write_file(fd: &OwnedFd, contents: &[u8], mode: u32, acl: bool) -> rustix::io::Result<()> {
    if acl || mode & (umask() | 0o7000) != 0 {
        rustix::fs::fchmod(fd, Mode::from_raw_mode(mode))?;
    }
    write_all(fd, contents)
}

/// Write all of `contents` at the end of what was written to `fd`.
fn write_all(fd: &OwnedFd, contents: &[u8]) -> rustix::io::Result<()> {
    let mut rest = contents;
    while !rest.is_empty() {
        match rustix::io::write(fd, rest) {
            Ok(0) => return Err(rustix::io::Errno::IO),
            Ok(n) => rest = &rest[n..],
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

impl Batch {
    /// Make room for about `files` files at once: a list grown by doubling leaves each
    /// smaller copy behind (room not written to costs no memory).
    pub fn reserve(&mut self, files: usize) {
        self.items.reserve_exact(files);
        // (there are at most as many directories)
        self.dirs.reserve_exact(files);
    }

    /// Write every job under a temporary name next to its target; one handle per job, in
    /// order. (Files can also be staged on other threads: see [`Batch::detach`].)
    ///
    /// # Errors
    /// I/O errors, with the directory.
    pub fn stage(&mut self, jobs: &[Job<'_>]) -> Result<Vec<Handle>> {
        let mut names = Vec::with_capacity(jobs.len());
        for job in jobs {
            names.push(stage_one(self.kept_dir(job.dir)?, job.name, job.source)?);
        }
        let start = self.items.len();
        self.items.reserve(jobs.len());
        for (j, tmp) in jobs.iter().zip(names) {
            self.push_item(j.dir, j.name, tmp)?;
        }
        Ok((start..self.items.len()).map(Handle::at).collect())
    }

    /// Stage the file `name` in the batch's directory `dir` empty, to be written in parts
    /// with [`Self::append`]: its handle and descriptor.
    ///
    /// # Errors
    /// I/O errors, with the directory.
    pub fn open(&mut self, dir: usize, name: &OsStr, mode: u32) -> Result<(Handle, OwnedFd)> {
        let (tmp, fd) = create(self.kept_dir(dir)?, name, Source::File(b"", mode))?;
        let fd = fd.ok_or_else(|| anyhow::anyhow!("no descriptor for {}", name.display()))?;
        let h = self.push_item(dir, name, tmp)?;
        fill(self.kept_dir(dir)?, name, Source::File(b"", mode), &fd)?;
        Ok((h, fd))
    }

    /// Record the item `name` in directory `dir`, staged as `tmp`.
    fn push_item(&mut self, dir: usize, name: &OsStr, tmp: TempName) -> Result<Handle> {
        use std::os::unix::ffi::OsStrExt as _;
        u32::try_from(self.items.len()).context("too many files in one batch")?;
        let name = self.names.push(name.as_bytes())?;
        let dir = u32::try_from(dir).context("too many directories in one batch")?;
        let tmp = tmp.into();
        self.items.push(Item { dir, tmp, name });
        Ok(Handle::at(self.items.len() - 1))
    }

    /// The file name of `item`.
    fn name_of(&self, item: &Item) -> &OsStr {
        use std::os::unix::ffi::OsStrExt as _;
        OsStr::from_bytes(self.names.get(item.name))
    }

    /// The name `item` is staged under in its directory (none while it is being staged
    /// elsewhere, see [`Detached`]).
    fn staged_as(&self, item: &Item) -> Option<StagedAs<'_>> {
        match item.tmp.get() {
            TempName::Pending => None,
            TempName::Own => Some(StagedAs::Own(self.name_of(item))),
            TempName::Numbered(n) => Some(StagedAs::Temp(TempText::of(n))),
        }
    }

    /// Write `bytes` after what the file `h` ([`Self::open`], descriptor `fd`) holds.
    ///
    /// # Errors
    /// I/O errors, with the path.
    pub fn append(&self, h: Handle, fd: &OwnedFd, bytes: &[u8]) -> Result<()> {
        write_all(fd, bytes)
            .map_err(std::io::Error::from)
            .with_context(|| format!("writing {}", self.path_of(h).display()))
    }

    /// Remove the staged file `h` (not to be placed after all): best effort, as
    /// [`Self::discard`].
    pub fn unstage(&self, h: Handle) {
        let item = &self.items[h.index()];
        let Some(at) = self.staged_as(item) else {
            return; // not staged (yet)
        };
        if let Ok(fd) = self.dir_fd(item.dir()) {
            let _ = rustix::fs::unlinkat(&*fd, at.os(), rustix::fs::AtFlags::empty());
        }
    }

    /// The name `h` is staged under in its target's directory (empty while it is being
    /// staged elsewhere).
    #[must_use]
    pub fn temp(&self, h: Handle) -> String {
        let item = &self.items[h.index()];
        let at = self.staged_as(item);
        at.and_then(|a| a.os().to_str().map(str::to_owned))
            .unwrap_or_default()
    }

    fn path_of(&self, h: Handle) -> PathBuf {
        let item = &self.items[h.index()];
        self.dir_path(item.dir()).join(self.name_of(item))
    }

    /// Make every staged file durable: one `syncfs` per file system (an `fsync` per file
    /// where there is no `syncfs`).
    ///
    /// # Errors
    /// I/O errors, with the path.
    pub fn sync(&self) -> Result<()> {
        if self.items.is_empty() {
            return Ok(());
        }
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            let mut devices = std::collections::BTreeSet::new();
            for (i, d) in self.dirs.iter().enumerate() {
                if devices.insert(d.dev) {
                    rustix::fs::syncfs(&*self.dir_fd(i)?)
                        .with_context(|| format!("syncing {}", self.dir_path(i).display()))?;
                }
            }
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        for (i, item) in self.items.iter().enumerate() {
            let fd = self.dir_fd(item.dir())?;
            let Some(at) = self.staged_as(item) else {
                continue;
            };
            rustix::fs::openat(&*fd, at.os(), OFlags::RDONLY, Mode::empty())
                .and_then(|f| rustix::fs::fsync(&f))
                .with_context(|| format!("syncing {}", self.path_of(Handle::at(i)).display()))?;
        }
        Ok(())
    }

    /// Rename the staged `h` over its target (replacing a symlink there, not following it).
    ///
    /// # Errors
    /// I/O errors, with the path.
    pub fn place(&self, h: Handle) -> Result<()> {
        let item = &self.items[h.index()];
        let Some(at) = self.staged_as(item) else {
            anyhow::bail!("{} was not staged", self.path_of(h).display());
        };
        let fd = self.dir_fd(item.dir())?;
        rustix::fs::renameat(&*fd, at.os(), &*fd, self.name_of(item))
            .with_context(|| format!("renaming into {}", self.path_of(h).display()))
    }

    /// Remove every staged file (a run refused before its journal): best effort, the
    /// staging list lets the next run remove what is left.
    pub fn discard(&self) {
        (0..self.items.len()).for_each(|i| self.unstage(Handle::at(i)));
    }

    /// Make the entries of every directory durable (after the renames).
    pub fn sync_dirs(&self) {
        for i in 0..self.dirs.len() {
            if let Ok(fd) = self.dir_fd(i) {
                let _ = rustix::fs::fsync(&*fd);
            }
        }
    }
}

mod detached;
mod dirs;
mod handle;
mod pieces;
mod temp;
mod tree;

pub use detached::Detached;
#[cfg(test)]
use dirs::OPEN_DIRS;
use dirs::{Dir, Slot};
pub use handle::Handle;
use pieces::{Names, Pieces, Span};
use temp::{PackedTemp, StagedAs, TempText, temp_number};
pub use tree::{Tree, TreeDir};

#[cfg(test)]
mod tests;
