//! One process (or a containerised external) → one typed compose service.

use indexmap::IndexMap;

use super::file::{ComposeService, Condition, DependsOn, Healthcheck, Ulimit, duration};
use crate::backend::shared::{gate, wrapper::Prelude, wrapper::Ready};
use crate::errors::{Refusal, Result};
use crate::escape::compose::dollar;
use crate::manifest::{Duration, RestartPolicy};
use crate::model::{
    Check, Container, DepKind, External, Health, Model, Process, Target, Wait, substitute,
    with_bind,
};

/// What `{bind}` becomes: with host networking a container listens on the host, and the
/// stack's infrastructure stays on its loopback as it would on one machine.
pub const BIND: &str = "127.0.0.1";

/// The label keys every container carries.
pub const LABEL_STACK: &str = "io.openim-init.stack";
/// The service (or external) a container runs.
pub const LABEL_SERVICE: &str = "io.openim-init.service";
/// The instance a container runs, for an instanced service.
pub const LABEL_INSTANCE: &str = "io.openim-init.instance";

/// The compose service name of a process: `NAME` or `NAME-INSTANCE`.
#[must_use]
pub fn name(model: &Model, p: &Process) -> String {
    p.joined(&model.services[p.service], "-")
}

/// The image of service `svc`.
///
/// # Errors
/// The service names none.
pub fn image(svc: &crate::model::Service) -> Result<&str> {
    Ok(svc.container.image.as_deref().ok_or_else(|| {
        Refusal::new(
            format!("services.{}.container.image", svc.name),
            "the container backends run every service from an image, and this one names none",
        )
        .hint(
            "add [defaults.container] image = \"openim/openim-server:v3.8.3\" (or one per service)",
        )
    })?)
}

/// The compose service of process `p`.
///
/// # Errors
/// The service names no image.
pub fn process(model: &Model, p: &Process) -> Result<ComposeService> {
    let s = p.service;
    let svc = &model.services[s];
    let instance = p.instance.as_deref();
    let image = image(svc)?;
    let argv = argv(model, p);
    let mut ulimits = IndexMap::new();
    for (key, v) in [("nofile", svc.limits.nofile), ("nproc", svc.limits.nproc)] {
        if let Some(n) = v {
            ulimits.insert(key, Ulimit { soft: n, hard: n });
        }
    }
    let mut labels = IndexMap::new();
    labels.insert(LABEL_STACK, dollar(&model.name));
    labels.insert(LABEL_SERVICE, dollar(&svc.name));
    if let Some(i) = instance {
        labels.insert(LABEL_INSTANCE, dollar(i));
    }
    let mut out = ComposeService {
        image: dollar(image),
        command: Some(argv.iter().map(|a| dollar(a)).collect()),
        environment: environment(svc, instance),
        env_file: svc.environment_file.iter().map(|f| dollar(f)).collect(),
        user: svc.user.as_ref().map(|u| match &svc.group {
            Some(g) => dollar(&format!("{u}:{g}")),
            None => dollar(u),
        }),
        working_dir: svc.working_dir.as_deref().map(dollar),
        network_mode: "host",
        init: Some(true),
        restart: match svc.restart {
            RestartPolicy::Always => "always",
            RestartPolicy::OnFailure => "on-failure",
            RestartPolicy::Never => "no",
        },
        stop_signal: Some(svc.stop_signal.name().to_owned()),
        stop_grace_period: Some(duration(svc.stop_timeout)),
        ulimits,
        mem_limit: svc.limits.memory_max.map(|b| b.0),
        cpus: svc.limits.cpu_quota.map(|q| f64::from(q) / 100.0),
        volumes: volumes(&svc.container),
        security_opt: Vec::new(),
        cap_drop: Vec::new(),
        cap_add: Vec::new(),
        read_only: None,
        tmpfs: Vec::new(),
        healthcheck: svc
            .health
            .as_ref()
            .map(|h| healthcheck(&h.check, &svc.container.shell, h, None)),
        depends_on: depends_on(model, s),
        labels,
    };
    super::sandbox::apply(svc, &mut out);
    Ok(out)
}

/// The environment of a service's container: its own, then its container's (`{bind}`
/// resolved), `{instance}` substituted.
fn environment(svc: &crate::model::Service, instance: Option<&str>) -> IndexMap<String, String> {
    let mut out = IndexMap::new();
    for (k, v) in &svc.environment {
        out.insert(k.to_owned(), dollar(&substitute(v, instance)));
    }
    for (k, v) in &svc.container.environment {
        out.shift_remove(k);
        out.insert(
            k.clone(),
            dollar(&substitute(&with_bind(v, BIND), instance)),
        );
    }
    out
}

