//! What one process's service directory must do, worked out once from the model for the
//! two daemontools-style backends (runit and s6): the other service directories it waits
//! for, the environment split into what an env dir carries and what the shared `/bin/sh`
//! wrapper must export, the wrapper itself, the account, and what happens after an exit.
//! Each backend writes this plan in its own tools' words.

use crate::backend::shared::wrapper::{Prelude, Ready};
use crate::escape::envdir;
use crate::manifest::{Duration, RestartPolicy};
use crate::model::{DepKind, Logs, Model, Process, Service, Target, substitute};

/// A service directory this process's `run` waits for before it execs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepDir {
    /// The directory's name (a sibling: `../NAME`).
    pub name: String,
    /// `requires` (start it, fail without it), `wants` (start it, go on without it),
    /// `after`/`before` (wait for it only if it is starting anyway).
    pub kind: DepKind,
    /// How long to wait for it: its readiness budget (whole seconds, at least
    /// [`MIN_WAIT_SECS`]).
    pub wait_secs: u64,
    /// Whether it has a health check (a readiness signal to wait for, not just "up").
    pub checked: bool,
}

/// What happens after `run` exits without being asked to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterExit {
    /// Restart after `delay` (seconds; the supervisor adds its own minimum of one).
    Restart {
        /// Whole seconds to sleep in `finish` first.
        delay: u64,
    },
    /// Restart after `delay` unless the exit was clean (0 or a success code).
    RestartOnFailure {
        /// Whole seconds to sleep in `finish` first.
        delay: u64,
    },
    /// Stay down.
    StayDown,
}

/// The plan of one process's service directory.
#[derive(Debug, Clone)]
pub struct Plan<'m> {
    /// The directory's name.
    pub name: String,
    /// The service.
    pub svc: &'m Service,
    /// Its description (instance substituted).
    pub description: String,
    /// Dependencies to wait for, in order.
    pub deps: Vec<DepDir>,
    /// Directories of the processes that `require` this one: stopped when it is stopped.
    pub required_by: Vec<String>,
    /// Variables the env dir carries exactly: (name, file contents).
    pub env_files: Vec<(String, String)>,
    /// The argv the supervisor finally execs after the account switch: the service's own,
    /// or the shared wrapper around it (exports, env file, external gates, `pre_start`).
    pub argv: Vec<String>,
    /// Whether [`Plan::argv`] is the shared wrapper.
    pub wrapped: bool,
    /// `user`, `group`.
    pub account: (Option<&'m str>, Option<&'m str>),
    /// The working directory.
    pub cwd: Option<&'m str>,
    /// Exit codes besides 0 that count as success.
    pub success_codes: Vec<i32>,
    /// What happens after an exit.
    pub after_exit: AfterExit,
    /// `logs` (files) or None for the supervisor's logger.
    pub log_files: Option<(&'m str, Option<&'m str>)>,
}

/// The wait for a dependency that has no readiness budget (no health check to wait for):
/// long enough for its supervisor to report it up.
pub const MIN_WAIT_SECS: u64 = 7;

/// The directory name of process `p`: `NAME`, or `NAME-INSTANCE`.
#[must_use]
pub fn dir_name(model: &Model, p: &Process) -> String {
    p.joined(&model.services[p.service], "-")
}

fn dirs_of(model: &Model, s: usize) -> impl Iterator<Item = String> + '_ {
    model
        .view
        .processes_of(s)
        .iter()
        .map(move |p| dir_name(model, p))
}

fn wait_secs(model: &Model, s: usize) -> u64 {
    model.view.ready_budget(s).secs_ceil().max(MIN_WAIT_SECS)
}

