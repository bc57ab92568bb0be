//! `install`: rendered artifacts → the backend's real directories, through the ledger (what
//! openim-init owns), the journal (a killed run is finished by the next) and the init
//! system's own commands (`uninstall` is [`super::uninstall`]).
//!
//! An install, under the store's lock: finish a killed run; plan every file against the
//! ledger and the disk (pruning owned files that are no longer rendered); refuse foreign or
//! edited files unless forced; stop the units that left the manifest; write; create the
//! missing service users and directories (a host install: [`super::provision`]); reload,
//! enable, restart only the running units whose files changed, start with `--start`; commit
//! the ledger — or, when a command fails, put the previous files back. With a recording runner
//! (`--dry-run`) it only reports: the diff and every command, and changes nothing.

use anyhow::Result;

use super::control::{Control, Verb};
use super::journal;
use super::ledger::{Ledger, Lock, Store};
use super::place::Place;
use super::plan::{self, Action, Desired, Options, Plan, Refused};
use super::provision::{self, Created, Provision};
use super::retire;
use super::units::{self, Record};
use crate::backend::Rendered;
use crate::errors::usage::UsageError;

/// What to do besides writing the files.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "independent switches of one run"
)]
pub struct InstallOptions {
    /// Replace foreign or edited files (after a backup) and remove edited ones.
    pub force: bool,
    /// Start the stack once installed.
    pub start: bool,
    /// Enable the stack (start at boot).
    pub enable: bool,
    /// Run the init system's commands (a staged `--root` tree runs none).
    pub commands: bool,
}

/// One install or uninstall: where, what, and the init system.
pub struct Job<'a> {
    /// The locations.
    pub place: &'a Place,
    /// The init system.
    pub control: Control<'a>,
    /// Files installed besides the artifacts (paths relative to the store's base).
    pub extra: Vec<Desired>,
    /// A host install's users and directories (their files, what is missing, the
    /// commands), created after the files are written and before activation.
    pub provision: Option<Provision>,
}

/// One command of the activation: what, on which unit.
pub(super) type Step = (Verb, String);

fn refuse(plan: &Plan, store: &Store) -> Result<()> {
    let conflicts = match plan.refused(|path| format!("/{path}")) {
        None => return Ok(()),
        Some(Refused::Blocked(message)) => return Err(UsageError(message).into()),
        Some(Refused::Conflicts(paths)) => paths,
    };
    Err(UsageError(format!(
        "refusing to overwrite file(s) that openim-init did not write or that were changed \
         since: {}; nothing was changed (use --force to replace them; a backup is kept under {})",
        conflicts.join(", "),
        store.backup_dir().display()
    ))
    .into())
}

/// The lock and ledger of `store` (an empty ledger and no lock for a dry run on a store that
/// does not exist yet: a dry run creates nothing). A killed run is finished first.
pub(super) fn open(
    store: &Store,
    dry_run: bool,
    lines: &mut Vec<String>,
) -> Result<(Option<Lock>, Ledger)> {
    if dry_run && !store.state.exists() {
        return Ok((None, Ledger::default()));
    }
    let lock = store.lock(&store.state)?;
    if !dry_run {
        lines.extend(journal::recover(store, &lock)?);
    }
    let ledger = store.read(&lock)?;
    Ok((Some(lock), ledger))
}

/// The process units (in start order) defined by the files of the plan's steps that `which`
/// accepts.
fn written_units(
    plan: &Plan,
    rendered: &Rendered,
    which: impl Fn(&plan::Step) -> bool,
) -> Vec<String> {
    let defined: std::collections::HashSet<&str> = plan
        .steps
        .iter()
        .filter(|s| which(s))
        .flat_map(|s| units::defined_by(&s.path, &rendered.units, rendered.artifacts.len()))
        .map(|u| u.name.as_str())
        .collect();
    units::processes(&rendered.units)
        .into_iter()
        .filter(|u| defined.contains(u.name.as_str()))
        .map(|u| u.name.clone())
        .collect()
}

