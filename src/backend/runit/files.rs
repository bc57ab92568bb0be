//! The files of one runit service directory `sv/NAME/`: `run`, `finish`, `check`,
//! `control/t`, `env/KEY` and `log/run`, written from a [`Plan`]. Every script is
//! `#!/bin/sh`, every word quoted by [`sh`]; the scripts find their dependencies as
//! siblings (`../DEP`), so they work wherever the directories are installed and linked.

use std::fmt::Write as _;

use super::process::{AfterExit, Plan};
use crate::backend::kit::Artifact;
use crate::backend::shared::gate;
use crate::escape::sh;
use crate::model::DepKind;
use crate::render::native::push_u64;

/// Where `finish` records an exit it leaves down (`CODE SIGNAL`): runit has no failed state,
/// so this file is how `status` tells "exited and not restarted" from "stopped". `run`
/// removes it.
pub const EXITED: &str = "supervise/openim-init.exited";

/// The comment lines every script starts with, in a buffer for the whole script.
#[must_use]
pub fn head(plan: &Plan<'_>, what: &str) -> String {
    head_with(plan, what, 256)
}

/// [`head`] in a buffer with room for `rest` more bytes.
#[must_use]
pub fn head_with(plan: &Plan<'_>, what: &str, rest: usize) -> String {
    let mut s = String::with_capacity(plan.preamble.len() + what.len() + 3 + rest);
    s.push_str(&plan.preamble);
    s.push_str("# ");
    s.push_str(what);
    s.push('\n');
    s
}

/// Append the quoted path of the sibling directory `name` (`../NAME`).
pub fn push_sibling(out: &mut String, name: &str) {
    // `../` and a name that needs no quotes need none together
    if sh::is_bare(name) {
        out.push_str("../");
        out.push_str(name);
        return;
    }
    let mut path = String::with_capacity(name.len() + 3);
    path.push_str("../");
    path.push_str(name);
    sh::push_quote(out, &path);
}

/// One line that gives the siblings' supervisors up to `SUPERVISOR_WAIT_SECS` to come up
/// (at boot the scan daemon starts them all at once); `probe` tells (`sv status`, `s6-svok`).
#[must_use]
pub fn supervisors_line(plan: &Plan<'_>, probe: &str) -> String {
    let mut out = String::with_capacity(160 + plan.deps.len() * 16);
    out.push_str("for d in");
    for d in &plan.deps {
        out.push(' ');
        push_sibling(&mut out, d.name);
    }
    out.push_str("; do i=0; until ");
    out.push_str(probe);
    out.push_str(" \"$d\" >/dev/null 2>&1 || [ \"$i\" -ge ");
    push_u64(&mut out, SUPERVISOR_WAIT_SECS.into());
    out.push_str(" ]; do i=$((i+1)); sleep 1; done; done");
    out
}

/// How long `run` waits for a dependency's supervisor to exist: runsvdir scans only every
/// 5 s, and a loaded machine at boot may take longer still to start every supervisor (with
/// 5 s, a `restart = never` service under load average 50 gave up before its dependency's
/// supervisor was there, and stayed down).
pub const SUPERVISOR_WAIT_SECS: u32 = 30;

/// Append the line that waits for a dependency's directory with `sv` (readiness: its
/// `check`).
fn push_dep_line(out: &mut String, d: &super::process::DepDir<'_>) {
    out.push_str("sv -w ");
    push_u64(out, d.wait_secs);
    out.push_str(match d.kind {
        DepKind::Requires | DepKind::Wants => " start ",
        DepKind::After | DepKind::Before => " check ",
    });
    push_sibling(out, d.name);
    out.push_str(match d.kind {
        DepKind::Requires => " || exit 1\n",
        _ => " || :\n",
    });
}

