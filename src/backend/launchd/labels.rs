//! Job labels, written when they are needed instead of kept in a table for the whole render
//! (10,000 labels held to the notes were 500 KB), and the check that no two jobs share one.

use std::hash::BuildHasher as _;

use hashbrown::{DefaultHashBuilder, HashTable};

use crate::errors::{Refusal, Result};
use crate::model::Model;

/// Append the label of a process of the service `name`: `PREFIX.NAME` or
/// `PREFIX.NAME.INSTANCE`.
pub(super) fn push_label(out: &mut String, prefix: &str, name: &str, instance: Option<&str>) {
    out.reserve(prefix.len() + name.len() + instance.map_or(0, str::len) + 2);
    out.push_str(prefix);
    out.push('.');
    out.push_str(name);
    if let Some(i) = instance {
        out.push('.');
        out.push_str(i);
    }
}

/// Call `f` with the label of each process of each service of `services`, in order (each
/// service's processes in reverse when `rev`), written into one buffer.
pub(super) fn each_label(
    model: &Model,
    prefix: &str,
    services: impl Iterator<Item = usize>,
    rev: bool,
    mut f: impl FnMut(&str),
) {
    let mut label = String::new();
    for s in services {
        let name = &model.services[s].name;
        let processes = model.view.processes_of(s).iter();
        let processes: &mut dyn Iterator<Item = _> = if rev {
            &mut processes.rev()
        } else {
            &mut { processes }
        };
        for p in processes {
            label.clear();
            push_label(&mut label, prefix, name, p.instance.as_deref());
            f(&label);
        }
    }
}

/// The labels taken so far that another job could take too, as a 64-bit hash of each.
///
/// Only a label with a dot after `PREFIX.` can be taken twice (a dotted service name and
/// an instance, `a.b` and `a` with instance `b`): service names are unique, and every other
/// label has a dot there. A plain stack of 10,000 services so keeps none. (The table and
/// hasher are those of the output's path check: code a run has mapped already.)
#[derive(Default)]
pub(super) struct Taken {
    hashes: HashTable<u64>,
    hasher: DefaultHashBuilder,
    /// Every label hashes alike (tests: every dotted label after the first is then checked
    /// against those before it).
    #[cfg(test)]
    alike: bool,
}

impl Taken {
    /// Take `label`, the label of instance number `i` (in instance order) of service `s`;
    /// refused when a process before it has it.
    pub(super) fn take(
        &mut self,
        model: &Model,
        prefix: &str,
        (s, i): (usize, usize),
        label: &str,
    ) -> Result<()> {
        let svc = &model.services[s];
        let instanced = model.view.processes_of(s)[i].instance.is_some();
        if !instanced && !svc.name.contains('.') {
            return Ok(());
        }
        let hash = self.hash(label);
        if self.hashes.find(hash, |&h| h == hash).is_none() {
            self.hashes.insert_unique(hash, hash, |&h| h);
            return Ok(());
        }
        // a hash seen before: the label, unless two labels share a hash (then it is taken)
        let mut twice = false;
        each_label(model, prefix, 0..s, false, |l| twice |= l == label);
        for p in &model.view.processes_of(s)[..i] {
            let mut l = String::new();
            push_label(&mut l, prefix, &svc.name, p.instance.as_deref());
            twice |= l == label;
        }
        if !twice {
            return Ok(());
        }
        Err(Refusal::new(
            format!("services.{}", svc.name),
            format!("two launchd jobs would both be labelled `{label}` (a service name with a dot clashes with an instance)"),
        )
        .hint("rename one of the services (no dots)")
        .into())
    }

    /// The hash of `label` kept.
    fn hash(&self, label: &str) -> u64 {
        #[cfg(test)]
        if self.alike {
            return 0;
        }
        self.hasher.hash_one(label)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_labels_with_a_dot_after_the_prefix_are_kept() {
        let model = Model::from_toml(
            "t.toml",
            "name = \"t\"\n[services.a]\ncommand = [\"/bin/a\"]\ninstances = [\"x\", \"y\"]\n[services.b]\ncommand = [\"/bin/b\"]\n[services.\"c.d\"]\ncommand = [\"/bin/c\"]\n",
        )
        .expect("valid");
        let mut taken = Taken::default();
        let mut n = 0;
        for s in 0..model.services.len() {
            let svc = &model.services[s];
            for (i, p) in model.view.processes_of(s).iter().enumerate() {
                let mut label = String::new();
                push_label(&mut label, "io.t", &svc.name, p.instance.as_deref());
                taken
                    .take(&model, "io.t", (s, i), &label)
                    .expect("no clash");
                n += 1;
            }
        }
        assert_eq!(n, 4);
        assert_eq!(taken.hashes.len(), 3, "a.x, a.y and c.d, not b");
    }

    #[test]
    fn a_label_taken_twice_is_refused_even_when_every_hash_is_alike() {
        let model = Model::from_toml(
            "t.toml",
            "name = \"t\"\n[services.a]\ncommand = [\"/bin/a\"]\ninstances = [\"b\", \"c\"]\n[services.\"a.c\"]\ncommand = [\"/bin/c\"]\n[services.\"a.d\"]\ncommand = [\"/bin/d\"]\n",
        )
        .expect("valid");
        let mut taken = Taken {
            alike: true,
            ..Taken::default()
        };
        let mut result = Ok(());
        let mut checked = 0;
        'all: for s in 0..model.services.len() {
            for (i, p) in model.view.processes_of(s).iter().enumerate() {
                let mut label = String::new();
                push_label(
                    &mut label,
                    "io.t",
                    &model.services[s].name,
                    p.instance.as_deref(),
                );
                result = taken.take(&model, "io.t", (s, i), &label);
                if result.is_err() {
                    break 'all;
                }
                checked += 1;
            }
        }
        assert_eq!(checked, 2, "a.b and a.c pass though their hashes are alike");
        let e = result.expect_err("a.c is taken twice").to_string();
        assert!(e.contains("`io.t.a.c`"), "{e}");
    }
}
