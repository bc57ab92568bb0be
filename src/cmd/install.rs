//! `install`: verify the rendered stack, then install it through the ledger and the init
//! system (see [`crate::lifecycle::install`]).

use anyhow::Context as _;

use super::stack;
use crate::cli::InstallArgs;
use crate::errors::{Error, Result};
use crate::lifecycle::install::{self, InstallOptions, Job};
use crate::lifecycle::{provision, stage};
use crate::{output, stdout};

/// Run `install`.
///
/// # Errors
/// Verification findings (unless `--force`), refusals, I/O, a failed command.
pub fn run(args: &InstallArgs) -> Result<()> {
    let s = stack::open_in(
        &args.stack,
        args.dry_run,
        args.root.as_deref(),
        args.layout.as_deref(),
    )?;
    let staging = args.root.is_some();
    let tmp = tempfile::tempdir().context("creating a temporary directory")?;
    let dir = tmp.path().join("out");
    output::write_all(&dir, &s.rendered.artifacts, false)?;
    let report = s.kind.backend().verify(&dir, &s.rendered)?;
    for f in &report.findings {
        stdout::diag(format_args!("finding: {f}"));
    }
    // a staged tree's commands exist only on the target: findings are reported, not fatal
    if !report.findings.is_empty() && !args.force && !staging {
        return Err(Error::Verify(report.findings.len()));
    }
    // a host install creates the missing service users and directories; a staged tree
    // ships them as files, a per-user install runs as the user
    let provision = if staging || args.stack.user {
        None
    } else {
        let data = s.kind.backend().data();
        Some(provision::plan(
            &s.model,
            data,
            &s.place.store.base,
            s.lookup(),
        )?)
    };
    let job = Job {
        place: &s.place,
        control: s.control(),
        extra: if staging {
            stage::extras(&s.model, s.kind.backend().data())
        } else {
            Vec::new()
        },
        provision,
    };
    let opts = InstallOptions {
        force: args.force,
        start: args.start,
        enable: !args.no_enable && !staging,
        commands: !staging,
    };
    let lines = install::install(&job, &s.rendered, opts)?;
    if staging && !args.dry_run {
        // for %files / package(): the installed paths, one per line; the rest on stderr
        for line in &lines {
            stdout::diag(line);
        }
        for path in staged_paths(&s, &job) {
            stdout::line(path)?;
        }
        if let Some(snippet) = stage::user_snippet(&s.model, s.kind.backend().data()) {
            stdout::diag(format_args!(
                "note: create the service user in the package's pre-install script:\n{snippet}"
            ));
        }
        return Ok(());
    }
    for line in lines {
        stdout::line(line)?;
    }
    if let Some(commands) = s.transcript() {
        stdout::line("commands that would run:")?;
        stdout::write_str(&commands)?;
    }
    Ok(())
}

/// The paths a staged tree holds, as installed on the target (`/lib/systemd/system/…`).
fn staged_paths(s: &stack::Stack, job: &Job<'_>) -> Vec<String> {
    let mut paths: Vec<String> = s
        .rendered
        .artifacts
        .iter()
        .map(|a| format!("/{}", s.place.installed(&a.path)))
        .chain(job.extra.iter().map(|d| format!("/{}", d.path)))
        .collect();
    paths.sort();
    paths
}
