//! supervisord: one ini file with a `[program:x]` per service (`numprocs` for instances
//! 0..N-1, one program per named instance), a `[group:STACK]` so `supervisorctl start
//! 'STACK:*'` drives the stack, and with `--standalone` the daemon's own sections so
//! `supervisord -c FILE` runs it directly.
//!
//! supervisord has no dependencies, readiness or health checks: start order becomes
//! `priority`, and whatever must happen before a program starts (waiting for externals or
//! a required service's health check, `pre_start`, limits, an environment file) runs in a
//! `/bin/sh` wrapper that ends in `exec "$@"`, so the program still gets exactly its argv.

mod argv;
mod groups;
mod names;
pub mod program;
mod text;
pub mod verify;

use std::path::Path;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use super::capability::{Feature, Support};
use super::data::BackendData;
use super::kit::{Backend, RenderContext, Rendered, Report, Unit, UnitKind};
use super::shared::waits::WaitScripts;
use super::shared::wrapper;
use crate::errors::Result;
use crate::model::{Model, Service};
use groups::{GroupSection, groups};
use names::{check_names, priorities, program_names};

/// The supervisord backend.
pub struct Supervisord;

/// `backends/supervisord.toml`: the common backend data plus supervisord's own tables.
struct Data {
    common: BackendData,
    standalone: Settings,
    program: ProgramDefaults,
}

/// `[standalone]`: paths of the daemon's own files; `{stack}` is the stack name.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    socket: String,
    pidfile: String,
    logfile: String,
    childlogdir: String,
}

/// `[program]`: values for program keys the manifest has no field for.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProgramDefaults {
    startsecs: u32,
    startretries: u32,
    log_maxbytes: String,
    log_backups: u32,
    priority_base: u32,
    priority_step: u32,
}

#[expect(clippy::expect_used, reason = "embedded data, checked by a test")]
static DATA: LazyLock<Data> = LazyLock::new(|| {
    let mut table: toml::Table = toml::from_str(include_str!("../../backends/supervisord.toml"))
        .expect("backends/supervisord.toml is TOML");
    let mut take = |key: &str| table.remove(key).expect("backends/supervisord.toml table");
    let standalone = take("standalone")
        .try_into()
        .expect("[standalone] is valid");
    let program = take("program").try_into().expect("[program] is valid");
    Data {
        common: toml::Value::Table(table)
            .try_into()
            .expect("backends/supervisord.toml is valid backend data"),
        standalone,
        program,
    }
});

/// The file's template.
const CONF: &str = "supervisord/conf.tera";

/// One program section's template.
const PROGRAM: &str = "supervisord/program.tera";

const TEMPLATES: &[(&str, &str)] = &[
    (CONF, include_str!("../../templates/supervisord/conf.tera")),
    (
        PROGRAM,
        include_str!("../../templates/supervisord/program.tera"),
    ),
];

/// The command-line name.
const NAME: &str = "supervisord";

/// `--standalone`: emit a complete `supervisord.conf` instead of a conf.d include.
pub const STANDALONE: &str = "standalone";

