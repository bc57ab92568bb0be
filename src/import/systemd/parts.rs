//! The directives of a service that need more than one value: dependencies, gates,
//! environment, exit codes, logs; and the last touches on a service table.

use super::super::Draft;
use super::super::Report;
use super::super::draft::{Entry, strings};
use super::super::gate::check_table;
use super::service::{Context, exec, gate_of, service_of, text};
use super::{Directive, Unit};
use crate::escape::systemd as esc;
use crate::manifest::Duration;

/// A directive with one value: its text through `f`, or a drop in the report.
pub(super) fn scalar<T>(
    unit: &Unit,
    d: &Directive,
    report: &mut Report,
    f: impl Fn(&str) -> Result<T, String>,
) -> Option<T> {
    // numbers, spans and names: no specifiers in these directives
    match f(&d.value) {
        Ok(v) => Some(v),
        Err(m) => {
            report.drop(unit.place(d), m);
            None
        }
    }
}

/// `Requires=`, `Wants=`, `After=`, `Before=`, `BindsTo=`: edges to imported services.
pub(super) fn deps(
    unit: &Unit,
    d: &Directive,
    key: &str,
    ctx: &Context<'_>,
    e: &mut Entry,
    after: &mut Vec<String>,
    report: &mut Report,
) {
    for n in d.value.split_whitespace() {
        if let Some(s) = service_of(ctx, n) {
            match key {
                "After" => after.push(s),
                "BindsTo" => {
                    report.note(unit.place(d), format!("{n}: BindsTo became requires"));
                    e.push_unique("requires", s);
                }
                k => e.push_unique(&k.to_ascii_lowercase(), s),
            }
        } else if n
            .strip_suffix(".target")
            .is_some_and(|t| ctx.targets.contains(&t))
        {
            // ordering against an imported target: the group says it
        } else {
            report.drop(format!("{}{n}", unit.place(d)), "not an imported service");
        }
    }
}

/// `ExecStartPre=`: openim-init's gate (an external, or a service's health) or a command.
pub(super) fn pre(
    unit: &Unit,
    d: &Directive,
    e: &mut Entry,
    draft: &mut Draft,
    report: &mut Report,
) {
    let Some(l) = exec(unit, d, report) else {
        return;
    };
    if let Some(g) = gate_of(&l) {
        let key = if l.ignore_failure {
            "wants"
        } else {
            "requires"
        };
        if g.kind == "external" {
            let x = draft.external_mut(&g.name);
            x.set("check", toml::Value::Table(check_table(&g.check)));
            if g.budget != Duration::from_secs(60) {
                x.set("wait_timeout", g.budget.to_string());
            }
        }
        e.push_unique(key, g.name);
        return;
    }
    if l.ignore_failure {
        report.note(
            unit.place(d),
            "`-`: a failure of this command now fails the start",
        );
    }
    let mut list = match e.table.remove("pre_start") {
        Some(toml::Value::Array(a)) => a,
        _ => Vec::new(),
    };
    let argv = super::service::absolute(unit, d, l.argv, e, report);
    list.push(strings(&argv));
    e.set("pre_start", toml::Value::Array(list));
}

/// `ExecStartPost=`: openim-init's wait for the service's own health check.
pub(super) fn post(unit: &Unit, d: &Directive, e: &mut Entry, report: &mut Report) -> bool {
    let Some(line) = exec(unit, d, report) else {
        return true;
    };
    let Some(gate) = gate_of(&line).filter(|g| g.kind.is_empty() && g.name == e.name) else {
        return false;
    };
    let mut table = check_table(&gate.check);
    let window = gate.budget.millis();
    // the unit only holds the window (interval × retries + timeout); 33s is the default
    if window != 33_000 {
        let timeout = if window > 3000 { 3000 } else { window / 2 };
        table.insert(
            "interval".into(),
            Duration(window - timeout).to_string().into(),
        );
        table.insert("timeout".into(), Duration(timeout).to_string().into());
        table.insert("retries".into(), 1.into());
        e.comment("health", format!("the unit only says the check must pass within {}: choose interval, timeout and retries", gate.budget));
    }
    e.set("health", toml::Value::Table(table));
    true
}

