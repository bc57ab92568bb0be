//! What one process's service directory must do, worked out once from the model for the
//! two daemontools-style backends (runit and s6): the other service directories it waits
//! for, the environment split into what an env dir carries and what the shared `/bin/sh`
//! wrapper must export, the wrapper itself, the account, and what happens after an exit.
//! Each backend writes this plan in its own tools' words.

use std::borrow::Cow;

use super::wrappers::{Wrapper, Wrappers};
use crate::backend::shared::names::{ProcessNames, taken_twice};
use crate::backend::shared::waits::{self, WaitScripts};
use crate::backend::shared::wrapper::{Prelude, Ready, SHELL};
use crate::escape::{envdir, sh};
use crate::manifest::{Duration, RestartPolicy};
use crate::model::{
    DepKind, INSTANCE_PLACEHOLDER, Logs, Model, Process, Service, Target, substitute,
};
use crate::render::native::push_i64;

/// A service directory this process's `run` waits for before it execs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepDir<'a> {
    /// The directory's name (a sibling: `../NAME`).
    pub name: &'a str,
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
pub struct Plan<'a> {
    /// The directory's name.
    pub name: &'a str,
    /// The service.
    pub svc: &'a Service,
    /// Its description (instance substituted).
    pub description: Cow<'a, str>,
    /// The first lines of every script: `#!/bin/sh` and the comments naming the origin
    /// and the description.
    pub preamble: String,
    /// Dependencies to wait for, in order.
    pub deps: Vec<DepDir<'a>>,
    /// Directories of the processes that `require` this one: stopped when it is stopped.
    pub required_by: Vec<&'a str>,
    /// Variables the env dir carries exactly: (name, value); [`Plan::env_file`] writes
    /// the file.
    pub env_files: Vec<(&'a str, Cow<'a, str>)>,
    /// The tool that reads the env dir.
    pub reader: envdir::Reader,
    /// The argv the supervisor finally execs after the account switch: the service's own,
    /// or the shared wrapper around it (exports, env file, external gates, `pre_start`).
    pub argv: Vec<Cow<'a, str>>,
    /// `argv[2]` (the wrapper script) already quoted for `sh`, when it is a shared one.
    pub quoted_script: Option<&'a str>,
    /// Whether [`Plan::argv`] is the shared wrapper.
    pub wrapped: bool,
    /// `user`, `group`.
    pub account: (Option<&'a str>, Option<&'a str>),
    /// The working directory.
    pub cwd: Option<&'a str>,
    /// Exit codes besides 0 that count as success.
    pub success_codes: &'a [i32],
    /// What happens after an exit.
    pub after_exit: AfterExit,
    /// `logs` (files) or None for the supervisor's logger.
    pub log_files: Option<(&'a str, Option<&'a str>)>,
}

/// The wait for a dependency that has no readiness budget (no health check to wait for):
/// long enough for its supervisor to report it up.
pub const MIN_WAIT_SECS: u64 = 7;

/// The directory name of process `p`: `NAME`, or `NAME-INSTANCE`.
#[must_use]
pub fn dir_name(model: &Model, p: &Process) -> String {
    p.joined(&model.services[p.service], "-")
}

fn wait_secs(model: &Model, s: usize) -> u64 {
    model.view.ready_budget(s).secs_ceil().max(MIN_WAIT_SECS)
}

/// The environment of one process: (env-dir values, values left to the wrapper to export).
type SplitEnv<'a> = (Vec<(&'a str, Cow<'a, str>)>, Vec<(String, String)>);

fn split_env<'a>(svc: &'a Service, inst: Option<&str>, reader: envdir::Reader) -> SplitEnv<'a> {
    let mut env_files = Vec::with_capacity(svc.environment.len());
    let mut exports = Vec::new();
    for (k, v) in &svc.environment {
        let v = substitute_cow(v, inst);
        if envdir::carries(&v, reader) {
            env_files.push((k, v));
        } else {
            exports.push((k.to_owned(), v.into_owned()));
        }
    }
    (env_files, exports)
}

