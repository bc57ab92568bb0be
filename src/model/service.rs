//! One service: defaults merged, every value checked, references resolved.

use crate::manifest::locate::FieldPath;
use crate::manifest::{Duration, HealthSpec, Manifest, RestartPolicy, ServiceSpec};

use super::check;
use super::deps::deps;
use super::instances::instances;
use super::problems::{Errors, health_check};
use super::{Dep, Health, INSTANCE_PLACEHOLDER, Limits, Logs, Service, StartLimit};

/// The most failed health checks in a row a service may be given (bounds its health window
/// to `MAX_DURATION × 1000`).
pub const MAX_RETRIES: u32 = 1000;

/// Where a merged value was written: the service's own table, or `[defaults]`.
fn origin(path: &FieldPath, key: &str, own: bool) -> FieldPath {
    if own {
        path.key(key)
    } else {
        FieldPath::keys(&["defaults", key])
    }
}

/// `command`: required, an absolute argv.
fn command(
    errs: &mut Errors<'_>,
    path: &FieldPath,
    s: &ServiceSpec,
    instanced: bool,
) -> Vec<String> {
    let command = s.command.clone().unwrap_or_default();
    if s.command.is_none() {
        errs.push(
            path,
            "the service has no `command`",
            Some(
                r#"add command = ["/opt/openim/bin/NAME", "-c", "/etc/openim/config/"]"#.to_owned(),
            ),
        );
    } else {
        errs.argv(&path.key("command"), &command, instanced);
    }
    command
}

/// `environment_file` and `working_dir`, from the service or `[defaults]`: absolute paths.
fn paths(
    errs: &mut Errors<'_>,
    path: &FieldPath,
    s: &ServiceSpec,
    d: &ServiceSpec,
) -> [Option<String>; 2] {
    [
        ("environment_file", &s.environment_file, &d.environment_file),
        ("working_dir", &s.working_dir, &d.working_dir),
    ]
    .map(|(key, own, default)| {
        let value = own.clone().or_else(|| default.clone());
        if let Some(v) = &value {
            errs.absolute(&origin(path, key, own.is_some()), v);
        }
        value
    })
}

/// `user` and `group`, from the service or `[defaults]`: names or numeric ids.
fn accounts(
    errs: &mut Errors<'_>,
    path: &FieldPath,
    s: &ServiceSpec,
    d: &ServiceSpec,
) -> [Option<String>; 2] {
    [("user", &s.user, &d.user), ("group", &s.group, &d.group)].map(|(key, own, default)| {
        let value = own.clone().or_else(|| default.clone());
        if let Some(msg) = value.as_deref().and_then(check::account_problem) {
            errs.push(
                &origin(path, key, own.is_some()),
                msg,
                Some(
                    "a name such as \"openim\" (letters, digits, _ . -) or a numeric id".to_owned(),
                ),
            );
        }
        value
    })
}

/// `requires`, `wants`, `after` (defaults first) and `before`, resolved.
fn dependencies(
    errs: &mut Errors<'_>,
    m: &Manifest,
    name: &str,
    s: &ServiceSpec,
) -> (Vec<Dep>, Vec<Dep>, Vec<Dep>, Vec<String>) {
    let d = &m.defaults;
    let mut list = |key: &str, own: Option<&Vec<String>>, inh: Option<&Vec<String>>| {
        deps(errs, m, name, key, own, inh)
    };
    let requires = list("requires", s.requires.as_ref(), d.requires.as_ref());
    let wants = list("wants", s.wants.as_ref(), d.wants.as_ref());
    let after = list("after", s.after.as_ref(), d.after.as_ref());
    let before = list("before", s.before.as_ref(), d.before.as_ref())
        .into_iter()
        .map(|d| d.name().to_owned())
        .collect();
    (requires, wants, after, before)
}

