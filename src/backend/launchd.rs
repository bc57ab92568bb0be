//! launchd (macOS): one job plist per service, and one per instance of an instanced service,
//! named `LABEL.plist`. The plists are written natively (`job.rs`), in the exact layout of the
//! `plist` crate, which a test holds them to byte for byte; all XML escaping is in one place. What launchd lacks (dependencies, readiness gates, pre-start
//! commands, environment files) is emulated by a `/bin/sh -c` wrapper that ends in
//! `exec "$@"`; groups have no launchd counterpart: the notes print `launchctl` loops instead.

mod argv;
mod job;
mod notes;
mod values;
pub mod verify;

use std::borrow::Cow;
use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, LazyLock};

use super::capability::{Feature, Support, Warning};
use super::data::BackendData;
use super::kit::{Artifact, Backend, RenderContext, Rendered, Report, Unit};
use super::shared;
use super::shared::names::ProcessNames;
use super::shared::waits::WaitScripts;
use super::shared::wrapper::{self, Prelude, Ready};
use crate::errors::{Error, Refusal, Result};
use crate::model::{DepKind, Model, Process, Target};

pub use super::shared::wrapper::TIMEOUT_SHIM;

/// The launchd backend.
pub struct Launchd;

static DATA: LazyLock<BackendData> =
    LazyLock::new(|| BackendData::parse(include_str!("../../backends/launchd.toml")));

/// macOS' `OPEN_MAX`: a larger `NumberOfFiles` may be clamped or refused unless `kern.maxfilesperproc`
/// allows it.
const OPEN_MAX: u64 = 10240;

/// The command-line name.
const NAME: &str = "launchd";

/// `--label-prefix`: the reverse-DNS label prefix (default `io.<stack>`).
pub const LABEL_PREFIX: &str = "label-prefix";

