//! One service: defaults merged, every value checked, references resolved. The service's own
//! table is consumed: its lists are packed into one text each ([`Strs`], `Pairs`), its other
//! strings move into the model, and what `[defaults]` gives is shared (`shared.rs`).

use std::borrow::Cow;
use std::sync::Arc;

use thin_vec::ThinVec;

use crate::manifest::{
    Duration, HealthSpec, LimitsSpec, LogsSpec, RestartPolicy, ServiceSpec, Signal, StartLimitSpec,
};

use super::check;
use super::deps::{Links, Tables};
use super::instances::instances;
use super::path::At;
use super::problems::{Errors, health_check};
use super::sandbox::Reached;
use super::shared::{Shared, share, share_slice};
use super::{Health, Limits, Logs, Policy, Service, StartLimit, Strs};

/// The most failed health checks in a row a service may be given (bounds its health window
/// to `MAX_DURATION × 1000`).
pub const MAX_RETRIES: u32 = 1000;

/// Where a merged value was written: the service's own table, or `[defaults]`.
fn origin<'a>(path: &At<'a>, key: &'static str, own: bool) -> At<'a> {
    if own {
        path.key(key)
    } else {
        At::keys(&["defaults", key])
    }
}

/// `command`: required, an absolute argv.
fn command(
    errs: &mut Errors<'_>,
    path: &At<'_>,
    command: Option<Vec<String>>,
    instanced: bool,
) -> Vec<String> {
    let Some(command) = command else {
        errs.push(
            path,
            "the service has no `command`",
            Some(
                r#"add command = ["/opt/openim/bin/NAME", "-c", "/etc/openim/config/"]"#.to_owned(),
            ),
        );
        return Vec::new();
    };
    errs.argv(&path.key("command"), &command, instanced);
    command
}

/// A string from the service or `[defaults]` (`key`), checked where it was written.
fn inherited<'d>(
    errs: &mut Errors<'_>,
    path: &At<'_>,
    key: &'static str,
    (own, default): (Option<String>, Option<&'d String>),
    check: fn(&mut Errors<'_>, &At<'_>, &str),
) -> Option<Cow<'d, str>> {
    let at = origin(path, key, own.is_some());
    let value = own
        .map(Cow::Owned)
        .or_else(|| default.map(|d| Cow::Borrowed(d.as_str())));
    if let Some(v) = &value {
        check(errs, &at, v);
    }
    value
}

/// `user` and `group`: names or numeric ids.
fn account(errs: &mut Errors<'_>, at: &At<'_>, value: &str) {
    if let Some(msg) = check::account_problem(value) {
        errs.push(
            at,
            msg,
            Some("a name such as \"openim\" (letters, digits, _ . -) or a numeric id".to_owned()),
        );
    }
}

/// `environment_file` and `working_dir`: absolute paths.
fn absolute(errs: &mut Errors<'_>, at: &At<'_>, value: &str) {
    errs.absolute(at, value);
}

/// `environment_file`, `working_dir`, `user` and `group` from the service (`own`) or `d`.
fn strings<'d>(
    errs: &mut Errors<'_>,
    path: &At<'_>,
    own: [Option<String>; 4],
    d: &'d ServiceSpec,
) -> [Option<Cow<'d, str>>; 4] {
    let [environment_file, working_dir, user, group] = own;
    [
        inherited(
            errs,
            path,
            "environment_file",
            (environment_file, d.environment_file.as_deref()),
            absolute,
        ),
        inherited(
            errs,
            path,
            "working_dir",
            (working_dir, d.working_dir.as_deref()),
            absolute,
        ),
        inherited(errs, path, "user", (user, d.user.as_deref()), account),
        inherited(errs, path, "group", (group, d.group.as_deref()), account),
    ]
}

/// `health`, `pre_start` and the `description` of the service at `path`, checked.
fn probes(
    errs: &mut Errors<'_>,
    path: &At<'_>,
    (health_spec, pre_start): (Option<HealthSpec>, Option<Vec<Vec<String>>>),
    description: Option<&String>,
    placeholder_ok: bool,
) -> (Option<Health>, Vec<Vec<String>>) {
    let health = health_spec.and_then(|h| health(errs, &path.key("health"), h));
    let pre_start = pre_start.unwrap_or_default();
    for (i, argv) in pre_start.iter().enumerate() {
        errs.argv(&path.key("pre_start").index(i), argv, placeholder_ok);
    }
    if let Some(desc) = description {
        errs.chars(&path.key("description"), desc);
    }
    (health, pre_start)
}

