//! Where a value was written, at no cost until a problem is found there: the checks describe
//! a field as an [`At`] (a few borrowed steps on the stack) and turn it into a [`FieldPath`]
//! only when they report a problem. Most values have none, and a manifest of thousands of
//! services would otherwise build (and free) a path of owned strings for every field.

use crate::manifest::locate::{FieldPath, Seg};

/// The deepest field a check names: `services.NAME.container.environment.KEY` and
/// `services.NAME.pre_start[i][j]` have five steps. (Five keep an `At` at 128 bytes,
/// which the compiler copies inline.)
const DEPTH: usize = 5;

/// One step of an [`At`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step<'a> {
    /// A table key.
    Key(&'a str),
    /// An array index.
    Index(usize),
}

/// A field path of borrowed keys (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct At<'a> {
    steps: [Step<'a>; DEPTH],
    len: usize,
}

impl<'a> At<'a> {
    /// A path from table keys.
    pub(super) fn keys(keys: &[&'a str]) -> Self {
        let mut at = Self {
            steps: [Step::Index(0); DEPTH],
            len: 0,
        };
        for k in keys {
            at.push(Step::Key(k));
        }
        at
    }

    /// This path with one more key.
    #[must_use]
    pub(super) fn key(mut self, k: &'a str) -> Self {
        self.push(Step::Key(k));
        self
    }

    /// This path with one more index.
    #[must_use]
    pub(super) fn index(mut self, i: usize) -> Self {
        self.push(Step::Index(i));
        self
    }

    fn push(&mut self, step: Step<'a>) {
        // the deepest path the model names has DEPTH - 1 steps: a deeper one is a bug here,
        // and stops at its ancestor rather than failing the build
        debug_assert!(self.len < DEPTH, "field path deeper than {DEPTH}");
        if let Some(slot) = self.steps.get_mut(self.len) {
            *slot = step;
            self.len += 1;
        }
    }

    /// The owned path, for a problem found here.
    pub(super) fn path(&self) -> FieldPath {
        FieldPath(
            self.steps[..self.len]
                .iter()
                .map(|s| match s {
                    Step::Key(k) => Seg::Key((*k).to_owned()),
                    Step::Index(i) => Seg::Index(*i),
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::At;
    use crate::manifest::locate::FieldPath;

    #[test]
    fn builds_the_same_path_as_field_path() {
        let at = At::keys(&["services", "a b"])
            .key("pre_start")
            .index(2)
            .index(0);
        let fp = FieldPath::keys(&["services", "a b"])
            .key("pre_start")
            .index(2)
            .index(0);
        assert_eq!(at.path(), fp);
        assert_eq!(at.path().to_string(), "services.\"a b\".pre_start[2][0]");
    }
}
