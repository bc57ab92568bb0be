//! runit (Void, Artix, many container images): one service directory per process under
//! `sv/NAME/` (an instance is `sv/NAME-INSTANCE/`), for `runsvdir` to supervise once it is
//! linked into the scan directory (`/etc/service`, `/var/service`, a container's). `run`
//! brings up what the service depends on with `sv -w N start ../DEP` (readiness: the
//! dependency's `check`), then execs `chpst` with the account, limits and env dir; what
//! runit cannot do before a start goes through the shared `/bin/sh` wrapper. `finish`
//! carries the restart policy and delay; `check` the health check; `log/run` svlogd.

mod files;
pub mod process;
mod wrappers;

pub use files::{
    head, head_with, path, push_path_quoted, push_redirect, push_sibling, script_size,
    supervisors_line,
};
pub mod verify;

use std::path::Path;
use std::sync::LazyLock;

use super::capability::{Feature, Support};
use super::data::BackendData;
use super::kit::{self, Backend, RenderContext, Rendered, Report, Unit};
use crate::errors::Result;
use crate::model::Model;

/// The runit backend.
pub struct Runit;

static DATA: LazyLock<BackendData> =
    LazyLock::new(|| BackendData::parse(include_str!("../../backends/runit.toml")));

/// Directory of the service directories inside the output directory.
pub const DIR: &str = "sv";

/// The logger's directory for `stack` (one subdirectory per process).
#[must_use]
pub fn log_dir(stack: &str) -> String {
    format!("/var/log/{stack}")
}

impl Backend for Runit {
    /// `run`, `finish`, `check`, `log/run` and an instance's variable, then `env/KEY`.
    fn expected_files(&self, model: &Model) -> usize {
        kit::files_per_process_dir(model, 5)
    }