/// The commands after the files are written: reload if anything changed, enable, restart
/// the running units whose files were updated, start; `gone` units were removed. A
/// backend that loads files (launchd) loads every created unit and unloads, awaits and
/// loads again every updated one instead — loading starts it, so `--start` adds nothing.
fn activation(
    job: &Job<'_>,
    rendered: &Rendered,
    plan: &Plan,
    opts: InstallOptions,
    existing: &[String],
    gone: bool,
) -> Vec<Step> {
    let mut steps = Vec::new();
    if plan.changed() > 0 {
        steps.push((Verb::Reload, job.control.stack.to_owned()));
    }
    let stack = units::stack_unit(&rendered.units).map(|u| u.name.clone());
    let procs = units::processes(&rendered.units);
    let wholes: Vec<String> = stack.map_or_else(
        || procs.iter().map(|u| u.name.clone()).collect(),
        |s| vec![s],
    );
    if opts.enable {
        steps.extend(wholes.iter().map(|u| (Verb::Enable, u.clone())));
        if job.place.scan.is_some() {
            // runit/s6: the scan daemon takes the links up (s6: on the rescan asked for)
            steps.push((Verb::Reload, job.control.stack.to_owned()));
            steps.extend(wholes.iter().map(|u| (Verb::AwaitLoaded, u.clone())));
        }
    }
    let loads = job.control.argv(Verb::Load, "").is_some();
    if loads {
        let updated = written_units(plan, rendered, |s| {
            s.desired.is_some() && matches!(s.action, Action::Update | Action::Force(_))
        });
        let created = written_units(plan, rendered, |s| {
            s.desired.is_some() && matches!(s.action, Action::Create)
        });
        for u in updated {
            steps.extend([Verb::Unload, Verb::AwaitUnloaded, Verb::Load].map(|v| (v, u.clone())));
        }
        steps.extend(created.into_iter().map(|u| (Verb::Load, u)));
    } else {
        // a unit that ran before and one of its files was written or removed (runit/s6: a
        // new `env/` file in its directory counts as much as a changed `run`)
        let touched = written_units(plan, rendered, |s| s.action.changes_disk());
        let existing: std::collections::HashSet<&String> = existing.iter().collect();
        let restart = touched.into_iter().filter(|u| existing.contains(u));
        steps.extend(restart.map(|u| (Verb::TryRestart, u)));
    }
    if gone {
        steps.push((Verb::ResetFailed, job.control.stack.to_owned()));
    }
    if opts.start && !loads {
        steps.extend(wholes.into_iter().map(|u| (Verb::Start, u)));
    }
    steps
}

pub(super) fn run_steps(job: &Job<'_>, steps: &[Step], lines: &mut Vec<String>) -> Result<()> {
    for (verb, unit) in steps {
        if let Some(argv) = job.control.argv(*verb, unit) {
            job.control.must(*verb, unit)?;
            lines.push(format!(
                "ran: {}",
                job.control.runner.setup().expand(&argv).join(" ")
            ));
        }
    }
    Ok(())
}

/// What each changed path means to a person.
pub(super) fn report(plan: &Plan, lines: &mut Vec<String>) {
    for s in &plan.steps {
        let line = match &s.action {
            Action::Create | Action::Update => format!("wrote /{}", s.path),
            Action::Force(_) if s.desired.is_some() => {
                format!("replaced /{} (backup kept)", s.path)
            }
            Action::Remove | Action::Force(_) => format!("removed /{}", s.path),
            Action::KeepEdited => format!(
                "warning: kept /{} (edited since it was written; no longer owned)",
                s.path
            ),
            _ => continue,
        };
        lines.push(line);
    }
    lines.push(plan.summary());
}

/// Every file the install owns: the artifacts at their installed paths, the extras and the
/// provisioning files.
fn desired(job: &Job<'_>, rendered: &Rendered) -> Vec<Desired> {
    rendered
        .artifacts
        .iter()
        .map(|a| Desired::at(&job.place.installed(&a.path), a))
        .chain(job.extra.iter().cloned())
        .chain(job.provision.iter().flat_map(|p| p.files.iter().cloned()))
        .collect()
}

