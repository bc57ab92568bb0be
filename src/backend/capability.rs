//! The capability report: which model features each backend carries natively, emulates or
//! loses, and the warnings a given manifest triggers.

mod findings;
mod names;
mod unwaited;

use std::collections::HashMap;
use std::fmt::{self, Write as _};

use serde::Serialize;

pub use findings::Findings;
use findings::Members;
pub use names::Names;
use names::lists_of;

use crate::manifest::RestartPolicy;
use crate::model::{Dep, Logs, Model, Service};

/// A loss or emulation the user should know about: one per feature and backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The backend's name.
    pub backend: &'static str,
    /// The model feature concerned.
    pub feature: Feature,
    /// Services it applies to (empty: the whole stack).
    pub services: Names,
    /// What happens instead; details found while rendering follow after `; `.
    pub message: String,
}

/// How many services (or, in a finding about dependencies not waited for, dependencies) a
/// warning names on its line; the rest are counted.
const SHOWN_SERVICES: usize = 16;

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} → {}",
            self.backend,
            self.feature.key(),
            self.message
        )?;
        if !self.services.is_empty() {
            write!(f, " ({})", named(&self.services))?;
        }
        Ok(())
    }
}

/// Names for a line the user reads: all of them up to 16 (`SHOWN_SERVICES`), else the first
/// ones and how many more (`a, b, … and 9984 more`).
#[must_use]
pub fn named<S: AsRef<str>>(names: &[S]) -> String {
    named_of(names.iter().map(AsRef::as_ref)).unwrap_or_default()
}

/// [`named`] of the names `names` yields, none when it yields none: taken as they come
/// (a list of 10,000 names to show 16 was 160 KB).
#[must_use]
pub fn named_of<'a>(names: impl Iterator<Item = &'a str>) -> Option<String> {
    cut_list(names, "")
}

/// The first [`SHOWN_SERVICES`] of `names`, each between `quote`s, then how many more.
fn cut_list<'a>(names: impl Iterator<Item = &'a str>, quote: &str) -> Option<String> {
    let mut out = String::new();
    let mut count = 0;
    for name in names {
        if count < SHOWN_SERVICES {
            if count > 0 {
                out.push_str(", ");
            }
            out.push_str(quote);
            out.push_str(name);
            out.push_str(quote);
        }
        count += 1;
    }
    if count > SHOWN_SERVICES {
        let _ = write!(out, " and {} more", count - SHOWN_SERVICES);
    }
    (count > 0).then_some(out)
}

/// A feature of the model that a backend may or may not express.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Feature {
    /// `restart` policies.
    Restart,
    /// `restart_delay`.
    RestartDelay,
    /// `start_limit`.
    StartLimit,
    /// `stop_signal`.
    StopSignal,
    /// `stop_timeout`.
    StopTimeout,
    /// `success_exit_codes`.
    SuccessExitCodes,
    /// `user`.
    User,
    /// `group`.
    Group,
    /// `working_dir`.
    WorkingDir,
    /// `environment`.
    Environment,
    /// `environment_file`.
    EnvironmentFile,
    /// `limits.nofile` / `limits.nproc`.
    ProcessLimits,
    /// `limits.memory_max`.
    MemoryMax,
    /// `limits.cpu_quota`.
    CpuQuota,
    /// `logs` to files.
    LogFiles,
    /// `requires` between services.
    Requires,
    /// `wants` between services.
    Wants,
    /// `after` / `before` ordering.
    Ordering,
    /// Dependencies on `[external.X]` (readiness gates).
    ExternalGate,
    /// `health`.
    Health,
    /// `pre_start`.
    PreStart,
    /// `instances`.
    Instances,
    /// Instance names other than 0..N-1.
    NamedInstances,
    /// The stack and `[groups.X]` started and stopped as one.
    Groups,
    /// `sandbox`, `writable_paths`, `capabilities`: least privilege.
    Sandbox,
}

