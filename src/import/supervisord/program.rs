//! One `[program:x]` → one service table (values `%`-expanded as supervisor does).

use super::super::draft::{Entry, strings};
use super::super::gate::Gate;
use super::super::{Report, sanitize_name, wrapper};
use super::Section;
use super::reader::{Ctx, Reader, truthy};
use crate::escape::supervisord::{parse_environment, shlex_split};
use crate::manifest::Signal;

/// Keys read here; any other is reported.
const KEYS: &[&str] = &[
    "command",
    "process_name",
    "numprocs",
    "numprocs_start",
    "priority",
    "autostart",
    "autorestart",
    "startsecs",
    "startretries",
    "exitcodes",
    "stopsignal",
    "stopwaitsecs",
    "stopasgroup",
    "killasgroup",
    "user",
    "umask",
    "redirect_stderr",
    "environment",
    "directory",
    "stdout_logfile",
    "stderr_logfile",
    "stdout_logfile_maxbytes",
    "stdout_logfile_backups",
    "stderr_logfile_maxbytes",
    "stderr_logfile_backups",
];

/// What openim-init writes when the manifest says nothing (`backends/supervisord.toml`).
const OWN_STARTRETRIES: &str = "10";

/// What the program section says besides its table.
pub(super) struct Program {
    /// The service table.
    pub entry: Entry,
    /// `priority` (supervisor's default 999).
    pub priority: i64,
    /// Where supervisord starts it: (its group's priority, its own).
    pub key: (i64, i64),
    /// `Some((service, instance))` for openim-init's program of one named instance.
    pub named: Option<(String, String)>,
    /// Readiness waits of the wrapper, with whether they are hard.
    pub waits: Vec<(Gate, bool)>,
}

/// Convert one program section.
pub(super) fn convert(s: &Section, ctx: &Ctx<'_>, report: &mut Report) -> Program {
    let name = s.sec.name.trim_start_matches("program:").trim().to_owned();
    let mut r = Reader {
        s,
        ctx,
        name: name.clone(),
        numprocs: "1".into(),
        process_num: "0".into(),
        env: ctx.env.clone(),
    };
    let mut e = Entry::new(&sanitize_name(&name));
    if e.name != name {
        report.note(s.place("command"), format!("renamed to `{}`", e.name));
    }
    let named = s.sec.comments.iter().find_map(|c| {
        let rest = c.strip_prefix("instance `")?;
        let (inst, svc) = rest.split_once("` of service ")?;
        Some((svc.to_owned(), inst.to_owned()))
    });
    if let Some(d) = s.sec.comments.first() {
        e.set("description", d.clone());
    }
    instances(&mut r, &mut e, report);
    let mut waits = Vec::new();
    if let Some(t) = r.get("environment", report) {
        match parse_environment(&t) {
            Ok(pairs) => {
                for (k, v) in pairs {
                    r.env.insert(k.clone(), v.clone());
                    e.set_in("environment", &k, v);
                }
            }
            Err(m) => report.drop(s.place("environment"), m),
        }
    }
    command(&r, &mut e, &mut waits, report);
    settings(&r, &mut e, report);
    super::logs::logs(&r, &mut e, report);
    for v in &s.sec.values {
        if !KEYS.contains(&v.key.as_str()) {
            report.drop(s.place(&v.key), "not carried over");
        }
    }
    let priority = r.number("priority", report).unwrap_or(999);
    Program {
        entry: e,
        priority,
        key: (priority, priority),
        named,
        waits,
    }
}

/// `numprocs`, `numprocs_start`, `process_name` → `instances`.
fn instances(r: &mut Reader<'_>, e: &mut Entry, report: &mut Report) {
    let n = r.number("numprocs", report).unwrap_or(1).max(1);
    let start = r.number("numprocs_start", report).unwrap_or(0);
    r.numprocs = n.to_string();
    r.process_num = start.to_string();
    let pname = r
        .raw("process_name")
        .unwrap_or("%(program_name)s")
        .to_owned();
    if !pname.contains("%(process_num)") {
        return;
    }
    crate::model::INSTANCE_PLACEHOLDER.clone_into(&mut r.process_num);
    if start == 0 {
        e.set("instances", n);
    } else {
        let list: Vec<String> = (start..start + n).map(|i| i.to_string()).collect();
        e.set("instances", strings(&list));
    }
    if pname != "%(program_name)s_%(process_num)d" {
        report.note(
            r.s.place("process_name"),
            "processes are named SERVICE_INSTANCE (supervisorctl names change)",
        );
    }
}

