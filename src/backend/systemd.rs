//! systemd: one unit per service (a template `NAME@.service` for instanced services), a
//! target for the stack and one per group. Services are `PartOf=` their targets, so
//! `systemctl start|stop|restart STACK.target` drives the whole stack.

pub mod sandbox;
pub mod security;
mod unit;
mod values;
pub mod verify;

use std::path::Path;
use std::sync::LazyLock;

use serde::Serialize;

use super::capability::{Feature, Support};
use super::data::BackendData;
use super::kit::{Artifact, Backend, HEADER, RenderContext, Rendered, Report, Unit, UnitKind};
use crate::errors::Result;
use crate::escape::systemd as esc;
use crate::model::{Model, Process, Service};
use crate::render::{Native, native};

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
        let stack_target = format!("{}.target", model.name);
        let target = TargetUnit {
            header: HEADER,
            description: esc::value(&model.description),
            wants: model
                .process_names(&model.stack_members, "@")
                .into_iter()
                .map(service_file)
                .collect(),
            wanted_by: vec!["multi-user.target".into()],
        };
        out.artifacts.push(artifact(
            &stack_target,
            ctx.templates.render("systemd/target.tera", &target)?,
        ));
        for (i, svc) in model.services.iter().enumerate() {
            values::check(svc)?;
            out.warnings.extend(sandbox::losses(svc));
            let unit = unit::service_unit(model, i);
            out.artifacts.push(artifact(
                &unit_file(svc),
                ctx.templates.render("systemd/service.tera", &unit)?,
            ));
        }
        for group in &model.groups {
            let target = TargetUnit {
                header: HEADER,
                description: esc::value(&group.description),
                wants: model
                    .process_names(&group.services, "@")
                    .into_iter()
                    .map(service_file)
                    .collect(),
                wanted_by: Vec::new(),
            };
            let name = format!("{}.target", group.name);
            out.artifacts.push(artifact(
                &name,
                ctx.templates.render("systemd/target.tera", &target)?,
            ));
            out.units
                .push(Unit::grouping(name, &group.name, UnitKind::Group));
        }
        out.units.splice(
            0..0,
            model
                .view
                .processes()
                .iter()
                .map(|p| Unit::process(model, p, process_unit(model, p))),
        );
        out.units.push(Unit::grouping(
            stack_target.clone(),
            &model.name,
            UnitKind::Stack,
        ));
        out.notes = DATA.notes(&model.name, Some(&stack_target));
        Ok(out)
    }

    fn verify(&self, dir: &Path, rendered: &Rendered) -> Result<Report> {
        Ok(verify::check(dir, rendered)?)
    }
}

fn artifact(path: &str, contents: String) -> Artifact {
    Artifact::file(path, DATA.file_mode, contents)
}

/// `NAME` → `NAME.service` (`NAME@INSTANCE` → `NAME@INSTANCE.service`).
fn service_file(name: String) -> String {
    name + ".service"
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

/// The unit a process runs as: `NAME.service` or `NAME@INSTANCE.service`.
#[must_use]
pub fn process_unit(model: &Model, p: &Process) -> String {
    service_file(p.joined(&model.services[p.service], "@"))
}

#[derive(Serialize)]
struct TargetUnit {
    header: &'static str,
    description: String,
    wants: Vec<String>,
    wanted_by: Vec<String>,
}

impl Native for TargetUnit {
    /// `templates/systemd/target.tera`, without tera.
    fn write_native(&self, out: &mut String) {
        out.push_str("# ");
        out.push_str(self.header);
        out.push_str("\n[Unit]\nDescription=");
        out.push_str(&self.description);
        native::joined_if(out, "Wants=", &self.wants, " ");
        if !self.wanted_by.is_empty() {
            out.push_str("\n\n[Install]\nWantedBy=");
            native::push_joined(out, &self.wanted_by, " ");
        }
        out.push('\n');
    }
}
