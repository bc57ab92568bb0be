//! One service: defaults merged, every value checked, references resolved.

use crate::manifest::locate::FieldPath;
use crate::manifest::{Duration, Instances, Manifest, RestartPolicy, ServiceSpec, Signal};

use super::build::{Errors, health_check, suggest};
use super::check;
use super::{Dep, Health, INSTANCE_PLACEHOLDER, Limits, Logs, Service, StartLimit};

/// The largest instance count accepted.
pub const MAX_INSTANCES: i64 = 256;

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
                        suggest(name, m.services.keys().chain(m.external.keys())),
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

pub(super) fn service(errs: &mut Errors<'_>, m: &Manifest, name: &str, s: &ServiceSpec) -> Service {
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
            if names.len() > MAX_INSTANCES as usize {
                errs.push(
                    &path.key("instances"),
                    format!("{} instances is out of range", names.len()),
                    Some(format!("use at most {MAX_INSTANCES} names")),
                );
            }
            for (i, inst) in names.iter().enumerate() {
                if let Some(msg) = check::instance_problem(inst) {
                    errs.push(
                        &path.key("instances").index(i),
                        msg,
                        Some(
                            "instance names become part of unit and file names, e.g. \"eu-1\""
                                .to_owned(),
                        ),
                    );
                }
                if names[..i].contains(inst) {
                    errs.push(
                        &path.key("instances").index(i),
                        format!("instance `{}` is listed twice", inst.escape_debug()),
                        Some("remove one of them".to_owned()),
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
                errs.push_key(
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
            errs.push(
                &pick_path(key, own),
                msg,
                Some(
                    "a name such as \"openim\" (letters, digits, _ . -) or a numeric id".to_owned(),
                ),
            );
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
    if start_limit.is_some_and(|l| l.interval.millis() == 0) {
        errs.push(
            &pick_path("start_limit", s.start_limit.is_some()).key("interval"),
            "`interval` must be longer than 0s",
            Some("the window starts are counted in, e.g. \"1min\"".to_owned()),
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
        let interval = h.interval.unwrap_or(Duration::from_secs(10));
        let timeout = h.timeout.unwrap_or(Duration::from_secs(3));
        for (key, d) in [("interval", interval), ("timeout", timeout)] {
            if d.millis() == 0 {
                errs.push(
                    &hp.key(key),
                    format!("`{key}` must be longer than 0s"),
                    Some("e.g. interval = \"10s\", timeout = \"3s\"".to_owned()),
                );
            }
        }
        if h.retries == Some(0) {
            errs.push(
                &hp.key("retries"),
                "`retries` must be at least 1",
                Some(
                    "the number of failed checks in a row before the service is unhealthy"
                        .to_owned(),
                ),
            );
        }
        let check = health_check(errs, h, &hp, false)?;
        Some(Health {
            check,
            interval,
            timeout,
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
