//! `install` and `uninstall`: rendered artifacts → the backend's real directories, through
//! the ledger (what openim-init owns), the journal (a killed run is finished by the next)
//! and the init system's own commands.
//!
//! An install, under the store's lock: finish a killed run; plan every file against the
//! ledger and the disk (pruning owned files that are no longer rendered); refuse foreign or
//! edited files unless forced; stop the units that left the manifest; write; reload, enable,
//! restart only the running units whose files changed, start with `--start`; commit the
//! ledger — or, when a command fails, put the previous files back. With a recording runner
//! (`--dry-run`) it only reports: the diff and every command, and changes nothing.

use anyhow::Result;

use super::control::{Control, Verb};
use super::journal;
use super::ledger::{Ledger, Lock, Store};
use super::place::Place;
use super::plan::{self, Action, Conflict, Desired, Options, Plan};
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
}

/// One command of the activation: what, on which unit.
type Step = (Verb, String);

fn refuse(plan: &Plan, store: &Store) -> Result<()> {
    let mut conflicts = Vec::new();
    for step in plan.refusals() {
        match &step.action {
            Action::Refuse(Conflict::Blocked(why)) => {
                return Err(UsageError(format!("refusing to write /{}: {why}", step.path)).into());
            }
            Action::Refuse(Conflict::Edited) => {
                conflicts.push(format!("/{} (edited since)", step.path));
            }
            _ => conflicts.push(format!("/{}", step.path)),
        }
    }
    if conflicts.is_empty() {
        return Ok(());
    }
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
fn open(store: &Store, dry_run: bool, lines: &mut Vec<String>) -> Result<(Option<Lock>, Ledger)> {
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

/// The commands after the files are written: reload if anything changed, enable, restart
/// the running units whose files were updated, start; `gone` units were removed.
fn activation(
    job: &Job<'_>,
    rendered: &Rendered,
    plan: &Plan,
    opts: InstallOptions,
    gone: bool,
) -> Vec<Step> {
    let mut steps = Vec::new();
    let changed = plan.changed() > 0;
    if changed {
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
    }
    let updated: Vec<&str> = plan
        .steps
        .iter()
        .filter(|s| matches!(s.action, Action::Update | Action::Force(_)) && s.desired.is_some())
        .map(|s| s.path.as_str())
        .collect();
    let mut restart: Vec<String> = Vec::new();
    for path in updated {
        for u in units::defined_by(path, &rendered.units, rendered.artifacts.len()) {
            if !restart.contains(&u.name) {
                restart.push(u.name.clone());
            }
        }
    }
    steps.extend(restart.into_iter().map(|u| (Verb::TryRestart, u)));
    if gone {
        steps.push((Verb::ResetFailed, job.control.stack.to_owned()));
    }
    if opts.start {
        steps.extend(wholes.into_iter().map(|u| (Verb::Start, u)));
    }
    steps
}

fn run_steps(job: &Job<'_>, steps: &[Step], lines: &mut Vec<String>) -> Result<()> {
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
fn report(plan: &Plan, lines: &mut Vec<String>) {
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
    let desired: Vec<Desired> = rendered
        .artifacts
        .iter()
        .map(|a| Desired::at(&job.place.installed(&a.path), a))
        .chain(job.extra.iter().cloned())
        .collect();
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
    let before = Record::read(store)?;
    let now = Record::of(&rendered.units);
    let gone: Vec<String> = before
        .processes
        .iter()
        .rev()
        .filter(|u| !now.processes.contains(u))
        .cloned()
        .collect();
    let mut stops: Vec<Step> = gone.iter().map(|u| (Verb::Stop, u.clone())).collect();
    let mut after = activation(job, rendered, &plan, opts, !gone.is_empty());
    if !opts.commands {
        stops.clear();
        after.clear();
    }
    let Some(lock) = lock.filter(|_| !dry) else {
        lines.push(plan::render_dry_run(&plan, "/").trim_end().to_owned());
        for (verb, unit) in stops.iter().chain(&after) {
            job.control.run(*verb, unit)?;
        }
        return Ok(lines);
    };
    run_steps(job, &stops, &mut lines)?;
    let applied = journal::apply(store, &lock, &plan, &ledger)?;
    let mut ran = Vec::new();
    if let Err(e) = run_steps(job, &after, &mut ran) {
        applied.rollback()?;
        if plan.changed() > 0 {
            let _ = job.control.run(Verb::Reload, job.control.stack);
        }
        return Err(e.context("activation failed; the previous files were put back"));
    }
    applied.commit()?;
    now.write(store)?;
    report(&plan, &mut lines);
    lines.extend(ran);
    Ok(lines)
}

/// Options of `uninstall`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UninstallOptions {
    /// Remove edited files too (after a backup).
    pub force: bool,
    /// Also remove openim-init's state (ledger directory and backups).
    pub purge: bool,
    /// Run the init system's commands (a staged `--root` tree runs none).
    pub commands: bool,
}

/// Stop and disable the stack, remove exactly the files in the ledger (an edited one is kept
/// with a warning unless forced), let the init system forget them. `rendered` names the
/// units when no record of the install is left.
///
/// # Errors
/// I/O, or a command that failed.
pub fn uninstall(
    job: &Job<'_>,
    rendered: &Rendered,
    opts: UninstallOptions,
) -> Result<Vec<String>> {
    let store = &job.place.store;
    let dry = job.control.runner.is_dry_run();
    let mut lines = Vec::new();
    if !store.state.exists() {
        lines.push(format!(
            "nothing installed (no ledger under {})",
            store.state.display()
        ));
        return Ok(lines);
    }
    let (lock, ledger) = open(store, dry, &mut lines)?;
    let mut record = Record::read(store)?;
    if record.processes.is_empty() {
        record = Record::of(&rendered.units);
    }
    let mut stops: Vec<Step> = Vec::new();
    let mut after = vec![
        (Verb::Reload, job.control.stack.to_owned()),
        (Verb::ResetFailed, job.control.stack.to_owned()),
    ];
    let wholes: Vec<String> = record
        .stack
        .clone()
        .map_or_else(|| record.processes.clone(), |s| vec![s]);
    stops.extend(wholes.iter().map(|u| (Verb::Stop, u.clone())));
    stops.extend(
        record
            .processes
            .iter()
            .rev()
            .map(|u| (Verb::Stop, u.clone())),
    );
    stops.extend(wholes.iter().map(|u| (Verb::Disable, u.clone())));
    let disk = plan::scan(&store.base, ledger.files.keys().map(String::as_str), false)?;
    let plan = plan::plan(
        &[],
        &ledger,
        &disk,
        Options {
            force: opts.force,
            prune: true,
        },
    );
    if !opts.commands {
        stops.clear();
        after.clear();
    }
    let Some(lock) = lock.filter(|_| !dry) else {
        lines.push(plan::render_dry_run(&plan, "/").trim_end().to_owned());
        for (verb, unit) in stops.iter().chain(&after) {
            job.control.run(*verb, unit)?;
        }
        return Ok(lines);
    };
    stop_all(job, &stops, &mut lines)?;
    journal::apply(store, &lock, &plan, &ledger)?.commit()?;
    report(&plan, &mut lines);
    run_steps(job, &after, &mut lines)?;
    Record::remove(store)?;
    forget_state(store, opts.purge, &lock, &mut lines)?;
    Ok(lines)
}

/// Stops and disables; a unit the init system no longer knows is not an error, anything
/// else is.
fn stop_all(job: &Job<'_>, steps: &[Step], lines: &mut Vec<String>) -> Result<()> {
    for (verb, unit) in steps {
        if let Err(e) = job.control.must(*verb, unit) {
            let text = format!("{e:#}");
            let unknown = [
                "not loaded",
                "not found",
                "does not exist",
                "no such",
                "No such",
            ]
            .iter()
            .any(|w| text.contains(w));
            anyhow::ensure!(unknown, "{text}");
        } else if let Some(argv) = job.control.argv(*verb, unit) {
            lines.push(format!(
                "ran: {}",
                job.control.runner.setup().expand(&argv).join(" ")
            ));
        }
    }
    Ok(())
}

/// Remove the ledger when it owns nothing any more (and, with `purge`, the whole state
/// directory with its backups).
fn forget_state(store: &Store, purge: bool, lock: &Lock, lines: &mut Vec<String>) -> Result<()> {
    let ledger = store.read(lock)?;
    if purge {
        std::fs::remove_dir_all(&store.state)?;
        lines.push(format!("purged {}", store.state.display()));
    } else if ledger.files.is_empty() {
        super::fsops::remove(&store.state.join("ledger.json"))?;
        let _ = std::fs::remove_dir(&store.state);
    }
    if let Some(parent) = store.state.parent() {
        let _ = std::fs::remove_dir(parent);
    }
    Ok(())
}