impl Backend for Supervisord {
    fn name(&self) -> &'static str {
        NAME
    }

    fn flags(&self) -> &'static [&'static str] {
        &[STANDALONE]
    }

    fn templates(&self) -> &'static [(&'static str, &'static str)] {
        TEMPLATES
    }

    fn verify(&self, dir: &Path, rendered: &Rendered) -> Result<Report> {
        Ok(verify::check(dir, rendered)?)
    }

    fn summary(&self) -> &'static str {
        "supervisord ini (conf.d include, or a complete supervisord.conf with --standalone): [program:x] per service, [group:STACK]"
    }

    fn support(&self, feature: Feature) -> Support {
        match feature {
            Feature::Restart
            | Feature::StopSignal
            | Feature::StopTimeout
            | Feature::SuccessExitCodes
            | Feature::User
            | Feature::WorkingDir
            | Feature::Environment
            | Feature::LogFiles
            | Feature::Instances
            | Feature::Groups => Support::Native,
            Feature::RestartDelay => Support::Unsupported(
                "supervisord restarts a process that exits after startsecs at once; only starts that fail within startsecs back off (1s, 2s, 3s, …)",
            ),
            Feature::StartLimit => Support::Emulated(
                "startretries = burst: supervisord gives up (FATAL) after that many starts in a row that fail within startsecs; the interval is not used",
            ),
            Feature::Group => Support::Unsupported(
                "supervisord runs the program with the user's primary and supplementary groups; `group` is not applied",
            ),
            Feature::EnvironmentFile => Support::Emulated(wrapper::ENV_FILE_HOW),
            Feature::ProcessLimits => Support::Emulated(
                "the /bin/sh wrapper runs `ulimit -n`/`ulimit -u` before exec; raising past the hard limit needs supervisord's own limit (--standalone sets minfds/minprocs)",
            ),
            Feature::MemoryMax => Support::Unsupported(
                "supervisord has no memory limits; nothing enforces limits.memory_max",
            ),
            Feature::CpuQuota => Support::Unsupported(
                "supervisord has no CPU limits; nothing enforces limits.cpu_quota",
            ),
            Feature::Requires => Support::Emulated(
                "priority orders the start; starting a dependent alone does not start the required service; when that has a health check, the /bin/sh wrapper waits until it passes (once, at start) and fails the start when it does not in time, otherwise priority only; stopping or a crash of the required service does not stop its dependents",
            ),
            Feature::Wants => Support::Emulated(
                "priority order; when the wanted service has a health check, the /bin/sh wrapper waits for it (once, at start), then starts anyway",
            ),
            Feature::Ordering => Support::Emulated(
                "priority order: supervisord spawns in ascending priority but does not wait; when the earlier service has a health check, the /bin/sh wrapper waits for it (once, at start), then starts anyway",
            ),
            Feature::ExternalGate => Support::Emulated(
                "the /bin/sh wrapper polls the external's check until it answers or wait_timeout passes (then exits 1 and supervisord restarts it per `restart`), then execs the program",
            ),
            Feature::Health => Support::Unsupported(
                "supervisord has no health checks, it only restarts processes that exit; dependents that require the service wait for its check once, at their start",
            ),
            Feature::PreStart => Support::Emulated(
                "the /bin/sh wrapper runs the commands in order (as the service's user, in its directory) and stops at the first failure",
            ),
            Feature::NamedInstances => Support::Emulated(
                "numprocs only counts 0..N-1: each named instance is its own [program:NAME_INSTANCE] with the name substituted",
            ),
            Feature::Sandbox => Support::Unsupported(
                "only umask=027 and user are carried: supervisord has no privilege, capability, file-system or system-call restrictions",
            ),
        }
    }

    fn data(&self) -> &'static BackendData {
        &DATA.common
    }

    fn render(&self, model: &Model, ctx: &RenderContext<'_>) -> Result<Rendered> {
        let mut out = Rendered::default();
        let priority = priorities(model);
        let (groups, owner) = groups(model, &priority, &mut out.warnings);
        let standalone = ctx.flags.is_set(STANDALONE);
        let daemon = if standalone {
            Some(daemon(model)?)
        } else {
            None
        };
        let mut file = ConfFile {
            header: super::kit::HEADER,
            description: model.description.clone(),
            daemon,
            groups,
            programs: Vec::new(),
        };
        let path = if standalone {
            "supervisord.conf".to_owned()
        } else {
            format!("{}.conf", model.name)
        };
        // the file written in parts, each program appended as it is made, unless an
        // override of conf.tera needs the programs as strings (then it is made whole)
        let native = ctx.templates.is_native(CONF);
        let hint = if native {
            1024 + 512 * model.view.processes().len()
        } else {
            0
        };
        let mut conf = ctx.file(path.clone(), DATA.common.file_mode, hint);
        if native {
            file.write_head(conf.text());
        }
        let mut escaped = argv::Escaped::new(WaitScripts::new(model));
        for (s, svc) in model.services.iter().enumerate() {
            for (name, instance) in program_names(svc) {
                let section = program::section(&escaped, s, name, instance, priority[s])?;
                if native {
                    let text = conf.text();
                    text.push_str("\n\n");
                    let start = text.len();
                    ctx.templates.render_into(PROGRAM, &section, text)?;
                    let kept = text[start..].trim_end().len();
                    text.truncate(start + kept);
                    conf.part_done()?;
                } else {
                    let rendered = ctx.templates.render(PROGRAM, &section)?;
                    file.programs.push(rendered.trim_end().to_owned());
                }
            }
            escaped.done_with(s);
        }
        drop(escaped);
        check_names(model)?;
        if native {
            conf.text().push('\n');
        } else {
            *conf.text() = ctx.templates.render(CONF, &file)?;
        }
        conf.finish(&mut out)?;
        if ctx.units {
            out.units = units(model, &owner);
        }
        let stack_unit = format!("{}:*", model.name);
        if standalone {
            out.notes.push(format!(
                "run: `supervisord -c {path}` (add -n to stay in the foreground; {} must exist), then `supervisorctl -c {path} status`",
                DATA.standalone.childlogdir
            ));
        } else {
            out.notes = DATA.common.notes(&model.name, Some(&stack_unit));
            out.notes.push(format!(
                "RHEL/Fedora/Alpine read /etc/supervisord.d/*.ini (Alpine /etc/supervisor.d/*.ini): copy {path} there as {}.ini",
                model.name
            ));
        }
        Ok(out)
    }
}

