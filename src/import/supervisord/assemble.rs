//! The sections read in → the manifest: the daemon's environment as defaults, programs
//! (named instances merged back), waits → externals and health checks, priorities →
//! `after`, groups → the stack and `[groups.X]`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use toml::Value;

use super::super::draft::{Entry, strings};
use super::super::gate::check_table;
use super::super::{Draft, Report, sanitize_name};
use super::Section;
use super::program::{Program, convert};
use super::reader::Ctx;
use crate::escape::supervisord::{interpolate, parse_environment};
use crate::manifest::Duration;
use crate::model::substitute;

/// Sections of the daemon itself: not part of a manifest.
fn daemon_section(name: &str) -> bool {
    matches!(
        name,
        "supervisord" | "unix_http_server" | "inet_http_server" | "supervisorctl" | "include"
    ) || name.starts_with("rpcinterface:")
}

/// `[supervisord] environment=`: given to every program, so the stack's defaults.
fn daemon_env(
    sections: &[Section],
    env: &mut BTreeMap<String, String>,
    d: &mut Draft,
    report: &mut Report,
) {
    let Some(s) = sections.iter().find(|s| s.sec.name == "supervisord") else {
        return;
    };
    report.note(
        s.place(""),
        "the daemon's own settings are not part of a manifest",
    );
    let Some(v) = s.sec.get("environment") else {
        return;
    };
    let here = s.here();
    let lookup = |n: &str| match n {
        "here" => Some(here.clone()),
        n => n.strip_prefix("ENV_").and_then(|k| env.get(k).cloned()),
    };
    match interpolate(&v.value, &lookup).and_then(|t| parse_environment(&t)) {
        Ok(pairs) => {
            for (k, v) in pairs {
                d.defaults.set_in("environment", &k, v.clone());
                env.insert(k, v);
            }
        }
        Err(m) => report.drop(s.place("environment"), m),
    }
}

/// A value that gives each of `values` when `{instance}` is each of `insts`.
fn template(values: &[&Value], insts: &[&str]) -> Option<Value> {
    match values.first()? {
        Value::String(_) => {
            let texts: Vec<&str> = values.iter().map(|v| v.as_str()).collect::<Option<_>>()?;
            let fits = |t: &str| {
                texts
                    .iter()
                    .zip(insts)
                    .all(|(v, i)| substitute(t, Some(i)) == *v)
            };
            std::iter::once(texts[0].to_owned())
                .chain(
                    texts
                        .iter()
                        .zip(insts)
                        .map(|(v, i)| v.replace(i, "{instance}")),
                )
                .find(|t| fits(t))
                .map(Value::String)
        }
        Value::Array(first) => {
            let arrays: Vec<&Vec<Value>> =
                values.iter().map(|v| v.as_array()).collect::<Option<_>>()?;
            if arrays.iter().any(|a| a.len() != first.len()) {
                return None;
            }
            (0..first.len())
                .map(|i| template(&arrays.iter().map(|a| &a[i]).collect::<Vec<_>>(), insts))
                .collect::<Option<Vec<_>>>()
                .map(Value::Array)
        }
        Value::Table(first) => {
            let tables: Vec<&toml::Table> =
                values.iter().map(|v| v.as_table()).collect::<Option<_>>()?;
            let mut out = toml::Table::new();
            for k in first.keys() {
                let vs: Vec<&Value> = tables.iter().map(|t| t.get(k)).collect::<Option<_>>()?;
                out.insert(k.clone(), template(&vs, insts)?);
            }
            tables
                .iter()
                .all(|t| t.len() == first.len())
                .then_some(Value::Table(out))
        }
        v => values.iter().all(|x| *x == *v).then(|| (*v).clone()),
    }
}

