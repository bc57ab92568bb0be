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

/// One name per process of a model, in [`crate::model::View::processes`] order.
pub struct ProcessNames {
    names: Vec<String>,
    /// Index in `names` of each service's first process, and one past the last service.
    first: Vec<usize>,
}

impl ProcessNames {
    /// Name every process of `model` with `name`.
    #[must_use]
    pub fn new(model: &Model, mut name: impl FnMut(&Process) -> String) -> Self {
        let mut names = Vec::with_capacity(model.view.processes().len());
        let mut first = Vec::with_capacity(model.services.len() + 1);
        for s in 0..model.services.len() {
            first.push(names.len());
            names.extend(model.view.processes_of(s).iter().map(&mut name));
        }
        first.push(names.len());
        Self { names, first }
    }

    /// The names of service `s`'s processes, in instance order.
    #[must_use]
    pub fn of(&self, s: usize) -> &[String] {
        &self.names[self.first[s]..self.first[s + 1]]
    }

    /// Every name, services in declaration order.
    #[must_use]
    pub fn all(&self) -> &[String] {
        &self.names
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
    use std::fmt::Write as _;

    use crate::backend::{BackendKind, Flags, render_embedded};
    use crate::model::Model;

    /// A stack of `n` independent services.
    fn stack(n: usize) -> Model {
        let mut text = String::from("name = \"n\"\n");
        for i in 0..n {
            let _ = write!(text, "[services.s{i}]\ncommand = [\"/bin/s\"]\n");
        }
        Model::from_toml("n.toml", &text).expect("valid")
    }

    fn enable_note(kind: BackendKind, model: &Model) -> String {
        let r = render_embedded(kind, model, &Flags::default()).expect("renders");
        let mut notes = r.notes.into_iter().filter(|n| n.starts_with("enable:"));
        notes.next().expect("an enable note")
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
