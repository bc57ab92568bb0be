//! `instances`: a count (`0..N-1`) or a list of names, checked.

use std::borrow::Cow;

use hashbrown::HashMap;

use crate::manifest::Instances;

use super::check;
use super::path::At;
use super::problems::Errors;

/// The largest instance count accepted.
pub const MAX_INSTANCES: i64 = 256;

/// The instance names of a service (at `path`), checked.
pub(super) fn instances(
    errs: &mut Errors<'_>,
    path: &At<'_>,
    spec: Option<Instances>,
) -> Option<Vec<String>> {
    let at = path.key("instances");
    let max = usize::try_from(MAX_INSTANCES).unwrap_or(usize::MAX);
    match spec? {
        Instances::Count(n) => {
            if !(1..=MAX_INSTANCES).contains(&n) {
                errs.push(
                    &at,
                    format!("{n} instances is out of range"),
                    Some(format!("use 1 to {MAX_INSTANCES}, or a list of names")),
                );
            }
            Some(
                (0..n.clamp(0, MAX_INSTANCES))
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
            check_names(errs, &at, &names);
            Some(names)
        }
    }
}

/// Each instance name usable, and once (also when case is ignored).
fn check_names(errs: &mut Errors<'_>, at: &At<'_>, names: &[String]) {
    // by name folded to lower case; most names are already, and are not copied
    let mut seen: HashMap<Cow<'_, str>, &String> = HashMap::with_capacity(names.len());
    for (i, inst) in names.iter().enumerate() {
        if let Some(msg) = check::instance_problem(inst) {
            errs.push(
                &at.index(i),
                msg,
                Some("instance names become part of unit and file names, e.g. \"eu-1\"".to_owned()),
            );
        }
        let folded = if inst.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(inst.to_ascii_lowercase())
        } else {
            Cow::Borrowed(inst.as_str())
        };
        match seen.get(&folded) {
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
                seen.insert(folded, inst);
            }
        }
    }
}

/// Replace the placeholder with `instance`; `None` leaves the text unchanged.
#[must_use]
pub fn substitute(text: &str, instance: Option<&str>) -> String {
    match instance {
        Some(i) => text.replace(super::INSTANCE_PLACEHOLDER, i),
        None => text.to_owned(),
    }
}

/// Render `text` with each literal piece passed through `escape` and each placeholder
/// replaced by `token` verbatim (e.g. systemd's `%i`).
#[must_use]
pub fn map_placeholder(text: &str, escape: impl Fn(&str) -> String, token: &str) -> String {
    text.split(super::INSTANCE_PLACEHOLDER)
        .map(escape)
        .collect::<Vec<_>>()
        .join(token)
}
