//! docker compose: one `compose.yaml` with one compose service per process (an instanced
//! service becomes `NAME-INSTANCE` services, `{instance}` substituted: replicas get no
//! index) and one per external that names a container image. The file is a typed serde
//! struct ([`file::ComposeFile`]) written by [`crate::escape::yaml`] as each service is
//! made; every string is `$`-escaped because compose interpolates. Dependencies are `depends_on` (health-gated for
//! `requires` on a service with a health check); what compose cannot do before a start
//! (waits on externals it does not run, `pre_start`) runs in the shared `/bin/sh` wrapper
//! inside the container.

pub mod file;
pub mod sandbox;
pub mod service;
pub mod verify;

use std::path::Path;
use std::sync::{Arc, LazyLock};

use anyhow::Context as _;
use indexmap::IndexMap;

use super::capability::{Feature, Findings, Support, Warning};
use super::data::BackendData;
use super::kit::{Backend, FileWriter, HEADER, RenderContext, Rendered, Report, Unit, UnitKind};
use super::shared::names::taken_twice;
use crate::errors::Result;
use crate::escape::compose::dollar;
use crate::escape::yaml;
use crate::model::{Model, Process};
use file::{ComposeService, Empty};
use serde::ser::Error as _;

/// The docker compose backend.
pub struct Compose;

static DATA: LazyLock<BackendData> =
    LazyLock::new(|| BackendData::parse(include_str!("../../backends/compose.toml")));

/// The command-line name.
const NAME: &str = "compose";

/// The file written.
pub const FILE: &str = "compose.yaml";

impl Backend for Compose {
    fn name(&self) -> &'static str {
        NAME
    }

    fn summary(&self) -> &'static str {
        "docker compose: compose.yaml, one service per process and per containerised external, host networking"
    }

    fn support(&self, feature: Feature) -> Support {
        match feature {
            Feature::Restart
            | Feature::StopSignal
            | Feature::StopTimeout
            | Feature::User
            | Feature::Group
            | Feature::WorkingDir
            | Feature::Environment
            | Feature::ProcessLimits
            | Feature::MemoryMax
            | Feature::CpuQuota
            | Feature::Requires
            | Feature::Health
            | Feature::NamedInstances => Support::Native,
            Feature::RestartDelay => Support::Unsupported(
                "the engine restarts after its own back-off (100ms, doubling up to 1min)",
            ),
            Feature::StartLimit => {
                Support::Unsupported("the engine keeps restarting, with its own back-off")
            }
            Feature::SuccessExitCodes => Support::Unsupported(
                "restart: on-failure restarts every non-zero exit, listed codes included",
            ),
            Feature::EnvironmentFile => Support::Emulated(
                "env_file: compose reads the file on the machine that runs `up`, when the container is created (not at each start), with compose's own KEY=value rules",
            ),
            Feature::LogFiles => Support::Unsupported(
                "output goes to the engine's log driver (`docker compose logs`); mount a volume and have the process write files to keep them",
            ),
            Feature::Wants => Support::Emulated(
                "depends_on with condition: service_started: compose starts the wanted service first without waiting for its health, and a wanted service that cannot start fails `up` (`required: false` needs Compose 2.20; docker-compose 1.29 rejects it)",
            ),
            Feature::Ordering => Support::Emulated(
                "depends_on with condition: service_started (compose also starts the earlier service, and fails `up` when it cannot)",
            ),
            Feature::ExternalGate => Support::Emulated(
                "an external with container.image runs in the stack and gates its dependents through depends_on: service_healthy; without one the sh wrapper polls its check inside the container (the image needs /bin/sh)",
            ),
            Feature::PreStart => Support::Emulated(
                "the sh wrapper runs each command inside the container before exec (the image needs /bin/sh)",
            ),
            Feature::Instances => Support::Emulated(
                "one compose service NAME-INSTANCE per instance, {instance} substituted at generation time (replicas get no index)",
            ),
            Feature::Groups => Support::Unsupported(
                "compose has no groups: the file is the stack; start a group by naming its services (`up -d A B`)",
            ),
            Feature::Sandbox => Support::Emulated(
                "cap_drop [ALL] + cap_add `capabilities`, no-new-privileges; strict: read_only, tmpfs for /tmp and each writable path no volume covers (lost on recreate); docker's default seccomp, no filters of its own",
            ),
        }
    }

    fn data(&self) -> &'static BackendData {
        &DATA
    }

    fn render(&self, model: &Model, ctx: &RenderContext<'_>) -> Result<Rendered> {
        let mut out = Rendered::default();
        let services = Services::of(model, ctx.units.then_some(&mut out.units))?;
        let volumes = volumes(model);
        // the same finding for many services is one warning naming them all
        let mut found = Findings::default();
        for svc in &model.services {
            if svc.user.is_none() && svc.sandbox.level != crate::model::SandboxLevel::Off {
                found.push(Warning {
                    backend: NAME,
                    feature: Feature::Sandbox,
                    services: vec![Arc::clone(&svc.name)].into(),
                    message: "no `user`: the container runs as the image's user, root unless the image sets one (without capabilities, but still uid 0)".to_owned(),
                });
            }
            if svc.user.is_none() && svc.group.is_some() {
                found.push(Warning {
                    backend: NAME,
                    feature: Feature::Group,
                    services: vec![Arc::clone(&svc.name)].into(),
                    message:
                        "a group without a user cannot be given: the image's user and group run"
                            .to_owned(),
                });
            }
        }
        // what yaml::push_document writes for a ComposeFile, written a service at a time and
        // handed on in parts
        let mut file = ctx.file(FILE, DATA.file_mode, 1024 * (services.order.len() + 1));
        let text = file.text();
        text.push_str("# ");
        text.push_str(HEADER);
        text.push('\n');
        services.write(&mut file)?;
        drop(services);
        if !volumes.is_empty() {
            let text = file.text();
            text.push_str("volumes:\n");
            for name in volumes.keys() {
                yaml::push_entry(text, 2, name, &Empty {}).context("writing compose.yaml")?;
            }
        }
        file.finish(&mut out)?;
        out.warnings = found.into_warnings();
        out.notes = DATA.notes(&model.name, None);
        let dir = &DATA.install.system;
        out.notes.push(format!(
            "run the stack: `docker compose -p {0} -f {dir}/{FILE} up -d` (or docker-compose), remove it: `docker compose -p {0} -f {dir}/{FILE} down`",
            model.name
        ));
        Ok(out)
    }

    fn verify(&self, dir: &Path, rendered: &Rendered) -> Result<Report> {
        Ok(verify::check(dir, rendered)?)
    }
}

