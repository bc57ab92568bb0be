//! Manifest → Model: merge defaults, check every value and reference, report all problems.

use std::collections::HashMap;

use crate::manifest::locate::{FieldPath, Locator};
use crate::manifest::{Duration, Manifest, ManifestErrors, ServiceSpec};

use super::check::{self, NAME_HINT};
use super::deps;
use super::problems::{Errors, health_check};
use super::{External, Group, Model, Service, View, service};

/// Build the model from a parsed manifest; `text` is the source for positions.
///
/// # Errors
/// Every problem found, in file order.
pub fn build(file: &str, text: &str, m: &Manifest) -> Result<Model, ManifestErrors> {
    let mut errs = Errors::new(file, Locator::new(text));
    if let Some(problem) = check::name_problem(&m.name) {
        errs.push(
            &FieldPath::keys(&["name"]),
            problem,
            Some(NAME_HINT.to_owned()),
        );
    }
    if let Some(d) = &m.description {
        errs.chars(&FieldPath::keys(&["description"]), d);
    }
    check_defaults(&mut errs, &m.defaults);
    check_namespace(&mut errs, m);
    if m.services.is_empty() {
        errs.push(
            &FieldPath::keys(&["services"]),
            "the manifest defines no services",
            Some(r#"add a [services.NAME] table with command = ["/opt/..."]"#.to_owned()),
        );
    }

    let externals = externals(&mut errs, m);

    let services: Vec<Service> = m
        .services
        .iter()
        .map(|(name, spec)| service::service(&mut errs, m, name, spec))
        .collect();
    let groups = groups(&mut errs, m);
    deps::check_cycles(&mut errs, m, &services);

    if !errs.list.is_empty() {
        // defaults are checked once per service: report each problem once
        errs.list.sort_by(|a, b| {
            (a.line, a.col, &a.field, &a.message).cmp(&(b.line, b.col, &b.field, &b.message))
        });
        errs.list.dedup();
        return Err(ManifestErrors(errs.list));
    }
    let (own, groups): (Vec<Group>, Vec<Group>) =
        groups.into_iter().partition(|g| g.name == m.name);
    let stack_members = own.into_iter().next().map_or_else(
        || services.iter().map(|s| s.name.clone()).collect(),
        |g| g.services,
    );
    let view = View::new(&services, &externals, &stack_members, &groups);
    Ok(Model {
        name: m.name.clone(),
        description: m.description.clone().unwrap_or_else(|| m.name.clone()),
        services,
        externals,
        stack_members,
        groups,
        view,
    })
}

/// The `[external.X]` entries, checked.
fn externals(errs: &mut Errors<'_>, m: &Manifest) -> Vec<External> {
    m.external
        .iter()
        .filter_map(|(name, spec)| {
            let path = FieldPath::keys(&["external", name]);
            if let Some(d) = &spec.description {
                errs.chars(&path.key("description"), d);
            }
            let wait_timeout = spec.wait_timeout.unwrap_or(Duration::from_secs(60));
            if wait_timeout.millis() == 0 {
                errs.push(
                    &path.key("wait_timeout"),
                    "`wait_timeout` must be longer than 0s",
                    Some("how long dependents wait for it, e.g. \"60s\"".to_owned()),
                );
            }
            let check = health_check(errs, &spec.check, &path.key("check"), false)?;
            Some(External {
                name: name.clone(),
                description: spec
                    .description
                    .clone()
                    .unwrap_or_else(|| format!("{name} (external)")),
                check,
                wait_timeout,
                container: super::container::external(errs, name, spec.container.as_ref()),
            })
        })
        .collect()
}

/// Services, groups and externals share one namespace of safe names.
fn check_namespace(errs: &mut Errors<'_>, m: &Manifest) {
    let mut seen: HashMap<&str, FieldPath> = HashMap::new();
    // file names collide on case-insensitive file systems (macOS: launchd plists)
    let mut folded: HashMap<String, (&str, FieldPath)> = HashMap::new();
    for (table, names) in [
        ("external", m.external.keys().collect::<Vec<_>>()),
        ("services", m.services.keys().collect()),
        ("groups", m.groups.keys().collect()),
    ] {
        for name in names {
            let path = FieldPath::keys(&[table, name]);
            errs.name(&path, name);
            if let Some(first) = seen.get(name.as_str()) {
                let line = errs.line_of(first);
                errs.push_key(
                    &path,
                    format!(
                        "`{}` is already defined as [{first}] on line {line}",
                        name.escape_debug()
                    ),
                    Some(
                        "services, groups and externals share one namespace: rename one of them"
                            .to_owned(),
                    ),
                );
            } else if let Some((other, first)) = folded.get(&name.to_lowercase()) {
                let line = errs.line_of(first);
                errs.push_key(
                    &path,
                    format!(
                        "`{}` differs from [{first}] on line {line} only in case",
                        name.escape_debug()
                    ),
                    Some(format!(
                        "generated files (launchd plists, …) for `{}` and `{}` would be one file on a case-insensitive file system (macOS): rename one of them",
                        name.escape_debug(),
                        other.escape_debug()
                    )),
                );
            } else {
                seen.insert(name, path.clone());
                folded.insert(name.to_lowercase(), (name, path.clone()));
            }
            if name != &m.name && name.eq_ignore_ascii_case(&m.name) {
                errs.push_key(
                    &path,
                    format!(
                        "`{}` differs from the stack name `{}` only in case",
                        name.escape_debug(),
                        m.name.escape_debug()
                    ),
                    Some("the stack's own files would collide with this entry's on a case-insensitive file system (macOS): rename one of them".to_owned()),
                );
            }
            if name == &m.name && table != "groups" {
                errs.push_key(
                    &path,
                    format!("`{}` is also the stack name", name.escape_debug()),
                    Some(
                        "the stack name becomes the group target; rename the stack or this entry"
                            .to_owned(),
                    ),
                );
            }
        }
    }
}

fn groups(errs: &mut Errors<'_>, m: &Manifest) -> Vec<Group> {
    m.groups
        .iter()
        .map(|(name, g)| {
            let gpath = FieldPath::keys(&["groups", name]);
            let path = gpath.key("services");
            if let Some(d) = &g.description {
                errs.chars(&gpath.key("description"), d);
            }
            if g.services.is_empty() {
                errs.push(
                    &path,
                    "the group has no services",
                    Some("list its members: services = [\"openim-api\"]".to_owned()),
                );
            }
            let mut seen = std::collections::HashSet::new();
            for (i, member) in g.services.iter().enumerate() {
                if !m.services.contains_key(member) {
                    let what = if m.groups.contains_key(member) || m.external.contains_key(member) {
                        let kind = if m.groups.contains_key(member) {
                            "a group"
                        } else {
                            "an external"
                        };
                        format!(
                            "`{}` is {kind}; a group's members are services",
                            member.escape_debug()
                        )
                    } else {
                        format!("`{}` is not a service", member.escape_debug())
                    };
                    let hint = errs.suggest(member, m.services.keys());
                    errs.push(&path.index(i), what, Some(hint));
                } else if !seen.insert(member.as_str()) {
                    errs.push(
                        &path.index(i),
                        format!("`{}` is listed twice", member.escape_debug()),
                        Some("remove one of them".to_owned()),
                    );
                }
            }
            Group {
                name: name.clone(),
                description: g
                    .description
                    .clone()
                    .unwrap_or_else(|| format!("{name} group of {}", m.name)),
                services: g.services.clone(),
            }
        })
        .collect()
}

fn check_defaults(errs: &mut Errors<'_>, d: &ServiceSpec) {
    let per_service = [
        ("command", d.command.is_some()),
        ("instances", d.instances.is_some()),
        ("description", d.description.is_some()),
        ("health", d.health.is_some()),
        ("pre_start", d.pre_start.is_some()),
    ];
    for (key, set) in per_service {
        if set {
            errs.push_key(
                &FieldPath::keys(&["defaults", key]),
                format!("`{key}` cannot be a default"),
                Some(format!("move `{key}` into each [services.NAME] table")),
            );
        }
    }
}
