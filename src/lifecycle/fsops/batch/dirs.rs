//! The directories of a batch: each created, checked and opened once; only the last
//! [`OPEN_DIRS`] keep their descriptor (and a [`Dir`] to share with other threads), and
//! one let go is opened again by path for each later use.

use std::hash::BuildHasher as _;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt as _;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::{Context as _, Result};
use hashbrown::HashTable;
use rustix::fs::{Mode, OFlags};

use super::Batch;
use super::pieces::{Pieces, Span};

/// How many directories of a batch keep their descriptor open at a time.
pub const OPEN_DIRS: usize = 64;

/// A directory of a batch as the batch keeps it, in 12 bytes: where its path is in the
/// batch's [`Pieces`] of paths, its file system (its place among the batch's), and whether
/// it has a default ACL. The [`Dir`] shared with the threads that stage into it is kept
/// apart, while it is among the last [`OPEN_DIRS`] opened. (A `Dir` and its own path for
/// every directory were about 130 bytes each: 1.2 MB for the 10,000 directories runit
/// rewrites files in.)
pub(super) struct Slot {
    path: Span,
    pub(super) dev: u16,
    acl: bool,
}

/// A directory of a batch (shared with the threads that stage into it).
pub(super) struct Dir {
    pub(super) path: std::path::PathBuf,
    /// Its descriptor, while it is among the batch's last [`OPEN_DIRS`] directories.
    fd: Mutex<Option<Arc<OwnedFd>>>,
    /// The file system it is on.
    pub(super) dev: u64,
    /// Files go straight under their own names (a directory of a [`super::Tree`], which
    /// no one sees yet).
    pub(super) direct: bool,
    /// Whether a new file's mode can differ from the one asked for in other ways than the
    /// umask (a default ACL on the directory): then every mode is set explicitly.
    pub(super) acl: bool,
}

