//! What objects the stack becomes, decided once before any is built: per service one
//! Deployment, one `StatefulSet` (instances `0..N-1`) or one Deployment per named instance;
//! per containerised external one Deployment; each with its DNS name, its ports (the
//! declared ones and the health check's) and the port dependents wait on.

use hashbrown::HashMap;

use super::expand::Instance;
use super::names::object_name_at;
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
        // name → where it was taken (the field: "external"/"services" and the entry's name,
        // written out only for a refusal)
        let mut taken: HashMap<String, (&str, &str)> = HashMap::new();
        let mut claim = |name: &str, at: (&'static str, &'m str)| -> Result<()> {
            if let Some(other) = taken.insert(name.to_owned(), at) {
                return Err(Refusal::new(
                    format!("{}.{}", at.0, at.1),
                    format!(
                        "its Kubernetes name `{name}` is also the name of {}.{}",
                        other.0, other.1
                    ),
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
            let name = object_name_at(&e.name, || format!("external.{}", e.name))?;
            claim(&name, ("external", &e.name))?;
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
            let field = || format!("services.{}", svc.name);
            let (ports, wait_port) = ports(&svc.container, svc.health.as_ref().map(|h| &h.check));
            let one = |name: String, kind, instance, ports| Planned {
                name,
                kind,
                instance,
                ports,
                wait_port,
            };
            let base = object_name_at(&svc.name, field)?;
            let planned = match &svc.instances {
                None => vec![one(base, Kind::Deployment, Instance::None, ports)],
                Some(_) if svc.instances_are_indices() => {
                    vec![one(base, Kind::StatefulSet, Instance::Index, ports)]
                }
                Some(list) => list
                    .iter()
                    .map(|i| {
                        let f = || format!("{}.instances ({i})", field());
                        object_name_at(&format!("{}-{i}", svc.name), f)
                            .map(|n| one(n, Kind::Deployment, Instance::Named(i), ports.clone()))
                    })
                    .collect::<std::result::Result<_, _>>()?,
            };
            for p in &planned {
                claim(&p.name, ("services", &svc.name))?;
            }
            services.push(planned);
        }
        Ok(Self {
            services,
            externals,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errors::Error;

    fn refusal(toml: &str) -> Refusal {
        let model = Model::from_toml("t.toml", toml).expect("valid manifest");
        match Plan::new(&model) {
            Err(Error::Refused(r)) => r,
            other => panic!("not refused: {other:?}"),
        }
    }

    #[test]
    fn a_name_taken_twice_or_no_label_is_refused_at_its_field() {
        let r = refusal(
            "name = \"s\"\n[services.a_b]\ncommand = [\"/x\"]\n[services.a-b]\ncommand = [\"/x\"]\n",
        );
        assert_eq!(r.field, "services.a-b");
        assert_eq!(
            r.message,
            "its Kubernetes name `a-b` is also the name of services.a_b"
        );
        let r = refusal(
            "name = \"s\"\n[services.w]\ncommand = [\"/x\"]\ninstances = [\"eu\", \"-\"]\n",
        );
        assert_eq!(r.field, "services.w.instances (-)");
        assert!(r.message.contains("not a DNS label"), "{}", r.message);
    }
}
