//! `start`, `stop` and `restart TARGET…`: through the init system, never by signalling.

use super::stack;
use crate::cli::ControlArgs;
use crate::errors::Result;
use crate::lifecycle::control::Verb;
use crate::stdout;

/// Run `verb` on every unit the targets name (stop in reverse order).
///
/// # Errors
/// A target names nothing of the stack, or the init system's command failed.
pub fn run(args: &ControlArgs, verb: Verb) -> Result<()> {
    let s = stack::open(&args.stack, false)?;
    let mut units = s.targets(&args.targets)?;
    if verb == Verb::Stop {
        units.reverse();
    }
    let control = s.control();
    for u in units {
        control.must(verb, &u.name)?;
        stdout::line(format_args!("{}: {}", verb.word(), u.name))?;
    }
    Ok(())
}
