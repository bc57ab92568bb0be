//! The template context of one service unit: every value already escaped for systemd.

use serde::Serialize;

use super::{HEADER, esc, process_unit};
use crate::backend::shared::gate;
use crate::manifest::{Duration, RestartPolicy};
use crate::model::{DepKind, Logs, Model, Target, map_placeholder};
use crate::render::Native;
use crate::render::native::{joined_if, line, line_if, lines, number_if, push_joined};

#[derive(Serialize)]
pub(super) struct ServiceUnit {
    header: &'static str,
    description: String,
    part_of: Vec<String>,
    requires: Vec<String>,
    wants: Vec<String>,
    after: Vec<String>,
    before: Vec<String>,
    start_limit_interval: String,
    start_limit_burst: Option<u32>,
    exec_start_pre: Vec<String>,
    exec_start: String,
    exec_start_post: Vec<String>,
    user: Option<String>,
    group: Option<String>,
    working_dir: Option<String>,
    environment: Vec<String>,
    environment_file: Option<String>,
    restart: &'static str,
    restart_sec: String,
    timeout_start: Option<String>,
    kill_signal: String,
    timeout_stop: String,
    success_exit_status: Option<String>,
    limit_nofile: Option<u64>,
    limit_nproc: Option<u64>,
    memory_max: Option<u64>,
    cpu_quota: Option<String>,
    stdout: Option<String>,
    stderr: Option<String>,
    sandbox: Vec<String>,
    wanted_by: Vec<String>,
}

/// systemd time span: whole seconds when exact, else milliseconds.
fn span(d: Duration) -> String {
    if d.millis().is_multiple_of(1000) {
        format!("{}s", d.millis() / 1000)
    } else {
        format!("{}ms", d.millis())
    }
}

/// The units of the services service `s` depends on, per kind, and the units it orders
/// itself before.
struct Edges {
    requires: Vec<String>,
    wants: Vec<String>,
    after: Vec<String>,
    before: Vec<String>,
}

fn edges(model: &Model, s: usize) -> Edges {
    let units = |i: usize| {
        model
            .view
            .processes_of(i)
            .iter()
            .map(|p| process_unit(model, p))
            .collect::<Vec<_>>()
    };
    let mut e = Edges {
        requires: Vec::new(),
        wants: Vec::new(),
        after: Vec::new(),
        before: Vec::new(),
    };
    for d in model.view.dependencies(s) {
        let Target::Service(t) = d.target else {
            continue;
        };
        let list = units(t);
        match d.kind {
            DepKind::Requires => e.requires.extend(list.iter().cloned()),
            DepKind::Wants => e.wants.extend(list.iter().cloned()),
            DepKind::After | DepKind::Before => {}
        }
        e.after.extend(list);
    }
    for name in &model.services[s].before {
        if let Some(t) = model.view.service_id(name) {
            e.before.extend(units(t));
        }
    }
    e
}

