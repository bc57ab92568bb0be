//! The main container of a service's workload (and of a containerised external): argv as
//! `command` + `args`, environment, probes, limits, security context, mounts.

use std::borrow::Cow;
use std::sync::Arc;

use indexmap::IndexMap;

use super::expand::{Instance, POD_INDEX, with_instance};
use super::peers::Peers;
use super::plan::Planned;
use super::pod::{Container, Resources, SecurityContext};
use super::probe::{Probes, probes};
use super::workload::{container_ports, env, mounts};
use crate::backend::capability::Findings;
use crate::backend::capability::{Feature, Warning};
use crate::backend::shared::wrapper::Prelude;
use crate::errors::{Refusal, Result};
use crate::manifest::Duration;
use crate::model::{Container as Spec, External, Health, Limits, Service, with_bind};

/// What `{bind}` becomes: a pod is reached on its own address.
pub const BIND: &str = "0.0.0.0";

/// The main container of workload `p` of service `svc`: its environment is the service's
/// and then its container's; loopback addresses of the stack's workloads in argv and
/// environment are written as their Service names ([`Peers`]).
///
/// # Errors
/// The service names no image, or defines `POD_INDEX` itself in a `StatefulSet`.
pub fn service(
    svc: &Service,
    p: &Planned<'_>,
    peers: &mut Peers<'_>,
    found: &mut Findings,
) -> Result<Container> {
    let image = svc.container.image.as_deref().ok_or_else(|| {
        Refusal::new(
            format!("services.{}.container.image", svc.name),
            "the container backends run every service from an image, and this one names none",
        )
        .hint(
            "add [defaults.container] image = \"openim/openim-server:v3.8.3\" (or one per service)",
        )
    })?;
    let mut vars: IndexMap<&str, Cow<'_, str>> =
        IndexMap::with_capacity(svc.environment.len() + svc.container.environment.len());
    for (k, v) in &svc.environment {
        vars.insert(k, Cow::Borrowed(v));
    }
    for (k, v) in &svc.container.environment {
        vars.shift_remove(k.as_str());
        vars.insert(k, Cow::Owned(with_bind(v, BIND)));
    }
    if p.instance == Instance::Index && vars.contains_key(POD_INDEX) {
        return Err(Refusal::new(
            format!("services.{}.environment.{POD_INDEX}", svc.name),
            "a StatefulSet sets POD_INDEX to the pod's index itself",
        )
        .hint("rename the variable")
        .into());
    }
    // the sh wrapper does inside the container what Kubernetes has no field for; the
    // placeholder stays until the whole argv is escaped
    let prelude = Prelude {
        environment_file: svc.environment_file.as_deref(),
        pre_start: svc
            .pre_start
            .iter()
            .map(crate::model::Strs::to_vec)
            .collect(),
        ..Prelude::default()
    };
    let words: Vec<String> = prelude
        .wrap(p.name, svc.command.to_vec())
        .iter()
        .map(|a| {
            let rewritten = peers.rewritten(&svc.name, p.name, a);
            with_instance(rewritten.as_deref().unwrap_or(a), p.instance)
        })
        .collect();
    let (command, args) = split(words);
    let vars: Vec<(&str, Cow<'_, str>)> = vars
        .into_iter()
        .map(|(k, v)| {
            let rewritten = peers.rewritten(&svc.name, p.name, &v);
            (k, rewritten.map_or(v, Cow::Owned))
        })
        .collect();
    let probes = svc.health.as_ref().map_or_else(Probes::default, |h| {
        probes(h, &svc.container.shell, p.instance, h.window())
    });
    Ok(Container {
        name: p.name.to_owned(),
        image: image.to_owned(),
        command,
        args,
        working_dir: svc.working_dir.as_deref().map(str::to_owned),
        env: env(&vars, p.instance),
        ports: container_ports(p),
        startup_probe: probes.startup,
        readiness_probe: probes.readiness,
        liveness_probe: probes.liveness,
        resources: resources(*svc.limits),
        security_context: Some(security(svc, found)),
        volume_mounts: mounts(&svc.container.volumes),
    })
}

/// The container of external `e`, run from its image; its command (if any) goes to `args`,
/// so the image's entrypoint still runs (as compose's `command` does); probed every 2s, with
/// the wait budget as its start window. `{bind}` is `0.0.0.0` and loopback addresses of the
/// stack's workloads are their Service names, as in a service's container.
#[must_use]
pub fn external(e: &External, c: &Spec, p: &Planned<'_>, peers: &mut Peers<'_>) -> Container {
    let mut text = |t: &str| peers.rewrite(&e.name, p.name, &with_bind(t, BIND));
    let args: Vec<String> = c
        .command
        .iter()
        .map(|a| with_instance(&text(a), Instance::None))
        .collect();
    let vars: Vec<(&str, Cow<'_, str>)> = c
        .environment
        .iter()
        .map(|(k, v)| (k.as_str(), Cow::Owned(text(v))))
        .collect();
    let health = Health {
        check: e.check.clone(),
        interval: Duration::from_secs(2),
        timeout: Duration::from_secs(2),
        retries: 3,
    };
    let probes = probes(&health, &c.shell, Instance::None, e.wait_timeout);
    Container {
        name: p.name.to_owned(),
        image: c.image.clone().unwrap_or_default(),
        args,
        env: env(&vars, Instance::None),
        ports: container_ports(p),
        startup_probe: probes.startup,
        readiness_probe: probes.readiness,
        liveness_probe: probes.liveness,
        volume_mounts: mounts(&c.volumes),
        ..Container::default()
    }
}

/// `command` (the program: it replaces the image's entrypoint) and `args` (the rest).
fn split(mut words: Vec<String>) -> (Vec<String>, Vec<String>) {
    if words.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let rest = words.split_off(1);
    (words, rest)
}

/// `resources.limits`: memory in bytes (binary units when exact), CPU in millicores.
fn resources(l: Limits) -> Option<Resources> {
    let mut limits = IndexMap::new();
    if let Some(b) = l.memory_max {
        let bytes = b.0;
        let text = [("Gi", 1u64 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10)]
            .iter()
            .find(|(_, unit)| bytes >= *unit && bytes.is_multiple_of(*unit))
            .map_or_else(
                || bytes.to_string(),
                |(s, unit)| format!("{}{s}", bytes / unit),
            );
        limits.insert("memory", text);
    }
    if let Some(q) = l.cpu_quota {
        limits.insert("cpu", format!("{}m", u64::from(q) * 10));
    }
    (!limits.is_empty()).then_some(Resources { limits })
}

/// `securityContext`: a numeric user or group is carried; a name cannot be (the kubelet
/// only takes ids): `runAsNonRoot` then makes the kubelet refuse an image running as root.
fn security(svc: &Service, found: &mut Findings) -> SecurityContext {
    let mut sc = SecurityContext {
        allow_privilege_escalation: Some(false),
        ..SecurityContext::default()
    };
    if let Some(u) = &svc.user {
        match u.parse::<u64>() {
            Ok(id) => {
                sc.run_as_user = Some(id);
                sc.run_as_non_root = (id != 0).then_some(true);
            }
            Err(_) if &**u == "root" => sc.run_as_user = Some(0),
            Err(_) => {
                sc.run_as_non_root = Some(true);
                found.push(name_lost(svc, Feature::User, u));
            }
        }
    }
    if let Some(g) = &svc.group {
        match g.parse::<u64>() {
            Ok(id) => sc.run_as_group = Some(id),
            Err(_) if &**g == "root" => sc.run_as_group = Some(0),
            Err(_) => found.push(name_lost(svc, Feature::Group, g)),
        }
    }
    sc
}

fn name_lost(svc: &Service, feature: Feature, name: &str) -> Warning {
    let key = if feature == Feature::User {
        "runAsUser"
    } else {
        "runAsGroup"
    };
    Warning {
        backend: super::NAME,
        feature,
        services: vec![Arc::clone(&svc.name)].into(),
        message: if feature == Feature::User {
            format!(
                "`{name}` is a name and {key} takes a number: the image's USER applies, and as runAsNonRoot is set it must be a numeric id other than 0 (the kubelet cannot check a name)"
            )
        } else {
            format!("`{name}` is a name and {key} takes a number: the image's group applies")
        },
    }
}
