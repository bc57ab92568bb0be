//! References between entries: dependency lists resolved to services and externals (by
//! index, once), and dependency cycles, each reported at the edge that closes it.

use indexmap::IndexMap;

use crate::manifest::{GroupSpec, Manifest, ServiceSpec};

use super::Dep;
use super::csr::Csr;
use super::graph::{self, DepKind, Edge, Link, NOWHERE, Target};
use super::names::NameIndex;
use super::path::At;
use super::problems::{Errors, Known};

/// The dependency lists of a service, in the order they are resolved.
const KINDS: [DepKind; 4] = [
    DepKind::Requires,
    DepKind::Wants,
    DepKind::After,
    DepKind::Before,
];

/// What a service is built against: the manifest's `[defaults]` and groups (the services and
/// externals are known to the [`Links`]).
pub(super) struct Tables<'m> {
    /// `[defaults]`.
    pub defaults: &'m ServiceSpec,
    /// `[groups.*]`.
    pub groups: &'m IndexMap<String, GroupSpec>,
}

/// The resolved dependencies of every service (each list without repeats), in one vector.
pub(super) struct Links {
    /// The services by name.
    services_ix: NameIndex,
    /// The externals by name.
    externals_ix: NameIndex,
    list: Vec<Link>,
    /// Where each service's links start; one more entry for the end.
    start: Vec<u32>,
    /// Per target (services, then externals): the list that holds it (a stamp) and where.
    seen: Vec<(usize, usize)>,
    stamp: usize,
    services: usize,
    /// The `[defaults]` lists, resolved once (`None`: a problem, reported per service).
    defaults: [Vec<Option<Target>>; 4],
}

/// The four lists of a service: `requires`, `wants`, `after` and `before`.
pub(super) type Lists = (Vec<Dep>, Vec<Dep>, Vec<Dep>, Vec<String>);

impl Links {
    /// Ready for the services and externals of `ix` (names in order), with the `[defaults]`
    /// lists resolved; `own` is how many entries the services' own lists have (for the
    /// capacity).
    pub(super) fn new(defaults: &ServiceSpec, ix: (NameIndex, NameIndex), own: usize) -> Self {
        let (services_ix, externals_ix) = ix;
        let defaults = KINDS.map(|kind| {
            inherited(defaults, kind)
                .iter()
                .map(|n| resolve((&services_ix, &externals_ix), n, kind))
                .collect()
        });
        let n = services_ix.len();
        // every service its defaults and its own lists at most: the long list is never
        // regrown (a doubling would leave up to half of it unused, and copy it)
        let inherited = defaults.iter().map(Vec::len).sum::<usize>();
        let mut start = Vec::with_capacity(n + 1);
        start.push(0);
        Self {
            seen: vec![(0, 0); n + externals_ix.len()],
            services_ix,
            externals_ix,
            list: Vec::with_capacity(n.saturating_mul(inherited).saturating_add(own)),
            start,
            stamp: 0,
            services: n,
            defaults,
        }
    }

    /// Ready for the services of `m` (see [`Links::new`]).
    pub(super) fn of_manifest(m: &Manifest) -> Self {
        let services_ix = NameIndex::new(m.services.keys().map(String::as_str));
        let externals_ix = NameIndex::new(m.external.keys().map(String::as_str));
        let own: usize = m
            .services
            .values()
            .map(|spec| {
                [&spec.requires, &spec.wants, &spec.after, &spec.before]
                    .into_iter()
                    .map(|l| l.as_ref().map_or(0, Vec::len))
                    .sum::<usize>()
            })
            .sum();
        Self::new(&m.defaults, (services_ix, externals_ix), own)
    }

    /// Whether service `i` is named `name`.
    pub(super) fn service_is(&self, i: usize, name: &str) -> bool {
        i < self.services && self.services_ix.name(i) == name
    }

    /// How many services there are.
    pub(super) fn service_count(&self) -> usize {
        self.services
    }

    /// The name of service `i` (empty beyond the last).
    pub(super) fn service_name(&self, i: usize) -> &str {
        if i < self.services {
            self.services_ix.name(i)
        } else {
            ""
        }
    }

    /// Every service's name, in order.
    pub(super) fn service_names(&self) -> impl ExactSizeIterator<Item = &str> + Clone {
        (0..self.services).map(|i| self.services_ix.name(i))
    }

