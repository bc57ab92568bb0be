//! A journal's operations: read back from a journal file, or those of the plan being
//! carried out. These are made from their steps when the journal is written or replayed:
//! held whole, with a copy of each path and temporary name, they took about 240 bytes a
//! changed file (5.5 MB for 24,000).

use std::borrow::Cow;

use serde::ser::SerializeSeq as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::lifecycle::ledger::{ContentHash, Entry, Kind};
use crate::lifecycle::plan::Step;

/// What goes at a path: its ledger entry (the contents wait in the staged file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Target {
    pub(super) kind: Kind,
    pub(super) mode: u32,
    #[serde(default)]
    pub(super) sha256: ContentHash,
    /// The contents themselves, in journals of earlier versions (which held every text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) text: Option<String>,
}

impl Target {
    pub(super) fn of(e: &Entry) -> Self {
        Self {
            kind: e.kind,
            mode: e.mode,
            sha256: e.sha256,
            text: None,
        }
    }

    /// Its ledger entry.
    pub(super) fn entry(&self) -> Entry {
        match &self.text {
            Some(text) => Entry::of(self.kind, self.mode, text.as_bytes()),
            None => Entry {
                kind: self.kind,
                mode: self.mode,
                sha256: self.sha256,
            },
        }
    }
}

/// One file operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Op<'p> {
    /// Borrowed from the plan's step while a run writes its journal; owned once read back.
    pub(super) path: Cow<'p, str>,
    /// What goes there (`None`: removed).
    pub(super) new: Option<Target>,
    /// The temporary name the new contents wait under, in the path's directory (written
    /// and durable before the journal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) staged: Option<String>,
    /// What was there when planned (`None`: nothing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) before: Option<Entry>,
    /// Where the copy of what was there is kept during the run (relative to the state dir).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) saved: Option<String>,
}

/// The operations of a journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Ops<'p> {
    /// Read back from a journal file.
    Read(Vec<Op<'p>>),
    /// The steps of the plan being carried out that change the disk, and the copies saved
    /// of what some of them replace (by place in `steps`, in order).
    Planned {
        /// The steps, in order.
        steps: Vec<&'p Step>,
        /// Where the copy of what a step replaces is kept.
        saved: Saved,
    },
}

/// The copies saved of what the steps of a plan replace, by place in its steps (see
/// [`Ops::Planned`]). Almost every copy is at `txn/PATH` in the state directory: only its
/// step's place is kept (a name each was 58 bytes a changed file).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Saved {
    /// The steps whose copy is at `txn/PATH`, in order.
    usual: Vec<u32>,
    /// The others, in order, each with where its copy is (relative to the state dir).
    other: Vec<(u32, String)>,
}

impl Saved {
    /// Step `i`, at `path`, was saved at `at` (relative to the state dir); steps come in
    /// order.
    pub(super) fn push(&mut self, i: usize, path: &str, at: &std::path::Path) {
        let i = u32::try_from(i).expect("fewer than 4 billion steps");
        // byte for byte: the name made again from the path must be this very name
        let usual = std::os::unix::ffi::OsStrExt::as_bytes(at.as_os_str())
            .strip_prefix(super::TXN_DIR.as_bytes())
            .and_then(|rest| rest.strip_prefix(b"/"))
            == Some(path.as_bytes());
        if usual {
            self.usual.push(i);
        } else {
            self.other.push((i, at.display().to_string()));
        }
    }

    /// Whether no step was saved.
    pub(super) fn is_empty(&self) -> bool {
        self.usual.is_empty() && self.other.is_empty()
    }

    /// Where the copy of step `i`, at `path`, is (relative to the state dir), if it was
    /// saved.
    fn of(&self, i: usize, path: &str) -> Option<String> {
        let i = u32::try_from(i).ok()?;
        if self.usual.binary_search(&i).is_ok() {
            return Some(format!("{}/{path}", super::TXN_DIR));
        }
        let k = self.other.binary_search_by_key(&i, |(at, _)| *at).ok()?;
        Some(self.other[k].1.clone())
    }
}

impl<'p> Ops<'p> {
    /// How many operations.
    pub(super) fn len(&self) -> usize {
        match self {
            Self::Read(ops) => ops.len(),
            Self::Planned { steps, .. } => steps.len(),
        }
    }

    /// Whether there are none.
    pub(super) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Operation `i`; a planned one is made from its step (without its temporary name).
    pub(super) fn get(&self, i: usize) -> Cow<'_, Op<'p>> {
        match self {
            Self::Read(ops) => Cow::Borrowed(&ops[i]),
            Self::Planned { steps, saved } => {
                let step: &'p Step = steps[i];
                let saved = saved.of(i, &step.path);
                Cow::Owned(Op {
                    path: Cow::Borrowed(&step.path),
                    new: step.entry.as_ref().map(Target::of),
                    staged: None,
                    before: step.found.entry(),
                    saved,
                })
            }
        }
    }

    /// Each operation, in order (see [`Self::get`]).
    pub(super) fn iter(&self) -> impl Iterator<Item = Cow<'_, Op<'p>>> {
        (0..self.len()).map(|i| self.get(i))
    }
}

impl<'de> Deserialize<'de> for Ops<'_> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Vec::deserialize(d).map(Self::Read)
    }
}

/// The temporary name of operation `i`'s staged file, when the run knows it.
pub(super) type StagedName<'a> = &'a dyn Fn(usize) -> Option<String>;

/// Operations as the journal file holds them, each with the temporary name of its staged
/// file when `staged` gives one.
pub(super) struct Written<'a, 'p, 's> {
    pub(super) ops: &'a Ops<'p>,
    pub(super) staged: Option<StagedName<'s>>,
}

impl Serialize for Written<'_, '_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.ops.len()))?;
        for (i, op) in self.ops.iter().enumerate() {
            match self.staged.and_then(|name| name(i)) {
                Some(name) => {
                    let mut op: Op<'_> = op.into_owned();
                    op.staged = Some(name);
                    seq.serialize_element(&op)?;
                }
                None => seq.serialize_element(&*op)?,
            }
        }
        seq.end()
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::Saved;

    #[test]
    fn a_copy_is_found_where_it_was_saved() {
        let mut saved = Saved::default();
        assert!(saved.is_empty());
        saved.push(1, "s6/a/run", Path::new("txn/s6/a/run"));
        // a link saved beside a name that was taken, and a copy under another directory
        saved.push(4, "s6/b/run", Path::new("txn/s6/b/run.1"));
        saved.push(7, "c", Path::new("backup/c"));
        saved.push(9, "d/e", Path::new("txn/d/e"));
        // a path the same as a name only once normalized keeps its own name
        saved.push(11, "f/g", Path::new("txn/f//g"));
        assert!(!saved.is_empty());
        assert_eq!(saved.of(1, "s6/a/run").as_deref(), Some("txn/s6/a/run"));
        assert_eq!(saved.of(4, "s6/b/run").as_deref(), Some("txn/s6/b/run.1"));
        assert_eq!(saved.of(7, "c").as_deref(), Some("backup/c"));
        assert_eq!(saved.of(9, "d/e").as_deref(), Some("txn/d/e"));
        assert_eq!(saved.of(11, "f/g").as_deref(), Some("txn/f//g"));
        for unsaved in [0, 2, 5, 8, 10, 12] {
            assert_eq!(saved.of(unsaved, "x"), None);
        }
        assert_eq!(saved.usual, [1, 9]);
    }
}
