//! One `[program:x]` section: the command (wrapped in `/bin/sh` when something must happen
//! before the program starts), environment, restart and stop behaviour, logs. Every value
//! borrows from the model where escaping changes nothing; the command is escaped straight
//! into its string.

use std::borrow::Cow;

use serde::Serialize;

use super::argv::{self, Escaped};
use super::{DATA, Settings};
use crate::backend::shared::waits::edges;
use crate::backend::shared::wrapper::{Prelude, Ready};
use crate::errors::{Error, Refusal, Result};
use crate::escape::supervisord as esc;
use crate::manifest::RestartPolicy;
use crate::model::{INSTANCE_PLACEHOLDER, Logs, Service, Target, substitute};
use crate::render::native::push_u64;

/// Which process of a service a section is for.
#[derive(Debug, Clone, Copy)]
pub enum Instance<'a> {
    /// Not instanced.
    Single,
    /// All instances, as `numprocs` processes (`{instance}` → `%(process_num)d`).
    Numprocs,
    /// One named instance, as its own program.
    Named(&'a str),
}

impl Instance<'_> {
    /// `text` with the placeholder marked or substituted (borrowed when it has none).
    fn apply(self, text: &str) -> Cow<'_, str> {
        match self {
            Self::Single => Cow::Borrowed(text),
            _ if !text.contains(INSTANCE_PLACEHOLDER) => Cow::Borrowed(text),
            Self::Numprocs => Cow::Owned(esc::mark_instance(text)),
            Self::Named(i) => Cow::Owned(substitute(text, Some(i))),
        }
    }
}

/// The template context of one program section; every string is already escaped.
#[derive(Debug, Serialize)]
pub struct ProgramSection<'a> {
    pub(super) name: Cow<'a, str>,
    pub(super) comments: Vec<Cow<'a, str>>,
    pub(super) command: String,
    pub(super) numprocs: Option<usize>,
    pub(super) process_name: Option<&'static str>,
    pub(super) directory: Option<Cow<'a, str>>,
    pub(super) user: Option<Cow<'a, str>>,
    /// `027` when sandboxed.
    pub(super) umask: Option<&'static str>,
    pub(super) environment: Option<String>,
    pub(super) priority: u32,
    pub(super) autorestart: &'static str,
    pub(super) startsecs: u32,
    pub(super) startretries: u32,
    pub(super) exitcodes: Cow<'static, str>,
    pub(super) stopsignal: &'a str,
    pub(super) stopwaitsecs: u64,
    pub(super) logs: Option<LogKeys<'a>>,
}

#[derive(Debug, Serialize)]
pub(super) struct LogKeys<'a> {
    pub(super) stdout: Cow<'a, str>,
    pub(super) stderr: Option<Cow<'a, str>>,
    pub(super) maxbytes: &'static str,
    pub(super) backups: u32,
}

/// A value supervisor takes verbatim, or an error naming the field.
fn plain<'a>(svc: &Service, field: &str, value: &'a str) -> Result<Cow<'a, str>> {
    match esc::plain_cow(value) {
        Some(v) => Ok(v),
        None => Err(Refusal::new(
            format!("services.{}.{field}", svc.name),
            format!(
                "supervisord cannot carry `{}`: its ini syntax has no quoting, so a `;` or `#` after whitespace, surrounding whitespace or the text `%(here)s` would be changed",
                value.escape_debug()
            ),
        )
        .hint("remove the `;`/`#` after whitespace and surrounding whitespace, or choose another backend")
        .into()),
    }
}

/// Build the section for service `s` (or one of its instances) named `name`; `escaped`
/// holds the render's poll loops.
///
/// # Errors
/// A path or user name that the ini syntax cannot carry.
pub(super) fn section<'a>(
    escaped: &Escaped<'a>,
    s: usize,
    name: Cow<'a, str>,
    instance: Instance<'a>,
    priority: u32,
) -> Result<ProgramSection<'a>> {
    let model = escaped.scripts().model();
    let svc = &model.services[s];
    let d = &DATA.program;
    let env: Vec<(&str, Cow<'a, str>)> = svc
        .environment
        .iter()
        .map(|(k, v)| (k, instance.apply(v)))
        .collect();
    let mut native = String::with_capacity(env.iter().map(|(k, v)| k.len() + v.len() + 4).sum());
    esc::push_environment(&mut native, env.iter().map(|(k, v)| (*k, v.as_ref())));

    let mut comments = Vec::with_capacity(4);
    comments.push(match instance {
        Instance::Named(i) => Cow::Owned(substitute(&svc.description, Some(i))),
        _ => Cow::Borrowed(&*svc.description),
    });
    if let Instance::Named(i) = instance {
        comments.push(Cow::Owned(format!(
            "instance `{i}` of service {}",
            svc.name
        )));
    }
    let command = launch(escaped, s, instance, &env, &mut comments);
    let logs = log_keys(svc, &mut comments)?;

    let numprocs = matches!(instance, Instance::Numprocs)
        .then(|| svc.instances.as_deref().map_or(1, <[String]>::len));
    Ok(ProgramSection {
        name,
        comments,
        command,
        numprocs,
        process_name: numprocs.map(|_| "%(program_name)s_%(process_num)d"),
        directory: svc
            .working_dir
            .as_deref()
            .map(|w| plain(svc, "working_dir", w))
            .transpose()?,
        user: svc
            .user
            .as_deref()
            .map(|u| plain(svc, "user", u))
            .transpose()?,
        umask: (svc.sandbox.level != crate::model::SandboxLevel::Off).then_some("027"),
        environment: (!native.is_empty()).then_some(native),
        priority,
        autorestart: match svc.restart {
            RestartPolicy::Always => "true",
            RestartPolicy::OnFailure => "unexpected",
            RestartPolicy::Never => "false",
        },
        startsecs: d.startsecs,
        startretries: svc.start_limit.map_or(d.startretries, |l| l.burst),
        exitcodes: exit_codes(svc),
        stopsignal: svc.stop_signal.short(),
        stopwaitsecs: svc.stop_timeout.secs_ceil(),
        logs,
    })
}

