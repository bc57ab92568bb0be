//! A tree no one sees yet (a new `--out DIR` built next to it, see
//! `output::stream::fresh`): every file goes straight under its own name, and nothing is
//! kept per file or per directory. The tree is made durable whole, put in place whole, and
//! removed whole when the run fails. Only the last [`OPEN_DIRS`] directories are kept, with
//! their descriptor: one met again is opened again (runit and s6 give every service a few).

use std::collections::VecDeque;
use std::ffi::OsStr;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, Result};

use super::dirs::OPEN_DIRS;
use super::{Detached, Dir, Source, create, fill, stage_one, write_all};

/// Files written straight into a new tree.
pub struct Tree {
    top: PathBuf,
    /// The directories used last, by their path below the top, the latest last.
    recent: VecDeque<(Box<str>, TreeDir)>,
}

/// A directory of a [`Tree`], to write files into.
#[derive(Clone)]
pub struct TreeDir(Arc<Dir>);

impl Tree {
    /// A tree under `top` (which exists).
    #[must_use]
    pub fn new(top: PathBuf) -> Self {
        Self {
            top,
            recent: VecDeque::with_capacity(OPEN_DIRS + 1),
        }
    }

    /// Where the tree is.
    #[must_use]
    pub fn top(&self) -> &Path {
        &self.top
    }

    /// The directory `rel` below the top (`""`: the top), created with its parents if
    /// missing; `check` (given the top) runs first unless it was used lately.
    ///
    /// # Errors
    /// `check`'s error, or the directory cannot be created or opened.
    pub fn dir(&mut self, rel: &str, check: impl FnOnce(&Path) -> Result<()>) -> Result<TreeDir> {
        if let Some((_, dir)) = self.recent.iter().rev().find(|(r, _)| **r == *rel) {
            return Ok(dir.clone());
        }
        check(&self.top)?;
        let dir = TreeDir(Arc::new(Dir::create(&self.top.join(rel), true)?));
        if self.recent.len() == OPEN_DIRS {
            self.recent.pop_front();
        }
        self.recent.push_back((rel.into(), dir.clone()));
        Ok(dir)
    }
}

impl TreeDir {
    /// Write `source` as `name` (which must not exist).
    ///
    /// # Errors
    /// I/O errors, with the directory or path.
    pub fn write(&self, name: &OsStr, source: Source<'_>) -> Result<()> {
        stage_one(&self.0, name, source).map(drop)
    }

    /// `contents` to write as the file `name` with the permission bits `mode` on another
    /// thread.
    #[must_use]
    pub fn detach(&self, name: &OsStr, contents: String, mode: u32) -> Detached {
        Detached::new(Arc::clone(&self.0), name, contents, mode)
    }

    /// Create the file `name` empty, to be written in parts with [`Self::append`].
    ///
    /// # Errors
    /// I/O errors, with the directory.
    pub fn open(&self, name: &OsStr, mode: u32) -> Result<OwnedFd> {
        let source = Source::File(b"", mode);
        let (_, fd) = create(&self.0, name, source)?;
        let fd = fd.ok_or_else(|| anyhow::anyhow!("no descriptor for {}", name.display()))?;
        fill(&self.0, name, source, &fd)?;
        Ok(fd)
    }

    /// Write `bytes` after what the file `name` ([`Self::open`], descriptor `fd`) holds.
    ///
    /// # Errors
    /// I/O errors, with the path.
    pub fn append(&self, name: &OsStr, fd: &OwnedFd, bytes: &[u8]) -> Result<()> {
        write_all(fd, bytes)
            .map_err(std::io::Error::from)
            .with_context(|| format!("writing {}", self.0.path.join(name).display()))
    }
}

#[cfg(test)]
#[path = "tree_tests.rs"]
mod tests;
