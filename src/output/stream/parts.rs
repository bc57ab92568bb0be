//! A file the backend makes in parts ([`crate::backend::Part`]) goes to the writing thread
//! part by part: staged under a temporary name from its first part, written and hashed as
//! each comes, and planned at its last (the temporary file removed again when it is not to
//! be written).

use std::ffi::OsStr;
use std::os::fd::OwnedFd;

use anyhow::Result;
use sha2::{Digest as _, Sha256};

use super::Writer;
use crate::backend::kit::Part;
use crate::lifecycle::fsops::{self, Handle, TreeDir};
use crate::lifecycle::ledger::{self, Entry, Kind};
use crate::lifecycle::plan::{self, Action, Content, OnDisk, Step};

/// A part as the rendering thread hands it on.
pub struct Piece {
    path: String,
    mode: u32,
    text: String,
    first: bool,
    last: bool,
}

impl Piece {
    /// Take the text of `part` (leaving the backend a buffer as large to go on with).
    pub fn take(part: &mut Part<'_>) -> Self {
        let capacity = part.text.capacity();
        Self {
            path: part.path.to_owned(),
            mode: part.mode & 0o7777,
            text: std::mem::replace(part.text, String::with_capacity(capacity)),
            first: part.first,
            last: part.last,
        }
    }
}

/// The file being written in parts.
pub struct Open {
    pub(super) path: String,
    mode: u32,
    found: OnDisk,
    hash: Sha256,
    /// Where it is written (none when nothing more is staged, or its path is blocked).
    staged: Option<Staged>,
}

/// Where a file made in parts is written.
enum Staged {
    /// Under a temporary name, as a file of the batch.
    Batch(Handle, OwnedFd),
    /// Under its own name, in a new DIR's tree.
    Tree(TreeDir, OwnedFd),
}

impl Writer {
    /// Write and hash `piece`; at the last, plan the file.
    pub(super) fn take_piece(&mut self, piece: &Piece) -> Result<()> {
        if piece.first {
            if self.repeats.is_some() {
                let place = self.ledger.place(&piece.path);
                self.refuse_twice(&piece.path, place)?;
            }
            self.open_piece(piece)?;
        }
        let Some(open) = self.open.as_mut() else {
            anyhow::bail!("a part of {} before its first", piece.path);
        };
        open.hash.update(piece.text.as_bytes());
        let text = piece.text.as_bytes();
        match &open.staged {
            Some(Staged::Batch(h, fd)) => self.batch.append(*h, fd, text)?,
            Some(Staged::Tree(dir, fd)) => {
                let (_, name) = fsops::split_rel(&open.path);
                dir.append(OsStr::new(name), fd, text)?;
            }
            None => {}
        }
        if piece.last {
            self.close_piece()?;
        }
        Ok(())
    }

    /// Look at the path of `piece` and stage its file, empty.
    fn open_piece(&mut self, piece: &Piece) -> Result<()> {
        if let Some(fresh) = &mut self.fresh {
            let (dir, name) = fresh.dir_of(&piece.path)?;
            let fd = dir.open(name, piece.mode)?;
            self.open = Some(Open::new(
                piece,
                OnDisk::Missing,
                Some(Staged::Tree(dir, fd)),
            ));
            return Ok(());
        }
        let found = self.found_at(&piece.path)?;
        let staged = if self.refused || matches!(found, OnDisk::Blocked(_)) {
            None
        } else {
            let (index, name) = self.staging_dir(&piece.path)?;
            let (h, fd) = self.batch.open(index, name.as_ref(), piece.mode)?;
            Some(Staged::Batch(h, fd))
        };
        self.open = Some(Open::new(piece, found, staged));
        Ok(())
    }

    /// The file is complete: decide its step as [`Writer::take`] does; its temporary file
    /// stays staged only when it is to be written.
    fn close_piece(&mut self) -> Result<()> {
        let Some(open) = self.open.take() else {
            return Ok(());
        };
        let want = Entry {
            kind: Kind::File,
            mode: open.mode,
            sha256: ledger::ContentHash::Sha256(open.hash.finalize().into()),
        };
        if let Some(fresh) = &mut self.fresh {
            drop(open.staged); // closed
            return fresh.record(&open.path, &want, None);
        }
        let owned = self.ledger.find(&open.path)?;
        let action =
            plan::desired_step(&want, owned.as_ref().map(|o| &o.1), &open.found, self.opts);
        self.refused |= matches!(action, Action::Refuse(_));
        if let Some(Staged::Batch(h, fd)) = open.staged {
            drop(fd);
            if action.changes_disk() && !self.refused {
                self.staged_now = Some(h);
            } else {
                self.batch.unstage(h);
            }
        }
        let step = Step {
            path: open.path.into(),
            found: open.found,
            action,
            desired: Some(Content {
                kind: Kind::File,
                mode: open.mode,
                contents: String::new(),
            }),
            entry: Some(want),
        };
        self.record(step, owned)
    }
}

impl Open {
    /// The file of `piece` (its first), with what is at its path and where it is written.
    fn new(piece: &Piece, found: OnDisk, staged: Option<Staged>) -> Self {
        Self {
            path: piece.path.clone(),
            mode: piece.mode,
            found,
            hash: Sha256::new(),
            staged,
        }
    }
}