impl Feature {
    /// Every feature, in report order.
    pub const ALL: &'static [Self] = &[
        Self::Restart,
        Self::RestartDelay,
        Self::StartLimit,
        Self::StopSignal,
        Self::StopTimeout,
        Self::SuccessExitCodes,
        Self::User,
        Self::Group,
        Self::WorkingDir,
        Self::Environment,
        Self::EnvironmentFile,
        Self::ProcessLimits,
        Self::MemoryMax,
        Self::CpuQuota,
        Self::LogFiles,
        Self::Requires,
        Self::Wants,
        Self::Ordering,
        Self::ExternalGate,
        Self::Health,
        Self::PreStart,
        Self::Instances,
        Self::NamedInstances,
        Self::Groups,
        Self::Sandbox,
    ];

    /// The stable identifier (`snake_case`), the key in `backends --json`.
    #[must_use]
    pub fn id(self) -> &'static str {
        match self {
            Self::Restart => "restart",
            Self::RestartDelay => "restart_delay",
            Self::StartLimit => "start_limit",
            Self::StopSignal => "stop_signal",
            Self::StopTimeout => "stop_timeout",
            Self::SuccessExitCodes => "success_exit_codes",
            Self::User => "user",
            Self::Group => "group",
            Self::WorkingDir => "working_dir",
            Self::Environment => "environment",
            Self::EnvironmentFile => "environment_file",
            Self::ProcessLimits => "process_limits",
            Self::MemoryMax => "memory_max",
            Self::CpuQuota => "cpu_quota",
            Self::LogFiles => "log_files",
            Self::Requires => "requires",
            Self::Wants => "wants",
            Self::Ordering => "ordering",
            Self::ExternalGate => "external_gate",
            Self::Health => "health",
            Self::PreStart => "pre_start",
            Self::Instances => "instances",
            Self::NamedInstances => "named_instances",
            Self::Groups => "groups",
            Self::Sandbox => "sandbox",
        }
    }

    /// The manifest key(s) the feature comes from.
    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            Self::Restart => "restart",
            Self::RestartDelay => "restart_delay",
            Self::StartLimit => "start_limit",
            Self::StopSignal => "stop_signal",
            Self::StopTimeout => "stop_timeout",
            Self::SuccessExitCodes => "success_exit_codes",
            Self::User => "user",
            Self::Group => "group",
            Self::WorkingDir => "working_dir",
            Self::Environment => "environment",
            Self::EnvironmentFile => "environment_file",
            Self::ProcessLimits => "limits.nofile/nproc",
            Self::MemoryMax => "limits.memory_max",
            Self::CpuQuota => "limits.cpu_quota",
            Self::LogFiles => "logs",
            Self::Requires => "requires",
            Self::Wants => "wants",
            Self::Ordering => "after/before",
            Self::ExternalGate => "external",
            Self::Health => "health",
            Self::PreStart => "pre_start",
            Self::Instances => "instances",
            Self::NamedInstances => "instances (names)",
            Self::Groups => "groups",
            Self::Sandbox => "sandbox",
        }
    }

    /// Whether `svc` uses this feature in a way a backend could lose.
    #[must_use]
    pub fn used_by(self, svc: &Service) -> bool {
        let has_service_dep = |deps: &[Dep]| deps.iter().any(|d| matches!(d, Dep::Service(_)));
        match self {
            Self::Restart => svc.restart != RestartPolicy::Always,
            Self::RestartDelay => svc.restart != RestartPolicy::Never,
            Self::StartLimit => svc.start_limit.is_some(),
            Self::StopSignal => svc.stop_signal.name() != "SIGTERM",
            Self::StopTimeout => true,
            Self::SuccessExitCodes => !svc.success_exit_codes.is_empty(),
            Self::User => svc.user.is_some(),
            Self::Group => svc.group.is_some(),
            Self::WorkingDir => svc.working_dir.is_some(),
            Self::Environment => !svc.environment.is_empty(),
            Self::EnvironmentFile => svc.environment_file.is_some(),
            Self::ProcessLimits => svc.limits.nofile.is_some() || svc.limits.nproc.is_some(),
            Self::MemoryMax => svc.limits.memory_max.is_some(),
            Self::CpuQuota => svc.limits.cpu_quota.is_some(),
            Self::LogFiles => matches!(*svc.logs, Logs::Files { .. }),
            Self::Requires => has_service_dep(&svc.requires),
            Self::Wants => has_service_dep(&svc.wants),
            Self::Ordering => has_service_dep(&svc.after) || !svc.before.is_empty(),
            Self::ExternalGate => svc
                .requires
                .iter()
                .chain(&svc.wants)
                .any(|d| matches!(d, Dep::External(_))),
            Self::Health => svc.health.is_some(),
            Self::PreStart => !svc.pre_start.is_empty(),
            Self::Instances => svc.is_instanced(),
            Self::NamedInstances => svc.is_instanced() && !svc.instances_are_indices(),
            Self::Groups => false,
            Self::Sandbox => svc.sandbox.level != crate::model::SandboxLevel::Off,
        }
    }
}