    fn name(&self) -> &'static str {
        "runit"
    }

    fn summary(&self) -> &'static str {
        "runit service directories (Void, Artix, containers) for runsvdir: sv/NAME/{run,finish,check,env/,log/run}, dependencies through sv -w start"
    }

    fn support(&self, feature: Feature) -> Support {
        match feature {
            Feature::User
            | Feature::Group
            | Feature::WorkingDir
            | Feature::Environment
            | Feature::Instances
            | Feature::NamedInstances => Support::Native,
            Feature::Restart => Support::Emulated(
                "runsv restarts ./run after every exit; ./finish runs `sv down .` for restart = never, and for on-failure after a clean exit (0 or a success code), so the service stays down (runit has no failed state: it shows `down`)",
            ),
            Feature::RestartDelay => Support::Emulated(
                "./finish sleeps restart_delay (whole seconds) before runsv restarts ./run, which runsv spaces at least a second apart; a requested stop skips the sleep",
            ),
            Feature::StartLimit => Support::Unsupported(
                "runsv restarts for ever (at most once a second); nothing gives up after a burst",
            ),
            Feature::StopSignal => {
                Support::Emulated("./control/t sends stop_signal instead of runsv's SIGTERM")
            }
            Feature::StopTimeout => Support::Emulated(
                "runsv never escalates a stop: the stop command is `sv -w SECONDS force-stop`, which sends SIGKILL after the wait; the notes give the longest stop_timeout of the stack",
            ),
            Feature::SuccessExitCodes => Support::Emulated(
                "./finish treats them as a clean exit for restart = on-failure; otherwise runit ignores exit codes",
            ),
            Feature::EnvironmentFile => Support::Emulated(super::shared::wrapper::ENV_FILE_HOW),
            Feature::ProcessLimits => Support::Emulated(
                "chpst -o/-p set the soft limit, capped at the hard limit runsv inherited",
            ),
            Feature::MemoryMax => Support::Emulated(
                "chpst -m limits the data, stack, locked and address-space rlimits: not a cgroup memory.max (a program that reserves much address space may fail to start)",
            ),
            Feature::CpuQuota => Support::Unsupported(
                "runit has no cgroups: no CPU limit is set (use the container's)",
            ),
            Feature::LogFiles => Support::Emulated(
                "./run appends stdout and stderr to the files itself (no rotation); without `logs`, log/run writes through svlogd (rotated) to the stack's log directory",
            ),
            Feature::Requires => Support::Emulated(
                "./run starts each required service with `sv -w SECONDS start ../DEP` and exits when it does not come up (runsv retries a second later); stopping it stops the services that require it (their ./finish)",
            ),
            Feature::Wants => Support::Emulated(
                "./run starts each wanted service with `sv -w SECONDS start ../DEP` and starts anyway when it does not come up",
            ),
            Feature::Ordering => Support::Emulated(
                "./run waits with `sv -w SECONDS check ../DEP` for a service that is starting anyway",
            ),
            Feature::ExternalGate => Support::Emulated(
                "the shared /bin/sh wrapper polls the external's check before exec; runsv shows the service running while it waits",
            ),
            Feature::Health => Support::Emulated(
                "./check is runit's readiness test: `sv -w N start|check` and dependents wait for it; runit never runs it on its own, so an unhealthy process is not restarted",
            ),
            Feature::PreStart => Support::Emulated(
                "the shared /bin/sh wrapper runs the commands as the service's user, in its directory and environment, before exec",
            ),
            Feature::Groups => Support::Emulated(
                "runit has no groups or stack: the stack's directories are linked into the scan directory, and starting or stopping the stack acts on every member in dependency order",
            ),
            Feature::Sandbox => Support::Unsupported(
                "only `umask 027` before the exec and the user (chpst -u) are carried: runit has no capability, privilege, file-system or system-call restrictions",
            ),
        }
    }

    fn data(&self) -> &'static BackendData {
        &DATA
    }

    fn render(&self, model: &Model, ctx: &RenderContext<'_>) -> Result<Rendered> {
        let mut out = Rendered::default();
        let logs = log_dir(&model.name);
        let planner = process::Planner::new(model, crate::escape::envdir::Reader::Chpst);
        let mut files = Vec::with_capacity(8);
        planner.each("runit", DIR, |p, plan| {
            let file_modes = (DATA.exec_mode, DATA.file_mode);
            files::artifacts(&mut files, plan, DIR, &logs, file_modes);
            ctx.emit_all(&mut out, files.drain(..))?;
            if ctx.units {
                out.units
                    .push(Unit::process(model, p, plan.name.to_owned()));
            }
            Ok(())
        })?;
        out.notes = DATA.notes(&model.name, None);
        out.notes.push(enable_note(&planner));
        out.notes.push(format!(
            "stop with a deadline: `sv -w {} force-stop DIR` (runsv itself never sends SIGKILL; {}s is the stack's longest stop_timeout)",
            process::longest_stop(model).secs_ceil().max(1),
            process::longest_stop(model).secs_ceil().max(1),
        ));
        Ok(out)
    }

    fn verify(&self, dir: &Path, rendered: &Rendered) -> Result<Report> {
        Ok(verify::check(dir, rendered, DIR)?)
    }
}

/// How to link the service directories into the scan directory: a loop over their names
/// (in start order) when there are few, else over the output's `sv/` directory.
fn enable_note(planner: &process::Planner<'_>) -> String {
    let what = "enable: link each directory into the scan directory runsvdir watches (Debian /etc/service, Void /var/service)";
    let system = &DATA.install.system;
    let count = planner.model().view.processes().len();
    match planner.few_dirs_in_start_order() {
        Some(names) => {
            format!("{what}: `for s in {names}; do ln -s {system}/$s /etc/service/; done`")
        }
        None => format!(
            "{what}; from the output directory, for its {count} directories: `for d in {DIR}/*; do ln -s {system}/\"${{d#{DIR}/}}\" /etc/service/; done`"
        ),
    }
}
