//! The template context of one service unit: every value already escaped for systemd.

use std::borrow::Cow;

use serde::Serialize;

use super::fields::{Environment, ExecLine, Span};
use super::index::{Edges, Shared};
use super::{HEADER, esc};
use crate::backend::shared::gate;
use crate::backend::shared::lines::{self, Lines};
use crate::backend::shared::waits;
use crate::manifest::{Duration, RestartPolicy};
use crate::model::{Logs, Service, map_placeholder};
use crate::render::Native;
use crate::render::native::{line, line_if, lines as each_line, number_if, push_i64};

#[derive(Serialize)]
pub(super) struct ServiceUnit<'a> {
    header: &'static str,
    description: Cow<'a, str>,
    part_of: Vec<&'a str>,
    requires: &'a [&'a str],
    wants: &'a [&'a str],
    after: &'a [&'a str],
    before: &'a [&'a str],
    /// The lists above cut into lines (see [`lines::runs`]): what the template writes.
    requires_lines: Lines<'a, &'a str>,
    wants_lines: Lines<'a, &'a str>,
    after_lines: Lines<'a, &'a str>,
    before_lines: Lines<'a, &'a str>,
    start_limit_interval: Cow<'static, str>,
    start_limit_burst: Option<u32>,
    exec_start_pre: Vec<Cow<'a, str>>,
    exec_start: ExecLine<'a>,
    exec_start_post: Vec<String>,
    user: Option<Cow<'a, str>>,
    group: Option<Cow<'a, str>>,
    working_dir: Option<Cow<'a, str>>,
    environment: Environment<'a>,
    environment_file: Option<Cow<'a, str>>,
    restart: &'static str,
    restart_sec: Span,
    timeout_start: Option<Span>,
    kill_signal: &'a str,
    timeout_stop: Span,
    success_exit_status: Option<String>,
    limit_nofile: Option<u64>,
    limit_nproc: Option<u64>,
    memory_max: Option<u64>,
    cpu_quota: Option<String>,
    stdout: Option<String>,
    stderr: Option<String>,
    sandbox: &'a [Cow<'static, str>],
    wanted_by: Vec<&'a str>,
}

/// Readiness: gates on externals before the start (soft ones may fail), the health check
/// after it; and the start timeout that covers both.
fn readiness<'a>(sh: &'a Shared<'_>, s: usize) -> (Vec<Cow<'a, str>>, Vec<String>, Option<Span>) {
    let model = sh.model;
    let svc = &model.services[s];
    let mut pre = Vec::new();
    let mut budget = Duration::default();
    for (e, kind) in waits::externals(model, s) {
        let line = sh.gate(e);
        pre.push(if kind.is_hard() {
            Cow::Borrowed(line)
        } else {
            Cow::Owned(format!("-{line}"))
        });
        budget = budget.saturating_add(model.externals[e].wait_timeout);
    }
    let inst = svc.is_instanced();
    pre.extend(
        svc.pre_start
            .iter()
            .map(|argv| Cow::Owned(esc::exec_line(argv, inst))),
    );
    let mut post = Vec::new();
    if let Some(h) = &svc.health {
        let mut script = String::with_capacity(400);
        gate::push_wait_script(&mut script, &svc.name, &h.check, h.window());
        let mut line = String::with_capacity(script.len() + 32);
        line.push_str("/bin/sh -c \"");
        esc::push_literal(&mut line, &script, true, false);
        line.push('"');
        post.push(line);
        budget = budget.saturating_add(h.window());
    }
    let timeout =
        (budget.millis() > 0).then(|| Span(budget.saturating_add(Duration::from_secs(30))));
    (pre, post, timeout)
}

/// `StandardOutput=`/`StandardError=` for log files (`None`: the journal).
fn outputs(logs: &Logs) -> (Option<String>, Option<String>) {
    match logs {
        Logs::Journal => (None, None),
        Logs::Files { stdout, stderr } => {
            let out = format!("append:{}", esc::value(stdout));
            let err = stderr
                .as_ref()
                .map_or_else(|| out.clone(), |e| format!("append:{}", esc::value(e)));
            (Some(out), Some(err))
        }
    }
}

