//! `logs TARGET [-f] [-n N]`: the files the manifest sends output to (`logs.stdout`), or
//! else the init system's own log command. The output is passed through as it comes.

use std::io::Read as _;
use std::process::{Command, Stdio};

use anyhow::Context as _;

use super::stack;
use crate::cli::LogsArgs;
use crate::errors::{Error, Result};
use crate::lifecycle::control::Verb;
use crate::model::{Logs, substitute};
use crate::stdout;

/// The argv that shows the log of `unit`.
fn log_argv(s: &stack::Stack, args: &LogsArgs, unit: &crate::backend::Unit) -> Result<Vec<String>> {
    let n = args.lines.to_string();
    let service = s.model.service(&unit.service);
    if let Some(Logs::Files { stdout, .. }) = service.map(|x| &*x.logs) {
        let mut tail = vec!["tail".to_owned(), "-n".to_owned(), n];
        if args.follow {
            tail.push("-f".to_owned());
        }
        tail.push(substitute(stdout, unit.instance.as_deref()));
        return Ok(tail);
    }
    let mut own = s.control().argv(Verb::Logs, &unit.name).ok_or_else(|| {
        Error::usage(format!(
            "the {} backend keeps no log of its own; set `logs.stdout` for {} in the manifest",
            s.kind.name(),
            unit.service
        ))
    })?;
    if own.first().is_some_and(|t| t == "journalctl") {
        own.extend(["-n".to_owned(), n]);
        if args.follow {
            own.push("-f".to_owned());
        }
    } else if args.follow {
        own.insert(own.len() - 1, "-f".to_owned());
    }
    Ok(own)
}

/// Run `logs`.
///
/// # Errors
/// The target is not one process, or the log command failed.
pub fn run(args: &LogsArgs) -> Result<()> {
    let s = stack::open(&args.stack, false)?;
    let units = s.process_targets(std::slice::from_ref(&args.target))?;
    let [unit] = units[..] else {
        return Err(Error::usage(format!(
            "`{}` names {} processes; name one (e.g. {})",
            args.target,
            units.len(),
            units.first().map_or("", |u| u.name.as_str())
        )));
    };
    let full = s.runner().setup().expand(&log_argv(&s, args, unit)?);
    let (program, rest) = full.split_first().context("an empty log command")?;
    let mut child = Command::new(program)
        .args(rest)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("running `{}`", full.join(" ")))?;
    let mut pipe = child.stdout.take().context("the log command's output")?;
    let mut buf = [0u8; 8192];
    loop {
        let n = pipe.read(&mut buf).context("reading the log")?;
        if n == 0 {
            break;
        }
        if let Err(e) =
            stdout::write_str(&String::from_utf8_lossy(&buf[..n])).and_then(|()| stdout::flush())
        {
            let _ = child.kill();
            let _ = child.wait();
            return Err(e.into());
        }
    }
    let status = child.wait().context("waiting for the log command")?;
    if status.success() {
        Ok(())
    } else {
        Err(anyhow::anyhow!("`{}` failed: {status}", full.join(" ")).into())
    }
}
