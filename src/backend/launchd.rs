//! launchd (macOS): one job plist per service, and one per instance of an instanced service,
//! named `LABEL.plist`. The plists are typed serde structs written by the `plist` crate, which
//! does all XML escaping. What launchd lacks (dependencies, readiness gates, pre-start
//! commands, environment files) is emulated by a `/bin/sh -c` wrapper that ends in
//! `exec "$@"`; groups have no launchd counterpart: the notes print `launchctl` loops instead.

mod values;
mod wrapper;

use std::collections::BTreeSet;
use std::sync::LazyLock;

use anyhow::{Context as _, Result};
use indexmap::IndexMap;
use serde::Serialize;

use super::{Artifact, Backend, BackendData, Feature, RenderContext, Rendered, Support, Warning};
use crate::errors::UsageError;
use crate::escape::sh;
use crate::manifest::RestartPolicy;
use crate::model::{Logs, Model, Service, substitute};

pub use wrapper::TIMEOUT_SHIM;

/// The launchd backend.
pub struct Launchd;

static DATA: LazyLock<BackendData> =
    LazyLock::new(|| BackendData::parse(include_str!("../../backends/launchd.toml")));

/// macOS' `OPEN_MAX`: a larger `NumberOfFiles` may be clamped or refused unless `kern.maxfilesperproc`
/// allows it.
const OPEN_MAX: u64 = 10240;

const CAPABILITIES: &[(Feature, Support)] = &[
    (Feature::Restart, Support::Native),
    (
        Feature::RestartDelay,
        Support::Emulated(
            "ThrottleInterval (whole seconds, at least 1): launchd spawns a job at most once per interval, so a job that ran longer than that restarts at once",
        ),
    ),
    (
        Feature::StartLimit,
        Support::Unsupported("launchd keeps restarting forever, throttled by ThrottleInterval"),
    ),
    (
        Feature::StopSignal,
        Support::Unsupported(
            "launchd has no stop-signal key: it always sends SIGTERM, then SIGKILL after ExitTimeOut",
        ),
    ),
    (Feature::StopTimeout, Support::Native),
    (
        Feature::SuccessExitCodes,
        Support::Unsupported(
            "KeepAlive.SuccessfulExit means exit status 0 only: with restart = on-failure a listed code is restarted like a failure",
        ),
    ),
    (Feature::User, Support::Native),
    (Feature::Group, Support::Native),
    (Feature::WorkingDir, Support::Native),
    (Feature::Environment, Support::Native),
    (
        Feature::EnvironmentFile,
        Support::Emulated(
            "the sh wrapper reads KEY=value lines literally (one pair of enclosing quotes removed, nothing executed, no escapes or expansion) and exports them; a missing file fails the start",
        ),
    ),
    (Feature::ProcessLimits, Support::Native),
    (
        Feature::MemoryMax,
        Support::Unsupported("macOS does not enforce a memory ceiling for launchd jobs"),
    ),
    (
        Feature::CpuQuota,
        Support::Unsupported("launchd has no CPU quota"),
    ),
    (Feature::LogFiles, Support::Native),
    (
        Feature::Requires,
        Support::Emulated(
            "launchd has no dependency model: the sh wrapper waits for the dependency's health check and fails the start when it does not pass in time (launchd retries per KeepAlive); stopping a dependency does not stop its dependents",
        ),
    ),
    (
        Feature::Wants,
        Support::Emulated(
            "the sh wrapper waits for the dependency's health check, then starts anyway",
        ),
    ),
    (
        Feature::Ordering,
        Support::Emulated(
            "the sh wrapper waits for the earlier service's health check, then starts anyway",
        ),
    ),
    (
        Feature::ExternalGate,
        Support::Emulated(
            "the sh wrapper polls the external's check before exec; requires: fails the start after wait_timeout, wants/after: starts anyway",
        ),
    ),
    (
        Feature::Health,
        Support::Unsupported(
            "launchd has no health checks; the check only gates the start of dependents",
        ),
    ),
    (
        Feature::PreStart,
        Support::Emulated(
            "the sh wrapper runs each command in order before exec and fails the start if one fails",
        ),
    ),
    (
        Feature::Instances,
        Support::Emulated(
            "one job per instance, {instance} substituted at generation time (regenerate to change them)",
        ),
    ),
    (Feature::NamedInstances, Support::Native),
    (
        Feature::Groups,
        Support::Unsupported(
            "launchd has no job groups; the notes print launchctl loops that bootstrap / boot out the stack and each group",
        ),
    ),
];

