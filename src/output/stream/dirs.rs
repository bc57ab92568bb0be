//! The directories artifacts go into, as the writing thread knows them: what each held
//! when looked at (kept for the last few only), and where its files are staged.

use std::path::Path;

use anyhow::Result;

use super::root::missing_dirs;
use super::{Writer, refuse};
use crate::lifecycle::fsops::{self, Job, Source};
use crate::lifecycle::journal;
use crate::lifecycle::ledger::Kind;
use crate::lifecycle::plan::{Desired, OnDisk, ScannedDir};

/// How many directories keep what they held, as listed (a directory met again after
/// that is listed again): runit and s6 give every service a few, and every listing kept was
/// 7 MB at 36,000 directories.
pub(super) const LISTED: usize = 64;

/// A directory artifacts go into.
pub(super) struct Dir {
    /// What it held when looked at (while among the last [`LISTED`] directories used; the
    /// run's own files are still under temporary names then, so a listing made again reads
    /// the same).
    pub(super) scanned: Option<ScannedDir>,
    /// Its index in the batch, once a file is staged in it.
    pub(super) staged: Option<usize>,
}

impl Writer {
    /// The directory of `rel`, looked at (again, if its listing was let go).
    pub(super) fn dir_of(&mut self, rel: &str) -> Result<usize> {
        let (parent, _) = fsops::split_rel(rel);
        let i = if let Some(&i) = self.by_dir.get(parent) {
            i
        } else {
            self.dirs.push(Dir {
                scanned: None,
                staged: None,
            });
            self.by_dir.insert(parent.to_owned(), self.dirs.len() - 1);
            self.dirs.len() - 1
        };
        if self.dirs[i].scanned.is_none() {
            self.dirs[i].scanned = Some(ScannedDir::of(&self.root, rel, true)?);
            self.listed.push_back(i);
            if self.listed.len() > LISTED
                && let Some(oldest) = self.listed.pop_front()
            {
                self.dirs[oldest].scanned = None;
            }
        }
        Ok(i)
    }

    /// What `rel`, in the directory `dir` ([`Self::dir_of`]), holds.
    pub(super) fn found_at(&self, dir: usize, rel: &str) -> Result<OnDisk> {
        match &self.dirs[dir].scanned {
            Some(scanned) => scanned.at(&self.root, rel),
            None => anyhow::bail!("{rel} was looked for in a directory not looked at"),
        }
    }

    /// Write `d` next to its target under a temporary name once its directory is opened,
    /// or hand a file to the other staging thread (then its contents go with it).
    pub(super) fn stage(&mut self, dir: usize, d: &mut Desired) -> Result<()> {
        let (index, name) = self.staging_dir(dir, &d.path)?;
        if d.kind == Kind::File && self.stager.wants() {
            let contents = std::mem::take(&mut d.contents);
            let (h, job) = self.batch.detach(index, name.as_ref(), contents, d.mode)?;
            self.stager.hand(Some(h), job);
            self.handles.insert(d.path.clone(), h);
            return Ok(());
        }
        let source = match d.kind {
            Kind::File => Source::File(d.contents.as_bytes(), d.mode),
            Kind::Symlink => Source::Link(&d.contents),
        };
        let job = Job {
            dir: index,
            name: std::ffi::OsStr::new(name),
            source,
        };
        let staged = self.batch.stage(&[job])?;
        self.handles.insert(d.path.clone(), staged[0]);
        Ok(())
    }

    /// The index in the batch of the directory `dir` of `rel` (listed, created and opened
    /// the first time), and the file name of `rel`.
    pub(super) fn staging_dir<'r>(&mut self, dir: usize, rel: &'r str) -> Result<(usize, &'r str)> {
        let (parent, name) = fsops::split_rel(rel);
        let index = match self.dirs[dir].staged {
            Some(i) => i,
            None => self.open_dir(dir, parent, rel)?,
        };
        Ok((index, name))
    }

    /// Create the directory `parent` (of `rel`) and open it in the batch, once listed in
    /// the staging file (noting what did not exist).
    pub(super) fn open_dir(&mut self, dir: usize, parent: &str, rel: &str) -> Result<usize> {
        let path = self.root.join(parent);
        let list = match &mut self.staging {
            Some(list) => list,
            None => self
                .staging
                .insert(journal::StagingList::create(&self.store)?),
        };
        list.add(parent)?;
        self.created.extend(missing_dirs(&path));
        let root = &self.root;
        let i = self.batch.dir(&path, || {
            match fsops::blocked_parent(root, Path::new(rel))? {
                Some(why) => Err(refuse(format!("refusing to write {rel}: {why}"))),
                None => Ok(()),
            }
        })?;
        self.dirs[dir].staged = Some(i);
        Ok(i)
    }
}