/// The sibling directories service `s` waits for: its service dependencies, then the
/// services ordered before it that it does not depend on.
fn deps_of(model: &Model, s: usize) -> Vec<DepDir> {
    let mut deps = Vec::new();
    let mut push = |t: usize, kind: DepKind| {
        for name in dirs_of(model, t) {
            deps.push(DepDir {
                name,
                kind,
                wait_secs: wait_secs(model, t),
                checked: model.services[t].health.is_some(),
            });
        }
    };
    for d in model.view.dependencies(s) {
        if let Target::Service(t) = d.target {
            push(t, d.kind);
        }
    }
    for &t in model.view.ordered_before(s) {
        let declared = model
            .view
            .dependencies(s)
            .iter()
            .any(|d| d.target == Target::Service(t));
        if !declared {
            push(t, DepKind::Before);
        }
    }
    deps
}

/// The directories of the processes that `require` service `s`.
fn required_by(model: &Model, s: usize) -> Vec<String> {
    (0..model.services.len())
        .filter(|&w| {
            model
                .view
                .dependencies(w)
                .iter()
                .any(|d| d.target == Target::Service(s) && d.kind == DepKind::Requires)
        })
        .flat_map(|w| dirs_of(model, w))
        .collect()
}

/// The environment of one process: (env-dir files, values left to the wrapper to export).
type SplitEnv = (Vec<(String, String)>, Vec<(String, String)>);

fn split_env(svc: &Service, inst: Option<&str>, reader: envdir::Reader) -> SplitEnv {
    let mut env_files = Vec::new();
    let mut exports = Vec::new();
    for (k, v) in &svc.environment {
        let v = substitute(v, inst);
        match envdir::file(&v, reader) {
            Some(f) => env_files.push((k.clone(), f)),
            None => exports.push((k.clone(), v)),
        }
    }
    (env_files, exports)
}

/// The plan of process `p`; `reader` is the tool that reads its env dir.
#[must_use]
pub fn plan<'m>(model: &'m Model, p: &Process, reader: envdir::Reader) -> Plan<'m> {
    let s = p.service;
    let svc = &model.services[s];
    let inst = p.instance.as_deref();
    let (deps, required_by) = (deps_of(model, s), required_by(model, s));
    let (env_files, exports) = split_env(svc, inst, reader);
    let prelude = Prelude {
        exports,
        environment_file: svc.environment_file.as_deref(),
        limits: crate::model::Limits::default(),
        waits: model
            .waits(s)
            .waits
            .iter()
            .filter(|w| w.external)
            .map(Ready::of)
            .collect(),
        pre_start: svc
            .pre_start
            .iter()
            .map(|argv| argv.iter().map(|a| substitute(a, inst)).collect())
            .collect(),
    };
    let name = dir_name(model, p);
    let delay = svc.restart_delay.secs_ceil();
    let own = svc.argv_for(inst);
    let argv = prelude.wrap(&name, own.clone());
    Plan {
        wrapped: argv != own,
        argv,
        name,
        svc,
        description: substitute(&svc.description, inst),
        deps,
        required_by,
        env_files,
        account: (svc.user.as_deref(), svc.group.as_deref()),
        cwd: svc.working_dir.as_deref(),
        success_codes: svc.success_exit_codes.clone(),
        after_exit: match svc.restart {
            RestartPolicy::Always => AfterExit::Restart { delay },
            RestartPolicy::OnFailure => AfterExit::RestartOnFailure { delay },
            RestartPolicy::Never => AfterExit::StayDown,
        },
        log_files: match &svc.logs {
            Logs::Journal => None,
            Logs::Files { stdout, stderr } => Some((stdout.as_str(), stderr.as_deref())),
        },
    }
}

impl Plan<'_> {
    /// The exit codes that count as a clean exit, as a `case` pattern (`0|255`).
    #[must_use]
    pub fn clean_codes(&self) -> String {
        let mut codes = vec![0];
        codes.extend(self.success_codes.iter().copied().filter(|&c| c != 0));
        codes
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("|")
    }
}

/// The longest `stop_timeout` of the model, for the stop command's wait.
#[must_use]
pub fn longest_stop(model: &Model) -> Duration {
    model
        .services
        .iter()
        .map(|s| s.stop_timeout)
        .max()
        .unwrap_or_default()
}
