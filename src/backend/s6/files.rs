//! The files of one s6 service directory: `run` and `finish` (`#!/bin/sh`, every word quoted
//! by [`sh`]), `notification-fd` and `data/check` for readiness through
//! `s6-notifyoncheck`, `down-signal`, `timeout-kill`, `timeout-finish`, `env/KEY` and
//! `log/run` (s6-log). Dependencies are siblings (`../DEP`), found wherever the directories
//! are installed; s6-rc (the s6-overlay layout) starts them itself.

use std::borrow::Cow;

use crate::backend::kit::Artifact;
use crate::backend::runit::process::{AfterExit, DepDir, Plan};
use crate::backend::runit::{head, head_with, push_path_quoted, push_sibling};
use crate::backend::shared::gate;
use crate::escape::sh;
use crate::model::DepKind;
use crate::render::native::push_u64;

/// Where `finish` records an exit it leaves down (`CODE SIGNAL`): s6 shows a stopped and a
/// given-up service alike, so this file is how `status` tells them apart. `run` removes it.
pub const EXITED: &str = "supervise/openim-init.exited";

/// The descriptor the readiness notification is written to.
pub const NOTIFICATION_FD: u32 = 3;

/// The argument `run` gives itself when `s6-notifyoncheck` runs it again.
const CHECKED: &str = "checked";

/// How a service directory is started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deps {
    /// `run` starts and waits for its dependencies (plain s6-svscan).
    InRun,
    /// s6-rc starts them (`dependencies.d`); `run` waits for nothing.
    ByS6Rc,
}

fn millis(d: crate::manifest::Duration) -> u64 {
    d.0.max(1)
}

/// How many more times `run` asks a dependency's supervisor to start it (until it has
/// written its status), a second apart.
const UP_TRIES: u32 = 5;

/// Append the line that brings up (or waits for) a sibling and waits until it is ready.
fn push_dep_line(out: &mut String, d: &DepDir<'_>) {
    let dir = |out: &mut String| push_sibling(out, d.name);
    let ms = d.wait_secs.saturating_mul(1000);
    // ready (-U) needs a readiness signal: a service without a health check is only "up"
    let w = if d.checked { "-U" } else { "-u" };
    let wait = |out: &mut String| {
        out.push_str("s6-svwait ");
        out.push_str(w);
        out.push_str(" -t ");
        push_u64(out, ms);
        out.push(' ');
        dir(out);
    };
    // asked to start until its supervisor listens and has written its status: s6-svok
    // answers once s6-supervise holds its lock, before it reads its control FIFO (an
    // `s6-svc -u` then fails), and it writes `supervise/status` later still (s6-svwait
    // then fails); a loaded machine left `restart = never` services down both ways
    let status = format!("{}/supervise/status", d.name);
    let up = |out: &mut String| {
        out.push_str("i=0; until s6-svc -u ");
        dir(out);
        out.push_str(" && [ -f ");
        push_sibling(out, &status);
        out.push_str(" ] || [ \"$i\" -ge ");
        push_u64(out, UP_TRIES.into());
        out.push_str(" ]; do i=$((i+1)); sleep 1; done; ");
    };
    match d.kind {
        DepKind::Requires => {
            up(out);
            wait(out);
            out.push_str(" || exit 1");
        }
        DepKind::Wants => {
            up(out);
            wait(out);
            out.push_str(" || :");
        }
        DepKind::After | DepKind::Before => {
            out.push_str("[ \"$(s6-svstat -o wantedup ");
            dir(out);
            out.push_str(" 2>/dev/null)\" != true ] || ");
            wait(out);
            out.push_str(" || :");
        }
    }
}

/// The chain that switches the account: `s6-setuidgid USER`, or `s6-envuidgid` with
/// `s6-applyuidgid -Uz` for a group or a numeric id.
fn account<'a>(user: Option<&'a str>, group: Option<&str>) -> Vec<Cow<'a, str>> {
    let numeric = |n: &str| n.chars().all(|c| c.is_ascii_digit());
    let apply = [Cow::Borrowed("s6-applyuidgid"), Cow::Borrowed("-Uz")];
    match (user, group) {
        (None, None) => Vec::new(),
        (Some(u), None) if !numeric(u) => vec!["s6-setuidgid".into(), u.into()],
        (Some(u), None) => {
            let mut out: Vec<Cow<'a, str>> = vec!["s6-envuidgid".into(), "-n".into(), u.into()];
            out.extend(apply);
            out
        }
        (u, Some(g)) => {
            let mut out: Vec<Cow<'a, str>> = vec!["s6-envuidgid".into(), "-nB".into(), {
                let u = u.unwrap_or("root");
                let mut id = String::with_capacity(u.len() + g.len() + 1);
                id.push_str(u);
                id.push(':');
                id.push_str(g);
                id.into()
            }];
            out.extend(apply);
            out
        }
    }
}

