//! What rendering found, merged as it is found: one warning per finding.

use std::sync::Arc;

use std::hash::BuildHasher as _;

use hashbrown::{DefaultHashBuilder, HashMap, HashSet, HashTable};

use super::unwaited::Unwaited;
use super::{Feature, Warning};
use crate::model::{DepKind, Model};

/// The findings of one render, merged as they come: one warning per finding (feature and
/// message), naming every service it applies to once, in the order first found. A large
/// stack repeats the same few findings for every service: only the names are kept per
/// service, not a warning each. A name repeated right after itself is dropped as it comes
/// (the findings of one service come together); any other repeat when done, so no set of
/// every name is kept meanwhile.
#[derive(Debug, Default)]
pub struct Findings {
    /// The warnings, and how many names each had when first found (kept as they were).
    out: Vec<(Warning, usize)>,
    /// Per message, per feature: the index in `out`.
    by_message: HashMap<String, Vec<(Feature, usize)>>,
    /// The service named last: the findings of one service come together, and share it.
    last: Option<Arc<str>>,
    /// The dependencies not waited for, per kind of edge and reason.
    unwaited: Vec<Unwaited>,
}

impl Findings {
    /// Add `w`: a new finding, or more services for one already found.
    pub fn push(&mut self, mut w: Warning) {
        for s in w.services.iter_mut() {
            match &self.last {
                Some(last) if **last == **s => *s = Arc::clone(last),
                _ => self.last = Some(Arc::clone(s)),
            }
        }
        let seen = self
            .by_message
            .get(w.message.as_str())
            .and_then(|fs| fs.iter().find(|(f, _)| *f == w.feature))
            .map(|&(_, i)| i);
        if let Some(i) = seen {
            let names = &mut self.out[i].0.services;
            for s in w.services {
                if names.last().is_none_or(|l| **l != *s) {
                    names.push(s);
                }
            }
            return;
        }
        let i = self.out.len();
        self.by_message
            .entry_ref(w.message.as_str())
            .or_default()
            .push((w.feature, i));
        let first = w.services.len();
        self.out.push((w, first));
    }

    /// Service `s` starts without waiting for service `dep`, its dependency of `kind`,
    /// because `dep` has `why` (`no health check`): said once per kind and reason, naming
    /// the dependencies (see `capability/unwaited.rs`).
    pub fn unwaited(
        &mut self,
        backend: &'static str,
        model: &Model,
        edge: (usize, usize, DepKind),
        why: &'static str,
    ) {
        Unwaited::add(&mut self.unwaited, (backend, model), edge, why);
    }

    /// The merged warnings, in the order first found, each service named once (after the
    /// names it was first found with); then the dependencies not waited for.
    #[must_use]
    pub fn into_warnings(mut self) -> Vec<Warning> {
        for u in std::mem::take(&mut self.unwaited) {
            self.out.push((u.into_warning(), 0));
        }
        self.out
            .into_iter()
            .map(|(mut w, first)| {
                let mut keep = once_each(&w.services, first).into_iter();
                w.services.retain(|_| keep.next().unwrap_or(true));
                w
            })
            .collect()
    }
}

/// Whether to keep each of `names`: the first `first` all, then each name not met before.
/// The names met are kept by index in a table sized once (a set of them, grown as they
/// came, held 420 KB at 10,000 services).
fn once_each(names: &[Arc<str>], first: usize) -> Vec<bool> {
    let hasher = DefaultHashBuilder::default();
    let hash = |i: u32| hasher.hash_one(&*names[i as usize]);
    let mut met = HashTable::<u32>::with_capacity(names.len());
    let mut keep = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        let h = hasher.hash_one(&**name);
        let new = met.find(h, |&j| names[j as usize] == *name).is_none();
        if new {
            let i = u32::try_from(i).expect("fewer than 4 billion names");
            met.insert_unique(h, i, |&j| hash(j));
        }
        keep.push(i < first || new);
    }
    keep
}

/// Services named so far, each to be added once: a service of the model by its index (a
/// set of the names took 280 KB at 10,000 services), any other name (an external's) by
/// name.
pub(super) struct Members {
    services: Vec<bool>,
    others: HashSet<Arc<str>>,
}