/// The daemon's own sections of a standalone `supervisord.conf`.
fn daemon(model: &Model) -> Result<Daemon> {
    let [socket, pidfile, logfile, childlogdir] =
        program::daemon_paths(&model.name, &DATA.standalone)?;
    let max = |f: fn(&Service) -> Option<u64>| model.services.iter().filter_map(f).max();
    Ok(Daemon {
        socket,
        pidfile,
        logfile,
        childlogdir,
        minfds: max(|s| s.limits.nofile),
        minprocs: max(|s| s.limits.nproc),
    })
}

/// The names supervisorctl addresses: `GROUP:PROCESS` for every process, then each group
/// with programs as `GROUP:*` (the stack's first). `owner` is each service's group (see
/// [`groups`]).
fn units(model: &Model, owner: &[Option<u32>]) -> Vec<Unit> {
    let group_name = |g: usize| match g {
        0 => model.name.as_str(),
        g => model.groups[g - 1].name.as_str(),
    };
    let mut used = vec![false; model.groups.len() + 1];
    let mut out: Vec<Unit> = Vec::with_capacity(model.view.processes().len() + used.len());
    for p in model.view.processes() {
        let svc = &model.services[p.service];
        let name = match owner[p.service].map(|g| g as usize) {
            Some(g) => {
                used[g] = true;
                let g = group_name(g);
                let mut name = String::with_capacity(g.len() + svc.name.len() + 8);
                name.push_str(g);
                name.push(':');
                name.push_str(&svc.name);
                if let Some(i) = &p.instance {
                    name.push('_');
                    name.push_str(i);
                }
                name
            }
            None => p.joined(svc, "_"),
        };
        out.push(Unit::process(model, p, name));
    }
    out.push(Unit::grouping(
        format!("{}:*", model.name),
        &model.name,
        UnitKind::Stack,
    ));
    for (g, group) in model.groups.iter().enumerate() {
        if used[g + 1] {
            out.push(Unit::grouping(
                format!("{}:*", group.name),
                &group.name,
                UnitKind::Group,
            ));
        }
    }
    out
}

/// The template context of the whole file.
#[derive(Serialize)]
struct ConfFile<'m> {
    header: &'static str,
    description: String,
    daemon: Option<Daemon>,
    groups: Vec<GroupSection<'m>>,
    programs: Vec<String>,
}

#[derive(Serialize)]
struct Daemon {
    socket: String,
    pidfile: String,
    logfile: String,
    childlogdir: String,
    minfds: Option<u64>,
    minprocs: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_data_parses() {
        assert_eq!(DATA.common.install.system, "/etc/supervisor/conf.d");
        assert_eq!(DATA.standalone.childlogdir, "/var/log/supervisor");
        assert!(DATA.program.startsecs >= 1 && DATA.program.priority_step > 0);
        assert!(DATA.common.commands.start.iter().any(|a| a == "{unit}"));
    }
}
