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
use std::sync::LazyLock;

use anyhow::Context as _;
use indexmap::IndexMap;

use super::capability::{Feature, Support, Warning};
use super::data::BackendData;
use super::kit::{Artifact, Backend, HEADER, RenderContext, Rendered, Report, Unit, UnitKind};
use super::shared::names::taken_twice;
use crate::errors::Result;
use crate::escape::compose::dollar;
use crate::model::{Model, Process};
use file::{ComposeFile, Empty};
use serde::ser::{Error as _, SerializeMap as _};
use serde::{Serialize, Serializer};

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
        // the services in file order, by name (a name taken twice is refused); each is made
        // only when it is written
        let mut services = Services {
            model,
            order: IndexMap::new(),
        };
        for (e, ext) in model.externals.iter().enumerate() {
            if ext.container.is_some() {
                services.order.insert(ext.name.clone(), Source::External(e));
                out.units.push(Unit::grouping(
                    ext.name.clone(),
                    &ext.name,
                    UnitKind::Process,
                ));
            }
        }
        for p in model.view.processes() {
            service::image(&model.services[p.service])?;
            let name = service::name(model, p);
            if services.order.contains_key(&name) {
                let service = &model.services[p.service].name;
                return Err(taken_twice("compose", "service", service, &name));
            }
            services.order.insert(name.clone(), Source::Process(p));
            out.units.push(Unit::process(model, p, name));
        }
        let mut volumes = IndexMap::new();
        let named = model
            .services
            .iter()
            .map(|s| &*s.container)
            .chain(model.externals.iter().filter_map(|e| e.container.as_ref()))
            .flat_map(|c| &c.volumes)
            .filter(|v| !v.is_host_path());
        for v in named {
            volumes.insert(dollar(&v.source), Empty {});
        }
        for svc in &model.services {
            if svc.user.is_none() && svc.sandbox.level != crate::model::SandboxLevel::Off {
                out.warnings.push(Warning {
                    backend: NAME,
                    feature: Feature::Sandbox,
                    services: vec![svc.name.as_str().into()],
                    message: "no `user`: the container runs as the image's user, root unless the image sets one (without capabilities, but still uid 0)".to_owned(),
                });
            }
            if svc.user.is_none() && svc.group.is_some() {
                out.warnings.push(Warning {
                    backend: NAME,
                    feature: Feature::Group,
                    services: vec![svc.name.as_str().into()],
                    message:
                        "a group without a user cannot be given: the image's user and group run"
                            .to_owned(),
                });
            }
        }
        let mut text = String::with_capacity(1024 * (services.order.len() + 1));
        text.push_str("# ");
        text.push_str(HEADER);
        text.push('\n');
        let file = ComposeFile { services, volumes };
        crate::escape::yaml::push_document(&mut text, &file).context("writing compose.yaml")?;
        drop(file);
        text.shrink_to_fit();
        ctx.emit(&mut out, Artifact::file(FILE, DATA.file_mode, text))?;
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

/// The `services:` map, each made when it is written (so they are never all held).
struct Services<'m> {
    model: &'m Model,
    order: IndexMap<String, Source<'m>>,
}

impl Serialize for Services<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let model = self.model;
        let mut map = serializer.serialize_map(Some(self.order.len()))?;
        for (name, source) in &self.order {
            let svc = match *source {
                Source::External(e) => {
                    let ext = &model.externals[e];
                    let Some(c) = &ext.container else {
                        continue;
                    };
                    service::external(model, ext, c)
                }
                // the image was checked, the one way this fails
                Source::Process(p) => service::process(model, p).map_err(S::Error::custom)?,
            };
            map.serialize_entry(name, &svc)?;
        }
        map.end()
    }
}
