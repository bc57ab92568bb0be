//! Dependencies a backend cannot wait for, said once per kind of edge.
//!
//! launchd waits for a dependency through its health check, Kubernetes through its port: a
//! dependency without one is started past. One finding per edge, each naming both services,
//! never merged: a wide graph of 10,000 services made 40,000 of them, a 4 MB line. Here
//! each kind of edge (requires, wants, ordering) gets one finding, whose message names the
//! dependencies not waited for and whose services are the ones that depend on them.

use std::fmt::Write as _;
use std::sync::Arc;

use super::{Feature, Warning, cut_list};
use crate::model::{DepKind, Model};

/// The dependencies of one kind of edge not waited for, and the services that have one.
#[derive(Debug)]
pub(super) struct Unwaited {
    backend: &'static str,
    feature: Feature,
    /// Why they cannot be waited for: `no health check`.
    why: &'static str,
    /// Per service of the model: whether it is in `deps`.
    seen: Vec<bool>,
    /// The dependencies, in the order first found.
    deps: Vec<Arc<str>>,
    /// The services depending on them, in the order found (a repeat right after itself is
    /// left out: the edges of one service come together).
    dependents: Vec<Arc<str>>,
}

/// The feature an edge of `kind` belongs to.
fn feature_of(kind: DepKind) -> Feature {
    match kind {
        DepKind::Requires => Feature::Requires,
        DepKind::Wants => Feature::Wants,
        DepKind::After | DepKind::Before => Feature::Ordering,
    }
}

impl Unwaited {
    /// Add the edge from service `s` to service `dep` of `kind`, among `all` (one entry per
    /// feature and reason).
    pub(super) fn add(
        all: &mut Vec<Self>,
        (backend, model): (&'static str, &Model),
        (s, dep, kind): (usize, usize, DepKind),
        why: &'static str,
    ) {
        let feature = feature_of(kind);
        let found = all
            .iter()
            .position(|u| u.feature == feature && u.why == why);
        let i = found.unwrap_or_else(|| {
            all.push(Self {
                backend,
                feature,
                why,
                seen: vec![false; model.services.len()],
                deps: Vec::new(),
                dependents: Vec::new(),
            });
            all.len() - 1
        });
        let u = &mut all[i];
        if !std::mem::replace(&mut u.seen[dep], true) {
            u.deps.push(Arc::clone(&model.services[dep].name));
        }
        let name = &model.services[s].name;
        if u.dependents.last().is_none_or(|l| l != name) {
            u.dependents.push(Arc::clone(name));
        }
    }

    /// The finding: the dependencies in the message (the first 16, then how many more),
    /// the services that depend on them as its services.
    pub(super) fn into_warning(self) -> Warning {
        let names = cut_list(self.deps.iter().map(|d| &**d), "`").unwrap_or_default();
        let mut message = format!("not waitable: {names}");
        let (verb, whose, it) = if self.deps.len() == 1 {
            ("has", "its", "it")
        } else {
            ("have", "their", "them")
        };
        let _ = write!(
            message,
            " {verb} {}: {whose} dependents start without waiting for {it}",
            self.why
        );
        Warning {
            backend: self.backend,
            feature: self.feature,
            services: self.dependents.into(),
            message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Findings;
    use super::*;

    fn names(w: &Warning) -> Vec<&str> {
        w.services.iter().map(|s| &**s).collect()
    }

    /// Every edge of a kind is said in one finding: the dependencies once each in its
    /// message, the services depending on them once each.
    #[test]
    fn the_edges_of_a_kind_are_one_finding() {
        let m = Model::independent(20);
        let mut found = Findings::default();
        for s in 2..20 {
            for dep in [0, 1, s - 1] {
                found.unwaited(
                    "launchd",
                    &m,
                    (s, dep, DepKind::Requires),
                    "no health check",
                );
            }
        }
        found.unwaited("launchd", &m, (0, 1, DepKind::After), "no health check");
        found.unwaited("launchd", &m, (3, 1, DepKind::Wants), "no port");
        let all = found.into_warnings();
        let [requires, ordering, wants] = &all[..] else {
            panic!("one finding per kind: {all:#?}")
        };
        assert_eq!(requires.feature, Feature::Requires);
        // deps: 0, 1, then 2..=18 as each s - 1 first appears: 19 in all, 16 shown
        assert_eq!(
            requires.message,
            "not waitable: `s0`, `s1`, `s2`, `s3`, `s4`, `s5`, `s6`, `s7`, `s8`, `s9`, `s10`, \
             `s11`, `s12`, `s13`, `s14`, `s15` and 3 more have no health check: their \
             dependents start without waiting for them"
        );
        let dependents: Vec<String> = (2..20).map(|i| format!("s{i}")).collect();
        assert_eq!(names(requires), dependents);
        assert_eq!(ordering.feature, Feature::Ordering);
        assert_eq!(
            ordering.message,
            "not waitable: `s1` has no health check: its dependents start without waiting for it"
        );
        assert_eq!(names(ordering), ["s0"]);
        assert_eq!(wants.feature, Feature::Wants);
        assert!(wants.message.contains("`s1` has no port:"), "{wants:?}");
    }

    #[test]
    fn a_kind_maps_to_its_feature() {
        assert_eq!(feature_of(DepKind::Requires), Feature::Requires);
        assert_eq!(feature_of(DepKind::Wants), Feature::Wants);
        assert_eq!(feature_of(DepKind::After), Feature::Ordering);
        assert_eq!(feature_of(DepKind::Before), Feature::Ordering);
    }
}
