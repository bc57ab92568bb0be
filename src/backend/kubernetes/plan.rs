//! What objects the stack becomes, decided once before any is built: per service one
//! Deployment, one `StatefulSet` (instances `0..N-1`) or one Deployment per named instance;
//! per containerised external one Deployment; each with its DNS name, its ports (the
//! declared ones and the health check's) and the port dependents wait on.

use std::collections::HashMap;

use super::expand::Instance;
use super::names::object_name;
use super::probe;
use crate::errors::{Refusal, Result};
use crate::model::{Check, Container, Model};

/// How a workload runs its pods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// One pod.
    Deployment,
    /// `replicas` pods with indices, `{instance}` from the pod index.
    StatefulSet,
}

/// One workload of a service or an external, with its Service.
#[derive(Debug, Clone)]
pub struct Planned<'m> {
    /// The object (and container, and Service) name.
    pub name: String,
    /// Deployment or `StatefulSet`.
    pub kind: Kind,
    /// What `{instance}` becomes.
    pub instance: Instance<'m>,
    /// Ports of the container and its Service (declared, then the health check's).
    pub ports: Vec<u16>,
    /// The port dependents wait on: the health check's when it has one, else the first.
    pub wait_port: Option<u16>,
}

/// The plan of the whole stack.
#[derive(Debug)]
pub struct Plan<'m> {
    /// Per service, its workloads (one, or one per named instance).
    pub services: Vec<Vec<Planned<'m>>>,
    /// Per external, its workload when it has a container.
    pub externals: Vec<Option<Planned<'m>>>,
}

/// The ports of a container: the declared ones, then the check's when not declared.
fn ports(c: &Container, check: Option<&Check>) -> (Vec<u16>, Option<u16>) {
    let mut ports = c.ports.clone();
    let health = check.and_then(probe::port);
    if let Some(p) = health
        && !ports.contains(&p)
    {
        ports.push(p);
    }
    let wait = health.or_else(|| ports.first().copied());
    (ports, wait)
}

impl<'m> Plan<'m> {
    /// Plan `model`.
    ///
    /// # Errors
    /// A name that is no DNS label, or two objects with the same name.
    pub fn new(model: &'m Model) -> Result<Self> {
        let mut taken: HashMap<String, String> = HashMap::new();
        let mut claim = |name: &str, field: String| -> Result<()> {
            if let Some(other) = taken.insert(name.to_owned(), field.clone()) {
                return Err(Refusal::new(
                    field,
                    format!("its Kubernetes name `{name}` is also the name of {other}"),
                )
                .hint("Kubernetes names are lowercase with - for _ and .: rename one of them")
                .into());
            }
            Ok(())
        };
        let mut externals = Vec::new();
        for e in &model.externals {
            let Some(c) = &e.container else {
                externals.push(None);
                continue;
            };
            let field = format!("external.{}", e.name);
            let name = object_name(&field, &e.name)?;
            claim(&name, field)?;
            let (ports, wait_port) = ports(c, Some(&e.check));
            externals.push(Some(Planned {
                name,
                kind: Kind::Deployment,
                instance: Instance::None,
                ports,
                wait_port,
            }));
        }
        let mut services = Vec::new();
        for svc in &model.services {
            let field = format!("services.{}", svc.name);
            let (ports, wait_port) = ports(&svc.container, svc.health.as_ref().map(|h| &h.check));
            let one = |name: String, kind, instance| Planned {
                name,
                kind,
                instance,
                ports: ports.clone(),
                wait_port,
            };
            let base = object_name(&field, &svc.name)?;
            let planned = match &svc.instances {
                None => vec![one(base, Kind::Deployment, Instance::None)],
                Some(_) if svc.instances_are_indices() => {
                    vec![one(base, Kind::StatefulSet, Instance::Index)]
                }
                Some(list) => list
                    .iter()
                    .map(|i| {
                        let f = format!("{field}.instances ({i})");
                        object_name(&f, &format!("{}-{i}", svc.name))
                            .map(|n| one(n, Kind::Deployment, Instance::Named(i)))
                    })
                    .collect::<std::result::Result<_, _>>()?,
            };
            for p in &planned {
                claim(&p.name, field.clone())?;
            }
            services.push(planned);
        }
        Ok(Self {
            services,
            externals,
        })
    }
}
