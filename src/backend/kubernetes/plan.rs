//! What objects the stack becomes, decided once before any is built: per service one
//! Deployment, one `StatefulSet` (instances `0..N-1`) or one Deployment per named instance;
//! per containerised external one Deployment; each with its DNS name, its ports (the
//! declared ones and the health check's) and the port dependents wait on.

use std::hash::BuildHasher as _;

use hashbrown::{DefaultHashBuilder, HashTable};
use smallvec::SmallVec;

use super::expand::Instance;
use super::names::object_name_at;
use super::probe;
use crate::errors::{Refusal, Result};
use crate::model::{Check, Container, Model, Service};

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
    /// Ports of the container and its Service (declared, then the health check's): held
    /// inline, as there are seldom more than four (not an allocation per workload).
    pub ports: Ports,
    /// The port dependents wait on: the health check's when it has one, else the first.
    pub wait_port: Option<u16>,
}

/// The plan of the whole stack.
#[derive(Debug)]
pub struct Plan<'m> {
    /// Every service's workloads (one, or one per named instance), service after service
    /// in one list: not a list per service (100,000 of them in a large stack).
    workloads: Vec<Planned<'m>>,
    /// Where each service's workloads start in `workloads`, and where the last ends.
    start: Vec<usize>,
    /// Per external, its workload when it has a container.
    pub externals: Vec<Option<Planned<'m>>>,
}

/// The ports of a workload.
pub type Ports = SmallVec<[u16; 4]>;

