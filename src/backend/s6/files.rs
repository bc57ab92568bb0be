//! The files of one s6 service directory: `run` and `finish` (`#!/bin/sh`, every word quoted
//! by [`sh`]), `notification-fd` and `data/check` for readiness through
//! `s6-notifyoncheck`, `down-signal`, `timeout-kill`, `timeout-finish`, `env/KEY` and
//! `log/run` (s6-log). Dependencies are siblings (`../DEP`), found wherever the directories
//! are installed; s6-rc (the s6-overlay layout) starts them itself.

use std::fmt::Write as _;

use crate::backend::kit::{Artifact, HEADER};
use crate::backend::runit::process::{AfterExit, DepDir, Plan};
use crate::backend::shared::gate;
use crate::escape::sh;
use crate::model::DepKind;

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

fn head(plan: &Plan<'_>, what: &str) -> String {
    let mut s = format!("#!/bin/sh\n# {HEADER}\n");
    for line in plan.description.lines() {
        let _ = writeln!(s, "# {line}");
    }
    let _ = writeln!(s, "# {what}");
    s
}

fn millis(d: crate::manifest::Duration) -> u64 {
    d.0.max(1)
}

/// One line that brings up (or waits for) a sibling and waits until it is ready.
fn dep_line(d: &DepDir) -> String {
    let dir = sh::quote(&format!("../{}", d.name));
    let ms = d.wait_secs.saturating_mul(1000);
    // ready (-U) needs a readiness signal: a service without a health check is only "up"
    let w = if d.checked { "-U" } else { "-u" };
    match d.kind {
        DepKind::Requires => {
            format!("s6-svc -u {dir} && s6-svwait {w} -t {ms} {dir} || exit 1")
        }
        DepKind::Wants => format!("{{ s6-svc -u {dir} && s6-svwait {w} -t {ms} {dir}; }} || :"),
        DepKind::After | DepKind::Before => format!(
            "[ \"$(s6-svstat -o wantedup {dir} 2>/dev/null)\" != true ] || s6-svwait {w} -t {ms} {dir} || :"
        ),
    }
}

/// The chain that switches the account: `s6-setuidgid USER`, or `s6-envuidgid` with
/// `s6-applyuidgid -Uz` for a group or a numeric id.
fn account(user: Option<&str>, group: Option<&str>) -> Vec<String> {
    let numeric = |n: &str| n.chars().all(|c| c.is_ascii_digit());
    let apply = ["s6-applyuidgid".to_owned(), "-Uz".to_owned()];
    match (user, group) {
        (None, None) => Vec::new(),
        (Some(u), None) if !numeric(u) => vec!["s6-setuidgid".into(), u.into()],
        (Some(u), None) => [
            vec!["s6-envuidgid".into(), "-n".into(), u.into()],
            apply.to_vec(),
        ]
        .concat(),
        (u, Some(g)) => [
            vec![
                "s6-envuidgid".into(),
                "-nB".into(),
                format!("{}:{g}", u.unwrap_or("root")),
            ],
            apply.to_vec(),
        ]
        .concat(),
    }
}

