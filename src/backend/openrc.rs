//! OpenRC (Alpine, Gentoo): one `openrc-run` script per service under `init.d/`, run by
//! `supervise-daemon` so that a crashed process is respawned. An instanced service is one
//! multiplexed script `init.d/NAME` plus a link `init.d/NAME.<instance>` → `NAME` per
//! instance. The stack and every group are meta-services that `want` their members and stop
//! them in reverse start order, so `rc-service STACK start|stop` drives the whole stack.

mod index;
mod meta;
mod sandbox;
mod script;
mod text;
pub mod verify;

use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, LazyLock};

use self::meta::{MetaScript, Owner};

use super::capability::{self, Feature, Support, Warning};
use super::data::BackendData;
use super::kit::{Artifact, Backend, RenderContext, Rendered, Report, Unit, UnitKind};
use crate::errors::{Refusal, Result};
use crate::manifest::RestartPolicy;
use crate::model::{Logs, Model, Process, Service};

/// The OpenRC backend.
pub struct OpenRc;

static DATA: LazyLock<BackendData> =
    LazyLock::new(|| BackendData::parse(include_str!("../../backends/openrc.toml")));

/// The command-line name.
const NAME: &str = "openrc";

/// Directory of the generated scripts inside the output directory.
pub const DIR: &str = "init.d";

const TEMPLATES: &[(&str, &str)] = &[
    (
        "openrc/service.tera",
        include_str!("../../templates/openrc/service.tera"),
    ),
    (
        "openrc/meta.tera",
        include_str!("../../templates/openrc/meta.tera"),
    ),
];

impl Backend for OpenRc {
    fn name(&self) -> &'static str {
        NAME
    }

    fn summary(&self) -> &'static str {
        "OpenRC service scripts (Alpine, Gentoo) under supervise-daemon: init.d/NAME, NAME.<instance> links, STACK meta-service"
    }

    fn support(&self, feature: Feature) -> Support {
        match feature {
            Feature::RestartDelay
            | Feature::StopSignal
            | Feature::StopTimeout
            | Feature::User
            | Feature::Group
            | Feature::WorkingDir
            | Feature::Environment
            | Feature::ProcessLimits
            | Feature::LogFiles
            | Feature::Requires
            | Feature::Wants
            | Feature::Ordering
            | Feature::Health
            | Feature::Instances
            | Feature::NamedInstances => Support::Native,
            Feature::Restart => Support::Unsupported(
                "on-failure: supervise-daemon respawns after every exit, clean or not, so it acts like always; never is emulated: respawn_max=1 and a /bin/sh guard that exits at once when supervise-daemon's start_count is not 0, so the process runs once and the service is then marked failed",
            ),
            Feature::StartLimit => Support::Emulated(
                "respawn_max = burst - 1 respawns within respawn_period = interval (supervise-daemon counts respawns, not starts, and opens its window at the first crash); then it gives up and marks the service failed",
            ),
            Feature::SuccessExitCodes => Support::Emulated(
                "nothing to set: OpenRC ignores the exit status of a stopped service, and supervise-daemon's respawn ignores exit codes",
            ),
            Feature::EnvironmentFile => Support::Emulated(
                "start_pre() reads the file's KEY=value lines and passes each to supervise-daemon --env; the file is never run through the shell",
            ),
            Feature::MemoryMax => Support::Emulated(
                "OpenRC cgroup settings (rc_cgroup_settings memory.max, rc_cgroup_memory on cgroup v1): they take effect only where OpenRC manages cgroups",
            ),
            Feature::CpuQuota => Support::Emulated(
                "OpenRC cgroup settings (rc_cgroup_settings cpu.max, rc_cgroup_cpu on cgroup v1): they take effect only where OpenRC manages cgroups",
            ),
            Feature::ExternalGate => Support::Emulated(
                "start_pre() polls the external's check until it answers or its wait_timeout passes",
            ),
            Feature::PreStart => Support::Emulated(
                "start_pre() runs the commands as root in /, before supervise-daemon switches to the service's user, directory and environment",
            ),
            Feature::Groups => Support::Emulated(
                "a meta-service per group and for the stack wants its members (`want` + `after`); its stop() stops them in reverse start order, because OpenRC does not stop what a service wants",
            ),
            Feature::Sandbox => Support::Emulated(
                "supervise-daemon --no-new-privs, umask=0027, capabilities= (bounding set cut to `capabilities`, raised as ambient) where supervise-daemon has capability support (Debian 12's has none: there it is skipped, and a non-root user keeps no listed capability); no file-system, device or system-call restrictions",
            ),
        }
    }

    fn templates(&self) -> &'static [(&'static str, &'static str)] {
        TEMPLATES
    }

    fn data(&self) -> &'static BackendData {
        &DATA
    }

    fn render(&self, model: &Model, ctx: &RenderContext<'_>) -> Result<Rendered> {
        let mut out = Rendered::default();
        let index = index::Index::new(model);
        let mut seen = HashSet::with_capacity(index.names.built());
        claim(&mut seen, &model.name)?;
        let stack = MetaScript::new(&index, &model.description, Owner::Stack);
        let text = ctx.templates.render("openrc/meta.tera", &stack)?;
        drop(stack);
        ctx.emit(&mut out, script_artifact(&model.name, text))?;
        // one buffer for every service script, each then copied at its exact size: a
        // script's size is only known once written, and the writing thread holds about 500
        // of them at a time (a buffer sized by an estimate left ~1 KB unused in each)
        let mut scratch = String::new();
        for i in 0..model.services.len() {
            service(ctx, &mut out, &index, &mut seen, &mut scratch, i)?;
        }
        drop(scratch);
        for (g, group) in model.groups.iter().enumerate() {
            let meta = MetaScript::new(&index, &group.description, Owner::Group(g));
            let text = ctx.templates.render("openrc/meta.tera", &meta)?;
            claim(&mut seen, &group.name)?;
            ctx.emit(&mut out, script_artifact(&group.name, text))?;
            if ctx.units {
                out.units.push(Unit::grouping(
                    group.name.clone(),
                    &group.name,
                    UnitKind::Group,
                ));
            }
        }
        if ctx.units {
            out.units.splice(
                0..0,
                model
                    .view
                    .processes()
                    .iter()
                    .map(|p| Unit::process(model, p, process_name(model, p))),
            );
            out.units.push(Unit::grouping(
                model.name.clone(),
                &model.name,
                UnitKind::Stack,
            ));
        }
        out.notes = DATA.notes(&model.name, Some(&model.name));
        let journal: Vec<&str> = model
            .services
            .iter()
            .filter(|s| *s.logs == Logs::Journal)
            .map(|s| &*s.name)
            .collect();
        if !journal.is_empty() {
            out.notes.push(format!(
                "OpenRC keeps no log of its own and supervise-daemon discards output: services without `logs` ({}) write stdout and stderr to {}/<service>.log",
                capability::named(&journal),
                index.log_dir
            ));
        }
        Ok(out)
    }

    fn verify(&self, dir: &Path, rendered: &Rendered) -> Result<Report> {
        Ok(verify::check(dir, rendered)?)
    }
}