/// Build one service: defaults merged, every value checked (problems go to `errs`).
pub(super) fn service(errs: &mut Errors<'_>, m: &Manifest, name: &str, s: &ServiceSpec) -> Service {
    let d = &m.defaults;
    let path = FieldPath::keys(&["services", name]);
    let instances = instances(errs, &path, s.instances.as_ref());
    let command = command(errs, &path, s, instances.is_some());
    let environment = environment(errs, name, s, d, instances.is_some());

    let [environment_file, working_dir] = paths(errs, &path, s, d);
    let [user, group] = accounts(errs, &path, s, d);

    let health = s
        .health
        .as_ref()
        .and_then(|h| health(errs, &path.key("health"), h));
    let pre_start = s.pre_start.clone().unwrap_or_default();
    for (i, argv) in pre_start.iter().enumerate() {
        errs.argv(&path.key("pre_start").index(i), argv, instances.is_some());
    }
    if let Some(desc) = &s.description {
        errs.chars(&path.key("description"), desc);
    }
    let (requires, wants, after, before) = dependencies(errs, m, name, s);

    let logs = logs(errs, &path, s, d);
    let sandbox = super::sandbox::sandbox(
        errs,
        name,
        (s, d),
        working_dir.as_deref(),
        &logs,
        environment_file.as_deref(),
        command.first().map(String::as_str),
    );
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
        start_limit: start_limit(errs, &path, s, d),
        stop_signal: s
            .stop_signal
            .clone()
            .or_else(|| d.stop_signal.clone())
            .unwrap_or_default(),
        stop_timeout: s
            .stop_timeout
            .or(d.stop_timeout)
            .unwrap_or(Duration::from_secs(20)),
        success_exit_codes: exit_codes(errs, &path, s, d),
        limits: limits(errs, &path, s, d),
        logs,
        requires,
        wants,
        after,
        before,
        health,
        pre_start,
        container: super::container::service(errs, name, s, d),
        sandbox,
    }
}

/// Defaults first, then the service's own variables (which replace same-named defaults).
fn environment(
    errs: &mut Errors<'_>,
    name: &str,
    s: &ServiceSpec,
    d: &ServiceSpec,
    instanced: bool,
) -> Vec<(String, String)> {
    // by name: a later value replaces an earlier one in its place (linear, not quadratic)
    let mut environment: indexmap::IndexMap<String, String> = indexmap::IndexMap::new();
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
            if !instanced && v.contains(INSTANCE_PLACEHOLDER) {
                errs.push(
                    &p,
                    "`{instance}` is used but the service has no `instances`",
                    Some(
                        "add `instances = 2` (or a list of names), or remove `{instance}`"
                            .to_owned(),
                    ),
                );
            }
            // a replaced default moves to the end, where the service wrote it
            environment.shift_remove(k);
            environment.insert(k.clone(), v.clone());
        }
    }
    let total: usize = environment.iter().map(|(k, v)| k.len() + v.len() + 2).sum();
    if total > crate::limits::MAX_ENV_BYTES {
        let table: &[&str] = if s.environment.is_some() {
            &["services", name]
        } else {
            &["defaults"]
        };
        errs.push(
            &FieldPath::keys(table).key("environment"),
            format!(
                "the environment takes {} together; at most {} are accepted",
                crate::limits::size(total),
                crate::limits::size(crate::limits::MAX_ENV_BYTES)
            ),
            Some("put long data in an environment_file or a config file".to_owned()),
        );
    }
    environment.into_iter().collect()
}

fn logs(errs: &mut Errors<'_>, path: &FieldPath, s: &ServiceSpec, d: &ServiceSpec) -> Logs {
    let spec = s
        .logs
        .clone()
        .or_else(|| d.logs.clone())
        .unwrap_or_default();
    let at = origin(path, "logs", s.logs.is_some());
    match (spec.stdout, spec.stderr) {
        (None, None) => Logs::Journal,
        (Some(out), err) => {
            errs.absolute(&at.key("stdout"), &out);
            if let Some(e) = &err {
                errs.absolute(&at.key("stderr"), e);
            }
            Logs::Files {
                stdout: out,
                stderr: err,
            }
        }
        (None, Some(_)) => {
            errs.push(
                &at.key("stderr"),
                "`stderr` is set without `stdout`",
                Some("set both, or only `stdout` to send both streams to one file".to_owned()),
            );
            Logs::Journal
        }
    }
}

