//! One `.service` unit → one `[services.NAME]` table.

use super::super::draft::{Entry, strings};
use super::super::gate::{self, Gate};
use super::super::{Draft, Report, sanitize_name};
use super::{Directive, Unit, parts, service_ref, values};
use crate::escape::systemd::{self as esc, ExecLine};
use crate::model::INSTANCE_PLACEHOLDER;
use parts::{deps, environment, exit_codes, fixups, post, pre, scalar};

/// What a service needs to know about the other units.
pub(super) struct Context<'a> {
    /// Stems of the imported services.
    pub known: &'a [&'a str],
    /// Stems of the imported targets.
    pub targets: &'a [&'a str],
}

/// Specifiers: `%i`/`%I` → `{instance}` in a template; the unit's own names expanded;
/// anything that depends on the machine refused.
fn specifier(unit: &Unit) -> impl Fn(char) -> Result<String, String> + '_ {
    move |c| {
        let full = if unit.template {
            format!("{}@{{instance}}", unit.stem)
        } else {
            unit.stem.clone()
        };
        match c {
            'i' | 'I' if unit.template => Ok("{instance}".into()),
            'n' => Ok(format!("{full}.service")),
            'N' => Ok(full),
            'p' | 'P' => Ok(unit.stem.clone()),
            c => Err(format!(
                "the specifier `%{c}` depends on the machine or the running unit"
            )),
        }
    }
}

/// `value` with specifiers replaced; a note when one other than `%%`/`%i` was expanded.
pub(super) fn text(unit: &Unit, d: &Directive, report: &mut Report) -> Result<String, String> {
    let out = esc::unspecify(&d.value, &specifier(unit))?;
    let plain = d.value.replace("%%", "");
    if plain.contains('%') && plain.matches('%').count() != plain.matches("%i").count() {
        report.note(
            unit.place(d),
            "specifiers were expanded to the unit's own name",
        );
    }
    Ok(out)
}

/// The service a unit name refers to, if imported.
pub(super) fn service_of<'a>(ctx: &Context<'a>, name: &'a str) -> Option<String> {
    let (s, _) = service_ref(name)?;
    ctx.known.contains(&s).then(|| sanitize_name(s))
}

pub(super) fn exec(unit: &Unit, d: &Directive, report: &mut Report) -> Option<ExecLine> {
    let line = text(unit, d, report).and_then(|t| esc::parse_exec(&t));
    match line {
        Ok(l) => {
            if !l.other_prefixes.is_empty() {
                report.drop(
                    unit.place(d),
                    format!("the prefix `{}` is not carried over", l.other_prefixes),
                );
            }
            if l.argv0.as_ref().is_some_and(|a| *a != l.argv[0]) {
                report.drop(
                    unit.place(d),
                    "a separate argv[0] (`@`) is not carried over",
                );
            }
            Some(l)
        }
        Err(e) => {
            report.drop(unit.place(d), e);
            None
        }
    }
}

pub(super) fn gate_of(l: &ExecLine) -> Option<Gate> {
    match l.argv.as_slice() {
        [sh, c, script] if sh == "/bin/sh" && c == "-c" => gate::recognize(script),
        _ => None,
    }
}

/// Convert `unit` into its service table; externals found in gates go into `draft`.
pub(super) fn convert(
    unit: &Unit,
    ctx: &Context<'_>,
    draft: &mut Draft,
    report: &mut Report,
) -> Entry {
    let mut e = Entry::new(&sanitize_name(&unit.stem));
    if e.name != unit.stem {
        report.note(
            unit.path.display().to_string(),
            format!("renamed to `{}`", e.name),
        );
    }
    let mut after = Vec::new();
    let mut gated = false;
    let mut hardening = Vec::new();
    for d in &unit.directives {
        let handled = match (d.section.as_str(), d.key.as_str()) {
            ("Unit", "Description") => text(unit, d, report)
                .map(|t| e.set("description", t))
                .is_ok(),
            ("Unit", k @ ("Requires" | "Wants" | "After" | "Before" | "BindsTo")) => {
                deps(unit, d, k, ctx, &mut e, &mut after, report);
                true
            }
            ("Unit", "PartOf") => {
                for n in d.value.split_whitespace() {
                    let t = n.strip_suffix(".target");
                    if !t.is_some_and(|t| ctx.targets.contains(&t)) {
                        report.drop(format!("{}{n}", unit.place(d)), "not an imported target");
                    }
                }
                true
            }
            ("Unit" | "Service", "StartLimitIntervalSec" | "StartLimitInterval") => {
                scalar(unit, d, report, values::timespan)
                    .map(|v| {
                        (v.millis() > 0).then(|| e.set_in("start_limit", "interval", v.to_string()))
                    })
                    .is_some()
            }
            ("Unit" | "Service", "StartLimitBurst") => scalar(unit, d, report, |t| {
                t.parse::<i64>().map_err(|x| x.to_string())
            })
            .map(|v| e.set_in("start_limit", "burst", v))
            .is_some(),
            ("Service", "Type") => matches!(d.value.as_str(), "exec" | "simple"),
            ("Service", "ExecStart") => exec(unit, d, report)
                .map(|l| {
                    let argv = absolute(unit, d, l.argv, &mut e, report);
                    e.set("command", strings(&argv));
                })
                .is_some(),
            ("Service", "ExecStartPre") => {
                pre(unit, d, &mut e, draft, report);
                gated = true;
                true
            }
            ("Service", "ExecStartPost") => post(unit, d, &mut e, report),
            ("Install", "WantedBy") => true,
            ("Service", k) if super::sandbox::is_sandbox_key(k) => {
                hardening.push(d.clone());
                true
            }
            _ => more(unit, d, &mut e, report, gated),
        };
        if !handled && !report.items.iter().any(|i| i.place == unit.place(d)) {
            report.drop(unit.place(d), "not carried over");
        }
    }
    fixups(unit, &mut e, after, report);
    super::sandbox::carry(unit, &hardening, &mut e, report);
    e
}

