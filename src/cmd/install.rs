//! `install`: verify the rendered stack, then install it through the ledger and the init
//! system (see [`crate::lifecycle::install`]).

use anyhow::Context as _;

use super::stack;
use crate::cli::InstallArgs;
use crate::errors::{Error, Result};
use crate::lifecycle::install::{self, InstallOptions, Job};
use crate::{output, stdout};

/// Run `install`.
///
/// # Errors
/// Verification findings (unless `--force`), refusals, I/O, a failed command.
pub fn run(args: &InstallArgs) -> Result<()> {
    let s = stack::open(&args.stack, args.dry_run)?;
    let tmp = tempfile::tempdir().context("creating a temporary directory")?;
    let dir = tmp.path().join("out");
    output::write_all(&dir, &s.rendered.artifacts, false)?;
    let report = s.kind.backend().verify(&dir, &s.rendered)?;
    for f in &report.findings {
        stdout::diag(format_args!("finding: {f}"));
    }
    if !report.findings.is_empty() && !args.force {
        return Err(Error::Verify(report.findings.len()));
    }
    let job = Job {
        place: &s.place,
        control: s.control(),
    };
    let opts = InstallOptions {
        force: args.force,
        start: args.start,
        enable: !args.no_enable,
    };
    for line in install::install(&job, &s.rendered, opts)? {
        stdout::line(line)?;
    }
    if let Some(commands) = s.transcript() {
        stdout::line("commands that would run:")?;
        stdout::write_str(&commands)?;
    }
    Ok(())
}
