//! `uninstall`: stop and disable the stack, remove exactly the files the ledger owns.

use super::stack;
use crate::cli::UninstallArgs;
use crate::errors::Result;
use crate::lifecycle::install::{self, Job, UninstallOptions};
use crate::stdout;

/// Run `uninstall`.
///
/// # Errors
/// I/O or a failed command.
pub fn run(args: &UninstallArgs) -> Result<()> {
    let s = stack::open(&args.stack, args.dry_run)?;
    let job = Job {
        place: &s.place,
        control: s.control(),
    };
    let opts = UninstallOptions {
        force: args.force,
        purge: args.purge,
    };
    for line in install::uninstall(&job, &s.rendered, opts)? {
        stdout::line(line)?;
    }
    if let Some(commands) = s.transcript() {
        stdout::line("commands that would run:")?;
        stdout::write_str(&commands)?;
    }
    Ok(())
}
