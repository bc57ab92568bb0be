//! Dependencies as init containers: before the main container starts, one init container
//! per dependency polls it — a service of the stack or a containerised external through its
//! Service (`NAME:PORT` answers once a pod is ready), an external without a container at the
//! address of its check. tcp and http polls run in the small `--init-image`, an exec check
//! in the service's own image. `requires` fails the init container when its budget runs out
//! (the kubelet retries it with back-off, so the pod waits); `wants` and ordering give up
//! and start.

use std::hash::BuildHasher as _;
use std::rc::Rc;
use std::sync::Arc;

use hashbrown::DefaultHashBuilder;

use super::expand::{Instance, with_instance};
use super::plan::{Plan, Planned};
use super::pod::{InitContainer, Wait as WaitContainer};
use crate::backend::capability::Findings;
use crate::backend::capability::{Feature, Warning};
use crate::backend::shared::wrapper::wait_line;
use crate::manifest::Duration;
use crate::model::{Check, DepKind, Model, Target, Wait};

/// How long a dependent waits for a service without a readiness budget of its own.
const DEFAULT_BUDGET: Duration = Duration::from_secs(60);

/// How many waits [`Waits`] keeps.
const SLOTS: usize = 256;

/// A wait's key: the target, the workload of the target (or, for an external, whether the
/// init image polls its check), the kind.
type Key = (Target, usize, DepKind);

/// The wait containers made lately in one render, by `Key`: a wait that does not depend
/// on the waiting service is the same container in every pod that has it, made once while
/// it is in use. A fixed number of slots (the latest key of each): a stack's size does not
/// make it grow, and the waits everyone shares (externals, a hub) stay.
#[derive(Default)]
pub struct Waits {
    slots: Vec<Option<(Key, Rc<WaitContainer>)>>,
    hasher: DefaultHashBuilder,
}

impl Waits {
    /// The container for `key`, made by `make` when not kept (`None` is not kept).
    fn get(
        &mut self,
        key: Key,
        make: impl FnOnce() -> Option<WaitContainer>,
    ) -> Option<Rc<WaitContainer>> {
        if self.slots.is_empty() {
            self.slots.resize_with(SLOTS, || None);
        }
        #[allow(clippy::cast_possible_truncation)] // a slot: any bits do
        let slot = self.hasher.hash_one(key) as usize % SLOTS;
        if let Some((k, c)) = &self.slots[slot]
            && *k == key
        {
            return Some(Rc::clone(c));
        }
        let c = Rc::new(make()?);
        self.slots[slot] = Some((key, Rc::clone(&c)));
        Some(c)
    }
}

/// The init containers of service `s`, and what could not be waited for.
#[must_use]
pub fn init_containers(
    model: &Model,
    plan: &Plan<'_>,
    s: usize,
    init_image: &str,
    waits: &mut Waits,
    found: &mut Findings,
) -> Vec<InitContainer> {
    let view = &model.view;
    let mut edges: Vec<(Target, DepKind)> = view
        .dependencies(s)
        .iter()
        .map(|d| (d.target, d.kind))
        .collect();
    for &t in view.ordered_before(s) {
        if !edges.iter().any(|(x, _)| *x == Target::Service(t)) {
            edges.push((Target::Service(t), DepKind::Before));
        }
    }
    let mut out = Vec::new();
    for (target, kind) in edges {
        match target {
            Target::Service(t) => {
                let dep = &model.services[t];
                let budget = match view.ready_budget(t) {
                    b if b.millis() == 0 => DEFAULT_BUDGET,
                    b => b,
                };
                for (i, p) in plan.service(t).enumerate() {
                    let made = waits.get((target, i, kind), || {
                        let label = format!("service {}", dep.name);
                        service_wait(&p, &label, budget, kind, init_image)
                    });
                    if let Some(c) = made {
                        out.push(init(c));
                    } else {
                        found.unwaited(
                            super::NAME,
                            model,
                            (s, t, kind),
                            "no port (declared or health check) to wait on",
                        );
                    }
                }
            }
            Target::External(e) => {
                out.push(init(external_wait(
                    model,
                    plan,
                    (s, e, kind),
                    init_image,
                    waits,
                    found,
                )));
            }
        }
    }
    out
}