/// Readiness: gates on externals before the start (soft ones may fail), the health check
/// after it; and the start timeout that covers both.
fn readiness(model: &Model, s: usize) -> (Vec<String>, Vec<String>, Option<String>) {
    let svc = &model.services[s];
    let mut pre = Vec::new();
    let mut budget = Duration::default();
    for w in model.waits(s).waits.iter().filter(|w| w.external) {
        let argv = gate::wait_argv(&w.label, w.check, w.budget);
        let line = esc::exec_line(&argv, false);
        pre.push(if w.hard() { line } else { format!("-{line}") });
        budget = budget.saturating_add(w.budget);
    }
    let inst = svc.is_instanced();
    pre.extend(svc.pre_start.iter().map(|argv| esc::exec_line(argv, inst)));
    let mut post = Vec::new();
    if let Some(h) = &svc.health {
        let argv = gate::wait_argv(&svc.name, &h.check, h.window());
        post.push(esc::exec_line(&argv, false));
        budget = budget.saturating_add(h.window());
    }
    let timeout =
        (budget.millis() > 0).then(|| span(budget.saturating_add(Duration::from_secs(30))));
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

/// The context of service `s`'s unit.
pub(super) fn service_unit(model: &Model, s: usize) -> ServiceUnit {
    let svc = &model.services[s];
    let inst = svc.is_instanced();
    let mut part_of = Vec::new();
    if model.view.in_stack(s) {
        part_of.push(format!("{}.target", model.name));
    }
    part_of.extend(
        model
            .view
            .groups_of(s)
            .iter()
            .map(|&g| format!("{}.target", model.groups[g].name)),
    );
    let edges = edges(model, s);
    let (exec_start_pre, exec_start_post, timeout_start) = readiness(model, s);
    let (stdout, stderr) = outputs(&svc.logs);
    let (start_limit_interval, start_limit_burst) = match svc.start_limit {
        Some(l) => (span(l.interval), Some(l.burst)),
        None => ("0".to_owned(), None), // never give up restarting a crashed service
    };
    ServiceUnit {
        header: HEADER,
        description: if inst {
            map_placeholder(&svc.description, esc::value, esc::INSTANCE_TOKEN)
        } else {
            esc::value(&svc.description)
        },
        wanted_by: if part_of.is_empty() {
            vec!["multi-user.target".into()]
        } else {
            part_of.clone()
        },
        part_of,
        requires: edges.requires,
        wants: edges.wants,
        after: edges.after,
        before: edges.before,
        start_limit_interval,
        start_limit_burst,
        exec_start_pre,
        exec_start: esc::exec_line(&svc.command, inst),
        exec_start_post,
        user: svc.user.as_deref().map(esc::value),
        group: svc.group.as_deref().map(esc::value),
        working_dir: svc.working_dir.as_deref().map(esc::value),
        environment: svc
            .environment
            .iter()
            .map(|(k, v)| esc::environment(k, v, inst))
            .collect(),
        environment_file: svc.environment_file.as_deref().map(esc::value),
        restart: match svc.restart {
            RestartPolicy::Always => "always",
            RestartPolicy::OnFailure => "on-failure",
            RestartPolicy::Never => "no",
        },
        restart_sec: span(svc.restart_delay),
        timeout_start,
        kill_signal: svc.stop_signal.name().to_owned(),
        timeout_stop: span(svc.stop_timeout),
        success_exit_status: (!svc.success_exit_codes.is_empty()).then(|| {
            svc.success_exit_codes
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" ")
        }),
        limit_nofile: svc.limits.nofile,
        limit_nproc: svc.limits.nproc,
        memory_max: svc.limits.memory_max.map(|b| b.0),
        cpu_quota: svc.limits.cpu_quota.map(|q| format!("{q}%")),
        stdout,
        stderr,
        sandbox: super::sandbox::directives(svc),
    }
}

impl Native for ServiceUnit {
    /// `templates/systemd/service.tera`, without tera.
    fn write_native(&self, out: &mut String) {
        out.push_str("# ");
        out.push_str(self.header);
        out.push_str("\n[Unit]\nDescription=");
        out.push_str(&self.description);
        lines(out, "PartOf=", &self.part_of);
        joined_if(out, "Requires=", &self.requires, " ");
        joined_if(out, "Wants=", &self.wants, " ");
        joined_if(out, "After=", &self.after, " ");
        joined_if(out, "Before=", &self.before, " ");
        line(out, "StartLimitIntervalSec=", &self.start_limit_interval);
        number_if(
            out,
            "StartLimitBurst=",
            self.start_limit_burst.map(u64::from),
        );
        out.push_str("\n\n[Service]\nType=exec");
        lines(out, "ExecStartPre=", &self.exec_start_pre);
        line(out, "ExecStart=", &self.exec_start);
        lines(out, "ExecStartPost=", &self.exec_start_post);
        line_if(out, "User=", self.user.as_deref());
        line_if(out, "Group=", self.group.as_deref());
        line_if(out, "WorkingDirectory=", self.working_dir.as_deref());
        lines(out, "Environment=", &self.environment);
        line_if(out, "EnvironmentFile=", self.environment_file.as_deref());
        line(out, "Restart=", self.restart);
        line(out, "RestartSec=", &self.restart_sec);
        line_if(out, "TimeoutStartSec=", self.timeout_start.as_deref());
        line(out, "KillSignal=", &self.kill_signal);
        line(out, "TimeoutStopSec=", &self.timeout_stop);
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
        lines(out, "", &self.sandbox);
        out.push_str("\n\n[Install]\nWantedBy=");
        push_joined(out, &self.wanted_by, " ");
        out.push('\n');
    }
}