/// Build service `name` from its own table `s`, which is emptied (its values move into the
/// service): defaults merged, every value checked (problems go to `errs`), its
/// dependencies resolved into `links`.
pub(super) fn service(
    errs: &mut Errors<'_>,
    t: &Tables<'_>,
    (links, shared): (&mut Links, &mut Shared),
    name: &str,
    s: &mut ServiceSpec,
) -> Service {
    let d = t.defaults;
    let path = At::keys(&["services", name]);
    let instances = instances(errs, &path, s.instances.take().map(|i| *i));
    let placeholder_ok = instances.is_some();
    let command = command(errs, &path, s.command.take(), placeholder_ok);
    let environment =
        super::environment::merged(errs, &path, s.environment.take(), d, placeholder_ok);
    let own = [
        &mut s.environment_file,
        &mut s.working_dir,
        &mut s.user,
        &mut s.group,
    ];
    let own = own.map(|o| o.take().map(|b| *b));
    let [environment_file, working_dir, user, group] = strings(errs, &path, own, d);
    let own = (s.health.take().map(|h| *h), s.pre_start.take().map(|p| *p));
    let (health, pre_start) = probes(errs, &path, own, s.description.as_ref(), placeholder_ok);
    let own = [&mut s.requires, &mut s.wants, &mut s.after, &mut s.before].map(Option::take);
    let (requires, wants, after, before) = links.service(errs, t, name, own);
    let logs = logs(errs, &path, s.logs.take().map(|l| *l), d.logs.as_deref());
    let sandbox = super::sandbox::sandbox(
        errs,
        &path,
        (s, d),
        &Reached {
            working_dir: working_dir.as_deref(),
            logs: &logs,
            environment_file: environment_file.as_deref(),
            exe: command.first().map(String::as_str),
        },
    );
    let own = s.container.take().map(|c| *c);
    let container = super::container::service(errs, &path, name, own, d.container.as_deref())
        .map_or_else(super::container::none, |c| share(&mut shared.container, c));
    let limits = limits(errs, &path, s.limits.as_deref(), d.limits.as_deref());
    let policy = Policy {
        environment_file: environment_file.map(|v| share_slice(&mut shared.strings[0], v)),
        working_dir: working_dir.map(|v| share_slice(&mut shared.strings[1], v)),
        user: user.map(|v| share_slice(&mut shared.strings[2], v)),
        group: group.map(|v| share_slice(&mut shared.strings[3], v)),
        restart: pick(s.restart, d.restart, RestartPolicy::OnFailure),
        restart_delay: pick(s.restart_delay, d.restart_delay, Duration::from_secs(5)),
        start_limit: start_limit(
            errs,
            &path,
            (
                s.start_limit.as_deref().copied(),
                d.start_limit.as_deref().copied(),
            ),
        ),
        stop_signal: signal(s.stop_signal.take(), d.stop_signal.as_ref()),
        stop_timeout: pick(s.stop_timeout, d.stop_timeout, Duration::from_secs(20)),
        success_exit_codes: share_slice(
            &mut shared.exit_codes,
            exit_codes(
                errs,
                &path,
                s.success_exit_codes.take().map(|c| *c),
                d.success_exit_codes.as_deref(),
            ),
        ),
        limits: share(&mut shared.limits, limits),
        logs: share(&mut shared.logs, logs),
        container,
        sandbox: share(&mut shared.sandbox, sandbox),
    };
    let name: Arc<str> = Arc::from(name);
    Service {
        // the description is the name's when the manifest gives none (one string for both)
        description: s
            .description
            .take()
            .map_or_else(|| Arc::clone(&name), Arc::from),
        name,
        command: Strs::from(&command[..]),
        instances: instances.map(ThinVec::from),
        environment,
        requires: requires.into(),
        wants: wants.into(),
        after: after.into(),
        before: before.into(),
        health: health.map(Box::new),
        pre_start: pre_start.iter().map(|a| Strs::from(&a[..])).collect(),
        policy: share(&mut shared.policy, policy),
    }
}

/// The service's own stop signal, else a copy of the default's, else `SIGTERM`.
fn signal(own: Option<Signal>, default: Option<&Signal>) -> Signal {
    own.or_else(|| default.cloned()).unwrap_or_default()
}

/// The service's own value, else the default's, else `fallback`.
fn pick<T>(own: Option<T>, default: Option<T>, fallback: T) -> T {
    own.or(default).unwrap_or(fallback)
}

fn logs(
    errs: &mut Errors<'_>,
    path: &At<'_>,
    own: Option<LogsSpec>,
    default: Option<&LogsSpec>,
) -> Logs {
    let at = origin(path, "logs", own.is_some());
    let spec = own.or_else(|| default.cloned()).unwrap_or_default();
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
fn limits(
    errs: &mut Errors<'_>,
    path: &At<'_>,
    own: Option<&LimitsSpec>,
    def: Option<&LimitsSpec>,
) -> Limits {
    let none = LimitsSpec::default();
    let (own, def) = (own.unwrap_or(&none), def.unwrap_or(&none));
    let at = |key: &'static str, own: bool| origin(path, "limits", own).key(key);
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
    path: &At<'_>,
    (own, default): (Option<StartLimitSpec>, Option<StartLimitSpec>),
) -> Option<StartLimit> {
    let at = origin(path, "start_limit", own.is_some());
    let l = own.or(default)?;
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

fn exit_codes<'d>(
    errs: &mut Errors<'_>,
    path: &At<'_>,
    own: Option<Vec<i32>>,
    default: Option<&'d Vec<i32>>,
) -> Cow<'d, [i32]> {
    let at = origin(path, "success_exit_codes", own.is_some());
    let codes: Cow<'d, [i32]> = match (own, default) {
        (Some(own), _) => Cow::Owned(own),
        (None, Some(d)) => Cow::Borrowed(d),
        (None, None) => Cow::Borrowed(&[]),
    };
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

fn health(errs: &mut Errors<'_>, at: &At<'_>, h: HealthSpec) -> Option<Health> {
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
    let retries = h.retries.unwrap_or(3).max(1);
    let check = health_check(errs, h, at, false)?;
    Some(Health {
        check,
        interval,
        timeout,
        retries,
    })
}
