//! docker compose: one `compose.yaml` with one compose service per process (an instanced
//! service becomes `NAME-INSTANCE` services, `{instance}` substituted: replicas get no
//! index) and one per external that names a container image. The file is a typed serde
//! struct ([`file::ComposeFile`]) written by `serde_norway`; every string is `$`-escaped
//! because compose interpolates. Dependencies are `depends_on` (health-gated for
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
use crate::errors::Result;
use crate::escape::compose::dollar;
use crate::model::Model;
use file::{ComposeFile, Empty};

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

    fn render(&self, model: &Model, _ctx: &RenderContext<'_>) -> Result<Rendered> {
        let mut out = Rendered::default();
        let mut file = ComposeFile {
            services: IndexMap::new(),
            volumes: IndexMap::new(),
        };
        for e in &model.externals {
            if let Some(c) = &e.container {
                file.services
                    .insert(e.name.clone(), service::external(model, e, c));
                out.units
                    .push(Unit::grouping(e.name.clone(), &e.name, UnitKind::Process));
            }
        }
        for p in model.view.processes() {
            let name = service::name(model, p);
            file.services
                .insert(name.clone(), service::process(model, p)?);
            out.units.push(Unit::process(model, p, name));
        }
        let named = model
            .services
            .iter()
            .map(|s| &s.container)
            .chain(model.externals.iter().filter_map(|e| e.container.as_ref()))
            .flat_map(|c| &c.volumes)
            .filter(|v| !v.is_host_path());
        for v in named {
            file.volumes.insert(dollar(&v.source), Empty {});
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
        let yaml = crate::escape::yaml::to_string(&file).context("writing compose.yaml")?;
        out.artifacts.push(Artifact::file(
            FILE,
            DATA.file_mode,
            format!("# {HEADER}\n{yaml}"),
        ));
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

#[cfg(test)]
mod yaml_tests {
    use crate::backend::{BackendKind, Flags, render_embedded};
    use crate::model::Model;

    /// Rendering asserts (in test builds) that the streaming YAML writer writes what the
    /// value-tree writer wrote, for every object of every fixture.
    #[test]
    fn every_fixture_writes_the_same_yaml_as_the_value_tree() {
        let mut models = vec![Model::builtin()];
        for text in [
            include_str!("../../tests/fixtures/full.toml"),
            include_str!("../../tests/fixtures/minimal.toml"),
            include_str!("../../tests/fixtures/supervisord-hostile.toml"),
        ] {
            models.push(Model::from_toml("fixture.toml", text).expect("fixture valid"));
        }
        let mut rendered = 0;
        for m in &models {
            if render_embedded(BackendKind::Compose, m, &Flags::default()).is_ok() {
                rendered += 1;
            }
        }
        assert!(rendered >= 2, "{rendered}");
    }
}
