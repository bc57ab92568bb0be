//! The start-order graph between services: cycle detection and a stable topological order,
//! over edges between service indices (see [`super::deps::Links::edges`]). Both walk the
//! graph without recursion, so a long chain of services cannot overflow the stack, and both
//! are linear in services and edges (plus a heap's log factor for the order).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::csr::Csr;

/// The kind of a dependency edge: the manifest list it was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DepKind {
    /// `requires`: hard dependency, implies ordering.
    Requires,
    /// `wants`: soft dependency, implies ordering.
    Wants,
    /// `after`: ordering only.
    After,
    /// `before` (written on the earlier service): ordering only.
    Before,
}

impl DepKind {
    /// The manifest key the edge is written under.
    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            Self::Requires => "requires",
            Self::Wants => "wants",
            Self::After => "after",
            Self::Before => "before",
        }
    }

    /// Whether a failed dependency fails the dependent (only `requires`).
    #[must_use]
    pub fn is_hard(self) -> bool {
        self == Self::Requires
    }
}

/// What a dependency points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// A service of the stack (index into the services).
    Service(usize),
    /// An `[external.X]` entry (index into the externals).
    External(usize),
}

/// "No position": a list does not name a [`Link`]'s target.
pub(super) const NOWHERE: u32 = u32::MAX;

/// One dependency of a service, resolved (each target once per list): what the edges and
/// the view are built from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Link {
    /// What it names (for `before`: the service that starts later).
    pub target: Target,
    /// The list it is in.
    pub kind: DepKind,
    /// Where the service's own list names it first, or [`NOWHERE`].
    pub own: u32,
    /// Where the `[defaults]` list names it first, or [`NOWHERE`].
    pub default: u32,
}

/// "`waiter` waits for `dep`", written as `declared_in.kind = [..]` in the manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edge {
    /// Index of the service that starts later.
    pub waiter: usize,
    /// Index of the service that must start first.
    pub dep: usize,
    /// Which list the edge comes from.
    pub kind: DepKind,
}

impl Edge {
    /// The service whose table holds this edge (`before` is written on the earlier one).
    #[must_use]
    pub fn declared_in(&self) -> usize {
        if self.kind == DepKind::Before {
            self.dep
        } else {
            self.waiter
        }
    }

    /// The name the edge's list holds.
    #[must_use]
    pub fn target(&self) -> usize {
        if self.kind == DepKind::Before {
            self.waiter
        } else {
            self.dep
        }
    }
}

/// Dependency cycles, each as the edges that close it (`a waits for b … waits for a`). Cycles
/// that share a service are reported once.
#[must_use]
pub fn find_cycles(n: usize, edges: &[Edge]) -> Vec<Vec<Edge>> {
    let next = Csr::group(n, edges.iter().map(|e| (e.waiter, *e)));
    // 0 = unvisited, 1 = on the current path, 2 = done
    let mut state = vec![0u8; n];
    let mut cycles = Vec::new();
    for start in 0..n {
        if state[start] != 0 {
            continue;
        }
        // the path: (node, edge that led to it, index of the next edge to try)
        let mut path: Vec<(usize, Option<Edge>, usize)> = vec![(start, None, 0)];
        state[start] = 1;
        while let Some(top) = path.last_mut() {
            let (v, _, i) = *top;
            let Some(e) = next.of(v).get(i).copied() else {
                state[v] = 2;
                path.pop();
                continue;
            };
            top.2 += 1;
            match state[e.dep] {
                0 => {
                    state[e.dep] = 1;
                    path.push((e.dep, Some(e), 0));
                }
                1 => {
                    let from = path.iter().position(|p| p.0 == e.dep).unwrap_or(0);
                    let mut cycle: Vec<Edge> =
                        path[from + 1..].iter().filter_map(|p| p.1).collect();
                    cycle.push(e);
                    cycles.push(cycle);
                    for p in &path {
                        state[p.0] = 2;
                    }
                    path.clear();
                }
                _ => {}
            }
        }
    }
    cycles
}

/// Service indices (of `n`) in dependency order; among services free to start, declaration
/// order.
pub fn order(n: usize, edges: &[Edge]) -> Vec<usize> {
    let mut indegree = vec![0usize; n];
    for e in edges {
        indegree[e.waiter] += 1;
    }
    let next = Csr::group(n, edges.iter().map(|e| (e.dep, e.waiter)));
    // among the services free to start, the one declared first
    let mut ready: BinaryHeap<Reverse<usize>> =
        (0..n).filter(|&i| indegree[i] == 0).map(Reverse).collect();
    let mut order = Vec::with_capacity(n);
    while let Some(Reverse(pick)) = ready.pop() {
        order.push(pick);
        for &w in next.of(pick) {
            indegree[w] -= 1;
            if indegree[w] == 0 {
                ready.push(Reverse(w));
            }
        }
    }
    order
}