/// `chpst -u` of a user and group (numeric ids written as `:ID`).
fn account(user: Option<&str>, group: Option<&str>) -> Option<String> {
    let id = |out: &mut String, n: &str| {
        if n.chars().all(|c| c.is_ascii_digit()) {
            out.push(':');
        }
        out.push_str(n);
    };
    let mut out = String::with_capacity(user.map_or(2, str::len) + group.map_or(0, str::len) + 3);
    match (user, group) {
        (None, None) => return None,
        (Some(u), None) => id(&mut out, u),
        (u, Some(g)) => {
            match u {
                Some(u) => id(&mut out, u),
                None => out.push_str(":0"),
            }
            // `:UID` takes a numeric group as `:UID:GID`, a name as `USER:GROUP`
            out.push(':');
            out.push_str(g.trim_start_matches(':'));
        }
    }
    Some(out)
}

/// Append the line that sends the script's output where the service logs: the logger's
/// pipe (stderr joined to stdout) or its files.
pub fn push_redirect(s: &mut String, plan: &Plan<'_>) {
    match plan.log_files {
        None => s.push_str("exec 2>&1\n"),
        Some((out, err)) => {
            s.push_str("exec >>");
            sh::push_quote(s, out);
            match err {
                None => s.push_str(" 2>&1\n"),
                Some(err) => {
                    s.push_str(" 2>>");
                    sh::push_quote(s, err);
                    s.push('\n');
                }
            }
        }
    }
}

/// The `run` script.
#[must_use]
pub fn run(plan: &Plan<'_>) -> String {
    let mut s = head_with(
        plan,
        "runsv runs this; it must exec the service (same pid)",
        script_size(plan),
    );
    push_redirect(&mut s, plan);
    if !matches!(plan.after_exit, AfterExit::Restart { .. }) {
        s.push_str("rm -f ");
        s.push_str(EXITED);
        s.push('\n');
    }
    if !plan.deps.is_empty() {
        s.push_str("# dependencies: sibling service directories, up and their ./check passing\n");
        s.push_str(&supervisors_line(plan, "sv status"));
        s.push('\n');
        for d in &plan.deps {
            push_dep_line(&mut s, d);
        }
    }
    if !plan.env_files.is_empty() {
        s.push_str("env=\"$PWD/env\"\n");
    }
    if let Some(dir) = plan.cwd {
        // the shell exports OLDPWD after a cd: the service must not inherit it
        s.push_str("cd ");
        sh::push_quote(&mut s, dir);
        s.push_str(" || exit 1\nunset OLDPWD\n");
    }
    if plan.svc.sandbox.level != crate::model::SandboxLevel::Off {
        // the sandbox: files the service creates are not world-readable
        s.push_str("umask 027\n");
    }
    s.push_str("exec chpst");
    if let Some(a) = account(plan.account.0, plan.account.1) {
        s.push_str(" -u ");
        sh::push_quote(&mut s, &a);
    }
    let limits = &plan.svc.limits;
    for (flag, v) in [
        (" -o ", limits.nofile),
        (" -p ", limits.nproc),
        (" -m ", limits.memory_max.map(|m| m.0)),
    ] {
        if let Some(v) = v {
            s.push_str(flag);
            push_u64(&mut s, v);
        }
    }
    if !plan.env_files.is_empty() {
        s.push_str(" -e \"$env\"");
    }
    s.push_str(" -- ");
    plan.push_argv(&mut s);
    s.push('\n');
    s
}

/// About how many bytes a `run` script takes after its head.
#[must_use]
pub fn script_size(plan: &Plan<'_>) -> usize {
    let argv: usize = plan.argv.iter().map(|a| a.len() + 8).sum();
    let deps: usize = plan.deps.iter().map(|d| 3 * d.name.len() + 64).sum();
    384 + argv + deps + plan.argv.first().map_or(0, |script| script.len() / 8)
}

/// Append `exec sleep DELAY` when there is a delay.
fn push_sleep(s: &mut String, delay: u64) {
    if delay > 0 {
        s.push_str("exec sleep ");
        push_u64(s, delay);
        s.push('\n');
    }
}