/// openim-init's programs of one named instance each, merged back into their service.
fn merge_named(programs: Vec<Program>, report: &mut Report) -> Vec<Program> {
    let mut out: Vec<Program> = Vec::new();
    let mut parts: BTreeMap<String, Vec<Program>> = BTreeMap::new();
    for p in programs {
        match &p.named {
            Some((svc, _)) => {
                if !parts.contains_key(svc) {
                    out.push(Program {
                        entry: Entry::new(svc),
                        priority: p.priority,
                        key: p.key,
                        named: p.named.clone(),
                        waits: Vec::new(),
                    });
                }
                parts.entry(svc.clone()).or_default().push(p);
            }
            None => out.push(p),
        }
    }
    for p in &mut out {
        let Some(list) = p.named.take().and_then(|(svc, _)| parts.remove(&svc)) else {
            continue;
        };
        let insts: Vec<&str> = list
            .iter()
            .filter_map(|q| q.named.as_ref().map(|n| n.1.as_str()))
            .collect();
        let mut e = Entry::new(&sanitize_name(&p.entry.name));
        for (k, v) in &list[0].entry.table {
            let vs: Vec<&Value> = list.iter().filter_map(|q| q.entry.table.get(k)).collect();
            if let Some(t) = (vs.len() == list.len())
                .then(|| template(&vs, &insts))
                .flatten()
            {
                e.set(k, t);
            } else {
                report.drop(
                    format!("[program:{}_…] {k}", p.entry.name),
                    "differs between the instances beyond the instance name: the first is kept",
                );
                e.set(k, v.clone());
            }
        }
        e.set("instances", strings(&insts));
        e.key_comments.clone_from(&list[0].entry.key_comments);
        p.priority = list.iter().map(|q| q.priority).min().unwrap_or(999);
        p.key = list.iter().map(|q| q.key).min().unwrap_or((999, 999));
        p.waits.clone_from(&list[0].waits);
        p.entry = e;
    }
    out
}

/// Waits → `requires`/`wants`, externals and the health checks of waited-for services.
fn waits(programs: &mut [Program], d: &mut Draft) {
    let mut health: Vec<(String, toml::Table)> = Vec::new();
    for p in programs.iter_mut() {
        for (g, hard) in &p.waits {
            let key = if *hard { "requires" } else { "wants" };
            p.entry.push_unique(key, g.name.clone());
            if g.kind == "external" {
                let x = d.external_mut(&g.name);
                x.set("check", Value::Table(check_table(&g.check)));
                if g.budget != Duration::from_secs(60) {
                    x.set("wait_timeout", g.budget.to_string());
                }
            } else {
                health.push((g.name.clone(), check_table(&g.check)));
            }
        }
    }
    for (name, check) in health {
        if let Some(p) = programs
            .iter_mut()
            .find(|p| p.entry.name == name && !p.entry.table.contains_key("health"))
        {
            p.entry.set("health", Value::Table(check));
            p.entry.comment(
                "health",
                "read from a dependent's wait: choose interval, timeout and retries",
            );
        }
    }
}

/// Priorities → `after`: each service after those at the priority level below its own.
fn order(programs: &mut [Program]) {
    let keys: Vec<(i64, i64)> = programs.iter().map(|p| p.key).collect();
    let mut levels = keys.clone();
    levels.sort_unstable();
    levels.dedup();
    let names: Vec<String> = programs.iter().map(|p| p.entry.name.clone()).collect();
    for (i, p) in programs.iter_mut().enumerate() {
        let Some(l) = levels.iter().position(|k| *k == keys[i]).filter(|l| *l > 0) else {
            continue;
        };
        for (j, n) in names.iter().enumerate() {
            let listed = |k: &str| {
                p.entry
                    .table
                    .get(k)
                    .and_then(Value::as_array)
                    .is_some_and(|a| a.iter().any(|v| v.as_str() == Some(n)))
            };
            if keys[j] == levels[l - 1] && !listed("requires") && !listed("wants") {
                p.entry.push_unique("after", n.clone());
            }
        }
    }
}

/// A `[group:x]`: its section, name, programs and priority.
type GroupSpec<'s> = (&'s Section, String, Vec<String>, i64);

