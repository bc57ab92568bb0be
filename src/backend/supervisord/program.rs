//! One `[program:x]` section: the command (wrapped in `/bin/sh` when something must happen
//! before the program starts), environment, restart and stop behaviour, logs.

use serde::Serialize;

use super::{DATA, Settings};
use crate::backend::shared::gate;
use crate::backend::shared::wrapper::{Prelude, Ready};
use crate::errors::{Error, Refusal, Result};
use crate::escape::supervisord as esc;
use crate::manifest::RestartPolicy;
use crate::model::{Logs, Model, Service, substitute};

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
    /// `text` with the placeholder marked or substituted.
    fn apply(self, text: &str) -> String {
        match self {
            Self::Single => text.to_owned(),
            Self::Numprocs => esc::mark_instance(text),
            Self::Named(i) => substitute(text, Some(i)),
        }
    }
}

/// The template context of one program section; every string is already escaped.
#[derive(Debug, Serialize)]
pub struct ProgramSection {
    pub(super) name: String,
    pub(super) comments: Vec<String>,
    pub(super) command: String,
    pub(super) numprocs: Option<usize>,
    pub(super) process_name: Option<String>,
    pub(super) directory: Option<String>,
    pub(super) user: Option<String>,
    /// `027` when sandboxed.
    pub(super) umask: Option<&'static str>,
    pub(super) environment: Option<String>,
    pub(super) priority: u32,
    pub(super) autorestart: &'static str,
    pub(super) startsecs: u32,
    pub(super) startretries: u32,
    pub(super) exitcodes: String,
    pub(super) stopsignal: String,
    pub(super) stopwaitsecs: u64,
    pub(super) logs: Option<LogKeys>,
}

#[derive(Debug, Serialize)]
pub(super) struct LogKeys {
    pub(super) stdout: String,
    pub(super) stderr: Option<String>,
    pub(super) maxbytes: String,
    pub(super) backups: u32,
}

impl ProgramSection {
    /// The program's priority.
    #[must_use]
    pub fn priority(&self) -> u32 {
        self.priority
    }
}

/// A value supervisor takes verbatim, or an error naming the field.
fn plain(svc: &Service, field: &str, value: &str) -> Result<String> {
    match esc::plain(value) {
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

/// Build the section for `svc` (or one of its instances) named `name`.
///
/// # Errors
/// A path or user name that the ini syntax cannot carry.
pub fn section(
    model: &Model,
    s: usize,
    name: &str,
    instance: Instance<'_>,
    priority: u32,
) -> Result<ProgramSection> {
    let svc = &model.services[s];
    let d = &DATA.program;
    let env: Vec<(String, String)> = svc
        .environment
        .iter()
        .map(|(k, v)| (k.clone(), instance.apply(v)))
        .collect();
    let native = esc::environment(&env);
    let (argv, mut comments) = launch(model, s, instance, &env);

    let description = match instance {
        Instance::Named(i) => substitute(&svc.description, Some(i)),
        _ => svc.description.clone(),
    };
    comments.insert(0, description);
    if let Instance::Named(i) = instance {
        comments.insert(1, format!("instance `{i}` of service {}", svc.name));
    }

    let logs = log_keys(svc, &mut comments)?;

    let numprocs =
        matches!(instance, Instance::Numprocs).then(|| svc.instances.as_ref().map_or(1, Vec::len));
    Ok(ProgramSection {
        name: name.to_owned(),
        comments,
        command: esc::command(&argv),
        numprocs,
        process_name: numprocs.map(|_| "%(program_name)s_%(process_num)d".to_owned()),
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
        stopsignal: svc.stop_signal.short().to_owned(),
        stopwaitsecs: svc.stop_timeout.secs_ceil(),
        logs,
    })
}

/// The log keys, when the service logs to files (rotation off when processes share them).
fn log_keys(svc: &Service, comments: &mut Vec<String>) -> Result<Option<LogKeys>> {
    let d = &DATA.program;
    Ok(match &svc.logs {
        Logs::Journal => None,
        Logs::Files { stdout, stderr } => {
            let shared = svc.instances.as_ref().is_some_and(|v| v.len() > 1);
            if shared {
                comments.push(
                    "several processes share the log files: rotation is off (use logrotate with copytruncate)"
                        .to_owned(),
                );
            }
            Some(LogKeys {
                stdout: plain(svc, "logs.stdout", stdout)?,
                stderr: match stderr {
                    Some(e) if e != stdout => Some(plain(svc, "logs.stderr", e)?),
                    _ => None,
                },
                maxbytes: if shared {
                    "0".into()
                } else {
                    d.log_maxbytes.clone()
                },
                backups: d.log_backups,
            })
        }
    })
}

/// `exitcodes`: 0 and the success codes, once each.
fn exit_codes(svc: &Service) -> String {
    let mut codes = vec![0];
    for c in &svc.success_exit_codes {
        if !codes.contains(c) {
            codes.push(*c);
        }
    }
    codes
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// The argv supervisord runs (placeholders marked for [`esc::expand`]) and comments that
/// explain the wrapper. Without anything to do first it is the service's own argv;
/// otherwise the shared `/bin/sh` wrapper (see [`wrapper`]) ending in `exec "$@"`.
fn launch(
    model: &Model,
    s: usize,
    instance: Instance<'_>,
    env: &[(String, String)],
) -> (Vec<String>, Vec<String>) {
    let svc = &model.services[s];
    let mut comments = Vec::new();
    let exports: Vec<(String, String)> = env
        .iter()
        .filter(|(_, v)| esc::env_token(v).is_none())
        .cloned()
        .collect();
    if !exports.is_empty() {
        comments.push(
            "environment values that environment= cannot quote are exported by the wrapper"
                .to_owned(),
        );
    }
    let waits = model.waits(s);
    for (kind, t) in &waits.unwaitable {
        comments.push(format!(
            "{} {n}: started after it (priority); {n} has no health check to wait for",
            kind.key(),
            n = model.services[*t].name
        ));
    }
    if !waits.waits.is_empty() {
        let what: Vec<String> = waits
            .waits
            .iter()
            .map(|w| format!("{} ({})", w.label, gate::describe(w.check)))
            .collect();
        comments.push(format!("before starting, waits for {}", what.join(", ")));
    }
    let prelude = Prelude {
        exports,
        environment_file: svc.environment_file.as_deref(),
        limits: svc.limits,
        waits: waits.waits.iter().map(Ready::of).collect(),
        pre_start: svc
            .pre_start
            .iter()
            .map(|argv| argv.iter().map(|a| instance.apply(a)).collect())
            .collect(),
    };
    let argv: Vec<String> = svc.command.iter().map(|a| instance.apply(a)).collect();
    (prelude.wrap(&svc.name, argv), comments)
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
