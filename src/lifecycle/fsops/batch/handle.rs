//! The handle of a staged file.

/// A staged file of a [`super::Batch`]: its place among the batch's files (4 bytes: a run keeps
/// one per file it writes, until the end).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Handle(u32);

impl Handle {
    /// The handle of the `i`th file (a batch holds fewer than 4 billion: see
    /// `Batch::push_item`).
    pub(super) fn at(i: usize) -> Self {
        Self(u32::try_from(i).expect("fewer than 4 billion files in a batch"))
    }

    /// Its place among the batch's files.
    pub(super) fn index(self) -> usize {
        self.0 as usize
    }

    /// Its number, to be kept elsewhere (e.g. on disk with its step).
    #[must_use]
    pub fn number(self) -> u32 {
        self.0
    }

    /// The handle of this [`Handle::number`].
    #[must_use]
    pub fn from_number(number: u32) -> Self {
        Self(number)
    }
}
