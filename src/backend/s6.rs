//! s6: one service directory per process (an instance is its own, `NAME-INSTANCE`), in one
//! of two layouts. Plain (default): `s6/NAME/` for `s6-svscan`; `run` brings up what the
//! service depends on (`s6-svc -u ../DEP` and `s6-svwait -U`, readiness included). With
//! `--layout s6-overlay`: the s6-rc source tree s6-overlay v3 reads from
//! `/etc/s6-overlay/s6-rc.d/` — a `longrun` per process with `dependencies.d/`, a bundle for
//! the stack and each group, and the stack enabled in s6-overlay's `user` bundle.
//!
//! Readiness is `notification-fd` + `s6-notifyoncheck` polling `data/check` (the health
//! check); `finish` carries the restart policy and delay (exit 125: no restart);
//! `down-signal` and `timeout-kill` the stop; what s6 cannot do before a start goes
//! through the shared `/bin/sh` wrapper.

mod files;
pub mod overlay;

use std::path::Path;
use std::sync::LazyLock;

use super::capability::{Feature, Support};
use super::data::BackendData;
use super::kit::{self, Backend, RenderContext, Rendered, Report, Unit, UnitKind};
use super::runit::process;
use crate::errors::{Error, Result};
use crate::escape::envdir::Reader;
use crate::model::Model;

/// The s6 backend.
pub struct S6;

static DATA: LazyLock<BackendData> =
    LazyLock::new(|| BackendData::parse(include_str!("../../backends/s6.toml")));

/// Directory of the plain service directories inside the output directory.
pub const DIR: &str = "s6";

/// `--layout`: `s6-overlay` for the s6-rc source tree of s6-overlay v3.
pub const LAYOUT: &str = "layout";

/// The value of [`LAYOUT`] that selects the s6-overlay tree.
pub const OVERLAY: &str = "s6-overlay";

impl Backend for S6 {
    /// `run`, `finish`, `log/run`, `data/check`, three settings, an instance's variable,
    /// then `env/KEY`.
    fn expected_files(&self, model: &Model) -> usize {
        kit::files_per_process_dir(model, 8)
    }

