//! The files of one runit service directory `sv/NAME/`: `run`, `finish`, `check`,
//! `control/t`, `env/KEY` and `log/run`, written from a [`Plan`]. Every script is
//! `#!/bin/sh`, every word quoted by [`sh`]; the scripts find their dependencies as
//! siblings (`../DEP`), so they work wherever the directories are installed and linked.

use std::fmt::Write as _;

use super::process::{AfterExit, Plan};
use crate::backend::kit::{Artifact, HEADER};
use crate::backend::shared::gate;
use crate::escape::sh;
use crate::model::DepKind;

/// Where `finish` records an exit it leaves down (`CODE SIGNAL`): runit has no failed state,
/// so this file is how `status` tells "exited and not restarted" from "stopped". `run`
/// removes it.
pub const EXITED: &str = "supervise/openim-init.exited";

/// The comment lines every script starts with.
fn head(plan: &Plan<'_>, what: &str) -> String {
    let mut s = format!("#!/bin/sh\n# {HEADER}\n");
    for line in plan.description.lines() {
        let _ = writeln!(s, "# {line}");
    }
    let _ = writeln!(s, "# {what}");
    s
}

/// One line that gives the siblings' supervisors up to [`SUPERVISOR_WAIT_SECS`] to come up
/// (at boot the scan daemon starts them all at once); `probe` tells (`sv status`, `s6-svok`).
#[must_use]
pub fn supervisors_line(plan: &Plan<'_>, probe: &str) -> String {
    let dirs: Vec<String> = plan
        .deps
        .iter()
        .map(|d| sh::quote(&format!("../{}", d.name)))
        .collect();
    format!(
        "for d in {}; do i=0; until {probe} \"$d\" >/dev/null 2>&1 || [ \"$i\" -ge {SUPERVISOR_WAIT_SECS} ]; do i=$((i+1)); sleep 1; done; done",
        dirs.join(" ")
    )
}

/// How long `run` waits for a dependency's supervisor to exist.
pub const SUPERVISOR_WAIT_SECS: u32 = 5;

/// One line that waits for a dependency's directory with `sv` (readiness: its `check`).
fn dep_line(d: &super::process::DepDir) -> String {
    let dir = sh::quote(&format!("../{}", d.name));
    let w = d.wait_secs;
    match d.kind {
        DepKind::Requires => format!("sv -w {w} start {dir} || exit 1"),
        DepKind::Wants => format!("sv -w {w} start {dir} || :"),
        DepKind::After | DepKind::Before => format!("sv -w {w} check {dir} || :"),
    }
}

/// `chpst -u` of a user and group (numeric ids written as `:ID`).
fn account(user: Option<&str>, group: Option<&str>) -> Option<String> {
    let id = |n: &str| {
        if n.chars().all(|c| c.is_ascii_digit()) {
            format!(":{n}")
        } else {
            n.to_owned()
        }
    };
    match (user, group) {
        (None, None) => None,
        (Some(u), None) => Some(id(u)),
        (u, Some(g)) => {
            let u = u.map_or_else(|| ":0".to_owned(), id);
            // `:UID` takes a numeric group as `:UID:GID`, a name as `USER:GROUP`
            Some(format!("{u}:{}", g.trim_start_matches(':')))
        }
    }
}

/// The `run` script.
#[must_use]
pub fn run(plan: &Plan<'_>) -> String {
    let mut s = head(plan, "runsv runs this; it must exec the service (same pid)");
    match plan.log_files {
        None => s.push_str("exec 2>&1\n"),
        Some((out, None)) => {
            let _ = writeln!(s, "exec >>{} 2>&1", sh::quote(out));
        }
        Some((out, Some(err))) => {
            let _ = writeln!(s, "exec >>{} 2>>{}", sh::quote(out), sh::quote(err));
        }
    }
    if !matches!(plan.after_exit, AfterExit::Restart { .. }) {
        let _ = writeln!(s, "rm -f {EXITED}");
    }
    if !plan.deps.is_empty() {
        s.push_str("# dependencies: sibling service directories, up and their ./check passing\n");
        let _ = writeln!(s, "{}", supervisors_line(plan, "sv status"));
        for d in &plan.deps {
            s.push_str(&dep_line(d));
            s.push('\n');
        }
    }
    let mut chpst: Vec<String> = vec!["chpst".into()];
    if let Some(a) = account(plan.account.0, plan.account.1) {
        chpst.extend(["-u".into(), a]);
    }
    let limits = &plan.svc.limits;
    for (flag, v) in [
        ("-o", limits.nofile),
        ("-p", limits.nproc),
        ("-m", limits.memory_max.map(|m| m.0)),
    ] {
        if let Some(v) = v {
            chpst.extend([flag.to_owned(), v.to_string()]);
        }
    }
    let mut line = String::from("exec ");
    if !plan.env_files.is_empty() {
        s.push_str("env=\"$PWD/env\"\n");
    }
    if let Some(dir) = plan.cwd {
        // the shell exports OLDPWD after a cd: the service must not inherit it
        let _ = writeln!(s, "cd {} || exit 1\nunset OLDPWD", sh::quote(dir));
    }
    if plan.svc.sandbox.level != crate::model::SandboxLevel::Off {
        // the sandbox: files the service creates are not world-readable
        s.push_str("umask 027\n");
    }
    line.push_str(&sh::join(&chpst));
    if !plan.env_files.is_empty() {
        line.push_str(" -e \"$env\"");
    }
    line.push_str(" -- ");
    line.push_str(&sh::join(&plan.argv));
    s.push_str(&line);
    s.push('\n');
    s
}

