//! systemd: one unit per service (a template `NAME@.service` for instanced services), a
//! target for the stack and one per group. Services are `PartOf=` their targets, so
//! `systemctl start|stop|restart STACK.target` drives the whole stack.

mod fields;
mod index;
pub mod sandbox;
pub mod security;
mod unit;
mod values;
pub mod verify;

use std::borrow::Cow;
use std::path::Path;
use std::sync::LazyLock;

use serde::Serialize;

use super::capability::{Feature, Support};
use super::data::BackendData;
use super::kit::{Artifact, Backend, HEADER, RenderContext, Rendered, Report, Unit, UnitKind};
use super::shared::lines;
use crate::errors::Result;
use crate::escape::systemd as esc;
use crate::model::{Model, Process, Service};
use crate::render::Native;

/// The systemd backend.
pub struct Systemd;

static DATA: LazyLock<BackendData> =
    LazyLock::new(|| BackendData::parse(include_str!("../../backends/systemd.toml")));

const TEMPLATES: &[(&str, &str)] = &[
    (
        "systemd/service.tera",
        include_str!("../../templates/systemd/service.tera"),
    ),
    (
        "systemd/target.tera",
        include_str!("../../templates/systemd/target.tera"),
    ),
];

impl Backend for Systemd {
    fn name(&self) -> &'static str {
        "systemd"
    }

    fn summary(&self) -> &'static str {
        "systemd units (Ubuntu, Debian, CentOS/RHEL): NAME.service, NAME@.service templates, STACK.target"
    }

    fn support(&self, feature: Feature) -> Support {
        use Support::{Emulated, Native};
        match feature {
            Feature::Restart
            | Feature::RestartDelay
            | Feature::StartLimit
            | Feature::StopSignal
            | Feature::StopTimeout
            | Feature::SuccessExitCodes
            | Feature::User
            | Feature::Group
            | Feature::WorkingDir
            | Feature::Environment
            | Feature::EnvironmentFile
            | Feature::ProcessLimits
            | Feature::MemoryMax
            | Feature::CpuQuota
            | Feature::LogFiles
            | Feature::Requires
            | Feature::Wants
            | Feature::Ordering
            | Feature::PreStart
            | Feature::Instances
            | Feature::NamedInstances
            | Feature::Groups
            | Feature::Sandbox => Native,
            Feature::ExternalGate => Emulated(
                "ExecStartPre= polls the external's check until it answers or its wait_timeout passes (requires: the start fails; wants/after: `-` prefix, it starts anyway)",
            ),
            Feature::Health => Emulated(
                "readiness only: ExecStartPost= waits until the check passes; systemd has no periodic liveness probe",
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
        let descriptions = std::iter::once(("description".to_owned(), &model.description)).chain(
            model
                .groups
                .iter()
                .map(|g| (format!("groups.{}.description", g.name), &g.description)),
        );
        values::check_descriptions(descriptions)?;
        let shared = index::Shared::new(model);
        let members = |names: &[&str]| -> Vec<&str> {
            names
                .iter()
                .filter_map(|n| model.view.service_id(n))
                .flat_map(|i| shared.units.of(i))
                .collect()
        };
        {
            // its list of every unit (256 KiB at 10,000 services) goes before the services
            let wants = members(&model.stack_members());
            let target = TargetUnit::new(&model.description, &wants, true);
            let text = ctx.templates.render("systemd/target.tera", &target)?;
            ctx.emit(&mut out, artifact(&shared.stack_target, text))?;
        }
        for (i, svc) in model.services.iter().enumerate() {
            values::check(svc)?;
            out.warnings.extend(sandbox::losses(svc));
            let edges = index::edges(&shared, i);
            let unit = unit::service_unit(&shared, i, &edges);
            ctx.emit(
                &mut out,
                artifact(
                    &unit_file(svc),
                    ctx.templates.render("systemd/service.tera", &unit)?,
                ),
            )?;
        }
        for group in &model.groups {
            let wants = members(
                &group
                    .services
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>(),
            );
            let target = TargetUnit::new(&group.description, &wants, false);
            let name = format!("{}.target", group.name);
            ctx.emit(
                &mut out,
                artifact(&name, ctx.templates.render("systemd/target.tera", &target)?),
            )?;
            if ctx.units {
                out.units
                    .push(Unit::grouping(name, &group.name, UnitKind::Group));
            }
        }
        if ctx.units {
            let processes = model.view.processes().iter().zip(shared.units.all());
            out.units.splice(
                0..0,
                processes.map(|(p, name)| Unit::process(model, p, name.to_owned())),
            );
            out.units.push(Unit::grouping(
                shared.stack_target.clone(),
                &model.name,
                UnitKind::Stack,
            ));
        }
        out.notes = DATA.notes(&model.name, Some(&shared.stack_target));
        Ok(out)
    }

    fn verify(&self, dir: &Path, rendered: &Rendered) -> Result<Report> {
        Ok(verify::check(dir, rendered)?)
    }
}

fn artifact(path: &str, contents: String) -> Artifact {
    Artifact::file(path, DATA.file_mode, contents)
}

/// The unit file name of a service: `NAME.service` or the template `NAME@.service`.
#[must_use]
pub fn unit_file(svc: &Service) -> String {
    let mut out = String::with_capacity(svc.name.len() + 9);
    out.push_str(&svc.name);
    if svc.is_instanced() {
        out.push('@');
    }
    out.push_str(".service");
    out
}

/// The unit a process runs as: `NAME.service` or `NAME@INSTANCE.service`.
#[must_use]
pub fn process_unit(model: &Model, p: &Process) -> String {
    let name = &model.services[p.service].name;
    let instance = p.instance.as_deref().unwrap_or_default();
    let mut out = String::with_capacity(name.len() + instance.len() + 9);
    out.push_str(name);
    if p.instance.is_some() {
        out.push('@');
        out.push_str(instance);
    }
    out.push_str(".service");
    out
}

#[derive(Serialize)]
struct TargetUnit<'a> {
    header: &'static str,
    description: Cow<'a, str>,
    wants: &'a [&'a str],
    /// `wants` cut into lines (see [`lines::runs`]): what the template writes.
    wants_lines: lines::Lines<'a, &'a str>,
    wanted_by: Vec<&'static str>,
}

impl<'a> TargetUnit<'a> {
    /// The target described `description` that wants `wants` (and is wanted by
    /// `multi-user.target` when `install`).
    fn new(description: &'a str, wants: &'a [&'a str], install: bool) -> Self {
        Self {
            header: HEADER,
            description: esc::value_cow(description),
            wants_lines: lines::Lines(wants),
            wants,
            wanted_by: if install {
                vec!["multi-user.target"]
            } else {
                Vec::new()
            },
        }
    }
}

impl Native for TargetUnit<'_> {
    /// `templates/systemd/target.tera`, without tera.
    fn write_native(&self, out: &mut String) {
        out.push_str("# ");
        out.push_str(self.header);
        out.push_str("\n[Unit]\nDescription=");
        out.push_str(&self.description);
        lines::push_lines(out, "Wants=", self.wants, " ");
        if !self.wanted_by.is_empty() {
            out.push_str("\n\n[Install]\nWantedBy=");
            lines::push_joined(out, &self.wanted_by, " ");
        }
        out.push('\n');
    }
}