/// Directives with one value each.
fn more(unit: &Unit, d: &Directive, e: &mut Entry, report: &mut Report, gated: bool) -> bool {
    let s = |report: &mut Report| {
        text(unit, d, report)
            .and_then(|t| {
                if t.contains(INSTANCE_PLACEHOLDER) {
                    Err("the instance (`%i`) is carried only in the command, environment and description".into())
                } else {
                    Ok(t)
                }
            })
            .map_err(|m| report.drop(unit.place(d), m))
            .ok()
    };
    match (d.section.as_str(), d.key.as_str()) {
        ("Service", "User") => s(report).map(|v| e.set("user", v)).is_some(),
        ("Service", "Group") => s(report).map(|v| e.set("group", v)).is_some(),
        ("Service", "WorkingDirectory") => s(report)
            .filter(|v| v.trim_start_matches('-').starts_with('/'))
            .map(|v| {
                if let Some(v) = v.strip_prefix('-') {
                    report.note(unit.place(d), "an optional (`-`) directory became required");
                    e.set("working_dir", v.to_owned());
                } else {
                    e.set("working_dir", v);
                }
            })
            .is_some(),
        ("Service", "Environment") => environment(unit, d, e, report),
        ("Service", "EnvironmentFile") => s(report)
            .map(|v| {
                if let Some(opt) = v.strip_prefix('-') {
                    report.note(
                        unit.place(d),
                        "an optional (`-`) file became required: the start fails without it",
                    );
                    e.set("environment_file", opt.to_owned());
                } else {
                    e.set("environment_file", v);
                }
            })
            .is_some(),
        ("Service", "Restart") => scalar(unit, d, report, values::restart)
            .map(|(p, note)| {
                e.set("restart", p);
                if let Some(n) = note {
                    report.note(unit.place(d), n);
                }
            })
            .is_some(),
        ("Service", "RestartSec") => scalar(unit, d, report, values::timespan)
            .map(|v| e.set("restart_delay", v.to_string()))
            .is_some(),
        ("Service", "TimeoutStopSec") => scalar(unit, d, report, values::timespan)
            .map(|v| e.set("stop_timeout", v.to_string()))
            .is_some(),
        ("Service", "TimeoutStartSec") if gated => {
            report.note(
                unit.place(d),
                "derived again from the waits and the health check",
            );
            true
        }
        ("Service", "KillSignal") => scalar(unit, d, report, values::signal)
            .map(|v| e.set("stop_signal", v.name()))
            .is_some(),
        ("Service", "SuccessExitStatus") => exit_codes(unit, d, e, report),
        ("Service", k @ ("LimitNOFILE" | "LimitNPROC")) => scalar(unit, d, report, values::limit)
            .map(|(n, note)| {
                e.set_in(
                    "limits",
                    if k == "LimitNOFILE" {
                        "nofile"
                    } else {
                        "nproc"
                    },
                    i64::try_from(n).unwrap_or(i64::MAX),
                );
                if let Some(n) = note {
                    report.note(unit.place(d), n);
                }
            })
            .is_some(),
        ("Service", "MemoryMax") => scalar(unit, d, report, values::bytes)
            .map(|b| e.set_in("limits", "memory_max", b.0.to_string()))
            .is_some(),
        ("Service", "CPUQuota") => scalar(unit, d, report, values::cpu_quota)
            .map(|q| e.set_in("limits", "cpu_quota", i64::from(q)))
            .is_some(),
        ("Service", k @ ("StandardOutput" | "StandardError")) => {
            parts::output(unit, d, k, e, report)
        }
        _ => false,
    }
}

/// `argv` with a relative program run through `/usr/bin/env` (the manifest needs absolute
/// paths; systemd searches its own PATH), reported.
pub(super) fn absolute(
    unit: &Unit,
    d: &Directive,
    mut argv: Vec<String>,
    e: &mut Entry,
    report: &mut Report,
) -> Vec<String> {
    if !argv[0].starts_with('/') {
        report.note(
            unit.place(d),
            format!(
                "`{}` is not an absolute path: runs through /usr/bin/env",
                argv[0]
            ),
        );
        e.comment(
            "command",
            format!(
                "TODO: `{}` is looked up in PATH by env: give its absolute path",
                argv[0]
            ),
        );
        argv.insert(0, "/usr/bin/env".to_owned());
    }
    argv
}