/// The targets service `s` is part of: the stack's, then its groups'.
fn part_of<'a>(sh: &'a Shared<'_>, s: usize) -> Vec<&'a str> {
    let view = &sh.model.view;
    let mut part_of = Vec::with_capacity(1 + view.groups_of(s).len());
    if view.in_stack(s) {
        part_of.push(sh.stack_target.as_str());
    }
    part_of.extend(
        view.groups_of(s)
            .iter()
            .map(|&g| sh.group_targets[g].as_str()),
    );
    part_of
}

/// `StartLimitIntervalSec=` and `StartLimitBurst=`.
fn start_limit(svc: &Service) -> (Cow<'static, str>, Option<u32>) {
    match svc.start_limit {
        Some(l) => {
            let mut text = String::with_capacity(16);
            Span(l.interval).push(&mut text);
            (Cow::Owned(text), Some(l.burst))
        }
        None => (Cow::Borrowed("0"), None), // never give up restarting a crashed service
    }
}

/// `SuccessExitStatus=`, when there are success codes.
fn success_exit_status(codes: &[i32]) -> Option<String> {
    (!codes.is_empty()).then(|| {
        let mut out = String::with_capacity(4 * codes.len());
        for (i, &c) in codes.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            push_i64(&mut out, c.into());
        }
        out
    })
}

/// The context of service `s`'s unit.
pub(super) fn service_unit<'a>(
    sh: &'a Shared<'_>,
    s: usize,
    edges: &'a Edges<'a>,
) -> ServiceUnit<'a> {
    let model = sh.model;
    let svc = &model.services[s];
    let inst = svc.is_instanced();
    let part_of = part_of(sh, s);
    let (exec_start_pre, exec_start_post, timeout_start) = readiness(sh, s);
    let (stdout, stderr) = outputs(&svc.logs);
    let (start_limit_interval, start_limit_burst) = start_limit(svc);
    ServiceUnit {
        header: HEADER,
        description: if inst {
            Cow::Owned(map_placeholder(
                &svc.description,
                esc::value,
                esc::INSTANCE_TOKEN,
            ))
        } else {
            esc::value_cow(&svc.description)
        },
        wanted_by: if part_of.is_empty() {
            vec!["multi-user.target"]
        } else {
            part_of.clone()
        },
        part_of,
        requires_lines: Lines(&edges.requires),
        wants_lines: Lines(&edges.wants),
        after_lines: Lines(&edges.after),
        before_lines: Lines(&edges.before),
        requires: &edges.requires,
        wants: &edges.wants,
        after: &edges.after,
        before: &edges.before,
        start_limit_interval,
        start_limit_burst,
        exec_start_pre,
        exec_start: ExecLine {
            argv: &svc.command,
            instanced: inst,
        },
        exec_start_post,
        user: svc.user.as_deref().map(esc::value_cow),
        group: svc.group.as_deref().map(esc::value_cow),
        working_dir: svc.working_dir.as_deref().map(esc::value_cow),
        environment: Environment {
            vars: &svc.environment,
            instanced: inst,
        },
        environment_file: svc.environment_file.as_deref().map(esc::value_cow),
        restart: match svc.restart {
            RestartPolicy::Always => "always",
            RestartPolicy::OnFailure => "on-failure",
            RestartPolicy::Never => "no",
        },
        restart_sec: Span(svc.restart_delay),
        timeout_start,
        kill_signal: svc.stop_signal.name(),
        timeout_stop: Span(svc.stop_timeout),
        success_exit_status: success_exit_status(&svc.success_exit_codes),
        limit_nofile: svc.limits.nofile,
        limit_nproc: svc.limits.nproc,
        memory_max: svc.limits.memory_max.map(|b| b.0),
        cpu_quota: svc.limits.cpu_quota.map(|q| format!("{q}%")),
        stdout,
        stderr,
        sandbox: &sh.sandboxes[sh.sandbox_of[s]],
    }
}

