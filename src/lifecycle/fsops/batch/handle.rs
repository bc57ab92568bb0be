//! The handle of a staged file.

use std::num::NonZeroU32;

/// A staged file of a [`super::Batch`]: its place among the batch's files plus one (4
/// bytes, and 4 as an `Option`: a run keeps one per file it writes, until the end).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Handle(NonZeroU32);

impl Handle {
    /// The handle of the `i`th file (a batch holds fewer than 4 billion: see
    /// `Batch::push_item`).
    pub(super) fn at(i: usize) -> Self {
        u32::try_from(i)
            .ok()
            .and_then(|i| i.checked_add(1))
            .and_then(NonZeroU32::new)
            .map(Self)
            .expect("fewer than 4 billion files in a batch")
    }

    /// Its place among the batch's files.
    pub(super) fn index(self) -> usize {
        (self.0.get() - 1) as usize
    }

    /// Its number (its place), to be kept elsewhere (e.g. on disk with its step).
    #[must_use]
    pub fn number(self) -> u32 {
        self.0.get() - 1
    }

    /// The handle of this [`Handle::number`].
    #[must_use]
    pub fn from_number(number: u32) -> Self {
        Self::at(number as usize)
    }
}
