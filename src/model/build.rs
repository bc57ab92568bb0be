//! Manifest → Model: merge defaults, check every value and reference, report all problems.

use std::collections::HashMap;

use crate::manifest::locate::{FieldPath, Locator};
use crate::manifest::{Duration, HealthSpec, Manifest, ManifestError, ManifestErrors, ServiceSpec};

use super::check::{self, NAME_HINT};
use super::deps::{self, suggest};
use super::{External, Group, INSTANCE_PLACEHOLDER, Model, Service, service};

/// Collects located errors while the model is built.
pub(super) struct Errors<'a> {
    file: &'a str,
    loc: Locator<'a>,
    list: Vec<ManifestError>,
    /// What is left of [`deps::SUGGEST_BUDGET`].
    suggest_budget: usize,
}

impl Errors<'_> {
    /// An error at the value of `path`.
    pub(super) fn push(
        &mut self,
        path: &FieldPath,
        message: impl Into<String>,
        hint: impl Into<Option<String>>,
    ) {
        let e = ManifestError::at(self.file, &self.loc, path, message, hint.into());
        self.list.push(e);
    }

    /// An error at the key naming `path` (an entry name, an environment variable name).
    pub(super) fn push_key(
        &mut self,
        path: &FieldPath,
        message: impl Into<String>,
        hint: impl Into<Option<String>>,
    ) {
        let e = ManifestError::at_key(self.file, &self.loc, path, message, hint.into());
        self.list.push(e);
    }

    /// "did you mean" for an unknown reference to one of `known` (see [`deps::suggest`]).
    pub(super) fn suggest<'k, I>(&mut self, name: &str, known: I) -> String
    where
        I: Iterator<Item = &'k String> + Clone,
    {
        suggest(&mut self.suggest_budget, name, known)
    }

    /// The 1-based line where the key naming `path` is written.
    fn line_of(&self, path: &FieldPath) -> usize {
        self.loc.line_col(self.loc.key_span(path).start).0
    }

    /// Check the name of a service, external, group or the stack.
    pub(super) fn name(&mut self, path: &FieldPath, name: &str) {
        if let Some(m) = check::name_problem(name) {
            self.push_key(path, m, Some(NAME_HINT.to_owned()));
        }
    }

    /// Check that a value carries no character a backend cannot write.
    pub(super) fn chars(&mut self, path: &FieldPath, value: &str) {
        if let Some(m) = crate::limits::value_problem(value) {
            let hint =
                "long data belongs in a file the service reads (environment_file, a config file)";
            self.push(path, m, Some(hint.to_owned()));
        } else if let Some(m) = check::char_problem(value) {
            let hint = if value.contains(['\n', '\r']) {
                "write it on one line; a multi-line script belongs in a file the command runs"
            } else {
                "remove the character; values must be plain text"
            };
            self.push(path, m, Some(hint.to_owned()));
        }
    }

    /// Check an absolute path.
    pub(super) fn absolute(&mut self, path: &FieldPath, value: &str) {
        if let Some(m) = check::absolute_problem(value) {
            self.push(
                path,
                m,
                Some("write the full path starting with `/`".to_owned()),
            );
        } else {
            self.chars(path, value);
        }
    }

    /// Check an argv: not empty, absolute executable, no unwritable characters, and the
    /// placeholder only where instances exist.
    pub(super) fn argv(&mut self, path: &FieldPath, argv: &[String], allow_placeholder: bool) {
        let Some(exe) = argv.first() else {
            self.push(
                path,
                "the command is empty",
                Some(
                    r#"give an argv: ["/opt/openim/bin/openim-api", "-c", "/etc/openim/config/"]"#
                        .to_owned(),
                ),
            );
            return;
        };
        if !exe.starts_with('/') {
            let base = exe.rsplit('/').next().unwrap_or(exe);
            let hint = if base.is_empty() || exe.contains(char::is_whitespace) {
                "write the program's full path as the first element; each argument is its own element".to_owned()
            } else {
                format!(
                    "init systems search different PATHs; write e.g. `/usr/bin/{}`",
                    base.escape_debug()
                )
            };
            let what = if exe.is_empty() {
                "the executable is empty".to_owned()
            } else {
                format!("`{}` is not an absolute path", exe.escape_debug())
            };
            self.push(&path.index(0), what, Some(hint));
        }
        let total: usize = argv.iter().map(|a| a.len() + 1).sum();
        if total > crate::limits::MAX_ARGV_BYTES {
            self.push(
                path,
                format!(
                    "the arguments take {} together; at most {} are accepted",
                    crate::limits::size(total),
                    crate::limits::size(crate::limits::MAX_ARGV_BYTES)
                ),
                Some("pass long data in a file the program reads".to_owned()),
            );
        }
        for (i, arg) in argv.iter().enumerate() {
            self.chars(&path.index(i), arg);
            if !allow_placeholder && arg.contains(INSTANCE_PLACEHOLDER) {
                self.push(
                    &path.index(i),
                    "`{instance}` is used but the service has no `instances`",
                    Some(
                        "add `instances = 2` (or a list of names), or remove `{instance}`"
                            .to_owned(),
                    ),
                );
            }
        }
    }
}

/// Build the model from a parsed manifest; `text` is the source for positions.
///
/// # Errors
/// Every problem found, in file order.
pub fn build(file: &str, text: &str, m: &Manifest) -> Result<Model, ManifestErrors> {
    let mut errs = Errors {
        file,
        loc: Locator::new(text),
        list: Vec::new(),
        suggest_budget: deps::SUGGEST_BUDGET,
    };
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

    let externals: Vec<External> = m
        .external
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
            let check = health_check(&mut errs, &spec.check, &path.key("check"), false)?;
            Some(External {
                name: name.clone(),
                description: spec
                    .description
                    .clone()
                    .unwrap_or_else(|| format!("{name} (external)")),
                check,
                wait_timeout,
            })
        })
        .collect();

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
    Ok(Model {
        name: m.name.clone(),
        description: m.description.clone().unwrap_or_else(|| m.name.clone()),
        services,
        externals,
        stack_members,
        groups,
    })
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

/// Parse and check a probe (`health` of a service, `check` of an external).
pub(super) fn health_check(
    errs: &mut Errors<'_>,
    spec: &HealthSpec,
    path: &FieldPath,
    allow_placeholder: bool,
) -> Option<super::Check> {
    match check::parse_check(spec, path) {
        Ok(c) => {
            if let super::Check::Exec { argv } = &c {
                errs.argv(&path.key("exec"), argv, allow_placeholder);
            }
            Some(c)
        }
        Err((p, m, h)) => {
            errs.push(&p, m, Some(h));
            None
        }
    }
}
