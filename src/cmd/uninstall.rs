//! `uninstall`: stop and disable the stack, remove exactly the files the ledger owns.

use super::stack;
use crate::cli::UninstallArgs;
use crate::errors::Result;
use crate::lifecycle::install::Job;
use crate::lifecycle::uninstall::{self, UninstallOptions};
use crate::stdout;

/// Run `uninstall`.
///
/// # Errors
/// I/O or a failed command.
pub fn run(args: &UninstallArgs) -> Result<()> {
    let s = stack::open_in(
        &args.stack,
        args.dry_run,
        args.root.as_deref(),
        args.layout.as_deref(),
    )?;
    let job = Job {
        place: &s.place,
        control: s.control(),
        extra: Vec::new(),
        provision: None,
    };
    let opts = UninstallOptions {
        force: args.force,
        purge: args.purge,
        commands: args.root.is_none(),
    };
    for line in uninstall::uninstall(&job, &s.rendered, opts)? {
        stdout::line(line)?;
    }
    if let Some(commands) = s.transcript() {
        stdout::line("commands that would run:")?;
        stdout::write_str(&commands)?;
    }
    Ok(())
}
