//! `status [--json] [TARGET…]`: exit 0 when every process is running and healthy, 3
//! otherwise.

use super::stack;
use crate::cli::StatusArgs;
use crate::errors::{Error, Result};
use crate::lifecycle::status;
use crate::stdout;

/// Run `status`.
///
/// # Errors
/// A status command could not run; [`Error::NotWell`] when not all is well.
pub fn run(args: &StatusArgs) -> Result<()> {
    let s = stack::open(&args.stack, false)?;
    let units = s.process_targets(&args.targets)?;
    let data = s.kind.backend().data();
    let format = data.status_format.ok_or_else(|| {
        Error::usage(format!(
            "the {} backend has no status reader (status_format in backends/{}.toml)",
            s.kind.name(),
            s.kind.name()
        ))
    })?;
    let report = status::collect(&s.control(), format, &s.model, s.kind.name(), &units)?;
    if args.json {
        stdout::line(serde_json::to_string_pretty(&report).map_err(anyhow::Error::from)?)?;
    } else {
        stdout::write_str(&status::table(&report, stdout::colour()))?;
    }
    if report.all_well() {
        Ok(())
    } else {
        Err(Error::NotWell)
    }
}