/// The `run` script.
#[must_use]
pub fn run(plan: &Plan<'_>, deps: Deps) -> String {
    let mut s = head(
        plan,
        "s6-supervise runs this; it must exec the service (same pid)",
    );
    match plan.log_files {
        None => s.push_str("exec 2>&1\n"),
        Some((out, None)) => {
            let _ = writeln!(s, "exec >>{} 2>&1", sh::quote(out));
        }
        Some((out, Some(err))) => {
            let _ = writeln!(s, "exec >>{} 2>>{}", sh::quote(out), sh::quote(err));
        }
    }
    let health = plan.svc.health.as_ref();
    let mut first: Vec<String> = Vec::new();
    if !matches!(plan.after_exit, AfterExit::Restart { .. }) {
        first.push(format!("rm -f {EXITED}"));
    }
    if deps == Deps::InRun && !plan.deps.is_empty() {
        first.push(crate::backend::runit::supervisors_line(plan, "s6-svok"));
        first.extend(plan.deps.iter().map(dep_line));
    }
    if let Some(h) = health {
        // s6-notifyoncheck must start in the service directory (./data/check,
        // ./notification-fd); it forks the checker and runs this script again
        first.push(format!(
            "exec s6-notifyoncheck -d -w {} -t {} -n {} ./run {CHECKED}",
            millis(h.interval),
            millis(h.timeout),
            h.retries.max(1)
        ));
        let _ = writeln!(s, "if [ \"$1\" != {CHECKED} ]; then");
        for l in &first {
            let _ = writeln!(s, "  {l}");
        }
        s.push_str("fi\n");
    } else {
        for l in &first {
            let _ = writeln!(s, "{l}");
        }
    }
    let mut chain: Vec<String> = Vec::new();
    let limits = &plan.svc.limits;
    let mut soft: Vec<String> = Vec::new();
    for (flag, v) in [
        ("-o", limits.nofile),
        ("-p", limits.nproc),
        ("-m", limits.memory_max.map(|m| m.0)),
    ] {
        if let Some(v) = v {
            soft.extend([flag.to_owned(), v.to_string()]);
        }
    }
    if !soft.is_empty() {
        chain.push("s6-softlimit".into());
        chain.extend(soft);
    }
    chain.extend(account(plan.account.0, plan.account.1));
    chain.extend(plan.argv.iter().cloned());
    if !plan.env_files.is_empty() {
        s.push_str("env=\"$PWD/env\"\n");
    }
    if let Some(dir) = plan.cwd {
        let _ = writeln!(s, "cd {} || exit 1\nunset OLDPWD", sh::quote(dir));
    }
    if plan.svc.sandbox.level != crate::model::SandboxLevel::Off {
        // the sandbox: files the service creates are not world-readable
        s.push_str("umask 027\n");
    }
    s.push_str("exec ");
    if !plan.env_files.is_empty() {
        s.push_str("s6-envdir \"$env\" ");
    }
    s.push_str(&sh::join(&chain));
    s.push('\n');
    s
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
    let exited = format!("echo \"$1 $2\" >{EXITED}; exit 125");
    let policy = match finish_sleep(plan.after_exit) {
        AfterExit::Restart { delay: 0 } => None,
        AfterExit::Restart { delay } => Some(format!(
            "# restart_delay, less the second s6-supervise waits after ./finish\nexec sleep {delay}\n"
        )),
        AfterExit::RestartOnFailure { delay } => Some(format!(
            "# restart = on-failure: a clean exit stays down (exit 125: s6-supervise gives up)\ncase $1 in {}) {exited} ;; esac\n{}",
            plan.clean_codes(),
            if delay > 0 {
                format!("exec sleep {delay}\n")
            } else {
                String::new()
            }
        )),
        AfterExit::StayDown => Some(format!(
            "# restart = never (exit 125: s6-supervise does not restart)\n{exited}\n"
        )),
    };
    let stop_dependents = deps == Deps::InRun && !plan.required_by.is_empty();
    if policy.is_none() && !stop_dependents {
        return None;
    }
    let mut s = head(
        plan,
        "s6-supervise runs this after ./run exits: $1 = exit code (256: killed by a signal), $2 = signal",
    );
    s.push_str("if [ \"$(s6-svstat -o wantedup .)\" != true ]; then\n  # stopped (s6-svc -d)\n");
    if stop_dependents {
        let dirs: Vec<String> = plan
            .required_by
            .iter()
            .map(|d| sh::quote(&format!("../{d}")))
            .collect();
        let _ = writeln!(
            s,
            "  # and so are the services that require it\n  s6-svc -d {} || :",
            dirs.join(" ")
        );
    }
    s.push_str("  exit 0\nfi\n");
    s.push_str(&policy.unwrap_or_default());
    Some(s)
}

/// Every file of the service directory `base` (e.g. `s6/NAME`). With `log_dir`, a logger
/// `log/run` for a service without log files.
#[must_use]
pub fn artifacts(
    plan: &Plan<'_>,
    base: &str,
    deps: Deps,
    log_dir: Option<&str>,
    modes: (u32, u32),
) -> Vec<Artifact> {
    let (exec, file) = modes;
    let mut out = vec![Artifact::file(format!("{base}/run"), exec, run(plan, deps))];
    let sleep = match finish_sleep(plan.after_exit) {
        AfterExit::Restart { delay } | AfterExit::RestartOnFailure { delay } => delay,
        AfterExit::StayDown => 0,
    };
    if let Some(f) = finish(plan, deps) {
        out.push(Artifact::file(format!("{base}/finish"), exec, f));
        if sleep > 0 {
            // s6-supervise kills ./finish after 5 s by default
            out.push(Artifact::file(
                format!("{base}/timeout-finish"),
                file,
                format!("{}\n", (sleep + 5) * 1000),
            ));
        }
    }
    if let Some(h) = &plan.svc.health {
        out.push(Artifact::file(
            format!("{base}/notification-fd"),
            file,
            format!("{NOTIFICATION_FD}\n"),
        ));
        let mut s = head(plan, "the readiness check s6-notifyoncheck polls");
        s.push_str(&gate::probe(&h.check, h.timeout));
        s.push('\n');
        out.push(Artifact::file(format!("{base}/data/check"), exec, s));
    }
    if plan.svc.stop_signal.name() != "SIGTERM" {
        out.push(Artifact::file(
            format!("{base}/down-signal"),
            file,
            format!("{}\n", plan.svc.stop_signal.name()),
        ));
    }
    out.push(Artifact::file(
        format!("{base}/timeout-kill"),
        file,
        format!("{}\n", millis(plan.svc.stop_timeout)),
    ));
    for (k, v) in &plan.env_files {
        out.push(Artifact::file(format!("{base}/env/{k}"), file, v.clone()));
    }
    if let (None, Some(dir)) = (plan.log_files, log_dir) {
        let logs = sh::quote(&format!("{dir}/{}", plan.name));
        let mut s = head(plan, "the logger: s6-log keeps ./current and rotates it");
        let _ = writeln!(s, "mkdir -p {logs} || exit 1\nexec s6-log -b T {logs}");
        out.push(Artifact::file(format!("{base}/log/run"), exec, s));
    }
    out
}