/// `command` (openim-init's wrapper read back) and what the wrapper does.
fn command(r: &Reader<'_>, e: &mut Entry, waits: &mut Vec<(Gate, bool)>, report: &mut Report) {
    let place = r.s.place("command");
    let argv = match r.get("command", report).map(|t| shlex_split(&t)) {
        Some(Ok(a)) if !a.is_empty() => a,
        Some(Err(m)) => {
            report.drop(place.clone(), m);
            Vec::new()
        }
        _ => Vec::new(),
    };
    if argv.is_empty() {
        report.drop(place, "no usable command");
        e.comment("command", "TODO: no usable command= was found");
        e.set("command", strings(&["/bin/false"]));
        return;
    }
    let mut argv = argv;
    if let Some(u) = wrapper::unwrap(&argv) {
        argv = u.argv;
        for (k, v) in u.exports {
            e.set_in("environment", &k, v);
        }
        if let Some(f) = u.environment_file {
            e.set("environment_file", f);
        }
        if let Some(n) = u.limits.nofile {
            e.set_in("limits", "nofile", i64::try_from(n).unwrap_or(i64::MAX));
        }
        if let Some(n) = u.limits.nproc {
            e.set_in("limits", "nproc", i64::try_from(n).unwrap_or(i64::MAX));
        }
        if !u.pre_start.is_empty() {
            let list = u.pre_start.iter().map(|p| strings(p)).collect();
            e.set("pre_start", toml::Value::Array(list));
        }
        *waits = u.waits;
    }
    if !argv[0].starts_with('/') {
        report.note(
            place,
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
        argv.insert(0, "/usr/bin/env".into());
    }
    e.set("command", strings(&argv));
}

/// The single-valued keys.
fn settings(r: &Reader<'_>, e: &mut Entry, report: &mut Report) {
    let s = r.s;
    if let Some(d) = r.get("directory", report) {
        if d.starts_with('/') {
            e.set("working_dir", d);
        } else {
            report.drop(s.place("directory"), "not an absolute path");
        }
    }
    if let Some(u) = r.get("user", report) {
        e.set("user", u);
    }
    // openim-init writes 027 for either sandbox level: the service gets the default level
    match r.get("umask", report) {
        None => {}
        Some(m) if m.trim_start_matches('0') == "27" => {}
        Some(m) => report.drop(
            s.place("umask"),
            format!("`{m}`: only the sandbox's 027 is carried (as the default `sandbox`)"),
        ),
    }
    match r.get("autorestart", report).map(|v| v.to_ascii_lowercase()) {
        None => {}
        Some(v) if v == "unexpected" => e.set("restart", "on-failure"),
        Some(v) => match truthy(&v) {
            Some(true) => e.set("restart", "always"),
            Some(false) => e.set("restart", "never"),
            None => report.drop(s.place("autorestart"), format!("`{v}` is not a policy")),
        },
    }
    if let Some(v) = r
        .get("startretries", report)
        .filter(|v| v != OWN_STARTRETRIES)
    {
        match v.trim().parse::<i64>() {
            Ok(n) => {
                e.set_in("start_limit", "burst", n);
                e.set_in("start_limit", "interval", "10s");
                e.comment(
                    "start_limit",
                    "supervisord counts failed starts in a row (startretries); choose the interval",
                );
            }
            Err(_) => report.drop(s.place("startretries"), format!("`{v}` is not a number")),
        }
    }
    if let Some(v) = r.get("exitcodes", report) {
        let codes: Result<Vec<i64>, _> = v.split(',').map(|c| c.trim().parse::<i64>()).collect();
        match codes {
            Ok(codes) if codes.iter().all(|c| (0..=255).contains(c)) => {
                if !codes.contains(&0) {
                    report.note(s.place("exitcodes"), "0 now counts as success as well");
                }
                for c in codes.into_iter().filter(|c| *c != 0) {
                    e.push_unique("success_exit_codes", c);
                }
            }
            _ => report.drop(
                s.place("exitcodes"),
                format!("`{v}` is not a list of exit codes"),
            ),
        }
    }
    if let Some(v) = r.get("stopsignal", report) {
        match Signal::parse(&v) {
            Ok(sig) => e.set("stop_signal", sig.name()),
            Err(m) => report.drop(s.place("stopsignal"), m),
        }
    }
    let wait = r.number("stopwaitsecs", report).unwrap_or(10);
    e.set("stop_timeout", format!("{wait}s"));
    if r.get("startsecs", report).is_some_and(|v| v.trim() != "1") {
        report.drop(
            s.place("startsecs"),
            "the manifest has no start-up grace period (1s is used)",
        );
    }
    if r.get("autostart", report)
        .is_some_and(|v| truthy(&v) == Some(false))
    {
        report.drop(
            s.place("autostart"),
            "every service of the stack starts with it",
        );
    }
    let group_stop = r.get("stopasgroup", report).and_then(|v| truthy(&v));
    if group_stop != Some(true) {
        report.note(
            s.place("stopasgroup"),
            "openim-init stops and kills the whole process group",
        );
    }
}