/// The process units of the last install, the record of `rendered`'s units, and the
/// processes of the last install that left the manifest (last started first).
fn gone(store: &Store, rendered: &Rendered) -> Result<(Vec<String>, Record, Vec<String>)> {
    let before = Record::read(store)?.processes;
    let now = Record::of(&rendered.units);
    let kept: std::collections::HashSet<&String> = now.processes.iter().collect();
    let gone = before
        .iter()
        .rev()
        .filter(|u| !kept.contains(u))
        .cloned()
        .collect();
    Ok((before, now, gone))
}

/// Install `rendered` (see the module documentation). Returns the lines for the user; with
/// a dry-run runner, the diff and the command plan.
///
/// # Errors
/// A refusal (foreign or edited files), I/O, or a failed command (the files are then put
/// back as they were).
pub fn install(job: &Job<'_>, rendered: &Rendered, opts: InstallOptions) -> Result<Vec<String>> {
    let store = &job.place.store;
    let dry = job.control.runner.is_dry_run();
    let mut lines = Vec::new();
    let (lock, ledger) = open(store, dry, &mut lines)?;
    let desired = desired(job, rendered);
    let (missing, creating) = job.provision.as_ref().map_or_else(
        || (Created::default(), Vec::new()),
        |p| (p.missing.clone(), p.commands.clone()),
    );
    let paths = desired
        .iter()
        .map(|d| d.path.as_str())
        .chain(ledger.files.keys().map(String::as_str));
    let disk = plan::scan(&store.base, paths, false)?;
    let plan = plan::plan(
        &desired,
        &ledger,
        &disk,
        Options {
            force: opts.force,
            prune: true,
        },
    );
    refuse(&plan, store)?;
    let (before, now, gone) = gone(store, rendered)?;
    let mut stops: Vec<Step> = gone.iter().map(|u| (Verb::Stop, u.clone())).collect();
    stops.extend(retire::unlink_steps(job.place, job.control.stack, &gone));
    let mut after = activation(job, rendered, &plan, opts, &before, !gone.is_empty());
    if !opts.commands {
        stops.clear();
        after.clear();
    }
    let Some(lock) = lock.filter(|_| !dry) else {
        lines.push(plan::render_dry_run(&plan, "/").trim_end().to_owned());
        lines.extend(provision::describe(&missing, "would create"));
        for (verb, unit) in &stops {
            job.control.run(*verb, unit)?;
        }
        provision::run(job.control.runner, &creating, &mut Vec::new())?;
        for (verb, unit) in &after {
            job.control.run(*verb, unit)?;
        }
        return Ok(lines);
    };
    run_steps(job, &stops, &mut lines)?;
    if opts.commands {
        retire::forget_runtime(job.place, &job.control.data.install.runtime, &gone)?;
    }
    let applied = journal::apply(store, &lock, &plan, &ledger)?;
    let mut ran = provision::describe(&missing, "creating");
    if !missing.is_empty() {
        // recorded first: a run killed half-way still lets --purge remove what it made
        Created::record(store, &missing)?;
    }
    let activated = provision::run(job.control.runner, &creating, &mut ran)
        .and_then(|()| run_steps(job, &after, &mut ran));
    if let Err(e) = activated {
        applied.rollback()?;
        if plan.changed() > 0 {
            let _ = job.control.run(Verb::Reload, job.control.stack);
        }
        return Err(e.context("activation failed; the previous files were put back"));
    }
    applied.commit()?;
    now.write(store)?;
    let removed = plan
        .steps
        .iter()
        .filter(|s| s.desired.is_none())
        .map(|s| &*s.path);
    retire::remove_empty_dirs(job.place, removed);
    report(&plan, &mut lines);
    lines.extend(ran);
    Ok(lines)
}

#[cfg(test)]
mod tests;
