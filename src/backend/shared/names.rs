//! The runtime name of every process, built once per render: a backend looks the names of a
//! service's processes up for each service that depends on it, instead of formatting them
//! again each time.

use crate::model::{Model, Process};

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