/// Open the directory `path`.
fn open_dir(path: &Path) -> Result<OwnedFd> {
    rustix::fs::open(
        path,
        OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .with_context(|| format!("opening {}", path.display()))
}

impl Dir {
    /// The directory `path`, created if missing (with its parents) and opened; `direct`:
    /// files go into it under their own names.
    pub(super) fn create(path: &Path, direct: bool) -> Result<Self> {
        std::fs::create_dir_all(path).with_context(|| format!("creating {}", path.display()))?;
        let fd = open_dir(path)?;
        let dev = rustix::fs::fstat(&fd)
            .with_context(|| format!("inspecting {}", path.display()))?
            .st_dev;
        Ok(Self {
            path: path.to_path_buf(),
            acl: default_acl(&fd),
            dev,
            fd: Mutex::new(Some(Arc::new(fd))),
            direct,
        })
    }

    /// The directory `path` (which exists, on file system `dev`) opened again.
    fn reopened(path: &Path, dev: u64, acl: bool) -> Result<Self> {
        Ok(Self {
            path: path.to_path_buf(),
            fd: Mutex::new(Some(Arc::new(open_dir(path)?))),
            dev,
            direct: false,
            acl,
        })
    }

    /// Its descriptor: the one kept, or one opened for this use.
    pub(super) fn fd(&self) -> Result<Arc<OwnedFd>> {
        let kept = self.kept().clone();
        match kept {
            Some(fd) => Ok(fd),
            None => open_dir(&self.path).map(Arc::new),
        }
    }

    /// The descriptor kept, if any (locked).
    pub(super) fn kept(&self) -> std::sync::MutexGuard<'_, Option<Arc<OwnedFd>>> {
        self.fd.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Whether `dir` has a default ACL (which, not the umask, then shapes a new file's mode).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn default_acl(dir: &OwnedFd) -> bool {
    rustix::fs::fgetxattr_query(dir, "system.posix_acl_default").is_ok_and(|n| n > 0)
}

/// Elsewhere: assume it may (every mode is set explicitly).
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn default_acl(_: &OwnedFd) -> bool {
    true
}

impl Batch {
    /// The path of directory `i`.
    pub(super) fn dir_path(&self, i: usize) -> &Path {
        path_in(&self.dir_paths, self.dirs[i].path)
    }

    /// Whether directory `dir` is in the batch (see [`Self::dir`]).
    #[must_use]
    pub fn has_dir(&self, dir: &Path) -> bool {
        if !self.indexed() {
            return (0..self.dirs.len()).any(|i| self.dir_path(i) == dir);
        }
        let hash = self.hasher.hash_one(dir);
        self.by_path
            .find(hash, |&i| self.dir_path(i as usize) == dir)
            .is_some()
    }

    /// Let go of the index of the directories by path, when no more files are to be staged
    /// (its memory, 5 to 10 bytes a directory, is then given back before the steps are read
    /// back); [`Self::dir`] builds it again if it is asked for one after all.
    pub fn unindex(&mut self) {
        self.by_path = HashTable::new();
    }

    /// Whether every directory is in the index by path (not after [`Self::unindex`]).
    fn indexed(&self) -> bool {
        self.by_path.len() == self.dirs.len()
    }

    /// Build the index by path again (after [`Self::unindex`]).
    fn reindex(&mut self) {
        let (dirs, paths, hasher) = (&self.dirs, &self.dir_paths, &self.hasher);
        let hash = |&i: &u32| hasher.hash_one(path_in(paths, dirs[i as usize].path));
        let mut table = HashTable::with_capacity(dirs.len());
        // (fewer than 2^32: each was numbered so when it was added)
        for i in (0..dirs.len()).filter_map(|i| u32::try_from(i).ok()) {
            table.insert_unique(hash(&i), i, hash);
        }
        self.by_path = table;
    }

    /// The directory `dir`, created if missing (with its parents) and opened once per batch;
    /// `check` runs once, before it is created.
    ///
    /// # Errors
    /// `check`'s error, or the directory cannot be created or opened.
    pub fn dir(&mut self, dir: &Path, check: impl FnOnce() -> Result<()>) -> Result<usize> {
        if !self.indexed() {
            self.reindex();
        }
        let hash = self.hasher.hash_one(dir);
        if let Some(&i) = self
            .by_path
            .find(hash, |&i| self.dir_path(i as usize) == dir)
        {
            self.keep(i as usize)?;
            return Ok(i as usize);
        }
        check()?;
        let created = Dir::create(dir, false)?;
        let path = self.dir_paths.push(dir.as_os_str().as_bytes())?;
        let dev = self.device_place(created.dev)?;
        let i = self.dirs.len();
        let number = u32::try_from(i).context("too many directories in one batch")?;
        self.dirs.push(Slot {
            path,
            dev,
            acl: created.acl,
        });
        let (dirs, paths, hasher) = (&self.dirs, &self.dir_paths, &self.hasher);
        self.by_path.insert_unique(hash, number, |&i| {
            hasher.hash_one(path_in(paths, dirs[i as usize].path))
        });
        self.kept_open(i, Arc::new(created));
        Ok(i)
    }

    /// The place of file system `dev` among the batch's (added if new).
    fn device_place(&mut self, dev: u64) -> Result<u16> {
        let at = self
            .devices
            .iter()
            .position(|&d| d == dev)
            .unwrap_or_else(|| {
                self.devices.push(dev);
                self.devices.len() - 1
            });
        u16::try_from(at).context("a batch spans more than 65,536 file systems")
    }

    /// The file system directory `i` is on.
    pub(super) fn device(&self, i: usize) -> u64 {
        self.devices[usize::from(self.dirs[i].dev)]
    }

    /// The directory `i`, if it keeps its descriptor (the latest opened are looked at
    /// first).
    pub(super) fn opened(&self, i: usize) -> Option<&Arc<Dir>> {
        self.open
            .iter()
            .rev()
            .find(|(d, _)| *d == i)
            .map(|(_, dir)| dir)
    }

    /// The directory `i` is in use: its descriptor is kept (opened again if it was let
    /// go).
    pub(super) fn keep(&mut self, i: usize) -> Result<()> {
        if self.opened(i).is_some() {
            return Ok(());
        }
        let dir = Dir::reopened(self.dir_path(i), self.device(i), self.dirs[i].acl)?;
        self.kept_open(i, Arc::new(dir));
        Ok(())
    }

    /// The directory `i`, kept (opened again if it was let go).
    pub(super) fn kept_dir(&mut self, i: usize) -> Result<&Dir> {
        self.keep(i)?;
        match self.opened(i) {
            Some(dir) => Ok(dir),
            None => anyhow::bail!("{} was let go", self.dir_path(i).display()),
        }
    }

    /// The directory `i`, kept, to share with another thread.
    pub(super) fn shared(&mut self, i: usize) -> Result<Arc<Dir>> {
        self.keep(i)?;
        match self.opened(i) {
            Some(dir) => Ok(Arc::clone(dir)),
            None => anyhow::bail!("{} was let go", self.dir_path(i).display()),
        }
    }

    /// A descriptor of directory `i`: the one kept, or one opened for this use.
    pub(super) fn dir_fd(&self, i: usize) -> Result<Arc<OwnedFd>> {
        match self.opened(i) {
            Some(dir) => dir.fd(),
            None => open_dir(self.dir_path(i)).map(Arc::new),
        }
    }

    /// `i` now keeps its descriptor: the oldest one kept is let go past [`OPEN_DIRS`] (its
    /// descriptor closed, also for a thread still staging into it, which opens it again).
    fn kept_open(&mut self, i: usize, dir: Arc<Dir>) {
        self.open.push_back((i, dir));
        if self.open.len() > OPEN_DIRS
            && let Some((_, oldest)) = self.open.pop_front()
        {
            *oldest.kept() = None;
        }
    }
}

/// The path at `span` in `paths`.
fn path_in(paths: &Pieces, span: Span) -> &Path {
    Path::new(std::ffi::OsStr::from_bytes(paths.get(span)))
}
