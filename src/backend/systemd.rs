//! systemd: one unit per service (a template `NAME@.service` for instanced services), a
//! target for the stack and one per group. Services are `PartOf=` their targets, so
//! `systemctl start|stop|restart STACK.target` drives the whole stack.

mod values;

use std::sync::LazyLock;

use anyhow::Result;
use serde::Serialize;

use super::{Artifact, Backend, BackendData, Feature, HEADER, RenderContext, Rendered, Support};
use crate::escape::systemd as esc;
use crate::gate;
use crate::manifest::{Duration, RestartPolicy};
use crate::model::{Dep, Logs, Model, Service, map_placeholder};

/// The systemd backend.
pub struct Systemd;

static DATA: LazyLock<BackendData> =
    LazyLock::new(|| BackendData::parse(include_str!("../../backends/systemd.toml")));

const CAPABILITIES: &[(Feature, Support)] = &[
    (Feature::Restart, Support::Native),
    (Feature::RestartDelay, Support::Native),
    (Feature::StartLimit, Support::Native),
    (Feature::StopSignal, Support::Native),
    (Feature::StopTimeout, Support::Native),
    (Feature::SuccessExitCodes, Support::Native),
    (Feature::User, Support::Native),
    (Feature::Group, Support::Native),
    (Feature::WorkingDir, Support::Native),
    (Feature::Environment, Support::Native),
    (Feature::EnvironmentFile, Support::Native),
    (Feature::ProcessLimits, Support::Native),
    (Feature::MemoryMax, Support::Native),
    (Feature::CpuQuota, Support::Native),
    (Feature::LogFiles, Support::Native),
    (Feature::Requires, Support::Native),
    (Feature::Wants, Support::Native),
    (Feature::Ordering, Support::Native),
    (
        Feature::ExternalGate,
        Support::Emulated(
            "ExecStartPre= polls the external's check until it answers or its wait_timeout passes",
        ),
    ),
    (
        Feature::Health,
        Support::Emulated(
            "readiness only: ExecStartPost= waits until the check passes; systemd has no periodic liveness probe",
        ),
    ),
    (Feature::PreStart, Support::Native),
    (Feature::Instances, Support::Native),
    (Feature::NamedInstances, Support::Native),
    (Feature::Groups, Support::Native),
];

impl Backend for Systemd {
    fn name(&self) -> &'static str {
        "systemd"
    }

    fn summary(&self) -> &'static str {
        "systemd units (Ubuntu, Debian, CentOS/RHEL): NAME.service, NAME@.service templates, STACK.target"
    }

    fn capabilities(&self) -> &'static [(Feature, Support)] {
        CAPABILITIES
    }

    fn data(&self) -> &'static BackendData {
        &DATA
    }

    fn render(&self, model: &Model, ctx: &RenderContext<'_>) -> Result<Rendered> {
        let mut out = Rendered::default();
        let descriptions = std::iter::once(("description".to_owned(), &model.description)).chain(
            model
                .groups
                .iter()
                .map(|g| (format!("groups.{}.description", g.name), &g.description)),
        );
        values::check_descriptions(descriptions)?;
        let stack_target = format!("{}.target", model.name);
        let target = TargetUnit {
            header: HEADER,
            description: esc::value(&model.description),
            wants: members(model, &model.stack_members),
            part_of: Vec::new(),
            wanted_by: vec!["multi-user.target".into()],
        };
        out.artifacts.push(artifact(
            &stack_target,
            ctx.templates.render("systemd/target.tera", &target)?,
        ));
        for svc in &model.services {
            values::check(svc)?;
            let unit = service_unit(model, svc);
            out.artifacts.push(artifact(
                &unit_file(svc),
                ctx.templates.render("systemd/service.tera", &unit)?,
            ));
        }
        for group in &model.groups {
            let target = TargetUnit {
                header: HEADER,
                description: esc::value(&group.description),
                wants: members(model, &group.services),
                part_of: Vec::new(),
                wanted_by: Vec::new(),
            };
            out.artifacts.push(artifact(
                &format!("{}.target", group.name),
                ctx.templates.render("systemd/target.tera", &target)?,
            ));
        }
        out.notes.push(format!(
            "install: copy the files to {}, then `systemctl daemon-reload && systemctl enable --now {stack_target}`",
            DATA.install.system
        ));
        Ok(out)
    }
}

fn artifact(path: &str, contents: String) -> Artifact {
    Artifact {
        path: path.to_owned(),
        mode: DATA.file_mode,
        contents,
    }
}

/// The unit file name of a service: `NAME.service` or the template `NAME@.service`.
#[must_use]
pub fn unit_file(svc: &Service) -> String {
    if svc.is_instanced() {
        format!("{}@.service", svc.name)
    } else {
        format!("{}.service", svc.name)
    }
}

/// The units a service expands to: `NAME.service` or `NAME@k.service` per instance.
#[must_use]
pub fn unit_names(svc: &Service) -> Vec<String> {
    match &svc.instances {
        None => vec![format!("{}.service", svc.name)],
        Some(list) => list
            .iter()
            .map(|i| format!("{}@{i}.service", svc.name))
            .collect(),
    }
}

fn members(model: &Model, names: &[String]) -> Vec<String> {
    names
        .iter()
        .filter_map(|n| model.service(n))
        .flat_map(unit_names)
        .collect()
}

fn dep_units(model: &Model, deps: &[Dep]) -> Vec<String> {
    deps.iter()
        .filter_map(|d| match d {
            Dep::Service(n) => model.service(n),
            Dep::External(_) => None,
        })
        .flat_map(unit_names)
        .collect()
}