impl Backend for Launchd {
    fn name(&self) -> &'static str {
        NAME
    }

    fn flags(&self) -> &'static [&'static str] {
        &[LABEL_PREFIX]
    }

    fn summary(&self) -> &'static str {
        "launchd job plists (macOS): LABEL.plist per service and instance, for /Library/LaunchDaemons or ~/Library/LaunchAgents"
    }

    fn support(&self, feature: Feature) -> Support {
        match feature {
            Feature::Restart
            | Feature::StopTimeout
            | Feature::User
            | Feature::Group
            | Feature::WorkingDir
            | Feature::Environment
            | Feature::ProcessLimits
            | Feature::LogFiles
            | Feature::NamedInstances => Support::Native,
            Feature::RestartDelay => Support::Emulated(
                "ThrottleInterval (whole seconds, at least 1): launchd spawns a job at most once per interval, so a job that ran longer than that restarts at once",
            ),
            Feature::StartLimit => Support::Unsupported(
                "launchd keeps restarting forever, throttled by ThrottleInterval",
            ),
            Feature::StopSignal => Support::Unsupported(
                "launchd has no stop-signal key: it always sends SIGTERM, then SIGKILL after ExitTimeOut",
            ),
            Feature::SuccessExitCodes => Support::Unsupported(
                "KeepAlive.SuccessfulExit means exit status 0 only: with restart = on-failure a listed code is restarted like a failure",
            ),
            Feature::EnvironmentFile => Support::Emulated(wrapper::ENV_FILE_HOW),
            Feature::MemoryMax => {
                Support::Unsupported("macOS does not enforce a memory ceiling for launchd jobs")
            }
            Feature::CpuQuota => Support::Unsupported("launchd has no CPU quota"),
            Feature::Requires => Support::Emulated(
                "launchd has no dependency model: the sh wrapper waits for the dependency's health check and fails the start when it does not pass in time (launchd retries per KeepAlive); stopping a dependency does not stop its dependents",
            ),
            Feature::Wants => Support::Emulated(
                "the sh wrapper waits for the dependency's health check, then starts anyway",
            ),
            Feature::Ordering => Support::Emulated(
                "the sh wrapper waits for the earlier service's health check, then starts anyway",
            ),
            Feature::ExternalGate => Support::Emulated(
                "the sh wrapper polls the external's check before exec; requires: fails the start after wait_timeout, wants/after: starts anyway",
            ),
            Feature::Health => Support::Unsupported(
                "launchd has no health checks; the check only gates the start of dependents",
            ),
            Feature::PreStart => Support::Emulated(
                "the sh wrapper runs each command in order before exec and fails the start if one fails",
            ),
            Feature::Instances => Support::Emulated(
                "one job per instance, {instance} substituted at generation time (regenerate to change them)",
            ),
            Feature::Groups => Support::Unsupported(
                "launchd has no job groups; the notes print launchctl loops that bootstrap / boot out the stack and each group",
            ),
            Feature::Sandbox => Support::Unsupported(
                "only Umask 0027 (written as 23) and UserName are carried: launchd has no capability, privilege, file-system or system-call restrictions",
            ),
        }
    }

    fn data(&self) -> &'static BackendData {
        &DATA
    }

    fn render(&self, model: &Model, ctx: &RenderContext<'_>) -> Result<Rendered> {
        let prefix = label_prefix(model, ctx.flags.value(LABEL_PREFIX))?;
        let mut out = Rendered::default();
        let labels = ProcessNames::new(model, |p| label(&prefix, model, p));
        let mut escaped = argv::Escaped::new(
            WaitScripts::new(model),
            model.externals.len(),
            model.services.len(),
        );
        let mut seen = HashSet::with_capacity(labels.all().len());
        // one unit per job: not a doubled vector (it lives to the end of the render); none
        // when the caller does not want them (`generate`)
        if ctx.units {
            out.units.reserve_exact(labels.all().len());
        }
        for (s, svc) in model.services.iter().enumerate() {
            values::check(svc)?;
            let mut waits = Vec::new();
            let mut targets = Vec::new();
            for (target, kind) in shared::waits::edges(model, s) {
                match (escaped.scripts().script(target), target) {
                    (Some(script), _) => {
                        waits.push(Ready {
                            script: Cow::Borrowed(script),
                            hard: kind.is_hard(),
                        });
                        targets.push(target);
                    }
                    (None, Target::Service(dep)) => out.warnings.push(Warning {
                        backend: NAME,
                        feature: feature_of(kind),
                        services: vec![Arc::clone(&svc.name)],
                        message: format!(
                            "not waitable: `{}` has no health check, so {} starts without waiting for it",
                            model.services[dep].name, svc.name
                        ),
                    }),
                    (None, Target::External(_)) => {}
                }
            }
            for (p, label) in model.view.processes_of(s).iter().zip(labels.of(s)) {
                if !seen.insert(label) {
                    return Err(Refusal::new(
                        format!("services.{}", svc.name),
                        format!("two launchd jobs would both be labelled `{label}` (a service name with a dot clashes with an instance)"),
                    )
                    .hint("rename one of the services (no dots)")
                    .into());
                }
                let prelude = Prelude {
                    waits: waits.clone(),
                    ..Prelude::default()
                };
                // the model's own values were checked above; what the waits add, here
                if let Some(p) = targets.iter().find_map(|&t| escaped.wait(t).1.as_ref()) {
                    return Err(values::argument_problem(label, p));
                }
                let job = job::job(svc, prelude, label, p.instance.as_deref());
                let xml = job.to_xml(&argv::Xml {
                    escaped: &escaped,
                    targets: &targets,
                });
                let mut path = String::with_capacity(label.len() + 6);
                path.push_str(label);
                path.push_str(".plist");
                ctx.emit(&mut out, Artifact::file(path, DATA.file_mode, xml))?;
                if ctx.units {
                    out.units.push(Unit::process(model, p, label.to_owned()));
                }
            }
            escaped.done_with(&targets);
        }
        // the notes name every job: make them once the per-job tables are gone
        drop((escaped, seen));
        out.notes = notes::notes(model, &labels);
        Ok(out)
    }

    fn verify(&self, dir: &Path, rendered: &Rendered) -> Result<Report> {
        Ok(verify::check(dir, rendered)?)
    }
}

/// The feature a dependency edge of `kind` belongs to.
fn feature_of(kind: DepKind) -> Feature {
    match kind {
        DepKind::Requires => Feature::Requires,
        DepKind::Wants => Feature::Wants,
        DepKind::After | DepKind::Before => Feature::Ordering,
    }
}

fn label_prefix(model: &Model, given: Option<&str>) -> Result<String> {
    let Some(p) = given else {
        return Ok(format!("io.{}", model.name));
    };
    let ok = p.len() <= 128
        && p.split('.').all(|seg| {
            !seg.is_empty() && seg.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if ok {
        Ok(p.to_owned())
    } else {
        Err(Error::usage(format!(
            "--label-prefix `{}` is not a reverse-DNS name: use letters, digits and `-` in dot-separated parts, e.g. com.example.{}",
            p.escape_debug(),
            model.name
        )))
    }
}

/// The job label of a process: `PREFIX.NAME` or `PREFIX.NAME.INSTANCE`.
#[must_use]
pub fn label(prefix: &str, model: &Model, p: &Process) -> String {
    let name = &model.services[p.service].name;
    let instance = p.instance.as_deref();
    let mut out =
        String::with_capacity(prefix.len() + name.len() + instance.map_or(0, str::len) + 2);
    out.push_str(prefix);
    out.push('.');
    out.push_str(name);
    if let Some(i) = instance {
        out.push('.');
        out.push_str(i);
    }
    out
}
