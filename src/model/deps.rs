//! References between entries: dependency lists resolved to services and externals, and
//! dependency cycles, each reported at the edge that closes it.

use crate::manifest::Manifest;
use crate::manifest::ServiceSpec;
use crate::manifest::locate::FieldPath;

use super::graph::{self, DepKind};
use super::problems::Errors;
use super::{Dep, Service};

/// Resolve the `key` list (`requires`, `wants`, `after`, `before`) of service `me`: its
/// defaults first, then its own entries.
pub(super) fn deps(
    errs: &mut Errors<'_>,
    m: &Manifest,
    me: &str,
    key: &str,
    own: Option<&Vec<String>>,
    inherited: Option<&Vec<String>>,
) -> Vec<Dep> {
    let mut out: Vec<Dep> = Vec::new();
    let own_path = FieldPath::keys(&["services", me, key]);
    let inherited_path = FieldPath::keys(&["defaults", key]);
    let lists = [(inherited, &inherited_path, true), (own, &own_path, false)];
    for (list, path, is_default) in lists {
        for (i, name) in list.into_iter().flatten().enumerate() {
            if is_default && name == me {
                continue; // a default dependency does not apply to the service it names
            }
            let dep = if m.services.contains_key(name) {
                Dep::Service(name.clone())
            } else if m.external.contains_key(name) && key != "before" {
                Dep::External(name.clone())
            } else {
                let (what, hint) = if let Some(g) = m.groups.get(name) {
                    (
                        format!(
                            "`{}` is a group; dependencies name services or externals",
                            name.escape_debug()
                        ),
                        Some(format!(
                            "name its members instead: {}",
                            g.services.join(", ")
                        )),
                    )
                } else if key == "before" && m.external.contains_key(name) {
                    (
                        format!(
                            "`{}` is an external; `before` orders services of this stack",
                            name.escape_debug()
                        ),
                        Some("externals are not started by the stack: remove it".to_owned()),
                    )
                } else {
                    (
                        format!("`{}` is not a service or external", name.escape_debug()),
                        Some(suggest(name, m.services.keys().chain(m.external.keys()))),
                    )
                };
                errs.push(&path.index(i), what, hint);
                continue;
            };
            if !out.contains(&dep) {
                out.push(dep);
            }
        }
    }
    out
}

/// One error per dependency cycle, at the edge that closes it, with the whole path.
pub(super) fn check_cycles(errs: &mut Errors<'_>, m: &Manifest, services: &[Service]) {
    for cycle in graph::find_cycles(services) {
        let name = |i: usize| services[i].name.as_str();
        let mut path: Vec<&str> = cycle.iter().map(|e| name(e.waiter)).collect();
        path.push(name(cycle[0].waiter));
        let why: Vec<String> = cycle
            .iter()
            .map(|e| {
                format!(
                    "{} {} {}",
                    name(e.declared_in()),
                    e.kind.key(),
                    name(e.target())
                )
            })
            .collect();
        let first = cycle[0];
        errs.push(
            &edge_path(
                m,
                name(first.declared_in()),
                first.kind,
                name(first.target()),
            ),
            format!(
                "dependency cycle: {} ({})",
                path.join(" → "),
                why.join(", ")
            ),
            Some("a service cannot wait for itself: remove one of these edges".to_owned()),
        );
    }
}

/// Where `declared_in.kind` names `target`: the service's own list, or `[defaults]`.
fn edge_path(m: &Manifest, declared_in: &str, kind: DepKind, target: &str) -> FieldPath {
    let list = |s: &ServiceSpec| -> Option<Vec<String>> {
        match kind {
            DepKind::Requires => s.requires.clone(),
            DepKind::Wants => s.wants.clone(),
            DepKind::After => s.after.clone(),
            DepKind::Before => s.before.clone(),
        }
    };
    let own = m.services.get(declared_in).and_then(list);
    if let Some(i) = own.and_then(|l| l.iter().position(|n| n == target)) {
        return FieldPath::keys(&["services", declared_in, kind.key()]).index(i);
    }
    match list(&m.defaults).and_then(|l| l.iter().position(|n| n == target)) {
        Some(i) => FieldPath::keys(&["defaults", kind.key()]).index(i),
        None => FieldPath::keys(&["services", declared_in]),
    }
}

/// "did you mean" for an unknown reference, or the list of what is known.
pub(super) fn suggest<'a>(name: &str, known: impl Iterator<Item = &'a String>) -> String {
    let known: Vec<&str> = known.map(String::as_str).collect();
    match crate::manifest::error::closest(name, &known) {
        Some(k) => format!("did you mean `{k}`?"),
        None if known.is_empty() => "nothing of that kind is defined".to_owned(),
        None if known.len() > 12 => format!("known: {}, …", known[..12].join(", ")),
        None => format!("known: {}", known.join(", ")),
    }
}