/// Where a compose service comes from.
#[derive(Clone, Copy)]
enum Source<'m> {
    /// External `e` (which has a container).
    External(usize),
    /// A process of the stack.
    Process(&'m Process),
}

/// The named volumes the services mount, in file order.
fn volumes(model: &Model) -> IndexMap<String, Empty> {
    let named = model
        .services
        .iter()
        .map(|s| &*s.container)
        .chain(model.externals.iter().filter_map(|e| e.container.as_ref()))
        .flat_map(|c| &c.volumes)
        .filter(|v| !v.is_host_path());
    named.map(|v| (dollar(&v.source), Empty {})).collect()
}

/// The `services:` map, each made when it is written (so they are never all held).
struct Services<'m> {
    model: &'m Model,
    order: IndexMap<String, Source<'m>>,
}

impl<'m> Services<'m> {
    /// The services in file order, by name (a name taken twice is refused), with a unit
    /// for each pushed to `units` when given.
    ///
    /// # Errors
    /// A service names no image, or two get the same name.
    fn of(model: &'m Model, mut units: Option<&mut Vec<Unit>>) -> Result<Self> {
        let mut order = IndexMap::new();
        for (e, ext) in model.externals.iter().enumerate() {
            if ext.container.is_some() {
                order.insert(ext.name.clone(), Source::External(e));
                if let Some(units) = units.as_deref_mut() {
                    units.push(Unit::grouping(
                        ext.name.clone(),
                        &ext.name,
                        UnitKind::Process,
                    ));
                }
            }
        }
        for p in model.view.processes() {
            service::image(&model.services[p.service])?;
            let name = service::name(model, p);
            if order.contains_key(&name) {
                let service = &model.services[p.service].name;
                return Err(taken_twice("compose", "service", service, &name));
            }
            order.insert(name.clone(), Source::Process(p));
            if let Some(units) = units.as_deref_mut() {
                units.push(Unit::process(model, p, name));
            }
        }
        Ok(Self { model, order })
    }

    /// The compose service from `source`.
    ///
    /// # Errors
    /// The service names no image (checked before, the one way this fails).
    fn make(&self, source: Source<'_>) -> std::result::Result<Option<ComposeService>, yaml::Error> {
        let model = self.model;
        Ok(match source {
            Source::External(e) => {
                let ext = &model.externals[e];
                ext.container
                    .as_ref()
                    .map(|c| service::external(model, ext, c))
            }
            Source::Process(p) => Some(service::process(model, p).map_err(yaml::Error::custom)?),
        })
    }

    /// Write the `services:` mapping of the file, each service made only when it is
    /// written, a part handed on after each.
    ///
    /// # Errors
    /// As [`Self::make`], or the sink's.
    fn write(&self, file: &mut FileWriter<'_, '_>) -> Result<()> {
        file.text().push_str("services:");
        let mut opened = false;
        for (name, &source) in &self.order {
            let Some(svc) = self.make(source).context("writing compose.yaml")? else {
                continue;
            };
            let text = file.text();
            if !std::mem::replace(&mut opened, true) {
                text.push('\n');
            }
            yaml::push_entry(text, 2, name, &svc).context("writing compose.yaml")?;
            file.part_done()?;
        }
        if !opened {
            file.text().push_str(" {}\n");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::{BackendKind, Flags, render_embedded};
    use file::ComposeFile;

    /// The file written a service at a time is the typed file written as one document.
    #[test]
    fn the_file_in_entries_is_the_whole_document() {
        let mut models = vec![Model::builtin()];
        for text in [
            include_str!("../../tests/fixtures/full.toml"),
            include_str!("../../tests/fixtures/minimal.toml"),
            include_str!("../../tests/fixtures/supervisord-hostile.toml"),
        ] {
            models.push(Model::from_toml("fixture.toml", text).expect("fixture valid"));
        }
        let mut checked = 0;
        for model in &models {
            let Ok(rendered) = render_embedded(BackendKind::Compose, model, &Flags::default())
            else {
                continue;
            };
            let services = Services::of(model, None).expect("rendered once");
            let made: IndexMap<&str, ComposeService> = services
                .order
                .iter()
                .filter_map(|(name, &source)| {
                    let svc = services.make(source).expect("made once")?;
                    Some((name.as_str(), svc))
                })
                .collect();
            let whole = ComposeFile {
                services: made,
                volumes: volumes(model),
            };
            let text = yaml::to_string(&whole).expect("yaml");
            assert_eq!(
                rendered.artifacts[0].contents(),
                format!("# {HEADER}\n{text}")
            );
            checked += 1;
        }
        assert!(checked >= 2, "{checked}");
    }
}