/// The ports of a container: the declared ones, then the check's when not declared.
fn ports(c: &Container, check: Option<&Check>) -> (Ports, Option<u16>) {
    let mut ports = Ports::from_slice(&c.ports);
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
    /// The workloads of service `s`.
    #[must_use]
    pub fn service(&self, s: usize) -> &[Planned<'m>] {
        &self.workloads[self.start[s]..self.start[s + 1]]
    }

    /// The workloads of every service, service after service.
    #[must_use]
    pub fn services(&self) -> &[Planned<'m>] {
        &self.workloads
    }

    /// Plan `model`.
    ///
    /// # Errors
    /// A name that is no DNS label, or two objects with the same name.
    pub fn new(model: &'m Model) -> Result<Self> {
        let mut names = Names::new(model.externals.len() + model.view.processes().len());
        let mut externals = Vec::with_capacity(model.externals.len());
        for e in &model.externals {
            let Some(c) = &e.container else {
                externals.push(None);
                continue;
            };
            let name = object_name_at(&e.name, || format!("external.{}", e.name))?;
            let k = externals.len();
            let at_of = |k: usize| ("external", &*model.externals[k].name);
            names.claim(k, &name, ("external", &e.name), at_of, |k| {
                externals
                    .get(k)
                    .and_then(Option::as_ref)
                    .map(|p: &Planned<'_>| &*p.name)
            })?;
            let (ports, wait_port) = ports(c, Some(&e.check));
            externals.push(Some(Planned {
                name,
                kind: Kind::Deployment,
                instance: Instance::None,
                ports,
                wait_port,
            }));
        }
        let mut plan = Self {
            workloads: Vec::with_capacity(model.services.len()),
            start: Vec::with_capacity(model.services.len() + 1),
            externals,
        };
        for svc in &model.services {
            plan.start.push(plan.workloads.len());
            plan.service_workloads(model, svc, &mut names)?;
        }
        plan.start.push(plan.workloads.len());
        Ok(plan)
    }

    /// Plan the workloads of `svc` after those planned so far, claiming their names.
    fn service_workloads(
        &mut self,
        model: &Model,
        svc: &'m Service,
        names: &mut Names,
    ) -> Result<()> {
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
        let first = self.workloads.len();
        match &svc.instances {
            None => self
                .workloads
                .push(one(base, Kind::Deployment, Instance::None, ports)),
            Some(_) if svc.instances_are_indices() => {
                self.workloads
                    .push(one(base, Kind::StatefulSet, Instance::Index, ports));
            }
            Some(list) => {
                for i in list {
                    let f = || format!("{}.instances ({i})", field());
                    let n = object_name_at(&format!("{}-{i}", svc.name), f)?;
                    let workload = one(n, Kind::Deployment, Instance::Named(i), ports.clone());
                    self.workloads.push(workload);
                }
            }
        }
        let ext = self.externals.len();
        for w in first..self.workloads.len() {
            let name = self.workloads[w].name.as_str();
            let (externals, workloads) = (&self.externals, &self.workloads);
            let at_of = |k: usize| {
                if k < ext {
                    ("external", &*model.externals[k].name)
                } else {
                    // the service whose workloads hold k (`start` has those so far)
                    let service = self.start.partition_point(|&s| s <= k - ext) - 1;
                    ("services", &*model.services[service].name)
                }
            };
            names.claim(ext + w, name, ("services", &svc.name), at_of, |k| {
                if k < ext {
                    externals[k].as_ref().map(|p| &*p.name)
                } else {
                    workloads.get(k - ext).map(|p| &*p.name)
                }
            })?;
        }
        Ok(())
    }
}

/// The object names taken so far, as indices (externals, then workloads) hashed on the
/// name: 4 bytes a name, in a table sized once (one of the index and the field of each,
/// grown as they came, held 1 MB at 10,000 services).
struct Names {
    taken: HashTable<u32>,
    hasher: DefaultHashBuilder,
}

impl Names {
    /// Room for about `objects` names.
    fn new(objects: usize) -> Self {
        Self {
            taken: HashTable::with_capacity(objects),
            hasher: DefaultHashBuilder::default(),
        }
    }

    /// Take `name` for index `k`, the object of `at` (the field: "external"/"services" and
    /// the entry's name, written out only for a refusal, as `at_of` gives it for an index
    /// taken before); `name_of` gives the name of an index taken before.
    fn claim<'n>(
        &mut self,
        k: usize,
        name: &str,
        at: (&'static str, &str),
        at_of: impl Fn(usize) -> (&'static str, &'n str),
        name_of: impl Fn(usize) -> Option<&'n str>,
    ) -> Result<()> {
        let hash = self.hasher.hash_one(name);
        if let Some(&other) = self
            .taken
            .find(hash, |&i| name_of(i as usize) == Some(name))
        {
            let other = at_of(other as usize);
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
        let hasher = &self.hasher;
        let k = u32::try_from(k).expect("fewer than 4 billion objects");
        self.taken.insert_unique(hash, k, |&i| {
            hasher.hash_one(name_of(i as usize).unwrap_or_default())
        });
        Ok(())
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
        // the earlier one found by its place among the services, past instances
        let r = refusal(
            "name = \"s\"\n[services.m]\ncommand = [\"/x\"]\ninstances = [\"1x\", \"2y\"]\n\
             [services.a_b]\ncommand = [\"/x\"]\n[services.n]\ncommand = [\"/x\"]\n\
             [services.a-b]\ncommand = [\"/x\"]\n",
        );
        assert_eq!(
            (r.field.as_str(), r.message.as_str()),
            (
                "services.a-b",
                "its Kubernetes name `a-b` is also the name of services.a_b"
            )
        );
        let r = refusal(
            "name = \"s\"\n[services.w]\ncommand = [\"/x\"]\ninstances = [\"eu\", \"-\"]\n",
        );
        assert_eq!(r.field, "services.w.instances (-)");
        assert!(r.message.contains("not a DNS label"), "{}", r.message);
    }

    #[test]
    fn a_name_taken_by_an_external_or_an_instance_is_refused_at_the_later_one() {
        let externals = "name = \"s\"\n[external.\"c.ache\"]\ncheck = { tcp = \"127.0.0.1:1\" }\n\
            [external.\"d.b\"]\ncheck = { tcp = \"127.0.0.1:2\" }\ncontainer = { image = \"i\" }\n";
        let r = refusal(&format!("{externals}[services.d_b]\ncommand = [\"/x\"]\n"));
        assert_eq!(r.field, "services.d_b");
        assert_eq!(
            r.message,
            "its Kubernetes name `d-b` is also the name of external.d.b"
        );
        // an external without a container has no object: its name is free
        let model = Model::from_toml(
            "t.toml",
            &format!("{externals}[services.c_ache]\ncommand = [\"/x\"]\n"),
        )
        .expect("valid");
        assert!(Plan::new(&model).is_ok());
        let r = refusal(
            "name = \"s\"\n[services.w]\ncommand = [\"/x\"]\ninstances = [\"eu\"]\n\
             [services.w-eu]\ncommand = [\"/x\"]\n",
        );
        assert_eq!(r.field, "services.w-eu");
        assert_eq!(
            r.message,
            "its Kubernetes name `w-eu` is also the name of services.w"
        );
    }

    #[test]
    fn each_service_has_its_own_workloads_in_order() {
        let model = Model::from_toml(
            "t.toml",
            "name = \"s\"\n[services.a]\ncommand = [\"/x\"]\n\
             [services.w]\ncommand = [\"/x\"]\ninstances = [\"eu\", \"us\"]\n\
             [services.n]\ncommand = [\"/x\"]\ninstances = 3\n",
        )
        .expect("valid");
        let plan = Plan::new(&model).expect("planned");
        let names = |s: usize| -> Vec<&str> { plan.service(s).iter().map(|p| &*p.name).collect() };
        assert_eq!(names(0), ["a"]);
        assert_eq!(names(1), ["w-eu", "w-us"]);
        assert_eq!(names(2), ["n"]);
        assert_eq!(plan.service(2)[0].kind, Kind::StatefulSet);
        assert_eq!(plan.services().len(), 4);
    }
}