/// Emit the script of service `i` (written in `scratch` first) and its instance links.
fn service<'a>(
    ctx: &RenderContext<'_>,
    out: &mut Rendered,
    index: &'a index::Index<'_>,
    seen: &mut HashSet<&'a str>,
    scratch: &mut String,
    i: usize,
) -> Result<()> {
    let model = index.model;
    let svc = &model.services[i];
    scratch.clear();
    ctx.templates
        .render_into("openrc/service.tera", &script::build(index, i), scratch)?;
    claim(seen, &svc.name)?;
    let text = scratch.as_str().to_owned();
    ctx.emit(out, script_artifact(&svc.name, text))?;
    for (p, name) in model.view.processes_of(i).iter().zip(index.names.of(i)) {
        if p.instance.is_some() {
            claim(seen, name)?;
            let link = Artifact::symlink(format!("{DIR}/{name}"), svc.name.to_string());
            ctx.emit(out, link)?;
        }
    }
    out.warnings.extend(service_warnings(svc));
    Ok(())
}

/// What rendering `svc` finds beyond the capability table.
fn service_warnings(svc: &Service) -> Vec<Warning> {
    let mut out = Vec::new();
    if let Some(l) = svc
        .start_limit
        .filter(|_| svc.restart != RestartPolicy::Never)
    {
        let respawns = u64::from(l.burst.saturating_sub(1).max(1));
        if svc.restart_delay.secs_ceil().saturating_mul(respawns) > l.interval.secs_ceil() {
            out.push(Warning {
                backend: NAME,
                feature: Feature::StartLimit,
                services: vec![Arc::clone(&svc.name)].into(),
                message: format!(
                    "restart_delay ({}) x {respawns} respawns exceeds the interval ({}): supervise-daemon can never reach the limit and respawns forever",
                    svc.restart_delay, l.interval
                ),
            });
        }
    }
    if svc.health.is_some() && svc.restart == RestartPolicy::Never {
        out.push(Warning {
            backend: NAME,
            feature: Feature::Health,
            services: vec![Arc::clone(&svc.name)].into(),
            message: "restart = never: start_post() waits for the check once; no periodic healthcheck(), since supervise-daemon would restart the process".into(),
        });
    }
    out
}

/// Refuse a second file at `init.d/NAME` (the first one written keeps it). Only names with a
/// dot are kept: every instance link has one (`NAME.INSTANCE`), and the model already refuses
/// two services, groups or externals of one name and a service named as the stack, so two
/// names without a dot never meet (and a stack without instances keeps no table).
fn claim<'a>(seen: &mut HashSet<&'a str>, name: &'a str) -> Result<()> {
    if !name.contains('.') || seen.insert(name) {
        return Ok(());
    }
    Err(Refusal::new(
        format!("services.{name}"),
        format!("OpenRC needs one file per service and instance, but `{DIR}/{name}` would be written twice: a service name with a dot collides with an instance link"),
    )
    .hint("rename the service (no dots)")
    .into())
}

/// The artifact of script `init.d/NAME`.
fn script_artifact(name: &str, contents: String) -> Artifact {
    Artifact::file(format!("{DIR}/{name}"), DATA.exec_mode, contents)
}

/// The OpenRC service name of a process: `NAME`, or `NAME.<instance>`.
#[must_use]
pub fn process_name(model: &Model, p: &Process) -> String {
    p.joined(&model.services[p.service], ".")
}

#[cfg(test)]
mod tests;