/// The `run` script.
#[must_use]
pub fn run(plan: &Plan<'_>, deps: Deps) -> String {
    let mut s = head_with(
        plan,
        "s6-supervise runs this; it must exec the service (same pid)",
        crate::backend::runit::script_size(plan),
    );
    crate::backend::runit::push_redirect(&mut s, plan);
    let health = plan.svc.health.as_ref();
    // the lines before the exec; indented when s6-notifyoncheck runs the script again
    let indent = if health.is_some() { "  " } else { "" };
    if health.is_some() {
        s.push_str("if [ \"$1\" != ");
        s.push_str(CHECKED);
        s.push_str(" ]; then\n");
    }
    if !matches!(plan.after_exit, AfterExit::Restart { .. }) {
        s.push_str(indent);
        s.push_str("rm -f ");
        s.push_str(EXITED);
        s.push('\n');
    }
    if deps == Deps::InRun && !plan.deps.is_empty() {
        s.push_str(indent);
        s.push_str(&crate::backend::runit::supervisors_line(plan, "s6-svok"));
        s.push('\n');
        for d in &plan.deps {
            s.push_str(indent);
            push_dep_line(&mut s, d);
            s.push('\n');
        }
    }
    if let Some(h) = health {
        // s6-notifyoncheck must start in the service directory (./data/check,
        // ./notification-fd); it forks the checker and runs this script again
        s.push_str("  exec s6-notifyoncheck -d -w ");
        push_u64(&mut s, millis(h.interval));
        s.push_str(" -t ");
        push_u64(&mut s, millis(h.timeout));
        s.push_str(" -n ");
        push_u64(&mut s, h.retries.max(1).into());
        s.push_str(" ./run ");
        s.push_str(CHECKED);
        s.push_str("\nfi\n");
    }
    if !plan.env_files.is_empty() {
        s.push_str("env=\"$PWD/env\"\n");
    }
    if let Some(dir) = plan.cwd {
        s.push_str("cd ");
        sh::push_quote(&mut s, dir);
        s.push_str(" || exit 1\nunset OLDPWD\n");
    }
    if plan.svc.sandbox.level != crate::model::SandboxLevel::Off {
        // the sandbox: files the service creates are not world-readable
        s.push_str("umask 027\n");
    }
    push_exec(&mut s, plan);
    s
}

/// Append the `exec` line: the env dir, limits and the account switch, then the argv.
fn push_exec(s: &mut String, plan: &Plan<'_>) {
    s.push_str("exec ");
    if !plan.env_files.is_empty() {
        s.push_str("s6-envdir \"$env\" ");
    }
    // what runs before the argv: limits, then the account switch
    let limits = &plan.svc.limits;
    let soft = [
        (" -o ", limits.nofile),
        (" -p ", limits.nproc),
        (" -m ", limits.memory_max.map(|m| m.0)),
    ];
    if soft.iter().any(|(_, v)| v.is_some()) {
        s.push_str("s6-softlimit");
        for (flag, v) in soft {
            if let Some(v) = v {
                s.push_str(flag);
                push_u64(s, v);
            }
        }
        s.push(' ');
    }
    let account = account(plan.account.0, plan.account.1);
    if !account.is_empty() {
        sh::push_join(s, &account);
        s.push(' ');
    }
    plan.push_argv(s);
    s.push('\n');
}

/// The sleep `finish` adds: s6-supervise waits a second after `./finish` before it runs
/// `./run` again, so the restart delay is that second plus the sleep.
fn finish_sleep(after: AfterExit) -> AfterExit {
    match after {
        AfterExit::Restart { delay } => AfterExit::Restart {
            delay: delay.saturating_sub(1),
        },
        AfterExit::RestartOnFailure { delay } => AfterExit::RestartOnFailure {
            delay: delay.saturating_sub(1),
        },
        AfterExit::StayDown => AfterExit::StayDown,
    }
}