/// The log keys, when the service logs to files (rotation off when processes share them).
fn log_keys<'a>(svc: &'a Service, comments: &mut Vec<Cow<'a, str>>) -> Result<Option<LogKeys<'a>>> {
    let d = &DATA.program;
    Ok(match &*svc.logs {
        Logs::Journal => None,
        Logs::Files { stdout, stderr } => {
            let shared = svc.instances.as_ref().is_some_and(|v| v.len() > 1);
            if shared {
                comments.push(Cow::Borrowed(
                    "several processes share the log files: rotation is off (use logrotate with copytruncate)",
                ));
            }
            Some(LogKeys {
                stdout: plain(svc, "logs.stdout", stdout)?,
                stderr: match stderr {
                    Some(e) if e != stdout => Some(plain(svc, "logs.stderr", e)?),
                    _ => None,
                },
                maxbytes: if shared { "0" } else { &d.log_maxbytes },
                backups: d.log_backups,
            })
        }
    })
}

/// `exitcodes`: 0 and the success codes, once each.
fn exit_codes(svc: &Service) -> Cow<'static, str> {
    if svc.success_exit_codes.iter().all(|&c| c == 0) {
        return Cow::Borrowed("0");
    }
    let mut codes = vec![0];
    for c in svc.success_exit_codes.iter() {
        if !codes.contains(c) {
            codes.push(*c);
        }
    }
    let mut out = String::from("0");
    for c in &codes[1..] {
        out.push(',');
        if *c < 0 {
            out.push('-');
        }
        push_u64(&mut out, u64::from(c.unsigned_abs()));
    }
    Cow::Owned(out)
}

/// The escaped `command=` value (placeholders marked for [`esc::expand`]), with comments
/// that explain the wrapper appended to `comments`. Without anything to do first it is the
/// service's own argv; otherwise the shared `/bin/sh` wrapper (see
/// [`crate::backend::shared::wrapper`]) ending in `exec "$@"`.
fn launch<'a>(
    escaped: &Escaped<'a>,
    s: usize,
    instance: Instance<'a>,
    env: &[(&str, Cow<'a, str>)],
    comments: &mut Vec<Cow<'a, str>>,
) -> String {
    let scripts = escaped.scripts();
    let model = scripts.model();
    let svc = &model.services[s];
    let exports: Vec<(String, String)> = env
        .iter()
        .filter(|(_, v)| esc::env_quote(v).is_none())
        .map(|(k, v)| ((*k).to_owned(), v.clone().into_owned()))
        .collect();
    if !exports.is_empty() {
        comments.push(Cow::Borrowed(
            "environment values that environment= cannot quote are exported by the wrapper",
        ));
    }
    let mut waits = Vec::new();
    let mut targets = Vec::new();
    let mut what = String::new();
    for (target, kind) in edges(model, s) {
        match (scripts.script(target), target) {
            (Some(script), _) => {
                waits.push(Ready {
                    script: Cow::Borrowed(script),
                    hard: kind.is_hard(),
                });
                targets.push(target);
                if let Some(d) = escaped.described(target) {
                    what.push_str(if what.is_empty() {
                        "before starting, waits for "
                    } else {
                        ", "
                    });
                    what.push_str(d);
                }
            }
            (None, Target::Service(t)) => comments.push(Cow::Owned(format!(
                "{} {n}: started after it (priority); {n} has no health check to wait for",
                kind.key(),
                n = model.services[t].name
            ))),
            (None, Target::External(_)) => {}
        }
    }
    if !what.is_empty() {
        comments.push(Cow::Owned(what));
    }
    let prelude = Prelude {
        exports,
        environment_file: svc.environment_file.as_deref(),
        limits: *svc.limits,
        waits,
        pre_start: svc
            .pre_start
            .iter()
            .map(|argv| {
                argv.iter()
                    .map(|a| instance.apply(a).into_owned())
                    .collect()
            })
            .collect(),
    };
    let waits: usize = prelude.waits.iter().map(|w| w.script.len() + 16).sum();
    let mut out = String::with_capacity(
        svc.command.iter().map(|a| a.len() + 3).sum::<usize>() + waits + waits / 8,
    );
    argv::push_command(
        &mut out,
        escaped,
        &prelude,
        &targets,
        &svc.name,
        svc.command.iter().map(|a| instance.apply(a)),
    );
    out
}

/// Settings of the standalone daemon sections, with the stack name filled in.
///
/// # Errors
/// A path the ini syntax cannot carry (only possible with edited backend data).
pub fn daemon_paths(stack: &str, s: &Settings) -> Result<[String; 4]> {
    let fill = |p: &str| {
        let p = p.replace("{stack}", stack);
        esc::plain(&p).ok_or_else(|| {
            Error::from(Refusal::new(
                "backends/supervisord.toml",
                format!("the standalone path `{p}` cannot be written"),
            ))
        })
    };
    Ok([
        fill(&s.socket)?,
        fill(&s.pidfile)?,
        fill(&s.logfile)?,
        fill(&s.childlogdir)?,
    ])
}
