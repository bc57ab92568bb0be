//! The desired state of a file: its path, kind, mode and contents.

use super::{Entry, Kind};
use crate::backend::Artifact;

/// A file as openim-init wants it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desired {
    /// Path relative to the store's base.
    pub path: String,
    /// File or symlink.
    pub kind: Kind,
    /// Permission bits (ignored for a link).
    pub mode: u32,
    /// The contents; for a link, its target.
    pub contents: String,
}

impl Desired {
    /// The desired state of an artifact, at the artifact's own path.
    #[must_use]
    pub fn from_artifact(a: &Artifact) -> Self {
        Self::at(&a.path, a)
    }

    /// The desired state of an artifact installed at `path`.
    #[must_use]
    pub fn at(path: &str, a: &Artifact) -> Self {
        let kind = if a.link_target().is_some() {
            Kind::Symlink
        } else {
            Kind::File
        };
        Self {
            path: path.to_owned(),
            kind,
            mode: if kind == Kind::Symlink {
                0o777
            } else {
                a.mode() & 0o7777
            },
            contents: a.link_target().unwrap_or(a.contents()).to_owned(),
        }
    }

    /// The desired state of an artifact at its own path, taking its path and contents
    /// (no copy of either).
    #[must_use]
    pub fn from_owned(a: Artifact) -> Self {
        let (kind, mode, contents) = match a.body {
            crate::backend::Body::File { mode, contents } => (Kind::File, mode & 0o7777, contents),
            crate::backend::Body::Symlink { target } => (Kind::Symlink, 0o777, target),
        };
        Self {
            path: a.path,
            kind,
            mode,
            contents,
        }
    }

    /// Its ledger entry once written.
    #[must_use]
    pub fn entry(&self) -> Entry {
        Entry::of(self.kind, self.mode, self.contents.as_bytes())
    }

    /// Its path and what it holds, apart (a [`super::Step`] keeps the path once).
    #[must_use]
    pub fn split(self) -> (String, Content) {
        let content = Content {
            kind: self.kind,
            mode: self.mode,
            contents: self.contents,
        };
        (self.path, content)
    }
}

/// What a desired path holds: a [`Desired`] without its path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content {
    /// File or symlink.
    pub kind: Kind,
    /// Permission bits (ignored for a link).
    pub mode: u32,
    /// The contents; for a link, its target (empty for a file whose text was handed on).
    pub contents: String,
}