/// The wait on external `e` of service `s`: its Service when the stack runs it, else its
/// check where it is (a loopback address is reported: in a pod it is the pod).
fn external_wait(
    model: &Model,
    plan: &Plan<'_>,
    (s, e, kind): (usize, usize, DepKind),
    init_image: &str,
    waits: &mut Waits,
    found: &mut Findings,
) -> Rc<WaitContainer> {
    let svc = &model.services[s];
    let ext = &model.externals[e];
    let label = || format!("external {}", ext.name);
    if let Some(p) = plan.external(e)
        && let Some(c) = waits.get((Target::External(e), 0, kind), || {
            service_wait(&p, &label(), ext.wait_timeout, kind, init_image)
        })
    {
        return c;
    }
    let host = match &ext.check {
        Check::Tcp { host, .. } => Some(host.as_str()),
        Check::Http { url } => url
            .split_once("://")
            .map(|(_, r)| r.split(['/', '?']).next().unwrap_or(r))
            .map(|a| {
                a.rsplit_once(':')
                    .map_or(a, |(h, _)| h)
                    .trim_matches(['[', ']'])
            }),
        Check::Exec { .. } => None,
    };
    if let Some(host) = host
        && is_loopback(host)
    {
        found.push(Warning {
                        backend: super::NAME,
                        feature: Feature::ExternalGate,
                        services: vec![Arc::clone(&svc.name)].into(),
                        message: format!(
                            "the check of external {} is on {host}, which in a pod is the pod itself: give its address as the pods reach it",
                            ext.name
                        ),
                    });
    }
    let wait = |image: &str, shell: &str| {
        container(
            &ext.name,
            image,
            shell,
            &Wait {
                label: label(),
                check: &ext.check,
                budget: ext.wait_timeout,
                kind,
                external: true,
            },
        )
    };
    if matches!(ext.check, Check::Exec { .. }) {
        // in the service's own image
        let image = svc.container.image.as_deref().unwrap_or(init_image);
        return Rc::new(wait(image, svc.container.shell.as_str()));
    }
    // a check the init image polls: the same for every service (`1`: not the Service's)
    let made = waits.get((Target::External(e), 1, kind), || {
        Some(wait(init_image, "/bin/sh"))
    });
    made.unwrap_or_else(|| Rc::new(wait(init_image, "/bin/sh")))
}

/// The wait on workload `p`'s Service, or `None` when it has no port.
fn service_wait(
    p: &Planned<'_>,
    label: &str,
    budget: Duration,
    kind: DepKind,
    image: &str,
) -> Option<WaitContainer> {
    let check = Check::Tcp {
        host: p.name.to_owned(),
        port: p.wait_port?,
    };
    Some(container(
        p.name,
        image,
        "/bin/sh",
        &Wait {
            label: label.to_owned(),
            check: &check,
            budget,
            kind,
            external: false,
        },
    ))
}

/// An init container running `wait`, without a security context yet (the sandbox's).
fn init(wait: Rc<WaitContainer>) -> InitContainer {
    InitContainer {
        wait,
        security_context: None,
    }
}

fn container(target: &str, image: &str, shell: &str, w: &Wait<'_>) -> WaitContainer {
    let mut name = String::with_capacity(5 + target.len());
    name.push_str("wait-");
    name.extend(target.chars().map(|c| match c {
        '_' | '.' => '-',
        c => c.to_ascii_lowercase(),
    }));
    if let Some((cut, _)) = name.char_indices().nth(super::names::MAX_LABEL) {
        name.truncate(cut);
    }
    name.truncate(name.trim_end_matches('-').len());
    WaitContainer {
        name,
        image: image.to_owned(),
        // `-c` has nothing to escape
        command: vec![
            with_instance(shell, Instance::None),
            "-c".to_owned(),
            with_instance(&wait_line(w, "exit 1"), Instance::None),
        ],
    }
}

/// Whether `host` is this machine (in a pod: the pod).
#[must_use]
pub fn is_loopback(host: &str) -> bool {
    host == "localhost" || host == "::1" || host.starts_with("127.")
}

#[cfg(test)]
mod tests {
    use crate::backend::capability::Feature;
    use crate::backend::{BackendKind, Flags, render_embedded};
    use crate::model::Model;

    /// A dependency without a port is said once for its kind of edge, naming it, on the
    /// services that depend on it; one with a port is waited for and not named.
    #[test]
    fn a_dependency_without_a_port_is_named_once_per_kind() {
        let toml = "name = \"s\"\n[defaults.container]\nimage = \"i\"\n\
            [services.a]\ncommand = [\"/x\"]\n\
            [services.p]\ncommand = [\"/x\"]\nhealth = { tcp = \"127.0.0.1:80\" }\n\
            [services.b]\ncommand = [\"/x\"]\nrequires = [\"a\", \"p\"]\n\
            [services.c]\ncommand = [\"/x\"]\nrequires = [\"a\"]\n\
            [services.d]\ncommand = [\"/x\"]\nwants = [\"a\", \"p\"]\n";
        let model = Model::from_toml("t.toml", toml).expect("valid");
        let all = render_embedded(BackendKind::Kubernetes, &model, &Flags::default())
            .expect("renders")
            .warnings;
        let line = |feature| {
            let w = all.iter().find(|w| w.feature == feature);
            w.map(ToString::to_string).unwrap_or_default()
        };
        let said = ": `a` has no port (declared or health check) to wait on: its dependents \
                    start without waiting for it";
        let requires = line(Feature::Requires);
        assert_eq!(requires.matches("not waitable").count(), 1, "{requires}");
        assert!(requires.contains(said), "{requires}");
        assert!(requires.ends_with(" (b, c)"), "{requires}");
        assert!(!requires.contains("`p`"), "{requires}");
        let wants = line(Feature::Wants);
        assert!(wants.contains(said) && wants.ends_with(" (d)"), "{wants}");
    }
}
