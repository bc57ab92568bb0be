//! What a backend keeps per waited-for target while it renders (an escaped poll loop, a
//! description): room only for the targets some service waits for, each freed once the
//! last service that waits for it is rendered. A cell per service and external, most of
//! them empty, took 480 KB through the render of 10,000 services without a health check.

use super::waits::edges;
use crate::model::{Check, Model, Target};

/// No service waits for the target (in [`Waited::slots`]).
const NONE: u32 = u32::MAX;

/// A `T` per target (external, or service with a health check) that some service waits
/// for, with how many services still to render wait for it.
pub struct Waited<T> {
    /// Where each target (externals, then services) is in `waited`, or [`NONE`]; empty
    /// when no service waits for anything.
    slots: Vec<u32>,
    waited: Vec<(u32, T)>,
}

impl<T: Default> Waited<T> {
    /// The table of `model`'s waits ([`edges`] of every service, to a target with a check).
    #[must_use]
    pub fn new(model: &Model) -> Self {
        let mut slots = Vec::new();
        // first how many wait for each target, then where each waited target is
        for s in 0..model.services.len() {
            for (target, _) in edges(model, s) {
                if check(model, target).is_none() {
                    continue;
                }
                if slots.is_empty() {
                    slots = vec![0; model.externals.len() + model.services.len()];
                }
                slots[slot(model, target)] += 1;
            }
        }
        let mut waited = Vec::with_capacity(slots.iter().filter(|&&n| n > 0).count());
        for n in &mut slots {
            if *n == 0 {
                *n = NONE;
            } else {
                waited.push((*n, T::default()));
                *n = u32::try_from(waited.len() - 1).unwrap_or(NONE);
            }
        }
        Self { slots, waited }
    }

    /// How many targets some service waits for (the tests' measure of the table).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.waited.len()
    }

    /// The room the table takes, in entries (none when no service waits for anything).
    #[cfg(test)]
    pub(crate) fn room(&self) -> usize {
        self.slots.capacity() + self.waited.capacity()
    }

    /// Where `target` is in `waited`, if a service waits for it.
    fn index(&self, model: &Model, target: Target) -> Option<usize> {
        let i = *self.slots.get(slot(model, target))?;
        (i != NONE).then_some(i as usize)
    }

    /// The `T` of `target`, if a service waits for it.
    #[must_use]
    pub fn get(&self, model: &Model, target: Target) -> Option<&T> {
        let (_, value) = self.waited.get(self.index(model, target)?)?;
        Some(value)
    }

    /// One more service that waits for `target` is rendered: true when it was the last
    /// (the `T` is then reset, freeing what it held).
    pub fn done_with(&mut self, model: &Model, target: Target) -> bool {
        let Some(i) = self.index(model, target) else {
            return false;
        };
        let (left, value) = &mut self.waited[i];
        *left = left.saturating_sub(1);
        if *left > 0 {
            return false;
        }
        *value = T::default();
        true
    }
}

/// Where `target` is counted in [`Waited::slots`]: externals, then services.
fn slot(model: &Model, target: Target) -> usize {
    match target {
        Target::External(e) => e,
        Target::Service(s) => model.externals.len() + s,
    }
}

/// The check polled for `target` (none for a service without a health check).
#[must_use]
pub fn check(model: &Model, target: Target) -> Option<&Check> {
    match target {
        Target::External(e) => Some(&model.externals[e].check),
        Target::Service(s) => model.services[s].health.as_ref().map(|h| &h.check),
    }
}

#[cfg(test)]
mod tests {
    use super::Waited;
    use crate::model::{Model, Target};

    fn model(text: &str) -> Model {
        Model::from_toml("w.toml", text).expect("valid")
    }

    #[test]
    fn only_targets_waited_for_get_room_and_each_is_freed_after_its_last_waiter() {
        let m = model(
            "name = \"w\"\n\
             [external.db]\ncheck = { tcp = \"127.0.0.1:5432\" }\n\
             [services.a]\ncommand = [\"/bin/a\"]\nrequires = [\"db\"]\n\
             health = { tcp = \"127.0.0.1:1\" }\n\
             [services.b]\ncommand = [\"/bin/b\"]\nrequires = [\"db\", \"a\"]\n\
             [services.c]\ncommand = [\"/bin/c\"]\n",
        );
        let mut w: Waited<String> = Waited::new(&m);
        let (db, a, c) = (Target::External(0), Target::Service(0), Target::Service(2));
        assert!(w.get(&m, db).is_some() && w.get(&m, a).is_some());
        assert!(w.get(&m, c).is_none(), "nothing waits for c");
        assert_eq!(w.waited.len(), 2);
        w.waited[0].1.push_str("loop");
        assert!(!w.done_with(&m, db), "b still waits for db");
        assert_eq!(w.get(&m, db).map(String::as_str), Some("loop"));
        assert!(w.done_with(&m, db));
        assert_eq!(w.get(&m, db).map(String::as_str), Some(""), "freed");
        assert!(!w.done_with(&m, c));
    }

    #[test]
    fn a_stack_without_waits_keeps_no_table() {
        let m = model("name = \"w\"\n[services.a]\ncommand = [\"/bin/a\"]\n");
        let w: Waited<String> = Waited::new(&m);
        assert_eq!((w.room(), w.len()), (0, 0));
    }
}