/// The `finish` script, or `None` when runsv's default (restart after a second) is right.
#[must_use]
pub fn finish(plan: &Plan<'_>) -> Option<String> {
    if matches!(plan.after_exit, AfterExit::Restart { delay: 0 }) && plan.required_by.is_empty() {
        return None;
    }
    let mut s = head_with(
        plan,
        "runsv runs this after ./run exits: $1 = exit code (-1: killed by a signal), $2 = signal",
        512 + 16 * plan.required_by.len(),
    );
    s.push_str("case $(cat supervise/stat 2>/dev/null) in\n");
    if !plan.required_by.is_empty() {
        s.push_str("*', want down'*)\n  # stopped (sv down): so are the services that require it\n  sv down");
        for d in &plan.required_by {
            s.push(' ');
            push_sibling(&mut s, d);
        }
        s.push_str(" || :\n  exit 0 ;;\n");
    }
    s.push_str("*', want '*)\n  # asked to stop (sv down, or runsv exiting)\n  exit 0 ;;\nesac\n");
    match plan.after_exit {
        AfterExit::Restart { delay: 0 } => {}
        AfterExit::Restart { delay } => {
            s.push_str("# restart_delay: runsv restarts ./run when this returns\n");
            push_sleep(&mut s, delay);
        }
        AfterExit::RestartOnFailure { delay } => {
            s.push_str("# restart = on-failure: a clean exit stays down\ncase $1 in ");
            plan.push_clean_codes(&mut s);
            s.push_str(") echo \"$1 $2\" >");
            s.push_str(EXITED);
            s.push_str("; exec sv down . ;; esac\n");
            push_sleep(&mut s, delay);
        }
        AfterExit::StayDown => {
            s.push_str("# restart = never\necho \"$1 $2\" >");
            s.push_str(EXITED);
            s.push_str("\nexec sv down .\n");
        }
    }
    Some(s)
}

/// `parts` joined by `/`.
#[must_use]
pub fn path(parts: &[&str]) -> String {
    let mut out = String::with_capacity(parts.iter().map(|p| p.len() + 1).sum());
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            out.push('/');
        }
        out.push_str(p);
    }
    out
}

/// Append `DIR/NAME` quoted for `sh`.
pub fn push_path_quoted(out: &mut String, dir: &str, name: &str) {
    if sh::is_bare(dir) && sh::is_bare(name) {
        out.push_str(dir);
        out.push('/');
        out.push_str(name);
    } else {
        sh::push_quote(out, &format!("{dir}/{name}"));
    }
}

/// Append every file of the service directory `sv/NAME/` to `out`.
pub fn artifacts(
    out: &mut Vec<Artifact>,
    plan: &Plan<'_>,
    dir: &str,
    log_dir: &str,
    (exec, file): (u32, u32),
) {
    let at = |file: &str| path(&[dir, plan.name, file]);
    out.reserve(5 + plan.env_files.len());
    out.push(Artifact::file(at("run"), exec, run(plan)));
    if let Some(f) = finish(plan) {
        out.push(Artifact::file(at("finish"), exec, f));
    }
    if let Some(h) = &plan.svc.health {
        let mut s = head(
            plan,
            "runit's readiness test: `sv -w N start|check` waits until this exits 0",
        );
        gate::push_probe(&mut s, &h.check, h.timeout);
        s.push('\n');
        out.push(Artifact::file(at("check"), exec, s));
    }
    if plan.svc.stop_signal.name() != "SIGTERM" {
        let mut s = head(
            plan,
            "runsv runs this instead of sending SIGTERM (sv down, sv term); exit 0: signal sent",
        );
        let _ = writeln!(
            s,
            "exec kill -s {} \"$(cat supervise/pid)\"",
            plan.svc.stop_signal.short()
        );
        out.push(Artifact::file(at("control/t"), exec, s));
    }
    for (k, v) in &plan.env_files {
        let p = path(&[dir, plan.name, "env", k]);
        out.push(Artifact::file(p, file, plan.env_file(v)));
    }
    if plan.log_files.is_none() {
        let mut s = head(plan, "the logger: svlogd keeps ./current and rotates it");
        s.push_str("mkdir -p ");
        push_path_quoted(&mut s, log_dir, plan.name);
        s.push_str(" || exit 1\nexec svlogd -tt ");
        push_path_quoted(&mut s, log_dir, plan.name);
        s.push('\n');
        out.push(Artifact::file(at("log/run"), exec, s));
    }
}