impl Backend for Launchd {
    fn name(&self) -> &'static str {
        "launchd"
    }

    fn summary(&self) -> &'static str {
        "launchd job plists (macOS): LABEL.plist per service and instance, for /Library/LaunchDaemons or ~/Library/LaunchAgents"
    }

    fn capabilities(&self) -> &'static [(Feature, Support)] {
        CAPABILITIES
    }

    fn data(&self) -> &'static BackendData {
        &DATA
    }

    fn render(&self, model: &Model, ctx: &RenderContext<'_>) -> Result<Rendered> {
        let prefix = label_prefix(model, ctx.options.label_prefix.as_deref())?;
        let mut out = Rendered::default();
        let mut labels = BTreeSet::new();
        for svc in &model.services {
            values::check(svc)?;
            let waits = wrapper::waits(model, svc);
            for (feature, dep) in &waits.unwaitable {
                out.warnings.push(Warning {
                    backend: "launchd",
                    feature: *feature,
                    services: vec![svc.name.clone()],
                    message: format!(
                        "not waitable: `{dep}` has no health check, so {} starts without waiting for it",
                        svc.name
                    ),
                });
            }
            for instance in instances(svc) {
                let label = label(&prefix, svc, instance);
                if !labels.insert(label.clone()) {
                    return Err(UsageError(format!(
                        "two launchd jobs would both be labelled `{label}` (a service name with a dot clashes with an instance); rename one"
                    ))
                    .into());
                }
                let job = job(svc, &waits, label.clone(), instance);
                values::check_arguments(&label, &job.program_arguments)?;
                out.artifacts.push(Artifact {
                    path: format!("{label}.plist"),
                    mode: DATA.file_mode,
                    contents: to_xml(&job).with_context(|| format!("writing {label}.plist"))?,
                });
            }
        }
        out.notes = notes(model, &prefix);
        Ok(out)
    }
}

/// The label prefix: the user's (checked) or `io.<stack>`.
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
        Err(UsageError(format!(
            "--label-prefix `{}` is not a reverse-DNS name: use letters, digits and `-` in dot-separated parts, e.g. com.example.{}",
            p.escape_debug(),
            model.name
        ))
        .into())
    }
}

/// The instances of a service (`[None]` when it is not instanced).
fn instances(svc: &Service) -> Vec<Option<&str>> {
    match &svc.instances {
        None => vec![None],
        Some(list) => list.iter().map(|i| Some(i.as_str())).collect(),
    }
}

/// `<prefix>.<service>` or `<prefix>.<service>.<instance>`.
fn label(prefix: &str, svc: &Service, instance: Option<&str>) -> String {
    match instance {
        None => format!("{prefix}.{}", svc.name),
        Some(i) => format!("{prefix}.{}.{i}", svc.name),
    }
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

fn job(svc: &Service, waits: &wrapper::Waits, label: String, instance: Option<&str>) -> Job {
    let argv = svc.argv_for(instance);
    let program_arguments = match wrapper::script(svc, waits, instance) {
        Some(script) => wrapper::wrap(&script, &argv),
        None => argv,
    };
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
        working_directory: svc.working_dir.clone(),
        environment_variables: (!environment.is_empty()).then_some(environment),
        standard_out_path: stdout,
        standard_error_path: stderr,
        soft_resource_limits: limits,
        hard_resource_limits: limits,
    }
}

/// The XML plist, with a comment naming its origin after the DOCTYPE line.
fn to_xml(job: &Job) -> Result<String> {
    let mut buf = Vec::new();
    plist::to_writer_xml(&mut buf, job)?;
    let xml = String::from_utf8(buf)?;
    let comment = format!("<!-- {} -->", super::HEADER.replace("--", "- -"));
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

/// Labels of the named services, in start order, instances expanded.
fn labels_in_order(model: &Model, prefix: &str, members: &[String]) -> Vec<String> {
    model
        .start_order()
        .into_iter()
        .filter(|s| members.contains(&s.name))
        .flat_map(|s| instances(s).into_iter().map(|i| label(prefix, s, i)))
        .collect()
}

fn notes(model: &Model, prefix: &str) -> Vec<String> {
    let mut notes = vec![format!(
        "install: copy the plists to {} (owned by root:wheel, mode 0644; launchd loads them at boot and RunAtLoad starts them), \
         or to {} for one user: there use the domain gui/$(id -u) instead of system; launchd ignores UserName/GroupName for agents and runs them as that user",
        DATA.install.system,
        DATA.install
            .user
            .as_deref()
            .unwrap_or("~/Library/LaunchAgents"),
    )];
    let mut sets = vec![(format!("stack {}", model.name), model.stack_members.clone())];
    sets.extend(
        model
            .groups
            .iter()
            .map(|g| (format!("group {}", g.name), g.services.clone())),
    );
    for (what, members) in sets {
        let order = labels_in_order(model, prefix, &members);
        let words = |v: &[String]| v.iter().map(|l| sh::quote(l)).collect::<Vec<_>>().join(" ");
        let mut reverse = order.clone();
        reverse.reverse();
        notes.push(format!(
            "start {what}: for l in {}; do launchctl bootstrap system \"{}/$l.plist\"; done",
            words(&order),
            DATA.install.system
        ));
        notes.push(format!(
            "stop {what}: for l in {}; do launchctl bootout \"system/$l\"; done",
            words(&reverse)
        ));
    }
    let silent: Vec<&str> = model
        .services
        .iter()
        .filter(|s| s.logs == Logs::Journal)
        .map(|s| s.name.as_str())
        .collect();
    if !silent.is_empty() {
        notes.push(format!(
            "launchd sends the output of a job without StandardOutPath to /dev/null (there is no journal); set logs.stdout to keep it: {}",
            silent.join(", ")
        ));
    }
    let big: Vec<&str> = model
        .services
        .iter()
        .filter(|s| s.limits.nofile.is_some_and(|n| n > OPEN_MAX))
        .map(|s| s.name.as_str())
        .collect();
    if !big.is_empty() {
        notes.push(format!(
            "macOS caps open files at `sysctl kern.maxfilesperproc`; a NumberOfFiles above {OPEN_MAX} may be clamped or refused unless it is raised: {}",
            big.join(", ")
        ));
    }
    notes
}