    fn name(&self) -> &'static str {
        "s6"
    }

    fn summary(&self) -> &'static str {
        "s6 service directories for s6-svscan (s6/NAME/{run,finish,notification-fd,data/check,...}), or with --layout s6-overlay the s6-rc source tree of s6-overlay v3"
    }

    fn support(&self, feature: Feature) -> Support {
        match feature {
            Feature::StopSignal
            | Feature::StopTimeout
            | Feature::User
            | Feature::Group
            | Feature::WorkingDir
            | Feature::Environment
            | Feature::Instances
            | Feature::NamedInstances => Support::Native,
            Feature::Restart => Support::Emulated(
                "s6-supervise restarts ./run after every exit; ./finish exits 125 (no restart) for restart = never, and for on-failure after a clean exit (0 or a success code)",
            ),
            Feature::RestartDelay => Support::Emulated(
                "s6-supervise waits a second after ./finish, which sleeps the rest of restart_delay (whole seconds; timeout-finish raised to fit); a requested stop skips the sleep",
            ),
            Feature::StartLimit => Support::Unsupported(
                "s6-supervise restarts for ever (at most once a second); nothing gives up after a burst",
            ),
            Feature::SuccessExitCodes => Support::Emulated(
                "./finish treats them as a clean exit for restart = on-failure; otherwise s6 ignores exit codes",
            ),
            Feature::EnvironmentFile => Support::Emulated(super::shared::wrapper::ENV_FILE_HOW),
            Feature::ProcessLimits => Support::Emulated(
                "s6-softlimit -o/-p set the soft limit, capped at the hard limit s6-supervise inherited",
            ),
            Feature::MemoryMax => Support::Emulated(
                "s6-softlimit -m limits the data, stack, locked and address-space rlimits: not a cgroup memory.max (a program that reserves much address space may fail to start)",
            ),
            Feature::CpuQuota => {
                Support::Unsupported("s6 has no cgroups: no CPU limit is set (use the container's)")
            }
            Feature::LogFiles => Support::Emulated(
                "./run appends stdout and stderr to the files itself (no rotation); without `logs`, log/run writes through s6-log (rotated) to the stack's log directory (s6-overlay: to the container's output)",
            ),
            Feature::Requires => Support::Emulated(
                "plain: ./run brings each required service up (s6-svc -u ../DEP) and waits until it is ready (s6-svwait -U), else exits and is retried; stopping it stops its dependents (./finish). s6-overlay: dependencies.d, started and stopped by s6-rc",
            ),
            Feature::Wants => Support::Emulated(
                "plain: ./run brings each wanted service up and waits for it, then starts anyway. s6-overlay: s6-rc has only hard dependencies, so a wanted service is in dependencies.d",
            ),
            Feature::Ordering => Support::Emulated(
                "plain: ./run waits (s6-svwait -U) for a service that is wanted up anyway. s6-overlay: s6-rc has only hard dependencies, so it is in dependencies.d",
            ),
            Feature::ExternalGate => Support::Emulated(
                "the shared /bin/sh wrapper polls the external's check before exec; s6 shows the service up (not ready) while it waits",
            ),
            Feature::Health => Support::Emulated(
                "readiness: s6-notifyoncheck polls data/check (interval, timeout, retries) and sets the ready flag that dependents and s6-svwait -U wait for; s6 does not poll afterwards, so an unhealthy process is not restarted",
            ),
            Feature::PreStart => Support::Emulated(
                "the shared /bin/sh wrapper runs the commands as the service's user, in its directory and environment, before exec",
            ),
            Feature::Groups => Support::Emulated(
                "plain: s6-svscan has no groups; starting or stopping the stack acts on every member. s6-overlay: a bundle for the stack and each group",
            ),
            Feature::Sandbox => Support::Unsupported(
                "only `umask 027` before the exec and the user (s6-setuidgid) are carried: s6 has no capability, privilege, file-system or system-call restrictions",
            ),
        }
    }

    fn flags(&self) -> &'static [&'static str] {
        &[LAYOUT]
    }

    fn data(&self) -> &'static BackendData {
        &DATA
    }

    fn render(&self, model: &Model, ctx: &RenderContext<'_>) -> Result<Rendered> {
        let layout = ctx.flags.value(LAYOUT).unwrap_or("s6");
        let overlay = match layout {
            "s6" => false,
            OVERLAY => true,
            other => {
                return Err(Error::usage(format!(
                    "--layout {other}: the s6 layouts are `s6` (plain service directories, the default) and `s6-overlay`"
                )));
            }
        };
        let mut out = Rendered::default();
        let logs = super::runit::log_dir(&model.name);
        let file_modes = (DATA.exec_mode, DATA.file_mode);
        let planner = process::Planner::new(model, Reader::S6Envdir);
        let mut files = Vec::with_capacity(8);
        let root = if overlay { overlay::ROOT } else { DIR };
        planner.each("s6", root, |p, plan| {
            if overlay {
                files.extend(overlay::longrun(plan, file_modes));
            } else {
                let mut base = String::with_capacity(DIR.len() + plan.name.len() + 1);
                base.push_str(DIR);
                base.push('/');
                base.push_str(plan.name);
                let deps = files::Deps::InRun;
                files::artifacts(&mut files, plan, &base, deps, Some(&logs), file_modes);
            }
            ctx.emit_all(&mut out, files.drain(..))?;
            if ctx.units {
                out.units
                    .push(Unit::process(model, p, plan.name.to_owned()));
            }
            Ok(())
        })?;
        if overlay {
            ctx.emit_all(&mut out, overlay::bundles(model, DATA.file_mode))?;
            if ctx.units {
                out.units.push(Unit::grouping(
                    model.name.clone(),
                    &model.name,
                    UnitKind::Stack,
                ));
                for g in &model.groups {
                    out.units
                        .push(Unit::grouping(g.name.clone(), &g.name, UnitKind::Group));
                }
            }
            out.notes = overlay::notes(model);
        } else {
            out.notes = DATA.notes(&model.name, None);
            out.notes.push(enable_note(&planner));
        }
        Ok(out)
    }

    fn verify(&self, dir: &Path, rendered: &Rendered) -> Result<Report> {
        if rendered
            .artifacts
            .iter()
            .any(|a| a.path.starts_with(overlay::ROOT))
        {
            return Ok(overlay::verify(dir, rendered)?);
        }
        Ok(super::runit::verify::check(dir, rendered, DIR)?)
    }
}

/// How to link the service directories into the scan directory: a loop over their names
/// (in start order) when there are few, else over the output's `s6/` directory and one
/// rescan at the end.
fn enable_note(planner: &process::Planner<'_>) -> String {
    let what =
        "enable: link each directory into the scan directory s6-svscan watches (e.g. /run/service)";
    let system = &DATA.install.system;
    let count = planner.model().view.processes().len();
    match planner.few_dirs_in_start_order() {
        Some(names) => format!(
            "{what}: `for s in {names}; do ln -s {system}/$s /run/service/ && s6-svscanctl -a /run/service; done`"
        ),
        None => format!(
            "{what}; from the output directory, for its {count} directories: `for d in {DIR}/*; do ln -s {system}/\"${{d#{DIR}/}}\" /run/service/; done; s6-svscanctl -a /run/service`"
        ),
    }
}
