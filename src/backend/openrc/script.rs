//! The template context of one service script: every value already quoted for the shell
//! (and for OpenRC's `eval` where the variable goes through it).

use serde::Serialize;

use super::index::Index;
use crate::backend::kit::HEADER;
use crate::backend::shared::gate;
use crate::backend::shared::{lines, waits};
use crate::escape::openrc::{Piece, pieces, push_eval_assign, push_word, word};
use crate::manifest::{Duration, RestartPolicy};
use crate::model::{DepKind, Logs, Service, Target};
use crate::render::native::push_u64;

/// The guard that makes `restart = never` run the process once under supervise-daemon: it
/// execs the command only on the first spawn (`start_count` 0, written by supervise-daemon
/// before each spawn); on a respawn it exits, and `respawn_max=1` makes the supervisor give up.
pub const NEVER_GUARD: &str = r#"[ "$(cat "$0" 2>/dev/null)" = 0 ] || { echo "restart = never: not respawning" >&2; exit 0; }; exec "$@""#;

/// What `templates/openrc/service.tera` lays out.
#[derive(Serialize)]
pub struct ServiceScript<'a> {
    pub(super) header: &'static str,
    pub(super) name: &'a str,
    /// Space-separated instance names of a multiplexed script.
    pub(super) instances: Option<String>,
    pub(super) description: String,
    pub(super) never: bool,
    /// `command=` and `command_args=` with their helper lines.
    pub(super) command: Vec<String>,
    /// Other assignments, one per line.
    pub(super) settings: Vec<String>,
    /// `rc_cgroup_*` assignments.
    pub(super) cgroup: Vec<String>,
    /// Lines of `depend()`.
    pub(super) depend: Vec<String>,
    /// `ulimit` commands.
    pub(super) limits: Vec<String>,
    /// The environment file, quoted.
    pub(super) env_file: Option<String>,
    /// `checkpath` commands that create the log files for the service's user.
    pub(super) log_files: Vec<String>,
    /// Readiness gates on externals: one shell line each (a subshell that fails the start, or
    /// goes on for a soft dependency).
    pub(super) gates: Vec<&'a str>,
    /// `pre_start` commands, quoted.
    pub(super) pre_start: Vec<String>,
    /// Wait until the health check first passes (run in a subshell).
    pub(super) ready: Option<String>,
    pub(super) health: Option<HealthCheck>,
}

/// `healthcheck()`: one probe; unhealthy after `retries` failures in a row.
#[derive(Serialize)]
pub struct HealthCheck {
    pub(super) probe: String,
    pub(super) retries: u32,
}

fn secs(d: Duration) -> u64 {
    d.secs_ceil().max(1)
}

fn assign<'p, W: AsRef<[Piece<'p>]>>(lines: &mut Vec<String>, var: &str, words: &[W]) {
    push_eval_assign(lines, var, words);
}

/// `{key}{n}`.
fn number(key: &str, n: u64) -> String {
    let mut out = String::with_capacity(key.len() + 20);
    out.push_str(key);
    push_u64(&mut out, n);
    out
}

/// `command=` and `command_args=` (behind the never-guard for `restart = never`).
fn command(svc: &Service, inst: bool, never: bool) -> Vec<String> {
    let mut argv: Vec<Vec<Piece<'_>>> = svc.command.iter().map(|a| pieces(a, inst)).collect();
    if never {
        let state = vec![
            Piece::Var("RC_SVCDIR"),
            Piece::Text("/options/"),
            Piece::Var("RC_SVCNAME"),
            Piece::Text("/start_count"),
        ];
        let guard = vec![
            vec![Piece::Text("/bin/sh")],
            vec![Piece::Text("-c")],
            vec![Piece::Text(NEVER_GUARD)],
            state,
        ];
        argv.splice(0..0, guard);
    }
    let mut command = Vec::new();
    assign(&mut command, "command", &argv[..1]);
    assign(&mut command, "command_args", &argv[1..]);
    command
}

