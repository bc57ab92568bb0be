//! `instances`: a count (`0..N-1`) or a list of names, checked.

use crate::manifest::Instances;
use crate::manifest::locate::FieldPath;

use super::check;
use super::problems::Errors;

/// The largest instance count accepted.
pub const MAX_INSTANCES: i64 = 256;

pub(super) fn instances(
    errs: &mut Errors<'_>,
    path: &FieldPath,
    spec: Option<&Instances>,
) -> Option<Vec<String>> {
    let at = path.key("instances");
    let max = usize::try_from(MAX_INSTANCES).unwrap_or(usize::MAX);
    match spec? {
        Instances::Count(n) => {
            if !(1..=MAX_INSTANCES).contains(n) {
                errs.push(
                    &at,
                    format!("{n} instances is out of range"),
                    Some(format!("use 1 to {MAX_INSTANCES}, or a list of names")),
                );
            }
            Some(
                (0..(*n).clamp(0, MAX_INSTANCES))
                    .map(|i| i.to_string())
                    .collect(),
            )
        }
        Instances::Names(names) => {
            if names.is_empty() {
                errs.push(
                    &at,
                    "the instance list is empty",
                    Some("list at least one name, or remove `instances`".to_owned()),
                );
            }
            if names.len() > max {
                errs.push(
                    &at,
                    format!("{} instances is out of range", names.len()),
                    Some(format!("use at most {MAX_INSTANCES} names")),
                );
            }
            let mut seen: std::collections::HashMap<String, &String> =
                std::collections::HashMap::new();
            for (i, inst) in names.iter().enumerate() {
                if let Some(msg) = check::instance_problem(inst) {
                    errs.push(
                        &at.index(i),
                        msg,
                        Some(
                            "instance names become part of unit and file names, e.g. \"eu-1\""
                                .to_owned(),
                        ),
                    );
                }
                match seen.get(inst.to_ascii_lowercase().as_str()) {
                    Some(first) if *first == inst => errs.push(
                        &at.index(i),
                        format!("instance `{}` is listed twice", inst.escape_debug()),
                        Some("remove one of them".to_owned()),
                    ),
                    Some(first) => errs.push(
                        &at.index(i),
                        format!(
                            "instance `{}` differs from `{}` only in case",
                            inst.escape_debug(),
                            first.escape_debug()
                        ),
                        Some("their files (launchd plists) would collide on a case-insensitive file system (macOS): rename one of them".to_owned()),
                    ),
                    None => {
                        seen.insert(inst.to_ascii_lowercase(), inst);
                    }
                }
            }
            Some(names.clone())
        }
    }
}