    /// Whether the externals are `names`, in this order.
    pub(super) fn externals_are<'a>(&self, names: impl ExactSizeIterator<Item = &'a str>) -> bool {
        names.len() == self.externals_ix.len()
            && names
                .enumerate()
                .all(|(i, n)| self.externals_ix.name(i) == n)
    }

    /// Whether `name` is a service.
    pub(super) fn is_service(&self, name: &str) -> bool {
        self.services_ix.get(name).is_some()
    }

    /// The links of service `s`.
    pub(super) fn of(&self, s: usize) -> &[Link] {
        match (self.start.get(s), self.start.get(s + 1)) {
            (Some(&a), Some(&b)) => &self.list[a as usize..b as usize],
            _ => &[],
        }
    }

    /// Resolve the lists of the next service, `name`: its defaults first,
    /// then its own entries, each target once per list. Problems go to `errs`.
    pub(super) fn service(
        &mut self,
        errs: &mut Errors<'_>,
        t: &Tables<'_>,
        name: &str,
        own: [Option<Vec<String>>; 4],
    ) -> Lists {
        let [own_requires, own_wants, own_after, own_before] = own;
        let requires = self.list_of(errs, t, name, 0, own_requires, None);
        let wants = self.list_of(errs, t, name, 1, own_wants, None);
        let after = self.list_of(errs, t, name, 2, own_after, None);
        let mut before = Vec::new();
        self.list_of(errs, t, name, 3, own_before, Some(&mut before));
        self.start.push(super::csr::offset(self.list.len()));
        (requires, wants, after, before)
    }

    /// One list (`KINDS[k]`) of service `name`; the names it keeps go to `names` too
    /// when given.
    fn list_of(
        &mut self,
        errs: &mut Errors<'_>,
        t: &Tables<'_>,
        name: &str,
        k: usize,
        own: Option<Vec<String>>,
        mut names: Option<&mut Vec<String>>,
    ) -> Vec<Dep> {
        let kind = KINDS[k];
        let inherited = inherited(t.defaults, kind);
        if inherited.is_empty() && own.is_none() {
            return Vec::new();
        }
        self.stamp += 1;
        let mut out = Vec::with_capacity(inherited.len() + own.as_ref().map_or(0, Vec::len));
        for (i, dep) in inherited.iter().enumerate() {
            if dep == name {
                continue; // a default dependency does not apply to the service it names
            }
            let Some(target) = self.defaults[k][i] else {
                let at = At::keys(&["defaults", kind.key()]).index(i);
                self.unresolved(errs, t, kind, dep, &at);
                continue;
            };
            if self.add(target, kind, (NOWHERE, index(i))) {
                out.push(dep_of(target));
                if let Some(names) = names.as_deref_mut() {
                    names.push(dep.clone());
                }
            }
        }
        for (i, dep) in own.into_iter().flatten().enumerate() {
            let Some(target) = resolve((&self.services_ix, &self.externals_ix), &dep, kind) else {
                let at = At::keys(&["services", name, kind.key()]).index(i);
                self.unresolved(errs, t, kind, &dep, &at);
                continue;
            };
            if self.add(target, kind, (index(i), NOWHERE)) {
                out.push(dep_of(target));
                if let Some(names) = names.as_deref_mut() {
                    names.push(dep);
                }
            }
        }
        out
    }

    /// The links of every service, and the services and the externals by name, for the view.
    pub(super) fn into_parts(self) -> (Csr<Link>, NameIndex, NameIndex) {
        (
            Csr::from_parts(self.start, self.list),
            self.services_ix,
            self.externals_ix,
        )
    }

    /// Record `target` in the current list; `false` when the list already holds it (then
    /// only where the service's own list names it is noted).
    fn add(&mut self, target: Target, kind: DepKind, (own, default): (u32, u32)) -> bool {
        let slot = match target {
            Target::Service(i) => i,
            Target::External(e) => self.services + e,
        };
        let (stamp, at) = &mut self.seen[slot];
        if *stamp == self.stamp {
            let link = &mut self.list[*at];
            if link.own == NOWHERE {
                link.own = own;
            }
            return false;
        }
        *stamp = self.stamp;
        *at = self.list.len();
        self.list.push(Link {
            target,
            kind,
            own,
            default,
        });
        true
    }

    /// Every edge between services, in declaration order: per service its `requires`,
    /// `wants` and `after` services, then the services its `before` names.
    pub(super) fn edges(&self) -> Vec<Edge> {
        let n = self.start.len() - 1;
        let mut out = Vec::with_capacity(self.list.len());
        for s in 0..n {
            for l in self.of(s) {
                match (l.kind, l.target) {
                    (DepKind::Before, Target::Service(later)) => out.push(Edge {
                        waiter: later,
                        dep: s,
                        kind: DepKind::Before,
                    }),
                    (kind, Target::Service(dep)) => out.push(Edge {
                        waiter: s,
                        dep,
                        kind,
                    }),
                    (_, Target::External(_)) => {}
                }
            }
        }
        out
    }

    /// Where `e` is written: the service's own list, or `[defaults]`.
    fn written_at(&self, e: &Edge) -> At<'_> {
        let (declared_in, target) = (e.declared_in(), e.target());
        let name = self.service_name(declared_in);
        let link = self
            .of(declared_in)
            .iter()
            .find(|l| l.kind == e.kind && l.target == Target::Service(target));
        match link {
            Some(l) if l.own != NOWHERE => {
                At::keys(&["services", name, e.kind.key()]).index(l.own as usize)
            }
            Some(l) if l.default != NOWHERE => {
                At::keys(&["defaults", e.kind.key()]).index(l.default as usize)
            }
            _ => At::keys(&["services", name]),
        }
    }
}

