//! The runtime name of every process, built once per render: a backend looks the names of a
//! service's processes up for each service that depends on it, instead of formatting them
//! again each time.

use crate::errors::{Error, Refusal};
use crate::model::{Model, Process};

/// The refusal when `service`'s process would take `name`, which another process of the
/// stack already has: `NAME-INSTANCE` of an instanced service is also a service's name (the
/// first one keeps it). `needs` says what the backend needs one of per process.
#[must_use]
pub fn taken_twice(backend: &str, needs: &str, service: &str, name: &str) -> Error {
    Refusal::new(
        format!("services.{service}"),
        format!(
            "{backend} needs one {needs} per process, but `{name}` would be written twice: a service name collides with NAME-INSTANCE of an instanced service"
        ),
    )
    .hint("rename the service or the instance")
    .into()
}

/// One name per process of a model, in [`crate::model::View::processes`] order: all in one
/// text (a `String` each took 56 bytes and an allocation a process, 640 KB at 10,000).
pub struct ProcessNames {
    text: String,
    /// Where each name ends in `text`.
    ends: Vec<u32>,
    /// Index in `ends` of each service's first process, and one past the last service.
    first: Vec<u32>,
}

/// `n` as an offset of [`ProcessNames`].
fn offset(n: usize) -> u32 {
    u32::try_from(n).expect("under 4 GiB of process names")
}

impl ProcessNames {
    /// Name every process of `model` with `name`.
    #[must_use]
    pub fn new(model: &Model, mut name: impl FnMut(&Process) -> String) -> Self {
        let processes = model.view.processes().len();
        let mut out = Self {
            text: String::new(),
            ends: Vec::with_capacity(processes),
            first: Vec::with_capacity(model.services.len() + 1),
        };
        for s in 0..model.services.len() {
            out.first.push(offset(out.ends.len()));
            for p in model.view.processes_of(s) {
                let n = name(p);
                if out.text.capacity() == 0 {
                    // most names are about as long as the first
                    out.text.reserve_exact((n.len() + 4) * processes);
                }
                out.text.push_str(&n);
                out.ends.push(offset(out.text.len()));
            }
        }
        out.first.push(offset(out.ends.len()));
        out.text.shrink_to_fit();
        out
    }

    /// The names of service `s`'s processes, in instance order.
    #[must_use]
    pub fn of(&self, s: usize) -> Names<'_> {
        let range = match (self.first.get(s), self.first.get(s + 1)) {
            (Some(&a), Some(&b)) => a as usize..b as usize,
            _ => 0..0,
        };
        Names { all: self, range }
    }

    /// Every name, services in declaration order.
    #[must_use]
    pub fn all(&self) -> Names<'_> {
        Names {
            all: self,
            range: 0..self.ends.len(),
        }
    }

    /// The first process (in [`crate::model::View::processes`] order) whose name an earlier
    /// one has, if any. Its index is kept per name, not the name (4 bytes a name: a set of
    /// the names took 280 KB at 10,000).
    #[must_use]
    pub fn first_repeat(&self) -> Option<usize> {
        use std::hash::BuildHasher as _;
        let hasher = hashbrown::DefaultHashBuilder::default();
        let mut seen = hashbrown::HashTable::<u32>::with_capacity(self.ends.len());
        let hash = |i: u32| hasher.hash_one(self.name(i as usize));
        (0..self.ends.len()).find(|&i| {
            let name = self.name(i);
            let h = hasher.hash_one(name);
            if seen.find(h, |&j| self.name(j as usize) == name).is_some() {
                return true;
            }
            seen.insert_unique(h, offset(i), |&j| hash(j));
            false
        })
    }

    /// The name of process `i` (in [`crate::model::View::processes`] order).
    fn name(&self, i: usize) -> &str {
        let start = i
            .checked_sub(1)
            .map_or(0, |before| self.ends[before] as usize);
        &self.text[start..self.ends[i] as usize]
    }
}

/// Some names of [`ProcessNames`] (a service's, or all), in order: an iterator that can
/// also be indexed ([`Names::get`]).
#[derive(Clone)]
pub struct Names<'a> {
    all: &'a ProcessNames,
    range: std::ops::Range<usize>,
}

impl<'a> Names<'a> {
    /// The `k`th name left.
    ///
    /// # Panics
    /// `k` names or fewer are left.
    #[must_use]
    pub fn get(&self, k: usize) -> &'a str {
        assert!(k < self.range.len(), "name {k} of {}", self.range.len());
        self.all.name(self.range.start + k)
    }
}

