//! What objects the stack becomes, decided once before any is built: per service one
//! Deployment, one `StatefulSet` (instances `0..N-1`) or one Deployment per named instance;
//! per containerised external one Deployment; each with its DNS name, its ports (the
//! declared ones and the health check's) and the port dependents wait on. Only the names
//! are kept (in one text); the rest of a workload is made from the model when asked for.

use smallvec::SmallVec;

use super::expand::Instance;
use super::names::object_name_at;
use super::probe;
use crate::errors::Result;
use crate::model::{Check, Container, Model, Service};

/// How a workload runs its pods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// One pod.
    Deployment,
    /// `replicas` pods with indices, `{instance}` from the pod index.
    StatefulSet,
}

/// One workload of a service or an external, with its Service: made when asked for from
/// the model and the plan's names (one kept per workload took 80 bytes and its name's
/// allocation 32, 1.1 MB at 10,000 services).
#[derive(Debug, Clone)]
pub struct Planned<'p> {
    /// The object (and container, and Service) name.
    pub name: &'p str,
    /// Deployment or `StatefulSet`.
    pub kind: Kind,
    /// What `{instance}` becomes.
    pub instance: Instance<'p>,
    /// Ports of the container and its Service (declared, then the health check's): held
    /// inline, as there are seldom more than four (not an allocation per workload).
    pub ports: Ports,
    /// The port dependents wait on: the health check's when it has one, else the first.
    pub wait_port: Option<u16>,
}

/// The plan of the whole stack: the name of every object.
#[derive(Debug)]
pub struct Plan<'m> {
    model: &'m Model,
    /// The object names: one per external (empty when it has no container), then every
    /// service's workloads', service after service.
    names: NameList,
    /// Where each service's workloads start in `names`, and where the last ends.
    start: Vec<u32>,
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

/// How the workloads of `svc` run, and what `{instance}` is in the `n`th.
fn shape<'s>(svc: &'s Service) -> (Kind, impl Fn(usize) -> Instance<'s>) {
    let (kind, named) = match svc.instances.as_deref() {
        None => (Kind::Deployment, None),
        Some(_) if svc.instances_are_indices() => (Kind::StatefulSet, None),
        Some(list) => (Kind::Deployment, Some(list)),
    };
    let instance = move |n: usize| match (named, kind) {
        (Some(list), _) => Instance::Named(&list[n]),
        (None, Kind::StatefulSet) => Instance::Index,
        (None, Kind::Deployment) => Instance::None,
    };
    (kind, instance)
}

mod taken;

use taken::{NameList, Taken, index};

