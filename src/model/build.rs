//! Manifest → Model: merge defaults, check every value and reference, report all problems.

use std::borrow::Cow;
use std::hash::BuildHasher as _;

use hashbrown::{DefaultHashBuilder, HashSet, HashTable};

use crate::manifest::locate::Locator;

use crate::manifest::{Duration, Manifest, ManifestError, ManifestErrors, ServiceSpec};

use super::check::{self, NAME_HINT};
use super::deps::{self, Links, Tables};
use super::graph::{self, Edge};
use super::path::At;
use super::problems::{Errors, Known, health_check};
use super::{External, Group, Model, Service, View, service};

/// Build the model from a parsed manifest; `text` is the source for positions. The manifest
/// is consumed: the services' strings move into the model.
///
/// # Errors
/// Every problem found, in file order.
pub fn build(file: &str, text: &str, mut m: Manifest) -> Result<Model, ManifestErrors> {
    let mut errs = Errors::new(file, Locator::new(text));
    let mut links = Links::of_manifest(&m);
    check_stack(&mut errs, &m, &links);
    let externals = externals(&mut errs, &m);
    let services = services(&mut errs, &mut m, &mut links);
    finish(errs, m, externals, services, links).map(Checked::model)
}

/// A stack without problems, ready to become the model (which needs no source text).
pub(super) struct Checked {
    m: Manifest,
    externals: Vec<External>,
    services: Vec<Service>,
    links: Links,
    groups: Vec<Group>,
    edges: Vec<Edge>,
    order: Vec<usize>,
}

/// The rest of the checks once the stack, the externals and every service are checked and
/// built (`services`, in order): the groups and the graph.
pub(super) fn finish(
    mut errs: Errors<'_>,
    m: Manifest,
    externals: Vec<External>,
    services: Vec<Service>,
    links: Links,
) -> Result<Checked, ManifestErrors> {
    let groups = groups(&mut errs, &m, &links);
    let edges = links.edges();
    // the start order reaches every service unless there is a cycle: only then are the
    // cycles looked for, to report each
    // (every service of `links`: a streamed build with problems keeps none past the first)
    let count = links.service_count();
    let order = graph::order(count, &edges);
    if order.len() < count {
        deps::check_cycles(&mut errs, &links, &edges);
    }

    if !errs.list.is_empty() {
        // defaults are checked once per service: report each problem once
        // by place, then by every field: in place (a stable sort took a buffer of half
        // the list: 1.4 MB at 10,000 problems), and a problem found twice is found next to
        // itself
        errs.list
            .sort_unstable_by(|a, b| report_order(a).cmp(&report_order(b)));
        errs.list.dedup();
        return Err(ManifestErrors(errs.list));
    }
    Ok(Checked {
        m,
        externals,
        services,
        links,
        groups,
        edges,
        order,
    })
}

/// The order problems are reported in: by place, then by every field.
fn report_order(e: &ManifestError) -> (usize, usize, &str, &str, Option<&str>, &str, &str) {
    let ManifestError {
        file,
        line,
        col,
        field,
        message,
        hint,
        snippet,
    } = e;
    (*line, *col, field, message, hint.as_deref(), snippet, file)
}

impl Checked {
    /// The model: stack members, the view.
    pub(super) fn model(self) -> Model {
        let Self {
            m,
            externals,
            services,
            links,
            groups,
            edges,
            order,
        } = self;
        let (links, service_ids, external_ids) = links.into_parts();
        let Manifest {
            name, description, ..
        } = m;
        let (own, groups): (Vec<Group>, Vec<Group>) =
            groups.into_iter().partition(|g| g.name == name);
        let stack_group = own.into_iter().next().map(|g| g.services);
        let view = View::new(
            &services,
            &externals,
            stack_group.as_deref(),
            &groups,
            (&links, &edges, order),
            (service_ids, external_ids),
        );
        Model {
            description: description.unwrap_or_else(|| name.clone()),
            name,
            services,
            externals,
            stack_group,
            groups,
            view,
        }
    }
}

