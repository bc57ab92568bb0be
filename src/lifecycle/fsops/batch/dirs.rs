//! The directories of a batch: each created, checked and opened once; only the last
//! [`OPEN_DIRS`] keep their descriptor, and one let go is opened again by path for each
//! later use.

use std::hash::BuildHasher as _;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::{Context as _, Result};
use rustix::fs::{Mode, OFlags};

use super::Batch;

/// How many directories of a batch keep their descriptor open at a time.
pub const OPEN_DIRS: usize = 64;

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
    /// Whether directory `dir` is in the batch (see [`Self::dir`]).
    #[must_use]
    pub fn has_dir(&self, dir: &Path) -> bool {
        let hash = self.hasher.hash_one(dir);
        self.by_path
            .find(hash, |&i| self.dirs[i].path == dir)
            .is_some()
    }

    /// The directory `dir`, created if missing (with its parents) and opened once per batch;
    /// `check` runs once, before it is created.
    ///
    /// # Errors
    /// `check`'s error, or the directory cannot be created or opened.
    pub fn dir(&mut self, dir: &Path, check: impl FnOnce() -> Result<()>) -> Result<usize> {
        let hash = self.hasher.hash_one(dir);
        if let Some(&i) = self.by_path.find(hash, |&i| self.dirs[i].path == dir) {
            self.keep(i)?;
            return Ok(i);
        }
        check()?;
        let i = self.dirs.len();
        self.dirs.push(Arc::new(Dir::create(dir, false)?));
        let (dirs, hasher) = (&self.dirs, &self.hasher);
        self.by_path
            .insert_unique(hash, i, |&i| hasher.hash_one(&dirs[i].path));
        self.kept_open(i);
        Ok(i)
    }

    /// The directory `i` is in use: its descriptor is kept (opened again if it was let
    /// go).
    pub(super) fn keep(&mut self, i: usize) -> Result<()> {
        let dir = &self.dirs[i];
        let mut kept = dir.kept();
        if kept.is_some() {
            return Ok(());
        }
        *kept = Some(Arc::new(open_dir(&dir.path)?));
        drop(kept);
        self.kept_open(i);
        Ok(())
    }

    /// `i` now keeps its descriptor: the oldest one kept is let go past [`OPEN_DIRS`].
    fn kept_open(&mut self, i: usize) {
        self.open.push_back(i);
        if self.open.len() > OPEN_DIRS
            && let Some(oldest) = self.open.pop_front()
        {
            *self.dirs[oldest].kept() = None;
        }
    }
}
