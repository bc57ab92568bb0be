//! Files of a batch staged on another thread: the batch reserves each one's place and
//! hands out what writing it needs (its directory, shared, and its contents); the thread
//! writes it under a temporary name, which the batch then records.

use std::ffi::OsStr;
use std::sync::Arc;

use anyhow::Result;

use super::{Batch, Dir, Handle, Source, TempName, stage_one};

/// A regular file to stage on another thread ([`Batch::detach`]): its directory, its
/// name, its contents and mode.
pub struct Detached {
    dir: Arc<Dir>,
    name: std::ffi::OsString,
    contents: String,
    mode: u32,
}

impl std::fmt::Debug for Detached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Detached")
            .field("dir", &self.dir.path)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Detached {
    /// `contents` to write as the file `name` in `dir`, with the permission bits `mode`.
    pub(super) fn new(dir: Arc<Dir>, name: &OsStr, contents: String, mode: u32) -> Self {
        Self {
            dir,
            name: name.to_os_string(),
            contents,
            mode,
        }
    }

    /// Write the file under a fresh temporary name next to its target: that name, for
    /// [`Batch::settle`].
    ///
    /// # Errors
    /// I/O errors, with the path.
    pub fn stage(&self) -> Result<TempName> {
        let source = Source::File(self.contents.as_bytes(), self.mode);
        stage_one(&self.dir, &self.name, source)
    }

    /// The contents (to be freed, or left to the process's exit, by the caller).
    #[must_use]
    pub fn into_contents(self) -> String {
        self.contents
    }
}

impl Batch {
    /// Reserve the place of the regular file `name` in the batch's directory `dir`, with
    /// `contents` and the permission bits `mode`, to be staged elsewhere: its handle and
    /// what staging it takes. Until [`Self::settle`] it is not staged (and not removed by
    /// [`Self::discard`]).
    ///
    /// # Errors
    /// Its directory, let go, cannot be opened again.
    pub fn detach(
        &mut self,
        dir: usize,
        name: &OsStr,
        contents: String,
        mode: u32,
    ) -> Result<(Handle, Detached)> {
        let shared = self.shared(dir)?;
        let h = self.push_item(dir, name, TempName::Pending)?;
        let job = Detached::new(shared, name, contents, mode);
        Ok((h, job))
    }

    /// Record the temporary name [`Detached::stage`] gave the file `h`.
    pub fn settle(&mut self, h: Handle, tmp: TempName) {
        self.items[h.index()].tmp = tmp.into();
    }
}