/// Stop schedule, respawn policy and periodic health check (supervise-daemon's settings).
fn supervision(svc: &Service, never: bool, settings: &mut Vec<String>) -> Option<HealthCheck> {
    let mut retry = String::with_capacity(32);
    retry.push_str(svc.stop_signal.name());
    retry.push('/');
    push_u64(&mut retry, secs(svc.stop_timeout));
    retry.push_str("/SIGKILL/5");
    assign(settings, "retry", &[[Piece::Text(&retry)]]);
    let delay = svc.restart_delay.secs_ceil();
    if delay > 0 && !never {
        settings.push(number("respawn_delay=", delay));
    }
    match (never, svc.start_limit) {
        (true, _) => settings.push("respawn_max=1".into()),
        (false, Some(l)) => {
            settings.push(number(
                "respawn_max=",
                l.burst.saturating_sub(1).max(1).into(),
            ));
            settings.push(number("respawn_period=", secs(l.interval)));
        }
        (false, None) => settings.push("respawn_max=0".into()),
    }
    svc.health.as_ref().filter(|_| !never).map(|h| {
        settings.push(number("healthcheck_delay=", secs(h.interval)));
        settings.push(number("healthcheck_timer=", secs(h.interval)));
        HealthCheck {
            probe: gate::probe(&h.check, h.timeout),
            retries: h.retries.max(1),
        }
    })
}

/// `rc_cgroup_*` settings for memory and CPU limits (cgroup v2 and v1).
fn cgroup(svc: &Service) -> Vec<String> {
    let mut cgroup = Vec::new();
    let mut v2 = Vec::new();
    if let Some(m) = svc.limits.memory_max {
        v2.push(format!("memory.max {}", m.0));
        cgroup.push(format!(
            "rc_cgroup_memory=\"memory.limit_in_bytes {}\"",
            m.0
        ));
    }
    if let Some(q) = svc.limits.cpu_quota {
        let quota = u64::from(q) * 1000;
        v2.push(format!("cpu.max {quota} 100000"));
        cgroup.push(format!(
            "rc_cgroup_cpu=\"cpu.cfs_period_us 100000 cpu.cfs_quota_us {quota}\""
        ));
    }
    if !v2.is_empty() {
        cgroup.insert(0, format!("rc_cgroup_settings=\"\n{}\n\"", v2.join("\n")));
    }
    cgroup
}

/// `output_log=`/`error_log=`: the manifest's files, or `DEFAULT_DIR/$RC_SVCNAME.log`;
/// returns both as words for the `checkpath` lines.
fn log_settings<'a>(
    svc: &'a Service,
    inst: bool,
    default_log: &'a str,
    settings: &mut Vec<String>,
) -> (Vec<Piece<'a>>, Vec<Piece<'a>>) {
    let log_pieces: (Vec<Piece<'_>>, Vec<Piece<'_>>) = match &*svc.logs {
        Logs::Journal => {
            let p = vec![
                Piece::Text(default_log),
                Piece::Var("RC_SVCNAME"),
                Piece::Text(".log"),
            ];
            (p.clone(), p)
        }
        Logs::Files { stdout, stderr } => (
            pieces(stdout, inst),
            pieces(stderr.as_deref().unwrap_or(stdout), inst),
        ),
    };
    assign(settings, "output_log", std::slice::from_ref(&log_pieces.0));
    assign(settings, "error_log", std::slice::from_ref(&log_pieces.1));
    log_pieces
}

/// `supervise_daemon_args`: the sandbox's flags, `--group` without a user, and `--env KEY=value` per variable.
fn daemon_args(svc: &Service, inst: bool, settings: &mut Vec<String>) {
    let mut sd_args: Vec<Vec<Piece<'_>>> = super::sandbox::daemon_flags(svc)
        .iter()
        .map(|f| vec![Piece::Text(f)])
        .collect();
    if let (None, Some(g)) = (&svc.user, &svc.group) {
        sd_args.push(vec![Piece::Text("--group")]);
        sd_args.push(vec![Piece::Text(g)]);
    }
    let env_texts: Vec<(String, &str)> = svc
        .environment
        .iter()
        .map(|(k, v)| (format!("{k}="), v))
        .collect();
    for (key, val) in &env_texts {
        sd_args.push(vec![Piece::Text("--env")]);
        let mut w = vec![Piece::Text(key)];
        w.extend(pieces(val, inst));
        sd_args.push(w);
    }
    assign(settings, "supervise_daemon_args", &sd_args);
}

