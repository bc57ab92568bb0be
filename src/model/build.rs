//! Manifest → Model: merge defaults, check every value and reference, report all problems.

use std::collections::HashMap;

use crate::manifest::locate::{FieldPath, Locator};
use crate::manifest::{
    Duration, HealthSpec, Instances, Manifest, ManifestError, ManifestErrors, RestartPolicy,
    ServiceSpec, Signal,
};

use super::check::{self, NAME_HINT};
use super::{
    Dep, External, Group, Health, INSTANCE_PLACEHOLDER, Limits, Logs, Model, Service, StartLimit,
    graph,
};

/// The largest instance count accepted.
pub const MAX_INSTANCES: i64 = 256;

/// Collects located errors while the model is built.
struct Errors<'a> {
    file: &'a str,
    loc: Locator<'a>,
    list: Vec<ManifestError>,
}

impl Errors<'_> {
    fn push(
        &mut self,
        path: &FieldPath,
        message: impl Into<String>,
        hint: impl Into<Option<String>>,
    ) {
        let e = ManifestError::at(self.file, &self.loc, path, message, hint.into());
        self.list.push(e);
    }

    fn name(&mut self, path: &FieldPath, name: &str) {
        if let Some(m) = check::name_problem(name) {
            self.push(path, m, Some(NAME_HINT.to_owned()));
        }
    }

    fn chars(&mut self, path: &FieldPath, value: &str) {
        if let Some(m) = check::char_problem(value) {
            self.push(
                path,
                m,
                Some("remove the character; pass such data through an environment file".to_owned()),
            );
        }
    }

    fn absolute(&mut self, path: &FieldPath, value: &str) {
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

    fn argv(&mut self, path: &FieldPath, argv: &[String], allow_placeholder: bool) {
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
            self.push(
                &path.index(0),
                format!("`{}` is not an absolute path", exe.escape_debug()),
                Some(format!(
                    "init systems search different PATHs; write e.g. `/usr/bin/{}`",
                    exe.rsplit('/').next().unwrap_or(exe)
                )),
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
    };
    errs.name(&FieldPath::keys(&["name"]), &m.name);
    check_defaults(&mut errs, &m.defaults);

    // one namespace for services, groups and externals
    let mut seen: HashMap<&str, &str> = HashMap::new();
    for (table, names) in [
        ("external", m.external.keys().collect::<Vec<_>>()),
        ("services", m.services.keys().collect()),
        ("groups", m.groups.keys().collect()),
    ] {
        for name in names {
            let path = FieldPath::keys(&[table, name]);
            errs.name(&path, name);
            if let Some(first) = seen.insert(name, table) {
                errs.push(
                    &path,
                    format!("`{name}` is already defined in [{first}]"),
                    Some(
                        "services, groups and externals share one namespace: rename one of them"
                            .to_owned(),
                    ),
                );
            }
            if name == &m.name && table != "groups" {
                errs.push(
                    &path,
                    format!("`{name}` is also the stack name"),
                    Some(
                        "the stack name becomes the group target; rename the stack or this entry"
                            .to_owned(),
                    ),
                );
            }
        }
    }

    let externals: Vec<External> = m
        .external
        .iter()
        .filter_map(|(name, spec)| {
            let path = FieldPath::keys(&["external", name]);
            let check = health_check(&mut errs, &spec.check, &path.key("check"))?;
            Some(External {
                name: name.clone(),
                description: spec
                    .description
                    .clone()
                    .unwrap_or_else(|| format!("{name} (external)")),
                check,
                wait_timeout: spec.wait_timeout.unwrap_or(Duration::from_secs(60)),
            })
        })
        .collect();

    let services: Vec<Service> = m
        .services
        .iter()
        .map(|(name, spec)| service(&mut errs, m, name, spec))
        .collect();

    let groups: Vec<Group> = m
        .groups
        .iter()
        .map(|(name, g)| {
            let path = FieldPath::keys(&["groups", name, "services"]);
            if g.services.is_empty() {
                errs.push(
                    &path,
                    "the group has no services",
                    Some("list its members: services = [\"openim-api\"]".to_owned()),
                );
            }
            for (i, member) in g.services.iter().enumerate() {
                if !m.services.contains_key(member) {
                    errs.push(
                        &path.index(i),
                        format!("`{member}` is not a service"),
                        suggest(member, m.services.keys()),
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
        .collect();

    if errs.list.is_empty()
        && let Some(cycle) = graph::find_cycle(&services)
    {
        let path = FieldPath::keys(&["services", &cycle[0]]);
        errs.push(
            &path,
            format!("dependency cycle: {}", cycle.join(" → ")),
            Some("remove one of these requires/wants/after/before edges".to_owned()),
        );
    }
    if !errs.list.is_empty() {
        errs.list.sort_by_key(|e| (e.line, e.col));
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
            errs.push(
                &FieldPath::keys(&["defaults", key]),
                format!("`{key}` cannot be a default"),
                Some(format!("move `{key}` into each [services.NAME] table")),
            );
        }
    }
}

fn suggest<'a>(name: &str, known: impl Iterator<Item = &'a String>) -> Option<String> {
    let known: Vec<&String> = known.collect();
    let best = known
        .iter()
        .map(|k| (strsim::jaro_winkler(name, k), *k))
        .filter(|(s, _)| *s > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    Some(match best {
        Some((_, k)) => format!("did you mean `{k}`?"),
        None if known.is_empty() => "nothing of that kind is defined".to_owned(),
        None => format!(
            "known: {}",
            known
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    })
}

fn health_check(
    errs: &mut Errors<'_>,
    spec: &HealthSpec,
    path: &FieldPath,
) -> Option<super::Check> {
    match check::parse_check(spec, path) {
        Ok(c) => {
            if let super::Check::Exec { argv } = &c {
                errs.argv(&path.key("exec"), argv, false);
            }
            Some(c)
        }
        Err((p, m, h)) => {
            errs.push(&p, m, Some(h));
            None
        }
    }
}

fn deps(
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
                let what = if m.groups.contains_key(name) {
                    format!("`{name}` is a group; dependencies name services or externals")
                } else {
                    format!("`{name}` is not a service or external")
                };
                errs.push(
                    &path.index(i),
                    what,
                    suggest(name, m.services.keys().chain(m.external.keys())),
                );
                continue;
            };
            if !out.contains(&dep) {
                out.push(dep);
            }
        }
    }
    out
}

fn service(errs: &mut Errors<'_>, m: &Manifest, name: &str, s: &ServiceSpec) -> Service {
    let d = &m.defaults;
    let path = FieldPath::keys(&["services", name]);
    let instances = match &s.instances {
        None => None,
        Some(Instances::Count(n)) => {
            if !(1..=MAX_INSTANCES).contains(n) {
                errs.push(
                    &path.key("instances"),
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
        Some(Instances::Names(names)) => {
            if names.is_empty() {
                errs.push(
                    &path.key("instances"),
                    "the instance list is empty",
                    Some("list at least one name, or remove `instances`".to_owned()),
                );
            }
            for (i, inst) in names.iter().enumerate() {
                if let Some(msg) = check::instance_problem(inst) {
                    errs.push(&path.key("instances").index(i), msg, None);
                }
                if names[..i].contains(inst) {
                    errs.push(
                        &path.key("instances").index(i),
                        format!("instance `{inst}` is listed twice"),
                        None,
                    );
                }
            }
            Some(names.clone())
        }
    };
    let command = s.command.clone().unwrap_or_default();
    if s.command.is_none() {
        errs.push(
            &path,
            "the service has no `command`",
            Some(
                r#"add command = ["/opt/openim/bin/NAME", "-c", "/etc/openim/config/"]"#.to_owned(),
            ),
        );
    } else {
        errs.argv(&path.key("command"), &command, instances.is_some());
    }

    let mut environment: Vec<(String, String)> = Vec::new();
    for (table, env) in [
        (&["defaults"][..], &d.environment),
        (&["services", name][..], &s.environment),
    ] {
        for (k, v) in env.iter().flatten() {
            let p = FieldPath::keys(table).key("environment").key(k);
            if let Some(msg) = check::env_key_problem(k) {
                errs.push(
                    &p,
                    msg,
                    Some("use letters, digits and _; not starting with a digit".to_owned()),
                );
            }
            errs.chars(&p, v);
            if instances.is_none() && v.contains(INSTANCE_PLACEHOLDER) {
                errs.push(
                    &p,
                    "`{instance}` is used but the service has no `instances`",
                    None,
                );
            }
            environment.retain(|(old, _)| old != k);
            environment.push((k.clone(), v.clone()));
        }
    }

    let pick_path = |key: &str, own: bool| {
        if own {
            path.key(key)
        } else {
            FieldPath::keys(&["defaults", key])
        }
    };
    let environment_file = s
        .environment_file
        .clone()
        .or_else(|| d.environment_file.clone());
    if let Some(f) = &environment_file {
        errs.absolute(
            &pick_path("environment_file", s.environment_file.is_some()),
            f,
        );
    }
    let working_dir = s.working_dir.clone().or_else(|| d.working_dir.clone());
    if let Some(w) = &working_dir {
        errs.absolute(&pick_path("working_dir", s.working_dir.is_some()), w);
    }
    let user = s.user.clone().or_else(|| d.user.clone());
    let group = s.group.clone().or_else(|| d.group.clone());
    for (key, val, own) in [
        ("user", &user, s.user.is_some()),
        ("group", &group, s.group.is_some()),
    ] {
        if let Some(msg) = val.as_deref().and_then(check::account_problem) {
            errs.push(&pick_path(key, own), msg, None);
        }
    }

    let logs_spec = s
        .logs
        .clone()
        .or_else(|| d.logs.clone())
        .unwrap_or_default();
    let logs_path = pick_path("logs", s.logs.is_some());
    let logs = match (logs_spec.stdout, logs_spec.stderr) {
        (None, None) => Logs::Journal,
        (Some(out), err) => {
            errs.absolute(&logs_path.key("stdout"), &out);
            if let Some(e) = &err {
                errs.absolute(&logs_path.key("stderr"), e);
            }
            Logs::Files {
                stdout: out,
                stderr: err,
            }
        }
        (None, Some(_)) => {
            errs.push(
                &logs_path.key("stderr"),
                "`stderr` is set without `stdout`",
                Some("set both, or only `stdout` to send both streams to one file".to_owned()),
            );
            Logs::Journal
        }
    };

    let mut limits_spec = d.limits.clone().unwrap_or_default();
    if let Some(l) = &s.limits {
        limits_spec.nofile = l.nofile.or(limits_spec.nofile);
        limits_spec.nproc = l.nproc.or(limits_spec.nproc);
        limits_spec.memory_max = l.memory_max.or(limits_spec.memory_max);
        limits_spec.cpu_quota = l.cpu_quota.or(limits_spec.cpu_quota);
    }
    let limits = Limits {
        nofile: limits_spec.nofile,
        nproc: limits_spec.nproc,
        memory_max: limits_spec.memory_max,
        cpu_quota: limits_spec.cpu_quota,
    };
    for (key, v) in [("nofile", limits.nofile), ("nproc", limits.nproc)] {
        if v == Some(0) {
            errs.push(
                &pick_path("limits", s.limits.is_some()).key(key),
                format!("`{key}` must be at least 1"),
                None,
            );
        }
    }
    if limits.cpu_quota.is_some_and(|q| q == 0 || q > 100_000) {
        errs.push(
            &pick_path("limits", s.limits.is_some()).key("cpu_quota"),
            "`cpu_quota` is a percentage of one CPU from 1 to 100000",
            Some("150 means one and a half CPUs".to_owned()),
        );
    }

    let start_limit = s.start_limit.or(d.start_limit).map(|l| StartLimit {
        burst: l.burst,
        interval: l.interval,
    });
    if start_limit.is_some_and(|l| l.burst == 0) {
        errs.push(
            &pick_path("start_limit", s.start_limit.is_some()).key("burst"),
            "`burst` must be at least 1",
            None,
        );
    }
    let success_exit_codes = s
        .success_exit_codes
        .clone()
        .or_else(|| d.success_exit_codes.clone())
        .unwrap_or_default();
    for (i, c) in success_exit_codes.iter().enumerate() {
        if !(0..=255).contains(c) {
            errs.push(
                &pick_path("success_exit_codes", s.success_exit_codes.is_some()).index(i),
                format!("exit code {c} is out of range"),
                Some("exit codes are 0 to 255".to_owned()),
            );
        }
    }

    let health = s.health.as_ref().and_then(|h| {
        let hp = path.key("health");
        let check = health_check(errs, h, &hp)?;
        Some(Health {
            check,
            interval: h.interval.unwrap_or(Duration::from_secs(10)),
            timeout: h.timeout.unwrap_or(Duration::from_secs(3)),
            retries: h.retries.unwrap_or(3).max(1),
        })
    });
    let pre_start = s.pre_start.clone().unwrap_or_default();
    for (i, argv) in pre_start.iter().enumerate() {
        errs.argv(&path.key("pre_start").index(i), argv, instances.is_some());
    }
    if let Some(desc) = &s.description {
        errs.chars(&path.key("description"), desc);
    }

    let requires = deps(
        errs,
        m,
        name,
        "requires",
        s.requires.as_ref(),
        d.requires.as_ref(),
    );
    let wants = deps(errs, m, name, "wants", s.wants.as_ref(), d.wants.as_ref());
    let after = deps(errs, m, name, "after", s.after.as_ref(), d.after.as_ref());
    let before = deps(
        errs,
        m,
        name,
        "before",
        s.before.as_ref(),
        d.before.as_ref(),
    )
    .into_iter()
    .map(|d| d.name().to_owned())
    .collect();

    Service {
        name: name.to_owned(),
        description: s.description.clone().unwrap_or_else(|| name.to_owned()),
        command,
        instances,
        environment,
        environment_file,
        user,
        group,
        working_dir,
        restart: s.restart.or(d.restart).unwrap_or(RestartPolicy::OnFailure),
        restart_delay: s
            .restart_delay
            .or(d.restart_delay)
            .unwrap_or(Duration::from_secs(5)),
        start_limit,
        stop_signal: s
            .stop_signal
            .clone()
            .or_else(|| d.stop_signal.clone())
            .unwrap_or_else(Signal::default),
        stop_timeout: s
            .stop_timeout
            .or(d.stop_timeout)
            .unwrap_or(Duration::from_secs(20)),
        success_exit_codes,
        limits,
        logs,
        requires,
        wants,
        after,
        before,
        health,
        pre_start,
    }
}