/// Each limit from the service, else from `[defaults]`, checked where it was written.
fn limits(errs: &mut Errors<'_>, path: &FieldPath, s: &ServiceSpec, d: &ServiceSpec) -> Limits {
    let own = s.limits.clone().unwrap_or_default();
    let def = d.limits.clone().unwrap_or_default();
    let at = |key: &str, own: bool| origin(path, "limits", own).key(key);
    let limits = Limits {
        nofile: own.nofile.or(def.nofile),
        nproc: own.nproc.or(def.nproc),
        memory_max: own.memory_max.or(def.memory_max),
        cpu_quota: own.cpu_quota.or(def.cpu_quota),
    };
    for (key, v, mine) in [
        ("nofile", limits.nofile, own.nofile.is_some()),
        ("nproc", limits.nproc, own.nproc.is_some()),
    ] {
        if v == Some(0) {
            errs.push(
                &at(key, mine),
                format!("`{key}` must be at least 1"),
                Some(format!(
                    "a process needs some {}: e.g. {key} = {}, or leave `{key}` out for the system default",
                    if key == "nofile" { "open files" } else { "processes" },
                    if key == "nofile" { 65536 } else { 4096 }
                )),
            );
        }
    }
    if limits.cpu_quota.is_some_and(|q| q == 0 || q > 100_000) {
        errs.push(
            &at("cpu_quota", own.cpu_quota.is_some()),
            "`cpu_quota` is a percentage of one CPU from 1 to 100000",
            Some("150 means one and a half CPUs".to_owned()),
        );
    }
    limits
}

fn start_limit(
    errs: &mut Errors<'_>,
    path: &FieldPath,
    s: &ServiceSpec,
    d: &ServiceSpec,
) -> Option<StartLimit> {
    let l = s.start_limit.or(d.start_limit)?;
    let at = origin(path, "start_limit", s.start_limit.is_some());
    if l.burst == 0 {
        errs.push(
            &at.key("burst"),
            "`burst` must be at least 1",
            Some("how many starts are allowed within `interval`, e.g. burst = 5".to_owned()),
        );
    }
    if l.interval.millis() == 0 {
        errs.push(
            &at.key("interval"),
            "`interval` must be longer than 0s",
            Some("the window starts are counted in, e.g. \"1min\"".to_owned()),
        );
    }
    Some(StartLimit {
        burst: l.burst,
        interval: l.interval,
    })
}

fn exit_codes(
    errs: &mut Errors<'_>,
    path: &FieldPath,
    s: &ServiceSpec,
    d: &ServiceSpec,
) -> Vec<i32> {
    let codes = s
        .success_exit_codes
        .clone()
        .or_else(|| d.success_exit_codes.clone())
        .unwrap_or_default();
    let at = origin(path, "success_exit_codes", s.success_exit_codes.is_some());
    for (i, c) in codes.iter().enumerate() {
        if !(0..=255).contains(c) {
            errs.push(
                &at.index(i),
                format!("exit code {c} is out of range"),
                Some("exit codes are 0 to 255".to_owned()),
            );
        }
    }
    codes
}

fn health(errs: &mut Errors<'_>, at: &FieldPath, h: &HealthSpec) -> Option<Health> {
    let interval = h.interval.unwrap_or(Duration::from_secs(10));
    let timeout = h.timeout.unwrap_or(Duration::from_secs(3));
    for (key, d) in [("interval", interval), ("timeout", timeout)] {
        if d.millis() == 0 {
            errs.push(
                &at.key(key),
                format!("`{key}` must be longer than 0s"),
                Some("e.g. interval = \"10s\", timeout = \"3s\"".to_owned()),
            );
        }
    }
    if h.retries == Some(0) || h.retries.is_some_and(|r| r > MAX_RETRIES) {
        errs.push(
            &at.key("retries"),
            format!("`retries` must be from 1 to {MAX_RETRIES}"),
            Some("the number of failed checks in a row before the service is unhealthy".to_owned()),
        );
    }
    let check = health_check(errs, h, at, false)?;
    Some(Health {
        check,
        interval,
        timeout,
        retries: h.retries.unwrap_or(3).max(1),
    })
}
