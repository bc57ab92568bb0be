//! What a run needs of the ledger it started from, whichever way it holds it.

use std::borrow::Cow;

use super::{Entry, Ledger};

/// The files a ledger owns as a run reads them: looked up by path, walked in path order
/// (a [`Ledger`], or the [`super::Compact`] one of `generate --out`).
pub trait Owned: Sync {
    /// The entry of `path`.
    fn get(&self, path: &str) -> Option<Entry>;
    /// Every path and entry, in path order (a [`super::Compact`] ledger makes each path:
    /// it holds none whole).
    fn each(&self) -> Box<dyn Iterator<Item = (Cow<'_, str>, Entry)> + '_>;
    /// Whether there is no file.
    fn is_empty(&self) -> bool;
}

impl Owned for Ledger {
    fn get(&self, path: &str) -> Option<Entry> {
        self.files.get(path).cloned()
    }

    fn each(&self) -> Box<dyn Iterator<Item = (Cow<'_, str>, Entry)> + '_> {
        Box::new(
            self.files
                .iter()
                .map(|(p, e)| (Cow::Borrowed(p.as_str()), e.clone())),
        )
    }

    fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

impl Ledger {
    /// The ledger of `owned`.
    #[must_use]
    pub fn of(owned: &dyn Owned) -> Self {
        Self {
            version: 1,
            files: owned.each().map(|(p, e)| (p.into_owned(), e)).collect(),
        }
    }
}
