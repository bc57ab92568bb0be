//! The one derived view of a model that every backend renders from: the processes to run
//! (instances expanded once), each service's dependencies as typed edges (each target once,
//! the strongest kind winning), the start order and layers, stack and group membership, and
//! the readiness budgets of the services others wait for. Built once, in linear time, when
//! the model is built; backends only read it.

use std::collections::HashMap;
use std::ops::Range;

use super::graph::{self, DepKind};
use super::{Check, Dep, External, Group, Service};
use crate::manifest::Duration;

/// One process the init system runs: a service, or one instance of an instanced service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    /// Index of the service in [`super::Model::services`].
    pub service: usize,
    /// The instance name, for an instanced service.
    pub instance: Option<String>,
}

impl Process {
    /// The runtime name in a backend's convention: the service name, or
    /// `SERVICE{sep}INSTANCE` (systemd `@`, OpenRC `.`, supervisord `_`, runit/s6 `-`).
    #[must_use]
    pub fn joined(&self, service: &Service, sep: &str) -> String {
        match &self.instance {
            None => service.name.clone(),
            Some(i) => format!("{}{sep}{i}", service.name),
        }
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

/// One dependency of a service, as declared in its own `requires`/`wants`/`after` lists
/// (defaults merged): each target once, the strongest kind winning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dependency {
    /// What it points at.
    pub target: Target,
    /// The strongest list it was written in.
    pub kind: DepKind,
}

/// A readiness wait before a service's command runs: an external's check, or a required
/// service's health check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wait<'m> {
    /// `external NAME` or `service NAME`, for messages.
    pub label: String,
    /// The probe to poll.
    pub check: &'m Check,
    /// How long to poll before giving up.
    pub budget: Duration,
    /// The edge's kind; `requires` fails the start when the wait runs out, others start anyway.
    pub kind: DepKind,
    /// Whether the target is an external (else a service with a health check).
    pub external: bool,
}

impl Wait<'_> {
    /// Whether running out of time fails the start.
    #[must_use]
    pub fn hard(&self) -> bool {
        self.kind.is_hard()
    }
}

/// Everything a service waits for before it starts, where the backend has no dependency
/// model of its own.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Waits<'m> {
    /// Externals and services with a health check, in dependency order.
    pub waits: Vec<Wait<'m>>,
    /// Service dependencies without a health check: nothing to wait for (kind, service).
    pub unwaitable: Vec<(DepKind, usize)>,
}

/// The derived, indexed view (see the module documentation).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct View {
    service_ids: HashMap<String, usize>,
    external_ids: HashMap<String, usize>,
    processes: Vec<Process>,
    process_ranges: Vec<Range<usize>>,
    dependencies: Vec<Vec<Dependency>>,
    ordered_before: Vec<Vec<usize>>,
    order: Vec<usize>,
    layers: Vec<usize>,
    ready_budgets: Vec<Duration>,
    in_stack: Vec<bool>,
    groups_of: Vec<Vec<usize>>,
}

