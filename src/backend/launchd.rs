//! launchd (macOS): one job plist per service, and one per instance of an instanced service,
//! named `LABEL.plist`. The plists are typed serde structs written by the `plist` crate, which
//! does all XML escaping. What launchd lacks (dependencies, readiness gates, pre-start
//! commands, environment files) is emulated by a `/bin/sh -c` wrapper that ends in
//! `exec "$@"`; groups have no launchd counterpart: the notes print `launchctl` loops instead.

mod notes;
mod values;
pub mod verify;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::LazyLock;

use anyhow::Context as _;
use indexmap::IndexMap;
use serde::Serialize;

use super::capability::{Feature, Support, Warning};
use super::data::BackendData;
use super::kit::{Artifact, Backend, RenderContext, Rendered, Report, Unit};
use super::shared::wrapper::{self, Prelude, Ready};
use crate::errors::{Error, Refusal, Result};
use crate::manifest::RestartPolicy;
use crate::model::{DepKind, Logs, Model, Process, Service, Wait, substitute};

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
        let mut labels = BTreeSet::new();
        for (s, svc) in model.services.iter().enumerate() {
            values::check(svc)?;
            let waits = model.waits(s);
            for (kind, dep) in &waits.unwaitable {
                out.warnings.push(Warning {
                    backend: NAME,
                    feature: feature_of(*kind),
                    services: vec![svc.name.as_str().into()],
                    message: format!(
                        "not waitable: `{}` has no health check, so {} starts without waiting for it",
                        model.services[*dep].name, svc.name
                    ),
                });
            }
            for p in model.view.processes_of(s) {
                let label = label(&prefix, model, p);
                if !labels.insert(label.clone()) {
                    return Err(Refusal::new(
                        format!("services.{}", svc.name),
                        format!("two launchd jobs would both be labelled `{label}` (a service name with a dot clashes with an instance)"),
                    )
                    .hint("rename one of the services (no dots)")
                    .into());
                }
                let job = job(svc, &waits.waits, label.clone(), p.instance.as_deref());
                values::check_arguments(&label, &job.program_arguments)?;
                let xml = to_xml(&job).with_context(|| format!("writing {label}.plist"))?;
                out.artifacts.push(Artifact::file(
                    format!("{label}.plist"),
                    DATA.file_mode,
                    xml,
                ));
                out.units.push(Unit::process(model, p, label));
            }
        }
        out.notes = notes::notes(model, &prefix);
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
    format!("{prefix}.{}", p.joined(&model.services[p.service], "."))
}

/// One launchd job, keys in the order they are written.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Job {
    label: String,
    program_arguments: Vec<String>,
    run_at_load: bool,
    keep_alive: Option<KeepAlive>,
    throttle_interval: Option<u64>,
    exit_time_out: u64,
    user_name: Option<String>,
    group_name: Option<String>,
    /// 23 (0o027) when sandboxed: launchd takes the umask as a decimal integer.
    umask: Option<u32>,
    working_directory: Option<String>,
    environment_variables: Option<IndexMap<String, String>>,
    standard_out_path: Option<String>,
    standard_error_path: Option<String>,
    soft_resource_limits: Option<ResourceLimits>,
    hard_resource_limits: Option<ResourceLimits>,
}

/// `KeepAlive`: `true`, or a dictionary of conditions.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum KeepAlive {
    Always(bool),
    Conditions {
        #[serde(rename = "SuccessfulExit")]
        successful_exit: bool,
    },
}

#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ResourceLimits {
    number_of_files: Option<u64>,
    number_of_processes: Option<u64>,
}

fn job(svc: &Service, waits: &[Wait<'_>], label: String, instance: Option<&str>) -> Job {
    let prelude = Prelude {
        environment_file: svc.environment_file.as_deref(),
        waits: waits.iter().map(Ready::of).collect(),
        pre_start: svc
            .pre_start
            .iter()
            .map(|argv| argv.iter().map(|a| substitute(a, instance)).collect())
            .collect(),
        ..Prelude::default()
    };
    let program_arguments = prelude.wrap(&svc.name, svc.argv_for(instance));
    let keep_alive = match svc.restart {
        RestartPolicy::Always => Some(KeepAlive::Always(true)),
        RestartPolicy::OnFailure => Some(KeepAlive::Conditions {
            successful_exit: false,
        }),
        RestartPolicy::Never => None,
    };
    let environment: IndexMap<String, String> = svc
        .environment
        .iter()
        .map(|(k, v)| (k.clone(), substitute(v, instance)))
        .collect();
    let (stdout, stderr) = match &svc.logs {
        Logs::Journal => (None, None),
        Logs::Files { stdout, stderr } => (
            Some(stdout.clone()),
            Some(stderr.clone().unwrap_or_else(|| stdout.clone())),
        ),
    };
    let limits =
        (svc.limits.nofile.is_some() || svc.limits.nproc.is_some()).then_some(ResourceLimits {
            number_of_files: svc.limits.nofile,
            number_of_processes: svc.limits.nproc,
        });
    Job {
        label,
        program_arguments,
        run_at_load: true,
        throttle_interval: keep_alive
            .as_ref()
            .map(|_| svc.restart_delay.secs_ceil().max(1)),
        keep_alive,
        exit_time_out: svc.stop_timeout.secs_ceil().max(1),
        user_name: svc.user.clone(),
        group_name: svc.group.clone(),
        umask: (svc.sandbox.level != crate::model::SandboxLevel::Off).then_some(0o027),
        working_directory: svc.working_dir.clone(),
        environment_variables: (!environment.is_empty()).then_some(environment),
        standard_out_path: stdout,
        standard_error_path: stderr,
        soft_resource_limits: limits,
        hard_resource_limits: limits,
    }
}

/// The XML plist, with a comment naming its origin after the DOCTYPE line.
fn to_xml(job: &Job) -> anyhow::Result<String> {
    let mut buf = Vec::new();
    plist::to_writer_xml(&mut buf, job)?;
    let xml = String::from_utf8(buf)?;
    let comment = format!("<!-- {} -->", super::kit::HEADER.replace("--", "- -"));
    let mut out = String::with_capacity(xml.len() + comment.len() + 2);
    for (i, line) in xml.lines().enumerate() {
        out.push_str(line);
        out.push('\n');
        if i == 1 {
            out.push_str(&comment);
            out.push('\n');
        }
    }
    Ok(out)
}