/// How a backend carries a feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "support", content = "how", rename_all = "snake_case")]
pub enum Support {
    /// The init system has it.
    Native,
    /// Built from other means; the text says how.
    Emulated(&'static str),
    /// Lost; the text says what happens instead.
    Unsupported(&'static str),
}

impl Support {
    /// `native`, `emulated` or `unsupported`.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Native => "native",
            Self::Emulated(_) => "emulated",
            Self::Unsupported(_) => "unsupported",
        }
    }
}

/// One warning per feature this model uses that the backend `name` emulates or loses
/// (`support` is the backend's exhaustive table), then the details the backend found while
/// rendering (`found`), merged into the warning of their feature: a detail found for many
/// services is added once, naming them all.
#[must_use]
pub fn warnings(
    name: &'static str,
    support: impl Fn(Feature) -> Support,
    model: &Model,
    found: Vec<Warning>,
) -> Vec<Warning> {
    // the features this backend emulates or loses, with their messages
    let lost: Vec<(Feature, String)> = Feature::ALL
        .iter()
        .filter_map(|&feature| match support(feature) {
            Support::Native => None,
            Support::Emulated(how) => Some((feature, format!("emulated: {how}"))),
            Support::Unsupported(what) => Some((feature, format!("not supported: {what}"))),
        })
        .collect();
    // the services using each, counted first so that each list is made at its size (lists
    // of indices grown as they came, then of the names, took 800 KB at 10,000 services)
    let uses = |svc: &Service, feature: Feature| feature != Feature::Groups && feature.used_by(svc);
    let mut counts = vec![0; lost.len()];
    for svc in &model.services {
        for ((feature, _), n) in lost.iter().zip(&mut counts) {
            *n += usize::from(uses(svc, *feature));
        }
    }
    let features: Vec<Feature> = lost.iter().map(|(f, _)| *f).collect();
    let lists = lists_of(model, &features, counts, uses);
    let mut out: Vec<Warning> = Vec::with_capacity(lost.len());
    for ((feature, message), services) in lost.into_iter().zip(lists) {
        if services.is_empty() && feature != Feature::Groups {
            continue;
        }
        out.push(Warning {
            backend: name,
            feature,
            services,
            message,
        });
    }
    // the services of each warning something was merged into, to add each once
    let mut members: HashMap<Feature, Members> = HashMap::new();
    for w in findings::merge(found.into_iter()) {
        match out.iter_mut().find(|o| o.feature == w.feature) {
            Some(o) => {
                let seen = members
                    .entry(w.feature)
                    .or_insert_with(|| Members::of(model, &o.services));
                o.message.push_str("; ");
                o.message.push_str(&w.message);
                for s in w.services {
                    if seen.insert(model, &s) {
                        o.services.push(s);
                    }
                }
            }
            None => out.push(w),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_list_of_services_is_cut_and_counted() {
        let w = |n: usize| Warning {
            backend: "runit",
            feature: Feature::Restart,
            services: (0..n).map(|i| format!("s{i}").into()).collect(),
            message: "emulated".into(),
        };
        assert_eq!(w(2).to_string(), "runit: restart → emulated (s0, s1)");
        let long = w(10_000).to_string();
        assert!(long.ends_with(", s15 and 9984 more)"), "{long}");
        assert!(!long.contains("s16"), "{long}");
        // the notes that name services cut them the same way
        let names: Vec<String> = (0..17).map(|i| format!("s{i}")).collect();
        assert_eq!(named(&names[..1]), "s0");
        assert_eq!(named(&names[..16]), names[..16].join(", "));
        assert_eq!(
            named(&names),
            format!("{} and 1 more", names[..16].join(", "))
        );
        assert_eq!(named::<&str>(&[]), "");
    }
}