impl View {
    /// Build the view of validated services (no cycles, every reference resolved).
    #[must_use]
    pub fn new(
        services: &[Service],
        externals: &[External],
        stack_members: &[String],
        groups: &[Group],
    ) -> Self {
        let service_ids: HashMap<String, usize> = services
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.clone(), i))
            .collect();
        let external_ids: HashMap<String, usize> = externals
            .iter()
            .enumerate()
            .map(|(i, e)| (e.name.clone(), i))
            .collect();
        let mut view = Self {
            service_ids,
            external_ids,
            ..Self::default()
        };
        for (i, s) in services.iter().enumerate() {
            let start = view.processes.len();
            match &s.instances {
                None => view.processes.push(Process {
                    service: i,
                    instance: None,
                }),
                Some(list) => view.processes.extend(list.iter().map(|inst| Process {
                    service: i,
                    instance: Some(inst.clone()),
                })),
            }
            view.process_ranges.push(start..view.processes.len());
            view.dependencies.push(view.declared(s));
        }
        view.ordered_before = vec![Vec::new(); services.len()];
        for e in graph::edges(services) {
            if e.kind == DepKind::Before {
                view.ordered_before[e.waiter].push(e.dep);
            }
        }
        view.order = graph::order(services);
        view.layers = view.compute_layers();
        view.ready_budgets = view.compute_budgets(services, externals);
        view.in_stack = vec![false; services.len()];
        view.groups_of = vec![Vec::new(); services.len()];
        for m in stack_members {
            if let Some(&i) = view.service_ids.get(m) {
                view.in_stack[i] = true;
            }
        }
        for (g, group) in groups.iter().enumerate() {
            for m in &group.services {
                if let Some(&i) = view.service_ids.get(m) {
                    view.groups_of[i].push(g);
                }
            }
        }
        view
    }

    /// The declared dependencies of `s`: requires, wants, after; each target once.
    fn declared(&self, s: &Service) -> Vec<Dependency> {
        let mut out: Vec<Dependency> = Vec::new();
        let lists = [
            (DepKind::Requires, &s.requires),
            (DepKind::Wants, &s.wants),
            (DepKind::After, &s.after),
        ];
        for (kind, list) in lists {
            for dep in list {
                let target = match dep {
                    Dep::Service(n) => self.service_ids.get(n).map(|&i| Target::Service(i)),
                    Dep::External(n) => self.external_ids.get(n).map(|&i| Target::External(i)),
                };
                if let Some(target) = target
                    && !out.iter().any(|d| d.target == target)
                {
                    out.push(Dependency { target, kind });
                }
            }
        }
        out
    }

    /// Start layer of every service: 0 without predecessors, else one more than the deepest.
    fn compute_layers(&self) -> Vec<usize> {
        let mut layers = vec![0usize; self.dependencies.len()];
        for &s in &self.order {
            let depth = self
                .predecessors(s)
                .map(|p| layers[p] + 1)
                .max()
                .unwrap_or(0);
            layers[s] = depth;
        }
        layers
    }

    /// Services `s` starts after: its service dependencies and those ordered before it.
    fn predecessors(&self, s: usize) -> impl Iterator<Item = usize> + '_ {
        self.dependencies[s]
            .iter()
            .filter_map(|d| match d.target {
                Target::Service(i) => Some(i),
                Target::External(_) => None,
            })
            .chain(self.ordered_before[s].iter().copied())
    }

    /// Per service, in start order: the time its own waits may take plus its health window.
    fn compute_budgets(&self, services: &[Service], externals: &[External]) -> Vec<Duration> {
        let mut budgets = vec![Duration::default(); services.len()];
        for &s in &self.order {
            let mut total = Duration::default();
            for d in &self.dependencies[s] {
                total = total.saturating_add(match d.target {
                    Target::External(e) => externals[e].wait_timeout,
                    Target::Service(t) if services[t].health.is_some() => budgets[t],
                    Target::Service(_) => Duration::default(),
                });
            }
            for &t in &self.ordered_before[s] {
                if services[t].health.is_some() {
                    total = total.saturating_add(budgets[t]);
                }
            }
            if let Some(h) = &services[s].health {
                total = total.saturating_add(h.window());
            }
            budgets[s] = total;
        }
        budgets
    }

    /// The index of a service by name.
    #[must_use]
    pub fn service_id(&self, name: &str) -> Option<usize> {
        self.service_ids.get(name).copied()
    }

    /// The index of an external by name.
    #[must_use]
    pub fn external_id(&self, name: &str) -> Option<usize> {
        self.external_ids.get(name).copied()
    }

    /// Every process, services in declaration order, instances in their order.
    #[must_use]
    pub fn processes(&self) -> &[Process] {
        &self.processes
    }

    /// The processes of service `s`.
    #[must_use]
    pub fn processes_of(&self, s: usize) -> &[Process] {
        self.process_ranges
            .get(s)
            .map_or(&[], |r| &self.processes[r.clone()])
    }

    /// The declared dependencies of service `s` (each target once, strongest kind).
    #[must_use]
    pub fn dependencies(&self, s: usize) -> &[Dependency] {
        self.dependencies.get(s).map_or(&[], Vec::as_slice)
    }

    /// Services whose `before` names service `s` (they start first).
    #[must_use]
    pub fn ordered_before(&self, s: usize) -> &[usize] {
        self.ordered_before.get(s).map_or(&[], Vec::as_slice)
    }

    /// Service indices in start order (dependencies first; ties in declaration order).
    #[must_use]
    pub fn order(&self) -> &[usize] {
        &self.order
    }

    /// The start layer of service `s` (0: nothing to wait for).
    #[must_use]
    pub fn layer(&self, s: usize) -> usize {
        self.layers.get(s).copied().unwrap_or(0)
    }

    /// How long a dependent waits for service `s` to become healthy: its own waits plus its
    /// health window (saturating).
    #[must_use]
    pub fn ready_budget(&self, s: usize) -> Duration {
        self.ready_budgets.get(s).copied().unwrap_or_default()
    }

    /// Whether the stack target / group / meta-service starts service `s`.
    #[must_use]
    pub fn in_stack(&self, s: usize) -> bool {
        self.in_stack.get(s).copied().unwrap_or(false)
    }

    /// Indices of the named groups (not the stack) that list service `s`.
    #[must_use]
    pub fn groups_of(&self, s: usize) -> &[usize] {
        self.groups_of.get(s).map_or(&[], Vec::as_slice)
    }

    /// What service `s` waits for before its command runs, for backends without a
    /// dependency model: its dependencies in order, then the services ordered before it
    /// (soft); services are waited for through their health checks.
    #[must_use]
    pub fn waits<'m>(
        &self,
        services: &'m [Service],
        externals: &'m [External],
        s: usize,
    ) -> Waits<'m> {
        let mut out = Waits::default();
        let before = self
            .ordered_before(s)
            .iter()
            .filter(|&&t| {
                !self
                    .dependencies(s)
                    .iter()
                    .any(|d| d.target == Target::Service(t))
            })
            .map(|&t| Dependency {
                target: Target::Service(t),
                kind: DepKind::Before,
            });
        for d in self.dependencies(s).iter().copied().chain(before) {
            match d.target {
                Target::External(e) => out.waits.push(Wait {
                    label: format!("external {}", externals[e].name),
                    check: &externals[e].check,
                    budget: externals[e].wait_timeout,
                    kind: d.kind,
                    external: true,
                }),
                Target::Service(t) => match &services[t].health {
                    Some(h) => out.waits.push(Wait {
                        label: format!("service {}", services[t].name),
                        check: &h.check,
                        budget: self.ready_budget(t),
                        kind: d.kind,
                        external: false,
                    }),
                    None => out.unwaitable.push((d.kind, t)),
                },
            }
        }
        out
    }
}