impl<'m> Plan<'m> {
    /// The workloads of service `s`, in order (one, or one per named instance).
    #[must_use]
    pub fn service(&self, s: usize) -> impl ExactSizeIterator<Item = Planned<'_>> {
        let svc = &self.model.services[s];
        let (kind, instance) = shape(svc);
        let (ports, wait_port) = ports(&svc.container, svc.health.as_ref().map(|h| &h.check));
        let names = self.start[s] as usize..self.start[s + 1] as usize;
        names.enumerate().map(move |(n, k)| Planned {
            name: self.names.get(k),
            kind,
            instance: instance(n),
            ports: ports.clone(),
            wait_port,
        })
    }

    /// The workload of external `e`, when it has a container.
    #[must_use]
    pub fn external(&self, e: usize) -> Option<Planned<'_>> {
        let ext = &self.model.externals[e];
        let (ports, wait_port) = ports(ext.container.as_ref()?, Some(&ext.check));
        Some(Planned {
            name: self.names.get(e),
            kind: Kind::Deployment,
            instance: Instance::None,
            ports,
            wait_port,
        })
    }

    /// The name of every workload, in the order of [`Self::all`].
    pub fn object_names(&self) -> impl Iterator<Item = &str> {
        // (an external without a container has an empty name and no workload)
        (0..self.names.len())
            .map(|k| self.names.get(k))
            .filter(|n| !n.is_empty())
    }

    /// Every workload: the externals', then the services', service after service.
    pub fn all(&self) -> impl Iterator<Item = Planned<'_>> {
        let externals = (0..self.model.externals.len()).filter_map(|e| self.external(e));
        externals.chain((0..self.model.services.len()).flat_map(|s| self.service(s)))
    }

    /// Plan `model`.
    ///
    /// # Errors
    /// A name that is no DNS label, or two objects with the same name.
    pub fn new(model: &'m Model) -> Result<Self> {
        let (objects, bytes) = sizes(model);
        let mut plan = Self {
            model,
            names: NameList::with_capacity(objects, bytes),
            start: Vec::with_capacity(model.services.len() + 1),
        };
        let mut taken = Taken::new(objects);
        for e in &model.externals {
            if e.container.is_none() {
                plan.names.push("");
                continue;
            }
            let name = object_name_at(&e.name, || format!("external.{}", e.name))?;
            plan.names.push(&name);
            plan.claim(&mut taken, plan.names.len() - 1, ("external", &e.name))?;
        }
        for svc in &model.services {
            plan.start.push(index(plan.names.len()));
            plan.service_names(svc)?;
            let first = *plan.start.last().unwrap_or(&0) as usize;
            for k in first..plan.names.len() {
                plan.claim(&mut taken, k, ("services", &svc.name))?;
            }
        }
        plan.start.push(index(plan.names.len()));
        Ok(plan)
    }

    /// Add the names of the workloads of `svc` (each a DNS label, its own name first).
    fn service_names(&mut self, svc: &Service) -> Result<()> {
        let field = || format!("services.{}", svc.name);
        let base = object_name_at(&svc.name, field)?;
        let Some(list) = svc
            .instances
            .as_deref()
            .filter(|_| !svc.instances_are_indices())
        else {
            self.names.push(&base);
            return Ok(());
        };
        for i in list {
            let f = || format!("{}.instances ({i})", field());
            self.names
                .push(&object_name_at(&format!("{}-{i}", svc.name), f)?);
        }
        Ok(())
    }

    /// Take name `k` for the object of `at` (the field: "external"/"services" and the
    /// entry's name).
    fn claim(&self, taken: &mut Taken, k: usize, at: (&'static str, &str)) -> Result<()> {
        let ext = self.model.externals.len();
        let at_of = |k: usize| {
            if k < ext {
                ("external", &*self.model.externals[k].name)
            } else {
                // the service whose workloads hold k (`start` has those so far)
                let service = self.start.partition_point(|&s| s as usize <= k) - 1;
                ("services", &*self.model.services[service].name)
            }
        };
        taken.claim(k, self.names.get(k), at, at_of, |i| self.names.get(i))
    }
}

/// How many object names `model` has (one per external, one per workload), and how long
/// they are together (a DNS name is as long as the manifest's).
fn sizes(model: &Model) -> (usize, usize) {
    let mut objects = model.externals.len();
    let mut bytes: usize = model
        .externals
        .iter()
        .filter(|e| e.container.is_some())
        .map(|e| e.name.len())
        .sum();
    for svc in &model.services {
        match svc.instances.as_deref() {
            Some(list) if !svc.instances_are_indices() => {
                objects += list.len();
                bytes += list
                    .iter()
                    .map(|i| svc.name.len() + 1 + i.len())
                    .sum::<usize>();
            }
            _ => {
                objects += 1;
                bytes += svc.name.len();
            }
        }
    }
    (objects, bytes)
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use super::*;
    use crate::errors::{Error, Refusal};

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
        let names = |s: usize| -> Vec<&str> { plan.service(s).map(|p| p.name).collect() };
        assert_eq!(names(0), ["a"]);
        assert_eq!(names(1), ["w-eu", "w-us"]);
        assert_eq!(names(2), ["n"]);
        assert_eq!(
            plan.service(2).map(|p| p.kind).collect::<Vec<_>>(),
            [Kind::StatefulSet]
        );
        assert_eq!(plan.all().count(), 4);
    }

    #[test]
    fn a_plan_holds_its_names_and_little_else() {
        let mut toml = String::from("name = \"s\"\n");
        for i in 0..1000 {
            let _ = write!(toml, "[services.Svc_{i}]\ncommand = [\"/x\"]\n");
        }
        toml.push_str("[services.w]\ncommand = [\"/x\"]\ninstances = [\"eu\", \"us\"]\n");
        let model = Model::from_toml("t.toml", &toml).expect("valid");
        let plan = Plan::new(&model).expect("planned");
        let names: usize = plan.all().map(|p| p.name.len()).sum();
        assert_eq!(
            plan.names.held(),
            names + 4 * 1002,
            "exactly the names and their ends"
        );
        assert_eq!(plan.start.capacity(), 1002);
        let w: Vec<_> = plan.service(1000).map(|p| (p.name, p.instance)).collect();
        assert_eq!(
            w,
            [
                ("w-eu", Instance::Named("eu")),
                ("w-us", Instance::Named("us"))
            ]
        );
        assert_eq!(plan.service(999).next().map(|p| p.name), Some("svc-999"));
    }
}
