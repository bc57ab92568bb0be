//! The per-service lists of the [`super::View`], each built in one pass.

use super::super::csr::Csr;
use super::super::graph::{DepKind, Edge, Link, Target};
use super::super::names::NameIndex;
use super::super::{Group, Service};
use super::{Dependency, Dependent, Process};

/// Every process (services in order, instances expanded), and where each service's start.
pub(super) fn processes(services: &[Service]) -> (Vec<Process>, Vec<u32>) {
    let mut processes = Vec::with_capacity(services.len());
    let mut start = Vec::with_capacity(services.len() + 1);
    start.push(0);
    for (service, s) in services.iter().enumerate() {
        match &s.instances {
            None => processes.push(Process {
                service,
                instance: None,
            }),
            Some(list) => processes.extend(list.iter().map(|inst| Process {
                service,
                instance: Some(inst.clone()),
            })),
        }
        start.push(super::super::csr::offset(processes.len()));
    }
    (processes, start)
}

/// The declared dependencies of every service (of `n`, with `externals` externals): its
/// `requires`, `wants` and `after` links, each target once, the first (strongest) kind.
pub(super) fn declared(n: usize, externals: usize, links: &Csr<Link>) -> Csr<Dependency> {
    // per target (services, then externals): the last service (+ 1) that listed it
    let mut listed_by = vec![0usize; n + externals];
    // at most every link: not a doubled vector (the view keeps it)
    let most = (0..n).map(|s| links.of(s).len()).sum();
    let mut out = Csr::with_capacity(n, most);
    for s in 0..n {
        out.push_list(links.of(s).iter().filter_map(|l| {
            let slot = match l.target {
                Target::Service(i) => i,
                Target::External(e) => n + e,
            };
            let fresh = l.kind != DepKind::Before && listed_by[slot] != s + 1;
            if fresh {
                listed_by[slot] = s + 1;
            }
            fresh.then_some(Dependency {
                target: l.target,
                kind: l.kind,
            })
        }));
    }
    out
}

/// The reverse of `declared`: per service, the services that name it, in order.
pub(super) fn dependents(n: usize, declared: &Csr<Dependency>) -> Csr<Dependent> {
    let pairs = (0..n).flat_map(|service| {
        declared
            .of(service)
            .iter()
            .filter_map(move |d| match d.target {
                Target::Service(t) => Some((
                    t,
                    Dependent {
                        service,
                        kind: d.kind,
                    },
                )),
                Target::External(_) => None,
            })
    });
    Csr::group(n, pairs)
}

/// Per service, the services whose `before` names it.
pub(super) fn ordered_before(n: usize, edges: &[Edge]) -> Csr<usize> {
    let pairs = edges
        .iter()
        .filter(|e| e.kind == DepKind::Before)
        .map(|e| (e.waiter, e.dep));
    Csr::group(n, pairs)
}

/// Whether the stack starts each service: every service, unless a group of its name
/// (`group`) lists some.
pub(super) fn in_stack(
    services: &[Service],
    group: Option<&[String]>,
    ids: &NameIndex,
) -> Vec<bool> {
    let Some(members) = group else {
        return vec![true; services.len()];
    };
    let mut in_stack = vec![false; services.len()];
    for i in members.iter().filter_map(|m| ids.get(m)) {
        in_stack[i] = true;
    }
    in_stack
}

/// Per service, the named groups (indices) that list it.
pub(super) fn groups_of(n: usize, groups: &[Group], ids: &NameIndex) -> Csr<usize> {
    let pairs = groups.iter().enumerate().flat_map(|(g, group)| {
        group
            .services
            .iter()
            .filter_map(move |m| ids.get(m).map(|i| (i, g)))
    });
    Csr::group(n, pairs)
}