/// The compose service that runs external `e` (which has a container).
#[must_use]
pub fn external(model: &Model, e: &External, c: &Container) -> ComposeService {
    let mut labels = IndexMap::new();
    labels.insert(LABEL_STACK, dollar(&model.name));
    labels.insert(LABEL_SERVICE, dollar(&e.name));
    // probes every 2s; failures during the wait budget do not count
    let timing = Health {
        check: e.check.clone(),
        interval: Duration::from_secs(2),
        timeout: Duration::from_secs(2),
        retries: 3,
    };
    ComposeService {
        image: dollar(c.image.as_deref().unwrap_or_default()),
        command: (!c.command.is_empty()).then(|| {
            c.command
                .iter()
                .map(|a| dollar(&with_bind(a, BIND)))
                .collect()
        }),
        environment: c
            .environment
            .iter()
            .map(|(k, v)| (k.clone(), dollar(&with_bind(v, BIND))))
            .collect(),
        env_file: Vec::new(),
        user: None,
        working_dir: None,
        network_mode: "host",
        init: None,
        restart: "always",
        stop_signal: None,
        stop_grace_period: None,
        ulimits: IndexMap::new(),
        mem_limit: None,
        cpus: None,
        volumes: volumes(c),
        security_opt: Vec::new(),
        cap_drop: Vec::new(),
        cap_add: Vec::new(),
        read_only: None,
        tmpfs: Vec::new(),
        healthcheck: Some(healthcheck(
            &e.check,
            &c.shell,
            &timing,
            Some(e.wait_timeout),
        )),
        depends_on: IndexMap::new(),
        labels,
    }
}

/// The argv of process `p`: its command, wrapped in the sh prelude when something must
/// happen first inside the container (waits on externals the stack does not run,
/// `pre_start`).
fn argv(model: &Model, p: &Process) -> Vec<String> {
    let s = p.service;
    let svc = &model.services[s];
    let instance = p.instance.as_deref();
    // externals the stack runs are waited for by depends_on; the rest inside the container
    let waits: Vec<Wait<'_>> = model
        .view
        .dependencies(s)
        .iter()
        .filter_map(|d| match d.target {
            Target::External(e) if model.externals[e].container.is_none() => {
                let ext = &model.externals[e];
                Some(Wait {
                    label: format!("external {}", ext.name),
                    check: &ext.check,
                    budget: ext.wait_timeout,
                    kind: d.kind,
                    external: true,
                })
            }
            _ => None,
        })
        .collect();
    let prelude = Prelude {
        waits: waits.iter().map(Ready::of).collect(),
        pre_start: svc
            .pre_start
            .iter()
            .map(|argv| argv.iter().map(|a| substitute(a, instance)).collect())
            .collect(),
        ..Prelude::default()
    };
    prelude.wrap(&name(model, p), svc.argv_for(instance))
}

fn volumes(c: &Container) -> Vec<String> {
    c.volumes
        .iter()
        .map(|v| {
            let ro = if v.read_only { ":ro" } else { "" };
            dollar(&format!("{}:{}{ro}", v.source, v.target))
        })
        .collect()
}

/// `healthcheck:` from a check: an exec check runs its argv, tcp and http the shared probe
/// under the container's shell.
fn healthcheck(check: &Check, shell: &str, h: &Health, start: Option<Duration>) -> Healthcheck {
    let mut test = vec!["CMD".to_owned()];
    match check {
        Check::Exec { argv } => test.extend(argv.iter().cloned()),
        Check::Tcp { .. } | Check::Http { .. } => {
            test.extend([
                shell.to_owned(),
                "-c".to_owned(),
                gate::probe(check, h.timeout),
            ]);
        }
    }
    Healthcheck {
        test: test.iter().map(|a| dollar(a)).collect(),
        interval: duration(h.interval),
        timeout: duration(h.timeout),
        retries: h.retries,
        start_period: start.map(duration),
    }
}

/// `depends_on` of service `s`: `requires` waits for health where there is one, `wants`
/// and ordering edges only for the start; a dependency on an instanced service names every
/// instance. (`required: false` is not written: docker-compose 1.29 rejects it.)
fn depends_on(model: &Model, s: usize) -> IndexMap<String, DependsOn> {
    let view = &model.view;
    let mut out: IndexMap<String, DependsOn> = IndexMap::new();
    let mut add = |name: String, healthy: bool, kind: DepKind| {
        let condition = if healthy && kind == DepKind::Requires {
            Condition::ServiceHealthy
        } else {
            Condition::ServiceStarted
        };
        out.entry(name).or_insert(DependsOn { condition });
    };
    for d in view.dependencies(s) {
        match d.target {
            Target::Service(t) => {
                for q in view.processes_of(t) {
                    add(name(model, q), model.services[t].health.is_some(), d.kind);
                }
            }
            Target::External(e) if model.externals[e].container.is_some() => {
                add(model.externals[e].name.clone(), true, d.kind);
            }
            Target::External(_) => {}
        }
    }
    for &t in view.ordered_before(s) {
        for q in view.processes_of(t) {
            add(name(model, q), false, DepKind::Before);
        }
    }
    out
}
