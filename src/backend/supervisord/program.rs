//! One `[program:x]` section: the command (wrapped in `/bin/sh` when something must happen
//! before the program starts), environment, restart and stop behaviour, logs.

use anyhow::Result;
use serde::Serialize;

use super::{DATA, Settings};
use crate::escape::{sh, supervisord as esc};
use crate::gate;
use crate::manifest::{Duration, RestartPolicy};
use crate::model::{Dep, Logs, Model, Service, substitute};

/// The shell that runs readiness gates, `pre_start` commands and limits before `exec "$@"`.
pub const WRAPPER_SHELL: &str = "/bin/sh";

/// Separates `KEY=value` arguments (exported by the wrapper) from the program's argv.
pub const EXPORTS_END: &str = "--";

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
    name: String,
    comments: Vec<String>,
    command: String,
    numprocs: Option<usize>,
    process_name: Option<String>,
    directory: Option<String>,
    user: Option<String>,
    environment: Option<String>,
    priority: u32,
    autorestart: &'static str,
    startsecs: u32,
    startretries: u32,
    exitcodes: String,
    stopsignal: String,
    stopwaitsecs: u64,
    logs: Option<LogKeys>,
}

#[derive(Debug, Serialize)]
struct LogKeys {
    stdout: String,
    stderr: Option<String>,
    maxbytes: String,
    backups: u32,
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
        None => Err(crate::errors::UsageError(format!(
            "supervisord cannot carry {field} `{}` of service `{}`: its ini syntax has no quoting, so a `;` or `#` after whitespace, surrounding whitespace or the text `%(here)s` would be changed",
            value.escape_debug(),
            svc.name
        ))
        .into()),
    }
}

/// Build the section for `svc` (or one of its instances) named `name`.
///
/// # Errors
/// A path or user name that the ini syntax cannot carry.
pub fn section(
    model: &Model,
    svc: &Service,
    name: &str,
    instance: Instance<'_>,
    priority: u32,
) -> Result<ProgramSection> {
    let d = &DATA.program;
    let env: Vec<(String, String)> = svc
        .environment
        .iter()
        .map(|(k, v)| (k.clone(), instance.apply(v)))
        .collect();
    let native = esc::environment(&env);
    let (argv, mut comments) = launch(model, svc, instance, &env);

    let description = match instance {
        Instance::Named(i) => substitute(&svc.description, Some(i)),
        _ => svc.description.clone(),
    };
    comments.insert(0, description);
    if let Instance::Named(i) = instance {
        comments.insert(1, format!("instance `{i}` of service {}", svc.name));
    }

    let logs = match &svc.logs {
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
    };

    let mut exitcodes = vec![0];
    for c in &svc.success_exit_codes {
        if !exitcodes.contains(c) {
            exitcodes.push(*c);
        }
    }
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
        environment: (!native.is_empty()).then_some(native),
        priority,
        autorestart: match svc.restart {
            RestartPolicy::Always => "true",
            RestartPolicy::OnFailure => "unexpected",
            RestartPolicy::Never => "false",
        },
        startsecs: d.startsecs,
        startretries: svc.start_limit.map_or(d.startretries, |l| l.burst),
        exitcodes: exitcodes
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(","),
        stopsignal: svc.stop_signal.short().to_owned(),
        stopwaitsecs: svc.stop_timeout.secs_ceil(),
        logs,
    })
}

/// The argv supervisord runs (placeholders marked for [`esc::expand`]) and comments that
/// explain the wrapper. Without anything to do first it is the service's own argv;
/// otherwise `/bin/sh -c SCRIPT NAME [KEY=value… --] ARGV…`, where SCRIPT ends in
/// `exec "$@"` so the program gets exactly its argv.
fn launch(
    model: &Model,
    svc: &Service,
    instance: Instance<'_>,
    env: &[(String, String)],
) -> (Vec<String>, Vec<String>) {
    let mut steps: Vec<String> = Vec::new();
    let mut comments = Vec::new();
    let exports: Vec<String> = env
        .iter()
        .filter(|(_, v)| esc::env_token(v).is_none())
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if !exports.is_empty() {
        steps.push(format!(
            "while [ \"$1\" != {EXPORTS_END} ]; do export \"$1\"; shift; done; shift"
        ));
        comments.push(
            "environment values that environment= cannot quote are exported by the wrapper"
                .to_owned(),
        );
    }
    if let Some(file) = &svc.environment_file {
        steps.push(format!("set -a; . {}; set +a", sh::quote(file)));
    }
    if let Some(n) = svc.limits.nofile {
        steps.push(format!("ulimit -n {n}"));
    }
    if let Some(n) = svc.limits.nproc {
        steps.push(format!("ulimit -u {n} 2>/dev/null || ulimit -p {n}"));
    }
    let mut waits = Vec::new();
    for name in svc.external_deps() {
        if let Some(ext) = model.external(name) {
            steps.push(gate::wait_script(
                &format!("external {name}"),
                &ext.check,
                ext.wait_timeout,
            ));
            waits.push(format!("external {name} ({})", gate::describe(&ext.check)));
        }
    }
    for dep in &svc.requires {
        let Dep::Service(n) = dep else { continue };
        let Some(health) = model.service(n).and_then(|s| s.health.as_ref()) else {
            comments.push(format!(
                "requires {n}: started after it (priority); {n} has no health check to wait for"
            ));
            continue;
        };
        let budget = model.service(n).map_or(Duration::default(), |s| {
            s.external_deps()
                .iter()
                .filter_map(|e| model.external(e))
                .fold(Duration::default(), |sum, e| {
                    sum.saturating_add(e.wait_timeout)
                })
        });
        steps.push(gate::wait_script(
            &format!("service {n}"),
            &health.check,
            budget.saturating_add(health.window()),
        ));
        waits.push(format!("service {n} ({})", gate::describe(&health.check)));
    }
    if !waits.is_empty() {
        comments.push(format!("before starting, waits for {}", waits.join(", ")));
    }
    for argv in &svc.pre_start {
        let argv: Vec<String> = argv.iter().map(|a| instance.apply(a)).collect();
        steps.push(sh::join(&argv));
    }
    let argv: Vec<String> = svc.command.iter().map(|a| instance.apply(a)).collect();
    if steps.is_empty() {
        return (argv, comments);
    }
    let script = format!("set -e; {}; exec \"$@\"", steps.join("; "));
    let mut out = vec![
        WRAPPER_SHELL.to_owned(),
        "-c".into(),
        script,
        svc.name.clone(),
    ];
    if !exports.is_empty() {
        out.extend(exports);
        out.push(EXPORTS_END.to_owned());
    }
    out.extend(argv);
    (out, comments)
}

/// Settings of the standalone daemon sections, with the stack name filled in.
///
/// # Errors
/// A path the ini syntax cannot carry (only possible with edited backend data).
pub fn daemon_paths(stack: &str, s: &Settings) -> Result<[String; 4]> {
    let fill = |p: &str| {
        let p = p.replace("{stack}", stack);
        esc::plain(&p).ok_or_else(|| anyhow::anyhow!("the standalone path `{p}` cannot be written"))
    };
    Ok([
        fill(&s.socket)?,
        fill(&s.pidfile)?,
        fill(&s.logfile)?,
        fill(&s.childlogdir)?,
    ])
}
