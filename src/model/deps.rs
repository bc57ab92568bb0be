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
    let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
    // paths are built for a problem only: most dependencies have none
    let own_path = || FieldPath::keys(&["services", me, key]);
    let inherited_path = || FieldPath::keys(&["defaults", key]);
    let lists: [(_, &dyn Fn() -> FieldPath, _); 2] =
        [(inherited, &inherited_path, true), (own, &own_path, false)];
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
                        Some(errs.suggest(name, m.services.keys().chain(m.external.keys()))),
                    )
                };
                errs.push(&path().index(i), what, hint);
                continue;
            };
            if seen.insert(name.as_str()) {
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

/// How many names all "did you mean" searches of one manifest may compare in total. Each
/// search compares the unknown name with every known one; the budget keeps a manifest with
/// thousands of unknown references near-linear (the first searches get suggestions, the
/// rest list what is known).
pub(super) const SUGGEST_BUDGET: usize = 50_000;

/// "did you mean" for an unknown reference (while `budget` lasts), or the list of what is
/// known. `known` is iterated, never collected: a call costs at most its share of the
/// budget plus a dozen names.
pub(super) fn suggest<'a, I>(budget: &mut usize, name: &str, known: I) -> String
where
    I: Iterator<Item = &'a String> + Clone,
{
    // keys of maps: the size hint is exact, and costs nothing
    let count = known.size_hint().1.unwrap_or(usize::MAX);
    if count <= *budget {
        *budget -= count;
        let known: Vec<&str> = known.clone().map(String::as_str).collect();
        if let Some(k) = crate::manifest::error::closest(name, &known) {
            return format!("did you mean `{k}`?");
        }
    }
    let head: Vec<&str> = known.take(12).map(String::as_str).collect();
    match count {
        0 => "nothing of that kind is defined".to_owned(),
        n if n > head.len() => format!("known: {}, …", head.join(", ")),
        _ => format!("known: {}", head.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::{SUGGEST_BUDGET, suggest};

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("svc-{i:05}")).collect()
    }

    #[test]
    fn suggests_while_the_budget_lasts_then_lists() {
        let mut known = names(39);
        known.push("kafka".to_owned());
        let mut budget = 100;
        assert_eq!(
            suggest(&mut budget, "kafak", known.iter()),
            "did you mean `kafka`?"
        );
        assert_eq!(budget, 60);
        let _ = suggest(&mut budget, "svc-0008", known.iter());
        assert_eq!(budget, 20);
        // not enough left for 40 comparisons: the known names instead, no search
        let hint = suggest(&mut budget, "kafak", known.iter());
        assert!(hint.starts_with("known: svc-00000, "), "{hint}");
        assert!(hint.ends_with(", …"), "{hint}");
        assert_eq!(budget, 20);
        assert_eq!(
            suggest(&mut budget, "x", std::iter::empty()),
            "nothing of that kind is defined"
        );
    }

    #[test]
    fn many_unknown_references_cost_at_most_the_budget() {
        let known = names(10_000);
        let mut budget = SUGGEST_BUDGET;
        let mut searched = 0;
        for i in 0..10_000 {
            let before = budget;
            let _ = suggest(&mut budget, &format!("dep-{i}"), known.iter());
            searched += usize::from(budget < before);
        }
        assert_eq!(searched, SUGGEST_BUDGET / known.len());
    }
}
