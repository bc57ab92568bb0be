//! What a run needs of the ledger it started from, whichever way it holds it.

use super::{Entry, Ledger};

/// The files a ledger owns as a run reads them: looked up by path, walked in path order
/// (a [`Ledger`], or the [`super::Compact`] one of `generate --out`).
pub trait Owned: Sync {
    /// The entry of `path`.
    fn get(&self, path: &str) -> Option<&Entry>;
    /// Every path and entry, in path order.
    fn each(&self) -> Box<dyn Iterator<Item = (&str, &Entry)> + '_>;
    /// Whether there is no file.
    fn is_empty(&self) -> bool;
}

impl Owned for Ledger {
    fn get(&self, path: &str) -> Option<&Entry> {
        self.files.get(path)
    }

    fn each(&self) -> Box<dyn Iterator<Item = (&str, &Entry)> + '_> {
        Box::new(self.files.iter().map(|(p, e)| (p.as_str(), e)))
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
            files: owned
                .each()
                .map(|(p, e)| (p.to_owned(), e.clone()))
                .collect(),
        }
    }
}
