//! Values a plist cannot hold (see [`crate::escape::plist`]): an error naming the field
//! instead of a file that no plist parser reads.

use crate::errors::{Refusal, Result};
use crate::escape::plist::text_problem;
use crate::model::{Logs, Service};

/// Every value of `svc` that ends up in its plists, or an error naming the first one a
/// plist cannot hold.
pub fn check(svc: &Service) -> Result<()> {
    let mut values: Vec<(String, &str)> = Vec::new();
    let argvs = std::iter::once(("command".to_owned(), &svc.command)).chain(
        svc.pre_start
            .iter()
            .enumerate()
            .map(|(i, a)| (format!("pre_start[{i}]"), a)),
    );
    for (field, argv) in argvs {
        values.extend(
            argv.iter()
                .enumerate()
                .map(|(i, w)| (format!("{field}[{i}]"), w.as_str())),
        );
    }
    values.extend(
        svc.environment
            .iter()
            .map(|(k, v)| (format!("environment.{k}"), v.as_str())),
    );
    for (field, v) in [
        ("environment_file", &svc.environment_file),
        ("working_dir", &svc.working_dir),
    ] {
        values.extend(v.as_deref().map(|v| (field.to_owned(), v)));
    }
    if let Logs::Files { stdout, stderr } = &svc.logs {
        values.push(("logs.stdout".into(), stdout));
        values.extend(stderr.as_deref().map(|e| ("logs.stderr".to_owned(), e)));
    }
    for (field, v) in values {
        if let Some(p) = text_problem(v) {
            return Err(Refusal::new(
                format!("services.{}.{field}", svc.name),
                format!("`{}`: {p}", v.escape_debug()),
            )
            .hint("no plist can hold this text: change it in the manifest")
            .into());
        }
    }
    Ok(())
}

/// The job's arguments as a whole (they also carry the checks of its dependencies).
pub fn check_arguments(label: &str, argv: &[String]) -> Result<()> {
    match argv.iter().find_map(|a| text_problem(a)) {
        Some(p) => Err(
            Refusal::new(format!("launchd job {label}"), format!("an argument {p}"))
                .hint("no plist can hold this text: change it in the manifest")
                .into(),
        ),
        None => Ok(()),
    }
}