/// An argv as one shell command line (the placeholder as `$instance`).
fn shell_words(argv: &crate::model::Strs, inst: bool) -> String {
    argv.iter()
        .map(|a| word(&pieces(a, inst)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Build the context for service `s`.
#[must_use]
pub fn build<'a>(index: &'a Index<'_>, s: usize) -> ServiceScript<'a> {
    let model = index.model;
    let svc = &model.services[s];
    let inst = svc.is_instanced();
    let never = svc.restart == RestartPolicy::Never;

    let command = command(svc, inst, never);

    let mut settings = Vec::new();
    let owner = match (&svc.user, &svc.group) {
        (Some(u), Some(g)) => Some(format!("{u}:{g}")),
        (Some(u), None) => Some(u.to_string()),
        (None, _) => None,
    };
    if let Some(o) = &owner {
        assign(&mut settings, "command_user", &[vec![Piece::Text(o)]]);
    }
    if let Some(dir) = &svc.working_dir {
        assign(&mut settings, "directory", &[vec![Piece::Text(dir)]]);
    }
    let log_pieces = log_settings(svc, inst, &index.log_prefix, &mut settings);

    daemon_args(svc, inst, &mut settings);
    settings.extend(super::sandbox::settings(svc));

    let health = supervision(svc, never, &mut settings);

    let cgroup = cgroup(svc);

    ServiceScript {
        header: HEADER,
        name: &svc.name,
        instances: svc.instances.as_ref().map(|v| v.join(" ")),
        description: word(&pieces(&svc.description, inst)),
        never,
        command,
        settings,
        cgroup,
        depend: depend(index, s),
        limits: [("-n", svc.limits.nofile), ("-u", svc.limits.nproc)]
            .iter()
            .filter_map(|(flag, v)| v.map(|n| format!("ulimit {flag} {n}")))
            .collect(),
        env_file: svc
            .environment_file
            .as_deref()
            .map(|f| word(&[Piece::Text(f)])),
        log_files: log_files(index, svc, owner.as_deref(), &log_pieces),
        gates: waits::externals(model, s)
            .map(|(e, kind)| index.gate(e, kind.is_hard()))
            .collect(),
        pre_start: svc
            .pre_start
            .iter()
            .map(|argv| shell_words(argv, inst))
            .collect(),
        ready: svc
            .health
            .as_ref()
            .map(|h| gate::wait_script(&svc.name, &h.check, h.window())),
        health,
    }
}

fn log_files(
    index: &Index<'_>,
    svc: &Service,
    owner: Option<&str>,
    (out, err): &(Vec<Piece<'_>>, Vec<Piece<'_>>),
) -> Vec<String> {
    let mut lines = Vec::with_capacity(2);
    if *svc.logs == Logs::Journal {
        lines.push(index.log_dir_line.clone());
    }
    let mut line = String::with_capacity(96);
    line.push_str("checkpath --file --mode 0640");
    if let Some(o) = owner {
        line.push_str(" --owner ");
        push_word(&mut line, &[Piece::Text(o)]);
    }
    line.push(' ');
    push_word(&mut line, out);
    if err != out {
        line.push(' ');
        push_word(&mut line, err);
    }
    lines.push(line);
    lines
}

fn depend(index: &Index<'_>, s: usize) -> Vec<String> {
    let model = index.model;
    let names = |t: usize| index.names.of(t);
    let (mut need, mut want, mut after, mut before) = (vec![], vec![], vec![], vec![]);
    for d in model.view.dependencies(s) {
        let Target::Service(t) = d.target else {
            continue;
        };
        match d.kind {
            DepKind::Requires => need.extend(names(t)),
            DepKind::Wants => want.extend(names(t)),
            DepKind::After | DepKind::Before => {}
        }
        after.extend(names(t));
    }
    for name in &model.services[s].before {
        if let Some(t) = model.view.service_id(name) {
            before.extend(names(t));
        }
    }
    // long lists over several lines: OpenRC adds up repeated `need`, `want`…
    let mut out = Vec::new();
    for (kw, list) in [
        ("need ", need),
        ("want ", want),
        ("after ", after),
        ("before ", before),
    ] {
        for run in lines::runs(&list) {
            let mut line =
                String::with_capacity(kw.len() + run.iter().map(|n| n.len() + 1).sum::<usize>());
            line.push_str(kw);
            lines::push_joined(&mut line, run, " ");
            out.push(line);
        }
    }
    out
}
