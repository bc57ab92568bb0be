//! The directories artifacts go into, as the writing thread knows them: what each held
//! when looked at (kept for the last few only), and where its files are staged (the
//! batch's own index of its directories).

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

/// The directories looked at lately.
#[derive(Default)]
pub(super) struct Dirs {
    /// What the last [`LISTED`] directories used held when looked at, the latest last (the
    /// run's own files are still under temporary names then, so a listing made again reads
    /// the same).
    listed: std::collections::VecDeque<(Box<str>, ScannedDir)>,
}

impl Writer {
    /// What `rel` holds, from its directory's listing (made again if it was let go).
    pub(super) fn found_at(&mut self, rel: &str) -> Result<OnDisk> {
        let (parent, _) = fsops::split_rel(rel);
        let listed = &mut self.dirs.listed;
        // the files of a directory mostly come together: its listing is the latest
        let scanned = if let Some(i) = listed.iter().rposition(|(d, _)| &**d == parent) {
            &listed[i].1
        } else {
            if listed.len() == LISTED {
                listed.pop_front();
            }
            let scanned = ScannedDir::of(&self.root, rel, true)?;
            listed.push_back((parent.into(), scanned));
            &listed[listed.len() - 1].1
        };
        scanned.at(&self.root, rel)
    }

    /// Write `d` next to its target under a temporary name once its directory is opened,
    /// or hand a file to the other staging thread (then its contents go with it).
    pub(super) fn stage(&mut self, d: &mut Desired) -> Result<()> {
        let (index, name) = self.staging_dir(&d.path)?;
        if d.kind == Kind::File && self.stager.wants() {
            let contents = std::mem::take(&mut d.contents);
            let (h, job) = self.batch.detach(index, name.as_ref(), contents, d.mode)?;
            self.stager.hand(Some(h), job);
            self.stager.settle(&mut self.batch);
            self.staged_now = Some(h);
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
        self.staged_now = Some(staged[0]);
        Ok(())
    }

    /// The index in the batch of the directory of `rel` (listed, created and opened the
    /// first time), and the file name of `rel`.
    pub(super) fn staging_dir<'r>(&mut self, rel: &'r str) -> Result<(usize, &'r str)> {
        let (parent, name) = fsops::split_rel(rel);
        // the batch finds a directory it has (by a hash of its path): no map of our own,
        // which held a copy of each directory's path (about 70 bytes a directory)
        let path = self.root.join(parent);
        let index = if self.batch.has_dir(&path) {
            self.batch.dir(&path, || Ok(()))?
        } else {
            self.open_dir(&path, parent, rel)?
        };
        Ok((index, name))
    }

    /// Create the directory `parent` (of `rel`) and open it in the batch, once listed in
    /// the staging file (noting what did not exist).
    fn open_dir(&mut self, path: &Path, parent: &str, rel: &str) -> Result<usize> {
        let list = match &mut self.staging {
            Some(list) => list,
            None => self
                .staging
                .insert(journal::StagingList::create(&self.store)?),
        };
        list.add(parent)?;
        self.created.extend(missing_dirs(path));
        let root = &self.root;
        let i = self.batch.dir(path, || {
            match fsops::blocked_parent(root, Path::new(rel))? {
                Some(why) => Err(refuse(format!("refusing to write {rel}: {why}"))),
                None => Ok(()),
            }
        })?;
        Ok(i)
    }
}