/// `text` with the placeholder replaced by `instance`, borrowed when nothing changes.
fn substitute_cow<'a>(text: &'a str, instance: Option<&str>) -> Cow<'a, str> {
    match instance {
        Some(_) if text.contains(INSTANCE_PLACEHOLDER) => Cow::Owned(substitute(text, instance)),
        _ => Cow::Borrowed(text),
    }
}

/// What every plan of one render shares, built once: the directory names and the wait
/// scripts of the wrapper.
pub struct Planner<'m> {
    model: &'m Model,
    reader: envdir::Reader,
    dirs: ProcessNames,
    scripts: WaitScripts<'m>,
    wrappers: Wrappers,
}

impl<'m> Planner<'m> {
    /// The planner of `model`'s processes; `reader` is the tool that reads their env dirs.
    #[must_use]
    pub fn new(model: &'m Model, reader: envdir::Reader) -> Self {
        let scripts = WaitScripts::new(model);
        Self {
            model,
            reader,
            dirs: ProcessNames::new(model, |p| dir_name(model, p)),
            wrappers: Wrappers::new(model, reader, &scripts),
            scripts,
        }
    }

    /// The directory names of every process.
    #[must_use]
    pub fn dirs(&self) -> &ProcessNames {
        &self.dirs
    }

    /// The model planned.
    #[must_use]
    pub fn model(&self) -> &'m Model {
        self.model
    }

    /// The directory names in start order, space-separated, when they are few enough for an
    /// enable note to name them (see [`crate::backend::shared::names::few`]).
    #[must_use]
    pub fn few_dirs_in_start_order(&self) -> Option<String> {
        let view = &self.model.view;
        let names = view.order().iter().flat_map(|&i| self.dirs.of(i));
        crate::backend::shared::names::few(view.processes().len(), names)
    }

    /// The sibling directories service `s` waits for: its service dependencies, then the
    /// services ordered before it that it does not depend on.
    fn deps_of(&self, s: usize) -> Vec<DepDir<'_>> {
        let model = self.model;
        let mut deps = Vec::new();
        for (target, kind) in waits::edges(model, s) {
            let Target::Service(t) = target else {
                continue;
            };
            let (wait_secs, checked) = (wait_secs(model, t), model.services[t].health.is_some());
            deps.extend(self.dirs.of(t).map(|name| DepDir {
                name,
                kind,
                wait_secs,
                checked,
            }));
        }
        deps
    }

    /// The wrapper of a process of service `s` that needs one of its own.
    fn own_wrapper(
        &self,
        s: usize,
        inst: Option<&str>,
        exports: Vec<(String, String)>,
    ) -> Prelude<'_> {
        let svc = &self.model.services[s];
        Prelude {
            exports,
            environment_file: svc.environment_file.as_deref(),
            limits: crate::model::Limits::default(),
            waits: waits::externals(self.model, s)
                .map(|(e, kind)| Ready {
                    script: Cow::Borrowed(
                        self.scripts.script(Target::External(e)).unwrap_or_default(),
                    ),
                    hard: kind.is_hard(),
                })
                .collect(),
            pre_start: svc
                .pre_start
                .iter()
                .map(|argv| argv.iter().map(|a| substitute(a, inst)).collect())
                .collect(),
        }
    }

    /// Call `f` with every process of the stack and its plan, service by service; refused
    /// (naming `backend` and the directory under `dir`) when two processes would take one
    /// service directory.
    ///
    /// # Errors
    /// That refusal, or `f`'s.
    pub fn each(
        &self,
        backend: &str,
        dir: &str,
        mut f: impl FnMut(&Process, &Plan<'_>) -> crate::errors::Result<()>,
    ) -> crate::errors::Result<()> {
        let model = self.model;
        // refused where it is met, after the processes before it
        let repeat = self.dirs.first_repeat();
        let mut i = 0;
        for s in 0..model.services.len() {
            for (k, p) in model.view.processes_of(s).iter().enumerate() {
                let plan = self.plan(p, k);
                let repeated = repeat == Some(i);
                i += 1;
                if repeated {
                    let name = format!("{dir}/{}", plan.name);
                    let service = &model.services[s].name;
                    return Err(taken_twice(backend, "service directory", service, &name));
                }
                f(p, &plan)?;
            }
        }
        Ok(())
    }

    /// The plan of process `p` (of service `p.service`, the `k`th of its processes).
    #[must_use]
    pub fn plan(&self, p: &Process, k: usize) -> Plan<'_> {
        let model = self.model;
        let s = p.service;
        let svc = &model.services[s];
        let inst = p.instance.as_deref();
        // the services whose `requires` names `s`, in declaration order (the view's reverse
        // edges: a list per service here took 560 KB at 10,000)
        let required_by = model
            .view
            .dependents(s)
            .iter()
            .filter(|d| d.kind == DepKind::Requires)
            .flat_map(|d| self.dirs.of(d.service))
            .collect();
        let (env_files, exports) = split_env(svc, inst, self.reader);
        let name = self.dirs.of(s).get(k);
        let delay = svc.restart_delay.secs_ceil();
        let mut own: Vec<Cow<'_, str>> = Vec::with_capacity(4 + svc.command.len());
        let (wrapped, quoted_script) = match self.wrappers.of(s) {
            Wrapper::Bare => (false, None),
            Wrapper::Shared(i) => {
                let (script, quoted) = self.wrappers.script(i);
                own.extend([SHELL, "-c", script, name].map(Cow::Borrowed));
                (true, Some(quoted))
            }
            Wrapper::Own => (true, None),
        };
        own.extend(svc.command.iter().map(|a| substitute_cow(a, inst)));
        let argv = if quoted_script.is_none() && wrapped {
            self.own_wrapper(s, inst, exports).wrap(name, own)
        } else {
            own
        };
        let description = substitute_cow(&svc.description, inst);
        Plan {
            wrapped,
            argv,
            quoted_script,
            reader: self.reader,
            name,
            svc,
            preamble: preamble(&description),
            description,
            deps: self.deps_of(s),
            required_by,
            env_files,
            account: (svc.user.as_deref(), svc.group.as_deref()),
            cwd: svc.working_dir.as_deref(),
            success_codes: &svc.success_exit_codes,
            after_exit: match svc.restart {
                RestartPolicy::Always => AfterExit::Restart { delay },
                RestartPolicy::OnFailure => AfterExit::RestartOnFailure { delay },
                RestartPolicy::Never => AfterExit::StayDown,
            },
            log_files: match &*svc.logs {
                Logs::Journal => None,
                Logs::Files { stdout, stderr } => Some((stdout.as_str(), stderr.as_deref())),
            },
        }
    }
}

