//! OpenRC (Alpine, Gentoo): one `openrc-run` script per service under `init.d/`, run by
//! `supervise-daemon` so that a crashed process is respawned. An instanced service is one
//! multiplexed script `init.d/NAME` plus a link `init.d/NAME.<instance>` → `NAME` per
//! instance. The stack and every group are meta-services that `want` their members and stop
//! them in reverse start order, so `rc-service STACK start|stop` drives the whole stack.

mod script;

use std::collections::{BTreeSet, HashMap};
use std::sync::LazyLock;

use anyhow::{Result, bail};
use serde::Serialize;

use super::{
    Artifact, Backend, BackendData, Feature, HEADER, RenderContext, Rendered, Support, Warning,
};
use crate::errors::UsageError;
use crate::escape::openrc::{Piece, word};
use crate::manifest::RestartPolicy;
use crate::model::{Dep, Logs, Model, Service};

/// The OpenRC backend.
pub struct OpenRc;

static DATA: LazyLock<BackendData> =
    LazyLock::new(|| BackendData::parse(include_str!("../../backends/openrc.toml")));

/// Directory of the generated scripts inside the output directory.
pub const DIR: &str = "init.d";

const CAPABILITIES: &[(Feature, Support)] = &[
    (
        Feature::Restart,
        Support::Unsupported(
            "on-failure: supervise-daemon respawns after every exit, clean or not, so it acts like always; never is emulated: respawn_max=1 and a /bin/sh guard that exits at once when supervise-daemon's start_count is not 0, so the process runs once and the service is then marked failed",
        ),
    ),
    (Feature::RestartDelay, Support::Native),
    (
        Feature::StartLimit,
        Support::Emulated(
            "respawn_max = burst - 1 respawns within respawn_period = interval (supervise-daemon counts respawns, not starts, and opens its window at the first crash); then it gives up and marks the service failed",
        ),
    ),
    (Feature::StopSignal, Support::Native),
    (Feature::StopTimeout, Support::Native),
    (
        Feature::SuccessExitCodes,
        Support::Emulated(
            "nothing to set: OpenRC ignores the exit status of a stopped service, and supervise-daemon's respawn ignores exit codes",
        ),
    ),
    (Feature::User, Support::Native),
    (Feature::Group, Support::Native),
    (Feature::WorkingDir, Support::Native),
    (Feature::Environment, Support::Native),
    (
        Feature::EnvironmentFile,
        Support::Emulated(
            "start_pre() reads the file's KEY=value lines and passes each to supervise-daemon --env; the file is never run through the shell",
        ),
    ),
    (Feature::ProcessLimits, Support::Native),
    (
        Feature::MemoryMax,
        Support::Emulated(
            "OpenRC cgroup settings (rc_cgroup_settings memory.max, rc_cgroup_memory on cgroup v1): they take effect only where OpenRC manages cgroups",
        ),
    ),
    (
        Feature::CpuQuota,
        Support::Emulated(
            "OpenRC cgroup settings (rc_cgroup_settings cpu.max, rc_cgroup_cpu on cgroup v1): they take effect only where OpenRC manages cgroups",
        ),
    ),
    (Feature::LogFiles, Support::Native),
    (Feature::Requires, Support::Native),
    (Feature::Wants, Support::Native),
    (Feature::Ordering, Support::Native),
    (
        Feature::ExternalGate,
        Support::Emulated(
            "start_pre() polls the external's check until it answers or its wait_timeout passes",
        ),
    ),
    (Feature::Health, Support::Native),
    (
        Feature::PreStart,
        Support::Emulated(
            "start_pre() runs the commands as root in /, before supervise-daemon switches to the service's user, directory and environment",
        ),
    ),
    (Feature::Instances, Support::Native),
    (Feature::NamedInstances, Support::Native),
    (
        Feature::Groups,
        Support::Emulated(
            "a meta-service per group and for the stack wants its members (`want` + `after`); its stop() stops them in reverse start order, because OpenRC does not stop what a service wants",
        ),
    ),
];

