//! What a run needs of the ledger it started from, whichever way it holds it.

use std::borrow::Cow;
use std::io;

use super::{Entry, Ledger};

/// A file of a ledger, as [`Owned::each`] gives it: its path and entry, or the error of
/// reading it again.
pub type Item<'a> = io::Result<(Cow<'a, str>, Entry)>;

/// The files a ledger owns as a run reads them: looked up by path, walked in path order
/// (a [`Ledger`], or the [`super::Compact`] one of `generate --out`, which reads each entry
/// again from its file: that can fail).
pub trait Owned: Sync {
    /// The entry of `path`.
    ///
    /// # Errors
    /// The entry cannot be read again.
    fn get(&self, path: &str) -> io::Result<Option<Entry>>;
    /// Every path and entry, in path order (a [`super::Compact`] ledger makes each path:
    /// it holds none whole).
    fn each(&self) -> Box<dyn Iterator<Item = Item<'_>> + '_>;
    /// Whether there is no file.
    fn is_empty(&self) -> bool;
}

impl Owned for Ledger {
    fn get(&self, path: &str) -> io::Result<Option<Entry>> {
        Ok(self.files.get(path).cloned())
    }

    fn each(&self) -> Box<dyn Iterator<Item = Item<'_>> + '_> {
        Box::new(
            self.files
                .iter()
                .map(|(p, e)| Ok((Cow::Borrowed(p.as_str()), e.clone()))),
        )
    }

    fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

impl Ledger {
    /// The ledger of `owned`.
    ///
    /// # Errors
    /// An entry cannot be read again.
    pub fn of(owned: &dyn Owned) -> io::Result<Self> {
        Ok(Self {
            version: 1,
            files: owned
                .each()
                .map(|item| item.map(|(p, e)| (p.into_owned(), e)))
                .collect::<io::Result<_>>()?,
        })
    }
}
