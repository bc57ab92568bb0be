//! The ledger a run started from, as its journal holds it: borrowed from the run (any
//! [`Owned`] ledger: a copy of 84,000 entries was 27 MB) while it runs, owned once read
//! back. Its JSON is a ledger's.

use std::fmt;

use serde::ser::{SerializeMap as _, SerializeStruct as _};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::lifecycle::ledger::{Ledger, Owned};

/// The ledger before a run.
pub(super) enum Before<'l> {
    /// The run's own.
    Borrowed(&'l dyn Owned),
    /// Read back from a journal.
    Read(Ledger),
}

impl Before<'_> {
    /// Its files.
    pub(super) fn owned(&self) -> &dyn Owned {
        match self {
            Self::Borrowed(owned) => *owned,
            Self::Read(ledger) => ledger,
        }
    }
}

impl Serialize for Before<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut ledger = s.serialize_struct("Ledger", 2)?;
        ledger.serialize_field("version", &1)?;
        ledger.serialize_field("files", &Files(self.owned()))?;
        ledger.end()
    }
}

/// The `files` of a ledger, as a map.
struct Files<'a>(&'a dyn Owned);

impl Serialize for Files<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        for file in self.0.each() {
            let (path, entry) = file.map_err(serde::ser::Error::custom)?;
            map.serialize_entry(&*path, &entry)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Before<'_> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ledger::deserialize(d).map(Self::Read)
    }
}

impl Clone for Before<'_> {
    fn clone(&self) -> Self {
        match self {
            Self::Borrowed(owned) => Self::Borrowed(*owned),
            Self::Read(ledger) => Self::Read(ledger.clone()),
        }
    }
}

impl PartialEq for Before<'_> {
    /// (An entry that cannot be read again equals none.)
    fn eq(&self, other: &Self) -> bool {
        let theirs = other.owned().each().map(Result::ok);
        self.owned().each().map(Result::ok).eq(theirs)
    }
}

impl Eq for Before<'_> {}

impl fmt::Debug for Before<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.owned().each().map_while(Result::ok))
            .finish()
    }
}