/// The `finish` script, or `None` when runsv's default (restart after a second) is right.
#[must_use]
pub fn finish(plan: &Plan<'_>) -> Option<String> {
    let policy = match plan.after_exit {
        AfterExit::Restart { delay: 0 } => None,
        AfterExit::Restart { delay } => Some(format!(
            "# restart_delay: runsv restarts ./run when this returns\nexec sleep {delay}\n"
        )),
        AfterExit::RestartOnFailure { delay } => Some(format!(
            "# restart = on-failure: a clean exit stays down\ncase $1 in {}) echo \"$1 $2\" >{EXITED}; exec sv down . ;; esac\n{}",
            plan.clean_codes(),
            if delay > 0 {
                format!("exec sleep {delay}\n")
            } else {
                String::new()
            }
        )),
        AfterExit::StayDown => Some(format!(
            "# restart = never\necho \"$1 $2\" >{EXITED}\nexec sv down .\n"
        )),
    };
    if policy.is_none() && plan.required_by.is_empty() {
        return None;
    }
    let mut s = head(
        plan,
        "runsv runs this after ./run exits: $1 = exit code (-1: killed by a signal), $2 = signal",
    );
    s.push_str("case $(cat supervise/stat 2>/dev/null) in\n");
    if !plan.required_by.is_empty() {
        let dirs: Vec<String> = plan
            .required_by
            .iter()
            .map(|d| sh::quote(&format!("../{d}")))
            .collect();
        let _ = writeln!(
            s,
            "*', want down'*)\n  # stopped (sv down): so are the services that require it\n  sv down {} || :\n  exit 0 ;;",
            dirs.join(" ")
        );
    }
    s.push_str("*', want '*)\n  # asked to stop (sv down, or runsv exiting)\n  exit 0 ;;\nesac\n");
    s.push_str(&policy.unwrap_or_default());
    Some(s)
}

/// Every file of the service directory `sv/NAME/`.
#[must_use]
pub fn artifacts(plan: &Plan<'_>, dir: &str, log_dir: &str, exec: u32, file: u32) -> Vec<Artifact> {
    let base = format!("{dir}/{}", plan.name);
    let mut out = vec![Artifact::file(format!("{base}/run"), exec, run(plan))];
    if let Some(f) = finish(plan) {
        out.push(Artifact::file(format!("{base}/finish"), exec, f));
    }
    if let Some(h) = &plan.svc.health {
        let mut s = head(
            plan,
            "runit's readiness test: `sv -w N start|check` waits until this exits 0",
        );
        s.push_str(&gate::probe(&h.check, h.timeout));
        s.push('\n');
        out.push(Artifact::file(format!("{base}/check"), exec, s));
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
        out.push(Artifact::file(format!("{base}/control/t"), exec, s));
    }
    for (k, v) in &plan.env_files {
        out.push(Artifact::file(format!("{base}/env/{k}"), file, v.clone()));
    }
    if plan.log_files.is_none() {
        let logs = sh::quote(&format!("{log_dir}/{}", plan.name));
        let mut s = head(plan, "the logger: svlogd keeps ./current and rotates it");
        let _ = writeln!(s, "mkdir -p {logs} || exit 1\nexec svlogd -tt {logs}");
        out.push(Artifact::file(format!("{base}/log/run"), exec, s));
    }
    out
}
