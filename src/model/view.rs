//! The one derived view of a model that every backend renders from: the processes to run
//! (instances expanded once), each service's dependencies as typed edges (each target once,
//! the strongest kind winning), the start order and layers, stack and group membership, and
//! the readiness budgets of the services others wait for. Built once, in linear time, when
//! the model is built; backends only read it.

use super::csr::Csr;
use super::graph::{DepKind, Edge, Link, Target};
use super::names::NameIndex;

mod lists;
use super::{Check, External, Group, Service};
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
            None => service.name.to_string(),
            Some(i) => format!("{}{sep}{i}", service.name),
        }
    }
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

/// A service that declares a dependency on another (see [`View::dependents`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dependent {
    /// Index of the dependent service.
    pub service: usize,
    /// The (strongest) list it names the other in.
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
    service_ids: NameIndex,
    external_ids: NameIndex,
    processes: Vec<Process>,
    /// Where each service's processes start in `processes`; one more entry for the end.
    process_start: Vec<u32>,
    dependencies: Csr<Dependency>,
    dependents: Csr<Dependent>,
    ordered_before: Csr<usize>,
    order: Vec<usize>,
    layers: Vec<u32>,
    ready_budgets: Vec<Duration>,
    in_stack: Vec<bool>,
    groups_of: Csr<usize>,
}

impl View {
    /// Build the view of validated services (no cycles, every reference resolved) from
    /// their resolved dependencies, the edges between them and their start order
    /// ([`super::graph::order`] of those edges).
    pub(super) fn new(
        services: &[Service],
        externals: &[External],
        stack_group: Option<&[String]>,
        groups: &[Group],
        (links, edges, order): (&Csr<Link>, &[Edge], Vec<usize>),
        (service_ids, external_ids): (NameIndex, NameIndex),
    ) -> Self {
        let n = services.len();
        let (processes, process_start) = lists::processes(services);
        let dependencies = lists::declared(n, externals.len(), links);
        let mut view = Self {
            dependents: lists::dependents(n, &dependencies),
            ordered_before: lists::ordered_before(n, edges),
            in_stack: lists::in_stack(services, stack_group, &service_ids),
            groups_of: lists::groups_of(n, groups, &service_ids),
            service_ids,
            external_ids,
            processes,
            process_start,
            dependencies,
            order,
            ..Self::default()
        };
        view.layers = view.compute_layers();
        view.ready_budgets = view.compute_budgets(services, externals);
        view
    }

    /// Start layer of every service: 0 without predecessors, else one more than the deepest.
    fn compute_layers(&self) -> Vec<u32> {
        let mut layers = vec![0u32; self.dependencies.len()];
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
        self.dependencies(s)
            .iter()
            .filter_map(|d| match d.target {
                Target::Service(i) => Some(i),
                Target::External(_) => None,
            })
            .chain(self.ordered_before(s).iter().copied())
    }

    /// Per service, in start order: the time its own waits may take plus its health window.
    fn compute_budgets(&self, services: &[Service], externals: &[External]) -> Vec<Duration> {
        let mut budgets = vec![Duration::default(); services.len()];
        for &s in &self.order {
            let mut total = Duration::default();
            for d in self.dependencies(s) {
                total = total.saturating_add(match d.target {
                    Target::External(e) => externals[e].wait_timeout,
                    Target::Service(t) if services[t].health.is_some() => budgets[t],
                    Target::Service(_) => Duration::default(),
                });
            }
            for &t in self.ordered_before(s) {
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
        self.service_ids.get(name)
    }

    /// The index of an external by name.
    #[must_use]
    pub fn external_id(&self, name: &str) -> Option<usize> {
        self.external_ids.get(name)
    }

    /// Every process, services in declaration order, instances in their order.
    #[must_use]
    pub fn processes(&self) -> &[Process] {
        &self.processes
    }

    /// The processes of service `s`.
    #[must_use]
    pub fn processes_of(&self, s: usize) -> &[Process] {
        match (self.process_start.get(s), self.process_start.get(s + 1)) {
            (Some(&a), Some(&b)) => &self.processes[a as usize..b as usize],
            _ => &[],
        }
    }

    /// The declared dependencies of service `s` (each target once, strongest kind).
    #[must_use]
    pub fn dependencies(&self, s: usize) -> &[Dependency] {
        self.dependencies.of(s)
    }

    /// The services whose declared dependencies ([`View::dependencies`]) name service `s`,
    /// in declaration order, each once with the kind it declares: the reverse edges, e.g.
    /// what `s` is required by, without a scan over every service. (`before` edges are in
    /// [`View::ordered_before`].)
    #[must_use]
    pub fn dependents(&self, s: usize) -> &[Dependent] {
        self.dependents.of(s)
    }

    /// Services whose `before` names service `s` (they start first).
    #[must_use]
    pub fn ordered_before(&self, s: usize) -> &[usize] {
        self.ordered_before.of(s)
    }

    /// Service indices in start order (dependencies first; ties in declaration order).
    #[must_use]
    pub fn order(&self) -> &[usize] {
        &self.order
    }

    /// The start layer of service `s` (0: nothing to wait for).
    #[must_use]
    pub fn layer(&self, s: usize) -> usize {
        self.layers.get(s).map_or(0, |&l| l as usize)
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
        self.groups_of.of(s)
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
