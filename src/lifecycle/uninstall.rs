//! `uninstall`: stop and disable the stack, remove exactly the files the ledger owns, let
//! the init system forget them; with `--purge` also what a host install created (users,
//! groups, directories: only those it recorded) and openim-init's state.

use anyhow::Result;

use super::control::Verb;
use super::install::{Job, Step, open, report, run_steps};
use super::journal;
use super::ledger::{Lock, Store};
use super::plan::{self, Options};
use super::provision::{self, Created};
use super::retire;
use super::units::Record;
use crate::backend::Rendered;

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
    if record.stack.is_some() {
        stops.extend(wholes.iter().map(|u| (Verb::Stop, u.clone())));
    }
    stops.extend(
        record
            .processes
            .iter()
            .rev()
            .map(|u| (Verb::Stop, u.clone())),
    );
    stops.extend(wholes.iter().map(|u| (Verb::Disable, u.clone())));
    if job.place.scan.is_some() {
        // runit/s6: the supervisors let go of the unlinked directories (s6: on a rescan)
        stops.push((Verb::Reload, job.control.stack.to_owned()));
        stops.extend(wholes.iter().map(|u| (Verb::AwaitUnloaded, u.clone())));
    }
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
    let created = Created::read(store)?;
    let purging = if opts.purge && opts.commands {
        provision::purge_commands(&created, job.control.runner)?
    } else {
        Vec::new()
    };
    let Some(lock) = lock.filter(|_| !dry) else {
        lines.push(plan::render_dry_run(&plan, "/").trim_end().to_owned());
        for (verb, unit) in stops.iter().chain(&after) {
            job.control.run(*verb, unit)?;
        }
        provision::run(job.control.runner, &purging, &mut Vec::new())?;
        return Ok(lines);
    };
    stop_all(job, &stops, &mut lines)?;
    if opts.commands {
        retire::forget_runtime(
            job.place,
            &job.control.data.install.runtime,
            &record.processes,
        )?;
    }
    journal::apply(store, &lock, &plan, &ledger)?.commit()?;
    retire::remove_empty_dirs(job.place, ledger.files.keys().map(String::as_str));
    report(&plan, &mut lines);
    run_steps(job, &after, &mut lines)?;
    provision::run(job.control.runner, &purging, &mut lines)?;
    if !purging.is_empty() {
        Created::forget(store)?;
    }
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
