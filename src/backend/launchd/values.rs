//! Values a plist cannot hold (see [`crate::escape::plist`]): an error naming the field
//! instead of a file that no plist parser reads.

use crate::errors::{Refusal, Result};
use crate::escape::plist::text_problem;
use crate::model::{Logs, Service};

/// Every value of `svc` that ends up in its plists, or an error naming the first one a
/// plist cannot hold.
pub fn check(svc: &Service) -> Result<()> {
    let fail = |field: &str, v: &str, p: String| -> Result<()> {
        Err(Refusal::new(
            format!("services.{}.{field}", svc.name),
            format!("`{}`: {p}", v.escape_debug()),
        )
        .hint("no plist can hold this text: change it in the manifest")
        .into())
    };
    let argvs = std::iter::once((None, &svc.command))
        .chain(svc.pre_start.iter().enumerate().map(|(i, a)| (Some(i), a)));
    for (pre, argv) in argvs {
        for (i, w) in argv.iter().enumerate() {
            if let Some(p) = text_problem(w) {
                let field = match pre {
                    None => format!("command[{i}]"),
                    Some(n) => format!("pre_start[{n}][{i}]"),
                };
                return fail(&field, w, p);
            }
        }
    }
    for (k, v) in &svc.environment {
        if let Some(p) = text_problem(v) {
            return fail(&format!("environment.{k}"), v, p);
        }
    }
    let logs = match &*svc.logs {
        Logs::Files { stdout, stderr } => [Some(stdout.as_str()), stderr.as_deref()],
        Logs::Journal => [None, None],
    };
    let fields = [
        ("environment_file", svc.environment_file.as_deref()),
        ("working_dir", svc.working_dir.as_deref()),
        ("logs.stdout", logs[0]),
        ("logs.stderr", logs[1]),
    ];
    for (field, v) in fields {
        if let Some(v) = v
            && let Some(p) = text_problem(v)
        {
            return fail(field, v, p);
        }
    }
    Ok(())
}

/// The refusal of job `label`, an argument of which has `problem`: the wrapper script
/// carries the checks of its dependencies, which [`check`] does not see.
pub fn argument_problem(label: &str, problem: &str) -> crate::errors::Error {
    Refusal::new(
        format!("launchd job {label}"),
        format!("an argument {problem}"),
    )
    .hint("no plist can hold this text: change it in the manifest")
    .into()
}