impl Members {
    /// The services `names` of `model`.
    pub(super) fn of(model: &Model, names: &[Arc<str>]) -> Self {
        let mut out = Self {
            services: vec![false; model.services.len()],
            others: HashSet::new(),
        };
        for name in names {
            out.insert(model, name);
        }
        out
    }

    /// Add `name`; false when it was there.
    pub(super) fn insert(&mut self, model: &Model, name: &Arc<str>) -> bool {
        match model.view.service_id(name) {
            Some(i) => !std::mem::replace(&mut self.services[i], true),
            None => self.others.insert(Arc::clone(name)),
        }
    }
}

/// One warning per finding (feature and message), naming every service it applies to once,
/// in the order first found.
pub(super) fn merge(found: impl Iterator<Item = Warning>) -> Vec<Warning> {
    let mut all = Findings::default();
    found.for_each(|w| all.push(w));
    all.into_warnings()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(feature: Feature, services: &[&str], message: &str) -> Warning {
        Warning {
            backend: "kubernetes",
            feature,
            services: services.iter().map(|s| Arc::from(*s)).collect(),
            message: message.to_owned(),
        }
    }

    #[test]
    fn a_finding_names_each_service_once_in_the_order_found() {
        let merged = merge(
            [
                w(Feature::Requires, &["a"], "m"),
                w(Feature::Wants, &["a"], "m"),
                w(Feature::Requires, &["b", "a"], "m"),
                w(Feature::Requires, &["c"], "other"),
                w(Feature::Requires, &["c", "b"], "m"),
            ]
            .into_iter(),
        );
        let names: Vec<Vec<&str>> = merged
            .iter()
            .map(|w| w.services.iter().map(|s| &**s).collect())
            .collect();
        assert_eq!(names, [vec!["a", "b", "c"], vec!["a"], vec!["c"]]);
        assert_eq!(merged[1].feature, Feature::Wants);
        // the names a finding is first found with are kept as they are
        let first = merge(
            [
                w(Feature::Requires, &["x", "x"], "q"),
                w(Feature::Requires, &["y", "x", "y"], "q"),
            ]
            .into_iter(),
        );
        let names: Vec<&str> = first[0].services.iter().map(|s| &**s).collect();
        assert_eq!(names, ["x", "x", "y"]);
        assert_eq!(merged[2].message, "other");
    }

    /// A detail a backend finds for every service is said once in its feature's warning,
    /// which names every service once.
    #[test]
    fn a_detail_found_for_many_services_is_said_once() {
        let model = crate::model::Model::from_toml(
            "t.toml",
            "name = \"s\"\n[services.a]\ncommand = [\"/bin/a\"]\n[services.b]\ncommand = [\"/bin/b\"]\n",
        )
        .expect("valid");
        let found = ["a", "b", "a"]
            .iter()
            .map(|s| w(Feature::Sandbox, &[s], "no `user`"))
            .collect();
        let support = |f| {
            if f == Feature::Sandbox {
                crate::backend::capability::Support::Emulated("confined")
            } else {
                crate::backend::capability::Support::Native
            }
        };
        let all = crate::backend::capability::warnings("compose", support, &model, found);
        let [sandbox] = &all[..] else {
            panic!("one warning: {all:?}")
        };
        assert_eq!(sandbox.message, "emulated: confined; no `user`");
        let names: Vec<&str> = sandbox.services.iter().map(|s| &**s).collect();
        assert_eq!(names, ["a", "b"]);
    }

    #[test]
    fn members_are_services_by_index_and_other_names_by_name() {
        let model = crate::model::Model::from_toml(
            "t.toml",
            "name = \"s\"\n[services.a]\ncommand = [\"/bin/a\"]\n[services.b]\ncommand = [\"/bin/b\"]\n",
        )
        .expect("valid");
        let name = |s: &str| Arc::<str>::from(s);
        let mut m = Members::of(&model, &[name("b"), name("db")]);
        let added: Vec<bool> = ["a", "b", "db", "cache", "a", "cache"]
            .iter()
            .map(|s| m.insert(&model, &name(s)))
            .collect();
        assert_eq!(added, [true, false, false, true, false, false]);
        assert_eq!((m.services.len(), m.others.len()), (2, 2));
    }
}