#[derive(Serialize)]
struct TargetUnit {
    header: &'static str,
    description: String,
    wants: Vec<String>,
    part_of: Vec<String>,
    wanted_by: Vec<String>,
}

#[derive(Serialize)]
struct ServiceUnit {
    header: &'static str,
    description: String,
    part_of: Vec<String>,
    requires: Vec<String>,
    wants: Vec<String>,
    after: Vec<String>,
    before: Vec<String>,
    start_limit_interval: String,
    start_limit_burst: Option<u32>,
    exec_start_pre: Vec<String>,
    exec_start: String,
    exec_start_post: Vec<String>,
    user: Option<String>,
    group: Option<String>,
    working_dir: Option<String>,
    environment: Vec<String>,
    environment_file: Option<String>,
    restart: &'static str,
    restart_sec: String,
    timeout_start: Option<String>,
    kill_signal: String,
    timeout_stop: String,
    success_exit_status: Option<String>,
    limit_nofile: Option<u64>,
    limit_nproc: Option<u64>,
    memory_max: Option<u64>,
    cpu_quota: Option<String>,
    stdout: Option<String>,
    stderr: Option<String>,
    wanted_by: Vec<String>,
}

/// systemd time span: whole seconds when exact, else milliseconds.
fn span(d: Duration) -> String {
    if d.millis().is_multiple_of(1000) {
        format!("{}s", d.millis() / 1000)
    } else {
        format!("{}ms", d.millis())
    }
}

fn service_unit(model: &Model, svc: &Service) -> ServiceUnit {
    let inst = svc.is_instanced();
    let mut part_of = Vec::new();
    if model.stack_members.contains(&svc.name) {
        part_of.push(format!("{}.target", model.name));
    }
    part_of.extend(
        model
            .groups
            .iter()
            .filter(|g| g.services.contains(&svc.name))
            .map(|g| format!("{}.target", g.name)),
    );

    let requires = dep_units(model, &svc.requires);
    let wants = dep_units(model, &svc.wants);
    let mut after: Vec<String> = requires.iter().chain(&wants).cloned().collect();
    for unit in dep_units(model, &svc.after) {
        if !after.contains(&unit) {
            after.push(unit);
        }
    }
    let before = svc
        .before
        .iter()
        .filter_map(|n| model.service(n))
        .flat_map(unit_names)
        .collect();

    // readiness gates on externals, then the user's pre_start commands
    let mut exec_start_pre = Vec::new();
    let mut start_budget = Duration::default();
    for name in svc.external_deps() {
        if let Some(ext) = model.external(name) {
            let argv = gate::wait_argv(&format!("external {name}"), &ext.check, ext.wait_timeout);
            exec_start_pre.push(esc::exec_line(&argv, false));
            start_budget = start_budget.saturating_add(ext.wait_timeout);
        }
    }
    exec_start_pre.extend(svc.pre_start.iter().map(|argv| esc::exec_line(argv, inst)));
    let mut exec_start_post = Vec::new();
    if let Some(h) = &svc.health {
        let wait = h.window();
        let argv = gate::wait_argv(&svc.name, &h.check, wait);
        exec_start_post.push(esc::exec_line(&argv, false));
        start_budget = start_budget.saturating_add(wait);
    }
    let timeout_start =
        (start_budget.millis() > 0).then(|| span(start_budget.saturating_add(Duration(30_000))));

    let (stdout, stderr) = match &svc.logs {
        Logs::Journal => (None, None),
        Logs::Files { stdout, stderr } => {
            let out = format!("append:{}", esc::value(stdout));
            let err = stderr
                .as_ref()
                .map_or_else(|| out.clone(), |e| format!("append:{}", esc::value(e)));
            (Some(out), Some(err))
        }
    };
    let (start_limit_interval, start_limit_burst) = match svc.start_limit {
        Some(l) => (span(l.interval), Some(l.burst)),
        None => ("0".to_owned(), None), // never give up restarting a crashed service
    };

    ServiceUnit {
        header: HEADER,
        description: if inst {
            map_placeholder(&svc.description, esc::value, esc::INSTANCE_TOKEN)
        } else {
            esc::value(&svc.description)
        },
        part_of: part_of.clone(),
        requires,
        wants,
        after,
        before,
        start_limit_interval,
        start_limit_burst,
        exec_start_pre,
        exec_start: esc::exec_line(&svc.command, inst),
        exec_start_post,
        user: svc.user.as_deref().map(esc::value),
        group: svc.group.as_deref().map(esc::value),
        working_dir: svc.working_dir.as_deref().map(esc::value),
        environment: svc
            .environment
            .iter()
            .map(|(k, v)| esc::environment(k, v, inst))
            .collect(),
        environment_file: svc.environment_file.as_deref().map(esc::value),
        restart: match svc.restart {
            RestartPolicy::Always => "always",
            RestartPolicy::OnFailure => "on-failure",
            RestartPolicy::Never => "no",
        },
        restart_sec: span(svc.restart_delay),
        timeout_start,
        kill_signal: svc.stop_signal.name().to_owned(),
        timeout_stop: span(svc.stop_timeout),
        success_exit_status: (!svc.success_exit_codes.is_empty()).then(|| {
            svc.success_exit_codes
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" ")
        }),
        limit_nofile: svc.limits.nofile,
        limit_nproc: svc.limits.nproc,
        memory_max: svc.limits.memory_max.map(|b| b.0),
        cpu_quota: svc.limits.cpu_quota.map(|q| format!("{q}%")),
        stdout,
        stderr,
        wanted_by: if part_of.is_empty() {
            vec!["multi-user.target".into()]
        } else {
            part_of
        },
    }
}
