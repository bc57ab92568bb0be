//! Values no unit file can carry, however they are quoted (see
//! [`crate::escape::systemd::text_problem`] and [`crate::escape::systemd::executable_problem`]):
//! an error naming the field instead of a unit that systemd does not load.

use crate::errors::{Refusal, Result};
use crate::escape::systemd as esc;
use crate::model::{Logs, Service};

/// Whether systemd can carry every value of `svc` and run its programs; otherwise an
/// error naming the first field it cannot.
pub fn check(svc: &Service) -> Result<()> {
    let fail = |field: &str, value: &str, problem: String| -> Result<()> {
        Err(Refusal::new(
            format!("services.{}.{field}", svc.name),
            format!("`{}`: {problem}", value.escape_debug()),
        )
        .hint("systemd cannot carry this value in a unit file: change it in the manifest")
        .into())
    };
    let argvs = std::iter::once((None, &svc.command))
        .chain(svc.pre_start.iter().enumerate().map(|(i, a)| (Some(i), a)));
    for (pre, argv) in argvs {
        let field = |i: usize| match pre {
            None => format!("command[{i}]"),
            Some(p) => format!("pre_start[{p}][{i}]"),
        };
        if let Some(exe) = argv.first()
            && let Some(p) = esc::executable_problem(exe)
        {
            return fail(&field(0), exe, p);
        }
        for (i, word) in argv.iter().enumerate() {
            if let Some(p) = esc::text_problem(word) {
                return fail(&field(i), word, p);
            }
        }
    }
    if let Some(p) = esc::text_problem(&svc.description) {
        return fail("description", &svc.description, p);
    }
    for (k, v) in &svc.environment {
        if let Some(p) = esc::text_problem(v) {
            return fail(&format!("environment.{k}"), v, p);
        }
    }
    let optional = [
        ("environment_file", svc.environment_file.as_deref()),
        ("working_dir", svc.working_dir.as_deref()),
    ];
    let logs = match &*svc.logs {
        Logs::Files { stdout, stderr } => [Some(stdout.as_str()), stderr.as_deref()],
        Logs::Journal => [None, None],
    };
    let fields = optional
        .into_iter()
        .chain([("logs.stdout", logs[0]), ("logs.stderr", logs[1])]);
    for (field, v) in fields {
        if let Some(v) = v
            && let Some(p) = esc::text_problem(v)
        {
            return fail(field, v, p);
        }
    }
    Ok(())
}

/// The stack's and groups' descriptions (`Description=` of the targets), as (field, text).
pub fn check_descriptions<'a>(
    fields: impl IntoIterator<Item = (String, &'a String)>,
) -> Result<()> {
    for (field, text) in fields {
        if let Some(p) = esc::text_problem(text) {
            return Err(Refusal::new(field, p)
                .hint("systemd cannot carry this text in a unit file: change it in the manifest")
                .into());
        }
    }
    Ok(())
}