/// The `[group:x]` sections; sections of other kinds than program, group and the daemon's
/// are reported.
fn read_groups<'s>(sections: &'s [Section], report: &mut Report) -> Vec<GroupSpec<'s>> {
    let mut groups = Vec::new();
    for s in sections {
        if let Some(g) = s.sec.name.strip_prefix("group:") {
            let list = s.sec.get("programs").map_or_else(Vec::new, |v| {
                v.value
                    .split(',')
                    .map(|p| p.trim().to_owned())
                    .filter(|p| !p.is_empty())
                    .collect()
            });
            let prio = s
                .sec
                .get("priority")
                .and_then(|v| v.value.trim().parse().ok())
                .unwrap_or(999);
            groups.push((s, g.trim().to_owned(), list, prio));
        } else if !s.sec.name.starts_with("program:") && !daemon_section(&s.sec.name) {
            report.drop(s.place(""), "this kind of section is not carried over");
        }
    }
    groups
}

/// The stack's description (and its members when not all services), then the groups.
fn write_groups(d: &mut Draft, groups: Vec<(&Section, String, Vec<String>)>) {
    let all: Vec<String> = d.services.iter().map(|e| e.name.clone()).collect();
    for (s, name, members) in groups {
        let mut g = Entry::new(&sanitize_name(&name));
        let desc = s.sec.comments.first().cloned();
        if g.name == d.name {
            d.description.clone_from(&desc);
            if members == all {
                continue;
            }
        }
        if let Some(desc) = desc {
            g.set("description", desc);
        }
        g.set("services", strings(&members));
        d.groups.push(g);
    }
}

/// The manifest of `sections`.
pub(super) fn draft(
    paths: &[PathBuf],
    sections: &[Section],
    env: &BTreeMap<String, String>,
    opts: &super::super::Options,
    report: &mut Report,
) -> Draft {
    let mut d = Draft::default();
    let mut env = env.clone();
    daemon_env(sections, &mut env, &mut d, report);
    let textual_here = sections.iter().any(|s| s.sec.name == "include");
    let groups = read_groups(sections, report);
    let mut programs = Vec::new();
    for s in sections
        .iter()
        .filter(|s| s.sec.name.starts_with("program:"))
    {
        let name = s.sec.name["program:".len()..].trim();
        let group = groups.iter().find(|g| g.2.iter().any(|p| p == name));
        let ctx = Ctx {
            env: &env,
            group: group.map_or(name, |g| g.1.as_str()),
            textual_here,
        };
        let mut p = convert(s, &ctx, report);
        p.key.0 = group.map_or(p.priority, |g| g.3);
        programs.push(p);
    }
    let svc_of = |prog: &str| {
        let p = programs
            .iter()
            .find(|p| p.entry.name == sanitize_name(prog));
        p.and_then(|p| p.named.as_ref().map(|n| sanitize_name(&n.0)))
            .unwrap_or_else(|| sanitize_name(prog))
    };
    let groups: Vec<(&Section, String, Vec<String>)> = groups
        .iter()
        .map(|(s, n, l, _)| {
            let mut members: Vec<String> = Vec::new();
            for m in l.iter().map(|p| svc_of(p)) {
                if !members.contains(&m) {
                    members.push(m);
                }
            }
            (*s, n.clone(), members)
        })
        .collect();
    let mut programs = merge_named(programs, report);
    waits(&mut programs, &mut d);
    order(&mut programs);
    let stem = paths
        .first()
        .and_then(|p| p.file_stem())
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    d.name = opts
        .name
        .clone()
        .unwrap_or_else(|| sanitize_name(groups.first().map_or(stem.as_str(), |g| g.1.as_str())));
    d.comments.push(format!(
        "Imported by `openim-init import supervisord` from {} file(s); review the comments below.",
        paths.len()
    ));
    d.services = programs
        .into_iter()
        .map(|mut p| {
            p.entry.sort_keys();
            p.entry
        })
        .collect();
    write_groups(&mut d, groups);
    d
}
