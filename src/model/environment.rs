//! A service's environment: the variables of `[defaults]` first, then its own (which replace
//! same-named defaults, in the service's place), each checked where it was written.

use hashbrown::HashSet;

use crate::manifest::{EnvTable, ServiceSpec};

use super::Pairs;
use super::check;
use super::path::At;
use super::problems::Errors;

/// The environment of the service at `path` (`services.NAME`) from its own variables `own`
/// over those of `d`, its defaults; `instanced`: whether `{instance}` may appear. The
/// result is one text (see [`Pairs`]).
pub(super) fn merged(
    errs: &mut Errors<'_>,
    path: &At<'_>,
    own: Option<EnvTable>,
    d: &ServiceSpec,
    instanced: bool,
) -> Pairs {
    let own_set = own.is_some();
    let own = own.map(|e| e.0).unwrap_or_default();
    let defaults = d.environment.as_ref().map_or(&[][..], |e| e.0.as_slice());
    let default_at = At::keys(&["defaults", "environment"]);
    // the variables in order, borrowed: packed into one text once at the end
    let mut out: Vec<(&str, &str)> = Vec::with_capacity(defaults.len() + own.len());
    if !defaults.is_empty() {
        // the service's keys, looked up once per default (a set when there are many)
        let keys: Option<HashSet<&str>> =
            (own.len() > 8).then(|| own.iter().map(|(k, _)| k.as_str()).collect());
        let replaced = |k: &str| match &keys {
            Some(set) => set.contains(k),
            None => own.iter().any(|(o, _)| o == k),
        };
        for (k, v) in defaults {
            check_var(errs, &default_at, k, v, instanced);
            // a replaced default moves to the end, where the service wrote it
            if !replaced(k) {
                out.push((k, v));
            }
        }
    }
    let own_at = path.key("environment");
    for (k, v) in &own {
        check_var(errs, &own_at, k, v, instanced);
        out.push((k, v));
    }
    let total: usize = out.iter().map(|(k, v)| k.len() + v.len() + 2).sum();
    if total > crate::limits::MAX_ENV_BYTES {
        errs.push(
            if own_set { &own_at } else { &default_at },
            format!(
                "the environment takes {} together; at most {} are accepted",
                crate::limits::size(total),
                crate::limits::size(crate::limits::MAX_ENV_BYTES)
            ),
            Some("put long data in an environment_file or a config file".to_owned()),
        );
    }
    Pairs::from(&out[..])
}

/// Check variable `k` of the environment table at `at`.
fn check_var(errs: &mut Errors<'_>, at: &At<'_>, k: &str, v: &str, instanced: bool) {
    if let Some(msg) = check::env_key_problem(k) {
        errs.push_key(
            &at.key(k),
            msg,
            Some("use letters, digits and _; not starting with a digit".to_owned()),
        );
    }
    let scan = check::scan(v);
    if !scan.plain {
        errs.chars(&at.key(k), v);
    }
    if !instanced && scan.placeholder_in(v) {
        errs.push(
            &at.key(k),
            "`{instance}` is used but the service has no `instances`",
            Some("add `instances = 2` (or a list of names), or remove `{instance}`".to_owned()),
        );
    }
}