/// `Environment=`: quoted `KEY=value` words.
pub(super) fn environment(unit: &Unit, d: &Directive, e: &mut Entry, report: &mut Report) -> bool {
    let words = text(unit, d, report).and_then(|t| esc::split_words(&t));
    match words {
        Ok(words) => {
            for w in words {
                match w.split_once('=') {
                    Some((k, v)) => e.set_in("environment", k, v.to_owned()),
                    None => report.drop(
                        unit.place(d),
                        format!("`{}` is not KEY=value", w.escape_debug()),
                    ),
                }
            }
        }
        Err(m) => report.drop(unit.place(d), m),
    }
    true
}

/// `SuccessExitStatus=`: numbers carried, signal names dropped.
pub(super) fn exit_codes(unit: &Unit, d: &Directive, e: &mut Entry, report: &mut Report) -> bool {
    for w in d.value.split_whitespace() {
        match w.parse::<i64>() {
            Ok(n) => e.push_unique("success_exit_codes", n),
            Err(_) => report.drop(
                unit.place(d),
                format!("`{w}`: only exit codes are carried over"),
            ),
        }
    }
    true
}

/// `StandardOutput=`/`StandardError=`: files into `logs`, the journal as the default.
pub(super) fn output(
    unit: &Unit,
    d: &Directive,
    key: &str,
    e: &mut Entry,
    report: &mut Report,
) -> bool {
    let Ok(v) = text(unit, d, report) else {
        return false;
    };
    let sub = if key == "StandardOutput" {
        "stdout"
    } else {
        "stderr"
    };
    if let Some(p) = v.strip_prefix("append:") {
        e.set_in("logs", sub, p.to_owned());
    } else if let Some(p) = v.strip_prefix("file:") {
        report.note(
            unit.place(d),
            "file: truncated the file at each start; logs are appended",
        );
        e.set_in("logs", sub, p.to_owned());
    } else if !matches!(
        v.as_str(),
        "journal" | "inherit" | "journal+console" | "kmsg"
    ) {
        return false;
    }
    true
}

/// The last touches: `after` without what requires/wants already order, start limits
/// with systemd's defaults filled in, stderr with stdout, keys in the README's order.
pub(super) fn fixups(unit: &Unit, e: &mut Entry, after: Vec<String>, report: &mut Report) {
    let listed = |e: &Entry, k: &str, s: &str| {
        e.table
            .get(k)
            .and_then(toml::Value::as_array)
            .is_some_and(|a| a.iter().any(|v| v.as_str() == Some(s)))
    };
    for k in ["requires", "wants", "before"] {
        if let Some(toml::Value::Array(a)) = e.table.get_mut(k) {
            let me = e.name.clone();
            a.retain(|v| v.as_str() != Some(me.as_str()));
        }
    }
    e.table
        .retain(|_, v| !v.as_array().is_some_and(Vec::is_empty));
    let me = e.name.clone();
    for s in after.into_iter().filter(|s| *s != me) {
        if !listed(e, "requires", &s) && !listed(e, "wants", &s) {
            e.push_unique("after", s);
        }
    }
    if let Some(toml::Value::Table(t)) = e.table.get_mut("start_limit")
        && (t.contains_key("interval") || t.contains_key("burst"))
    {
        t.entry("interval").or_insert_with(|| "10s".into());
        t.entry("burst").or_insert_with(|| 5.into());
    }
    if let Some(toml::Value::Table(t)) = e.table.get_mut("logs") {
        if t.get("stderr") == t.get("stdout") {
            t.remove("stderr");
        }
        if !t.contains_key("stdout") {
            report.drop(
                unit.path.display().to_string(),
                "StandardError= to a file without StandardOutput= to one",
            );
            e.table.remove("logs");
        }
    }
    if !e.table.contains_key("command") {
        report.drop(
            unit.path.display().to_string(),
            "no usable ExecStart=: the service needs a command",
        );
        e.comment("command", "TODO: no usable ExecStart= was found");
        e.set("command", strings(&["/bin/false"]));
    }
    e.sort_keys();
}