impl Plan<'_> {
    /// The contents of the env dir file of `value` (one of [`Plan::env_files`]).
    #[must_use]
    pub fn env_file(&self, value: &str) -> String {
        envdir::file(value, self.reader).unwrap_or_default()
    }

    /// Append [`Plan::argv`] quoted for `sh` (a shared wrapper script as quoted once).
    pub fn push_argv(&self, out: &mut String) {
        match self.quoted_script {
            Some(quoted) => {
                debug_assert_eq!(sh::quote(&self.argv[2]), quoted);
                sh::push_join(out, &self.argv[..2]);
                out.push(' ');
                out.push_str(quoted);
                for a in &self.argv[3..] {
                    out.push(' ');
                    sh::push_quote(out, a);
                }
            }
            None => sh::push_join(out, &self.argv),
        }
    }

    /// The exit codes that count as a clean exit, as a `case` pattern (`0|255`).
    #[must_use]
    pub fn clean_codes(&self) -> String {
        let mut out = String::with_capacity(8);
        self.push_clean_codes(&mut out);
        out
    }

    /// Append [`Plan::clean_codes`].
    pub fn push_clean_codes(&self, out: &mut String) {
        out.push('0');
        for &c in self.success_codes.iter().filter(|&&c| c != 0) {
            out.push('|');
            push_i64(out, c.into());
        }
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

/// The lines every script of `description` starts with: the interpreter, the header
/// comment and the description as comments.
#[must_use]
pub fn preamble(description: &str) -> String {
    let mut s = String::with_capacity(crate::backend::kit::HEADER.len() + description.len() + 32);
    s.push_str("#!/bin/sh\n# ");
    s.push_str(crate::backend::kit::HEADER);
    s.push('\n');
    for line in description.lines() {
        s.push_str("# ");
        s.push_str(line);
        s.push('\n');
    }
    s
}