/// The stack's name and description, `[defaults]`, the namespace, and that there are
/// services (the services are those of `links`, in order).
pub(super) fn check_stack(errs: &mut Errors<'_>, m: &Manifest, links: &Links) {
    if let Some(problem) = check::name_problem(&m.name) {
        errs.push(&At::keys(&["name"]), problem, Some(NAME_HINT.to_owned()));
    }
    if let Some(d) = &m.description {
        errs.chars(&At::keys(&["description"]), d);
    }
    check_defaults(errs, &m.defaults);
    check_namespace(errs, m, links);
    if links.service_count() == 0 {
        errs.push(
            &At::keys(&["services"]),
            "the manifest defines no services",
            Some(r#"add a [services.NAME] table with command = ["/opt/..."]"#.to_owned()),
        );
    }
}

/// Every service, built from its own table, which is emptied (its strings move into the
/// service); then the tables are freed, before the rest of the model is built.
fn services(errs: &mut Errors<'_>, m: &mut Manifest, links: &mut Links) -> Vec<Service> {
    let Manifest {
        defaults,
        services: table,
        groups,
        ..
    } = m;
    let mut table = std::mem::take(table);
    let tables = Tables { defaults, groups };
    let mut services = Vec::with_capacity(table.len());
    let mut shared = super::shared::Shared::default();
    for (name, spec) in &mut table {
        services.push(service::service(
            errs,
            &tables,
            (links, &mut shared),
            name,
            spec,
        ));
    }
    services
}

/// The `[external.X]` entries, checked.
pub(super) fn externals(errs: &mut Errors<'_>, m: &Manifest) -> Vec<External> {
    m.external
        .iter()
        .filter_map(|(name, spec)| {
            let path = At::keys(&["external", name]);
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
            let check = health_check(errs, spec.check.clone(), &path.key("check"), false)?;
            Some(External {
                name: name.clone(),
                description: spec
                    .description
                    .clone()
                    .unwrap_or_else(|| format!("{name} (external)")),
                check,
                wait_timeout,
                container: super::container::external(errs, name, spec.container.clone()),
            })
        })
        .collect()
}

/// `name` folded to lower case for comparing names as a case-insensitive file system does
/// (borrowed when it is already).
fn folded(name: &str) -> Cow<'_, str> {
    if !name.is_ascii() {
        Cow::Owned(name.to_lowercase())
    } else if name.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(name.to_ascii_lowercase())
    } else {
        Cow::Borrowed(name)
    }
}

/// Services, groups and externals share one namespace of safe names (the services are
/// those of `links`).
fn check_namespace(errs: &mut Errors<'_>, m: &Manifest, links: &Links) {
    let (externals, services) = (m.external.len(), links.service_count());
    let count = externals + services + m.groups.len();
    // entry `i` (its name and table): the externals, then the services, then the groups
    let entry = |i: usize| -> (&str, &str) {
        if i < externals {
            let key = m.external.get_index(i).map(|(k, _)| k);
            (key.map_or("", String::as_str), "external")
        } else if i < externals + services {
            (links.service_name(i - externals), "services")
        } else {
            let key = m.groups.get_index(i - externals - services).map(|(k, _)| k);
            (key.map_or("", String::as_str), "groups")
        }
    };
    let hasher = DefaultHashBuilder::default();
    let hash = |name: &str| hasher.hash_one(folded(name));
    // each entry that is the first of its case-folded form, by the hash of that form: file
    // names collide on case-insensitive file systems (macOS: launchd plists). A name seen
    // before is found there too, as itself.
    let mut seen: HashTable<usize> = HashTable::with_capacity(count);
    for i in 0..count {
        let (name, table) = entry(i);
        let path = At::keys(&[table, name]);
        errs.name(&path, name);
        let fold = folded(name);
        let found = seen
            .find(hash(name), |&j| folded(entry(j).0) == fold)
            .map(|&j| entry(j));
        if let Some((_, first)) = found.filter(|(other, _)| *other == name) {
            let first = At::keys(&[first, name]);
            let line = errs.line_of(&first);
            errs.push_key(
                &path,
                format!(
                    "`{}` is already defined as [{}] on line {line}",
                    name.escape_debug(),
                    first.path()
                ),
                Some(
                    "services, groups and externals share one namespace: rename one of them"
                        .to_owned(),
                ),
            );
        } else if let Some((other, first)) = found {
            let first = At::keys(&[first, other]);
            let line = errs.line_of(&first);
            errs.push_key(
                &path,
                format!(
                    "`{}` differs from [{}] on line {line} only in case",
                    name.escape_debug(),
                    first.path()
                ),
                Some(format!(
                    "generated files (launchd plists, …) for `{}` and `{}` would be one file on a case-insensitive file system (macOS): rename one of them",
                    name.escape_debug(),
                    other.escape_debug()
                )),
            );
        } else {
            seen.insert_unique(hash(name), i, |&j| hash(entry(j).0));
        }
        if name != m.name && name.eq_ignore_ascii_case(&m.name) {
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
        if name == m.name && table != "groups" {
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

/// The `[groups.X]` entries, checked against the services (resolved by `links`).
fn groups(errs: &mut Errors<'_>, m: &Manifest, links: &Links) -> Vec<Group> {
    m.groups
        .iter()
        .map(|(name, g)| {
            let gpath = At::keys(&["groups", name]);
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
            let mut seen = HashSet::with_capacity(g.services.len());
            for (i, member) in g.services.iter().enumerate() {
                if !links.is_service(member) {
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
                    let hint = errs.suggest(member, (Known::Services, links.service_names()));
                    errs.push_shared(&path.index(i), what, Some(hint));
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
                &At::keys(&["defaults", key]),
                format!("`{key}` cannot be a default"),
                Some(format!("move `{key}` into each [services.NAME] table")),
            );
        }
    }
}