impl<'a> Iterator for Names<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        self.range.next().map(|i| self.all.name(i))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.range.size_hint()
    }
}

impl ExactSizeIterator for Names<'_> {}

impl DoubleEndedIterator for Names<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.range.next_back().map(|i| self.all.name(i))
    }
}

/// An enable note names at most this many service directories (a line one can still read
/// and edit); past it the note loops over the output directory instead (a line naming ten
/// thousand services helps no one).
pub const NAMED_IN_NOTE: usize = 32;

/// The `count` `names` joined by spaces when there are at most [`NAMED_IN_NOTE`].
#[must_use]
pub fn few<'a>(count: usize, names: impl Iterator<Item = &'a str>) -> Option<String> {
    (count <= NAMED_IN_NOTE).then(|| names.collect::<Vec<_>>().join(" "))
}

#[cfg(test)]
mod tests {
    use crate::backend::{BackendKind, Flags, render_embedded};
    use crate::model::Model;

    /// A stack of `n` independent services.
    fn stack(n: usize) -> Model {
        Model::independent(n)
    }

    fn enable_note(kind: BackendKind, model: &Model) -> String {
        let r = render_embedded(kind, model, &Flags::default()).expect("renders");
        let mut notes = r.notes.into_iter().filter(|n| n.starts_with("enable:"));
        notes.next().expect("an enable note")
    }

    #[test]
    fn process_names_are_found_by_service_in_instance_order() {
        let text = "name = \"n\"\n[services.a]\ncommand = [\"/bin/a\"]\n\
            [services.b]\ncommand = [\"/bin/b\"]\ninstances = [\"x\", \"yy\", \"z\"]\n\
            [services.c]\ncommand = [\"/bin/c\"]\n";
        let model = Model::from_toml("n.toml", text).expect("valid");
        let names = super::ProcessNames::new(&model, |p| p.joined(&model.services[p.service], "@"));
        assert_eq!(names.of(0).collect::<Vec<_>>(), ["a"]);
        let b = names.of(1);
        assert_eq!((b.len(), b.get(0), b.get(2)), (3, "b@x", "b@z"));
        assert_eq!(b.rev().collect::<Vec<_>>(), ["b@z", "b@yy", "b@x"]);
        assert_eq!(names.of(2).collect::<Vec<_>>(), ["c"]);
        assert_eq!(names.of(3).len(), 0, "no such service");
        let all: Vec<_> = names.all().collect();
        assert_eq!(all, ["a", "b@x", "b@yy", "b@z", "c"]);
    }

    #[test]
    fn the_first_name_taken_again_is_found() {
        let text = "name = \"n\"\n[services.a]\ncommand = [\"/bin/a\"]\n\
            instances = [\"x\", \"y\"]\n[services.b]\ncommand = [\"/bin/b\"]\n\
            [services.a-y]\ncommand = [\"/bin/c\"]\n";
        let model = Model::from_toml("n.toml", text).expect("valid");
        let named = |sep: &'static str| {
            super::ProcessNames::new(&model, |p| p.joined(&model.services[p.service], sep))
        };
        // a-x a-y b a-y: the fourth process takes a name again
        assert_eq!(named("-").first_repeat(), Some(3));
        assert_eq!(named("@").first_repeat(), None);
        assert_eq!(stack_names(2000).first_repeat(), None);
    }

    /// The names of a stack of `n` independent services.
    fn stack_names(n: usize) -> super::ProcessNames {
        let model = stack(n);
        super::ProcessNames::new(&model, |p| model.services[p.service].name.to_string())
    }

    #[test]
    fn an_enable_note_names_few_directories_and_loops_over_many() {
        for (kind, dir) in [(BackendKind::Runit, "sv"), (BackendKind::S6, "s6")] {
            let few = enable_note(kind, &stack(super::NAMED_IN_NOTE));
            assert!(few.contains("for s in s0 s1 s2 "), "{few}");
            assert!(few.contains(" s30 s31;"), "{few}");
            let many = enable_note(kind, &stack(super::NAMED_IN_NOTE + 1));
            assert!(!many.contains("s32"), "{many}");
            assert!(many.contains(&format!("for d in {dir}/*;")), "{many}");
            assert!(many.contains("its 33 directories"), "{many}");
        }
    }
}