impl Backend for OpenRc {
    fn name(&self) -> &'static str {
        "openrc"
    }

    fn summary(&self) -> &'static str {
        "OpenRC service scripts (Alpine, Gentoo) under supervise-daemon: init.d/NAME, NAME.<instance> links, STACK meta-service"
    }

    fn capabilities(&self) -> &'static [(Feature, Support)] {
        CAPABILITIES
    }

    fn data(&self) -> &'static BackendData {
        &DATA
    }

    fn render(&self, model: &Model, ctx: &RenderContext<'_>) -> Result<Rendered> {
        let mut out = Rendered::default();
        out.artifacts.push(script_artifact(
            &model.name,
            ctx.templates.render(
                "openrc/meta.tera",
                &meta(model, &model.description, &model.stack_members, true),
            )?,
        ));
        for svc in &model.services {
            let text = ctx
                .templates
                .render("openrc/service.tera", &script::build(model, svc))?;
            out.artifacts.push(script_artifact(&svc.name, text));
            for inst in svc.instances.iter().flatten() {
                out.artifacts.push(Artifact::symlink(
                    &format!("{DIR}/{}.{inst}", svc.name),
                    &svc.name,
                ));
            }
            if let Some(l) = svc
                .start_limit
                .filter(|_| svc.restart != RestartPolicy::Never)
            {
                let respawns = u64::from(l.burst.saturating_sub(1).max(1));
                if svc.restart_delay.secs_ceil() * respawns > l.interval.secs_ceil() {
                    out.warnings.push(Warning {
                        backend: "openrc",
                        feature: Feature::StartLimit,
                        services: vec![svc.name.clone()],
                        message: format!(
                            "restart_delay ({}) x {respawns} respawns exceeds the interval ({}): supervise-daemon can never reach the limit and respawns forever",
                            svc.restart_delay, l.interval
                        ),
                    });
                }
            }
            if svc.health.is_some() && svc.restart == RestartPolicy::Never {
                out.warnings.push(Warning {
                    backend: "openrc",
                    feature: Feature::Health,
                    services: vec![svc.name.clone()],
                    message: "restart = never: start_post() waits for the check once; no periodic healthcheck(), since supervise-daemon would restart the process".into(),
                });
            }
        }
        for group in &model.groups {
            out.artifacts.push(script_artifact(
                &group.name,
                ctx.templates.render(
                    "openrc/meta.tera",
                    &meta(model, &group.description, &group.services, false),
                )?,
            ));
        }
        let mut seen = BTreeSet::new();
        for a in &out.artifacts {
            if !seen.insert(a.path.as_str()) {
                bail!(UsageError(format!(
                    "OpenRC needs one file per service and instance, but `{}` would be written twice: a service name with a dot collides with an instance link; rename the service",
                    a.path
                )));
            }
        }
        out.notes.push(format!(
            "install: `cp -a {DIR}/. {dir}/` (keeps the instance links), then `rc-update add {stack} default && rc-service {stack} start`",
            dir = DATA.install.system,
            stack = model.name
        ));
        let journal: Vec<&str> = model
            .services
            .iter()
            .filter(|s| s.logs == Logs::Journal)
            .map(|s| s.name.as_str())
            .collect();
        if !journal.is_empty() {
            out.notes.push(format!(
                "OpenRC keeps no log of its own and supervise-daemon discards output: services without `logs` ({}) write stdout and stderr to {}/<service>.log",
                journal.join(", "),
                script::default_log_dir(model)
            ));
        }
        Ok(out)
    }
}

fn script_artifact(name: &str, contents: String) -> Artifact {
    Artifact {
        path: format!("{DIR}/{name}"),
        mode: DATA.exec_mode,
        contents,
    }
}

/// The OpenRC service names a service runs as: `NAME`, or `NAME.<instance>` per instance.
#[must_use]
pub fn service_names(svc: &Service) -> Vec<String> {
    match &svc.instances {
        None => vec![svc.name.clone()],
        Some(list) => list.iter().map(|i| format!("{}.{i}", svc.name)).collect(),
    }
}

/// The OpenRC service names of the services among `deps`.
fn dep_names(model: &Model, deps: &[Dep]) -> Vec<String> {
    deps.iter()
        .filter_map(|d| match d {
            Dep::Service(n) => model.service(n),
            Dep::External(_) => None,
        })
        .flat_map(service_names)
        .collect()
}

#[derive(Serialize)]
struct MetaScript {
    header: &'static str,
    description: String,
    members: String,
    /// Members to stop, deepest start layer first; each layer's services stop in parallel.
    stop_layers: Vec<String>,
    /// Group meta-services the stack also starts (and marks stopped after its members).
    groups: String,
}

/// The start layer of every service: 0 without predecessors, else one more than its
/// deepest predecessor (over all services, so ordering through a non-member is kept).
fn layers(model: &Model) -> HashMap<&str, usize> {
    let mut depth: HashMap<&str, usize> = HashMap::new();
    for s in model.start_order() {
        let preds = s
            .requires
            .iter()
            .chain(&s.wants)
            .chain(&s.after)
            .filter_map(|d| match d {
                Dep::Service(n) => Some(n.as_str()),
                Dep::External(_) => None,
            })
            .chain(
                model
                    .services
                    .iter()
                    .filter(|t| t.before.contains(&s.name))
                    .map(|t| t.name.as_str()),
            );
        let d = preds
            .filter_map(|p| depth.get(p))
            .map(|x| x + 1)
            .max()
            .unwrap_or(0);
        depth.insert(&s.name, d);
    }
    depth
}

/// The meta-service of the stack (`groups`: true) or of a group.
fn meta(model: &Model, description: &str, members: &[String], groups: bool) -> MetaScript {
    let order: Vec<&Service> = model
        .start_order()
        .into_iter()
        .filter(|s| members.contains(&s.name))
        .collect();
    let depth = layers(model);
    let deepest = depth.values().copied().max().unwrap_or(0);
    let stop_layers = (0..=deepest)
        .rev()
        .map(|layer| {
            order
                .iter()
                .rev()
                .filter(|s| depth.get(s.name.as_str()) == Some(&layer))
                .flat_map(|s| service_names(s).into_iter().rev())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .filter(|l| !l.is_empty())
        .collect();
    MetaScript {
        header: HEADER,
        description: word(&[Piece::Text(description)]),
        members: order
            .iter()
            .flat_map(|s| service_names(s))
            .collect::<Vec<_>>()
            .join(" "),
        stop_layers,
        groups: if groups {
            model
                .groups
                .iter()
                .filter(|g| g.services.iter().all(|m| members.contains(m)))
                .map(|g| g.name.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        } else {
            String::new()
        },
    }
}