/// The `[defaults]` list of `kind`.
fn inherited(d: &ServiceSpec, kind: DepKind) -> &[String] {
    let list = match kind {
        DepKind::Requires => &d.requires,
        DepKind::Wants => &d.wants,
        DepKind::After => &d.after,
        DepKind::Before => &d.before,
    };
    list.as_deref().unwrap_or_default()
}

/// A position in a list, as stored in a [`Link`].
fn index(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(NOWHERE)
}

fn dep_of(target: Target) -> Dep {
    match target {
        Target::Service(i) => Dep::Service(index(i)),
        Target::External(i) => Dep::External(index(i)),
    }
}

/// What `name` in a `kind` list names: a service, or an external (not for `before`).
fn resolve(
    (services, externals): (&NameIndex, &NameIndex),
    name: &str,
    kind: DepKind,
) -> Option<Target> {
    match services.get(name) {
        Some(i) => Some(Target::Service(i)),
        None if kind == DepKind::Before => None,
        None => externals.get(name).map(Target::External),
    }
}

impl Links {
    /// Report `name` in a `kind` list at `at`, which names no service or external.
    fn unresolved(
        &self,
        errs: &mut Errors<'_>,
        t: &Tables<'_>,
        kind: DepKind,
        name: &str,
        at: &At<'_>,
    ) {
        let (what, hint) = if let Some(g) = errs.group(t.groups, name) {
            (
                format!(
                    "`{}` is a group; dependencies name services or externals",
                    name.escape_debug()
                ),
                format!("name its members instead: {}", g.services.join(", ")).into(),
            )
        } else if kind == DepKind::Before && self.externals_ix.get(name).is_some() {
            (
                format!(
                    "`{}` is an external; `before` orders services of this stack",
                    name.escape_debug()
                ),
                "externals are not started by the stack: remove it".into(),
            )
        } else {
            (
                format!("`{}` is not a service or external", name.escape_debug()),
                errs.suggest(
                    name,
                    (
                        Known::Targets,
                        self.services_ix.names().chain(self.externals_ix.names()),
                    ),
                ),
            )
        };
        errs.push_shared(at, what, Some(hint));
    }
}

/// One error per dependency cycle, at the edge that closes it, with the whole path.
pub(super) fn check_cycles(errs: &mut Errors<'_>, links: &Links, edges: &[Edge]) {
    let name = |i: usize| links.service_name(i);
    for cycle in graph::find_cycles(links.service_count(), edges) {
        let mut path: Vec<&str> = cycle.iter().map(|e| name(e.waiter)).collect();
        path.push(name(cycle[0].waiter));
        let why: Vec<String> = cycle
            .iter()
            .map(|e| {
                format!(
                    "{} {} {}",
                    name(e.declared_in()),
                    e.kind.key(),
                    name(e.target())
                )
            })
            .collect();
        errs.push(
            &links.written_at(&cycle[0]),
            format!(
                "dependency cycle: {} ({})",
                path.join(" → "),
                why.join(", ")
            ),
            Some("a service cannot wait for itself: remove one of these edges".to_owned()),
        );
    }
}