/// The `finish` script.
#[must_use]
pub fn finish(plan: &Plan<'_>, deps: Deps) -> Option<String> {
    let after = finish_sleep(plan.after_exit);
    let stop_dependents = deps == Deps::InRun && !plan.required_by.is_empty();
    if matches!(after, AfterExit::Restart { delay: 0 }) && !stop_dependents {
        return None;
    }
    let mut s = head_with(
        plan,
        "s6-supervise runs this after ./run exits: $1 = exit code (256: killed by a signal), $2 = signal",
        512 + 16 * plan.required_by.len(),
    );
    s.push_str("if [ \"$(s6-svstat -o wantedup .)\" != true ]; then\n  # stopped (s6-svc -d)\n");
    if stop_dependents {
        s.push_str("  # and so are the services that require it\n  s6-svc -d");
        for d in &plan.required_by {
            s.push(' ');
            push_sibling(&mut s, d);
        }
        s.push_str(" || :\n");
    }
    s.push_str("  exit 0\nfi\n");
    let exit = |s: &mut String| {
        s.push_str("echo \"$1 $2\" >");
        s.push_str(EXITED);
        s.push_str("; exit 125");
    };
    let sleep = |s: &mut String, delay: u64| {
        if delay > 0 {
            s.push_str("exec sleep ");
            push_u64(s, delay);
            s.push('\n');
        }
    };
    match after {
        AfterExit::Restart { delay: 0 } => {}
        AfterExit::Restart { delay } => {
            s.push_str("# restart_delay, less the second s6-supervise waits after ./finish\n");
            sleep(&mut s, delay);
        }
        AfterExit::RestartOnFailure { delay } => {
            s.push_str("# restart = on-failure: a clean exit stays down (exit 125: s6-supervise gives up)\ncase $1 in ");
            plan.push_clean_codes(&mut s);
            s.push_str(") ");
            exit(&mut s);
            s.push_str(" ;; esac\n");
            sleep(&mut s, delay);
        }
        AfterExit::StayDown => {
            s.push_str("# restart = never (exit 125: s6-supervise does not restart)\n");
            exit(&mut s);
            s.push('\n');
        }
    }
    Some(s)
}

/// A file holding `n` and a newline.
fn number(n: u64) -> String {
    let mut out = String::with_capacity(12);
    push_u64(&mut out, n);
    out.push('\n');
    out
}

/// Append every file of the service directory `base` (e.g. `s6/NAME`). With `log_dir`, a logger
/// `log/run` for a service without log files.
pub fn artifacts(
    out: &mut Vec<Artifact>,
    plan: &Plan<'_>,
    base: &str,
    deps: Deps,
    log_dir: Option<&str>,
    modes: (u32, u32),
) {
    let (exec, file) = modes;
    let path = |file: &str| {
        let mut p = String::with_capacity(base.len() + file.len() + 1);
        p.push_str(base);
        p.push('/');
        p.push_str(file);
        p
    };
    out.reserve(8 + plan.env_files.len());
    out.push(Artifact::file(path("run"), exec, run(plan, deps)));
    let sleep = match finish_sleep(plan.after_exit) {
        AfterExit::Restart { delay } | AfterExit::RestartOnFailure { delay } => delay,
        AfterExit::StayDown => 0,
    };
    if let Some(f) = finish(plan, deps) {
        out.push(Artifact::file(path("finish"), exec, f));
        if sleep > 0 {
            // s6-supervise kills ./finish after 5 s by default
            out.push(Artifact::file(
                path("timeout-finish"),
                file,
                number((sleep + 5) * 1000),
            ));
        }
    }
    if let Some(h) = &plan.svc.health {
        out.push(Artifact::file(
            path("notification-fd"),
            file,
            number(NOTIFICATION_FD.into()),
        ));
        let mut s = head(plan, "the readiness check s6-notifyoncheck polls");
        gate::push_probe(&mut s, &h.check, h.timeout);
        s.push('\n');
        out.push(Artifact::file(path("data/check"), exec, s));
    }
    if plan.svc.stop_signal.name() != "SIGTERM" {
        out.push(Artifact::file(
            path("down-signal"),
            file,
            format!("{}\n", plan.svc.stop_signal.name()),
        ));
    }
    out.push(Artifact::file(
        path("timeout-kill"),
        file,
        number(millis(plan.svc.stop_timeout)),
    ));
    for (k, v) in &plan.env_files {
        let p = crate::backend::runit::path(&[base, "env", k]);
        out.push(Artifact::file(p, file, plan.env_file(v)));
    }
    if let (None, Some(dir)) = (plan.log_files, log_dir) {
        let mut s = head(plan, "the logger: s6-log keeps ./current and rotates it");
        s.push_str("mkdir -p ");
        push_path_quoted(&mut s, dir, plan.name);
        s.push_str(" || exit 1\nexec s6-log -b T ");
        push_path_quoted(&mut s, dir, plan.name);
        s.push('\n');
        out.push(Artifact::file(path("log/run"), exec, s));
    }
}
