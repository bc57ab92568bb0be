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
    let mut argvs = vec![("command".to_owned(), &svc.command)];
    for (i, argv) in svc.pre_start.iter().enumerate() {
        argvs.push((format!("pre_start[{i}]"), argv));
    }
    for (field, argv) in argvs {
        if let Some(p) = argv.first().and_then(|exe| esc::executable_problem(exe)) {
            return fail(&format!("{field}[0]"), &argv[0], p);
        }
        for (i, word) in argv.iter().enumerate() {
            if let Some(p) = esc::text_problem(word) {
                return fail(&format!("{field}[{i}]"), word, p);
            }
        }
    }
    let mut values: Vec<(String, &str)> = vec![("description".into(), &svc.description)];
    values.extend(
        svc.environment
            .iter()
            .map(|(k, v)| (format!("environment.{k}"), v.as_str())),
    );
    let optional = [
        ("environment_file", &svc.environment_file),
        ("working_dir", &svc.working_dir),
    ];
    values.extend(
        optional
            .iter()
            .filter_map(|(f, v)| v.as_deref().map(|v| ((*f).to_owned(), v))),
    );
    if let Logs::Files { stdout, stderr } = &svc.logs {
        values.push(("logs.stdout".into(), stdout));
        values.extend(stderr.as_deref().map(|e| ("logs.stderr".to_owned(), e)));
    }
    for (field, v) in values {
        if let Some(p) = esc::text_problem(v) {
            return fail(&field, v, p);
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