impl Native for ServiceUnit<'_> {
    fn size_hint(&self) -> usize {
        let list = |l: &[&str]| l.iter().map(|u| u.len() + 1).sum::<usize>();
        let each = |l: &[String]| l.iter().map(|u| u.len() + 24).sum::<usize>();
        900 + self.description.len()
            + list(self.requires)
            + list(self.wants)
            + 2 * list(self.after)
            + list(self.before)
            + self
                .exec_start_pre
                .iter()
                .map(|l| l.len() + 16)
                .sum::<usize>()
            + self
                .exec_start
                .argv
                .iter()
                .map(|w| w.len() + 3)
                .sum::<usize>()
            + each(&self.exec_start_post)
            + self
                .environment
                .vars
                .iter()
                .map(|(k, v)| k.len() + v.len() + 16)
                .sum::<usize>()
            + self.sandbox.iter().map(|l| l.len() + 1).sum::<usize>()
    }

    /// `templates/systemd/service.tera`, without tera.
    fn write_native(&self, out: &mut String) {
        out.push_str("# ");
        out.push_str(self.header);
        out.push_str("\n[Unit]\nDescription=");
        out.push_str(&self.description);
        each_line(out, "PartOf=", &self.part_of);
        lines::push_lines(out, "Requires=", self.requires, " ");
        lines::push_lines(out, "Wants=", self.wants, " ");
        lines::push_lines(out, "After=", self.after, " ");
        lines::push_lines(out, "Before=", self.before, " ");
        line(out, "StartLimitIntervalSec=", &self.start_limit_interval);
        number_if(
            out,
            "StartLimitBurst=",
            self.start_limit_burst.map(u64::from),
        );
        out.push_str("\n\n[Service]\nType=exec");
        each_line(out, "ExecStartPre=", &self.exec_start_pre);
        out.push_str("\nExecStart=");
        esc::push_exec_line(out, self.exec_start.argv, self.exec_start.instanced);
        each_line(out, "ExecStartPost=", &self.exec_start_post);
        line_if(out, "User=", self.user.as_deref());
        line_if(out, "Group=", self.group.as_deref());
        line_if(out, "WorkingDirectory=", self.working_dir.as_deref());
        for (k, v) in self.environment.vars {
            out.push_str("\nEnvironment=\"");
            out.push_str(k);
            out.push('=');
            esc::push_literal(out, v, false, self.environment.instanced);
            out.push('"');
        }
        line_if(out, "EnvironmentFile=", self.environment_file.as_deref());
        line(out, "Restart=", self.restart);
        out.push_str("\nRestartSec=");
        self.restart_sec.push(out);
        if let Some(t) = self.timeout_start {
            out.push_str("\nTimeoutStartSec=");
            t.push(out);
        }
        line(out, "KillSignal=", self.kill_signal);
        out.push_str("\nTimeoutStopSec=");
        self.timeout_stop.push(out);
        line_if(
            out,
            "SuccessExitStatus=",
            self.success_exit_status.as_deref(),
        );
        number_if(out, "LimitNOFILE=", self.limit_nofile);
        number_if(out, "LimitNPROC=", self.limit_nproc);
        number_if(out, "MemoryMax=", self.memory_max);
        line_if(out, "CPUQuota=", self.cpu_quota.as_deref());
        if let Some(stdout) = self.stdout.as_deref().filter(|s| !s.is_empty()) {
            line(out, "StandardOutput=", stdout);
            line(
                out,
                "StandardError=",
                self.stderr.as_deref().unwrap_or_default(),
            );
        }
        each_line(out, "", self.sandbox);
        out.push_str("\n\n[Install]\nWantedBy=");
        lines::push_joined(out, &self.wanted_by, " ");
        out.push('\n');
    }
}
