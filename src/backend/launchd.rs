//! launchd (macOS): one job plist per service, and one per instance of an instanced service,
//! named `LABEL.plist`. The plists are written natively (`job.rs`), in the exact layout of the
//! `plist` crate, which a test holds them to byte for byte; all XML escaping is in one place. What launchd lacks (dependencies, readiness gates, pre-start
//! commands, environment files) is emulated by a `/bin/sh -c` wrapper that ends in
//! `exec "$@"`; groups have no launchd counterpart: the notes print `launchctl` loops instead.

mod argv;
mod job;
mod labels;
mod notes;
mod values;
pub mod verify;

use std::borrow::Cow;
use std::path::Path;
use std::sync::LazyLock;

use super::capability::{Feature, Findings, Support};
use super::data::BackendData;
use super::kit::{Artifact, Backend, RenderContext, Rendered, Report, Unit};
use super::shared;
use super::shared::waits::WaitScripts;
use super::shared::wrapper::{self, Prelude, Ready};
use crate::errors::{Error, Result};
use crate::model::{Model, Process, Target};

pub use super::shared::wrapper::TIMEOUT_SHIM;

/// The launchd backend.
pub struct Launchd;

static DATA: LazyLock<BackendData> =
    LazyLock::new(|| BackendData::parse(include_str!("../../backends/launchd.toml")));

/// macOS' `OPEN_MAX`: a larger `NumberOfFiles` may be clamped or refused unless `kern.maxfilesperproc`
/// allows it.
const OPEN_MAX: u64 = 10240;

/// The command-line name.
const NAME: &str = "launchd";

/// `--label-prefix`: the reverse-DNS label prefix (default `io.<stack>`).
pub const LABEL_PREFIX: &str = "label-prefix";

impl Backend for Launchd {
    fn name(&self) -> &'static str {
        NAME
    }

    fn flags(&self) -> &'static [&'static str] {
        &[LABEL_PREFIX]
    }

    fn summary(&self) -> &'static str {
        "launchd job plists (macOS): LABEL.plist per service and instance, for /Library/LaunchDaemons or ~/Library/LaunchAgents"
    }

    fn support(&self, feature: Feature) -> Support {
        match feature {
            Feature::Restart
            | Feature::StopTimeout
            | Feature::User
            | Feature::Group
            | Feature::WorkingDir
            | Feature::Environment
            | Feature::ProcessLimits
            | Feature::LogFiles
            | Feature::NamedInstances => Support::Native,
            Feature::RestartDelay => Support::Emulated(
                "ThrottleInterval (whole seconds, at least 1): launchd spawns a job at most once per interval, so a job that ran longer than that restarts at once",
            ),
            Feature::StartLimit => Support::Unsupported(
                "launchd keeps restarting forever, throttled by ThrottleInterval",
            ),
            Feature::StopSignal => Support::Unsupported(
                "launchd has no stop-signal key: it always sends SIGTERM, then SIGKILL after ExitTimeOut",
            ),
            Feature::SuccessExitCodes => Support::Unsupported(
                "KeepAlive.SuccessfulExit means exit status 0 only: with restart = on-failure a listed code is restarted like a failure",
            ),
            Feature::EnvironmentFile => Support::Emulated(wrapper::ENV_FILE_HOW),
            Feature::MemoryMax => {
                Support::Unsupported("macOS does not enforce a memory ceiling for launchd jobs")
            }
            Feature::CpuQuota => Support::Unsupported("launchd has no CPU quota"),
            Feature::Requires => Support::Emulated(
                "launchd has no dependency model: the sh wrapper waits for the dependency's health check and fails the start when it does not pass in time (launchd retries per KeepAlive); stopping a dependency does not stop its dependents",
            ),
            Feature::Wants => Support::Emulated(
                "the sh wrapper waits for the dependency's health check, then starts anyway",
            ),
            Feature::Ordering => Support::Emulated(
                "the sh wrapper waits for the earlier service's health check, then starts anyway",
            ),
            Feature::ExternalGate => Support::Emulated(
                "the sh wrapper polls the external's check before exec; requires: fails the start after wait_timeout, wants/after: starts anyway",
            ),
            Feature::Health => Support::Unsupported(
                "launchd has no health checks; the check only gates the start of dependents",
            ),
            Feature::PreStart => Support::Emulated(
                "the sh wrapper runs each command in order before exec and fails the start if one fails",
            ),
            Feature::Instances => Support::Emulated(
                "one job per instance, {instance} substituted at generation time (regenerate to change them)",
            ),
            Feature::Groups => Support::Unsupported(
                "launchd has no job groups; the notes print launchctl loops that bootstrap / boot out the stack and each group",
            ),
            Feature::Sandbox => Support::Unsupported(
                "only Umask 0027 (written as 23) and UserName are carried: launchd has no capability, privilege, file-system or system-call restrictions",
            ),
        }
    }

    fn data(&self) -> &'static BackendData {
        &DATA
    }

    fn render(&self, model: &Model, ctx: &RenderContext<'_>) -> Result<Rendered> {
        let prefix = label_prefix(model, ctx.flags.value(LABEL_PREFIX))?;
        let mut out = Rendered::default();
        let mut found = Findings::default();
        let mut escaped = argv::Escaped::new(WaitScripts::new(model));
        let mut taken = labels::Taken::default();
        let mut text = String::new();
        // one unit per job: not a doubled vector (it lives to the end of the render); none
        // when the caller does not want them (`generate`)
        if ctx.units {
            out.units.reserve_exact(model.view.processes().len());
        }
        for (s, svc) in model.services.iter().enumerate() {
            values::check(svc)?;
            let (waits, targets) = waits_of(model, s, &escaped, &mut found);
            for (i, p) in model.view.processes_of(s).iter().enumerate() {
                // the label is written once, into the path, as the job is made (a table of
                // every label was 500 KB at 10,000 jobs)
                let instance = p.instance.as_deref();
                let mut path = String::with_capacity(
                    prefix.len() + svc.name.len() + instance.map_or(0, |i| i.len() + 1) + 7,
                );
                labels::push_label(&mut path, &prefix, &svc.name, instance);
                let label_len = path.len();
                path.push_str(".plist");
                let label = &path[..label_len];
                taken.take(model, &prefix, (s, i), label)?;
                // the model's own values were checked above; what the waits add, here
                if let Some(problem) = escaped.problem(&targets) {
                    return Err(values::argument_problem(label, &problem));
                }
                let prelude = Prelude {
                    waits: waits.clone(),
                    ..Prelude::default()
                };
                // written into one buffer, then copied into a string of its exact size: an
                // estimate was half again as large, and hundreds of plists can be on their
                // way to the writing thread at once
                text.clear();
                let job = job::job(svc, prelude, label, instance);
                job.push_xml(
                    &mut text,
                    &argv::Xml {
                        escaped: &escaped,
                        targets: &targets,
                    },
                );
                drop(job);
                let xml = text.as_str().to_owned();
                let unit = ctx.units.then(|| Unit::process(model, p, label.to_owned()));
                ctx.emit(&mut out, Artifact::file(path, DATA.file_mode, xml))?;
                out.units.extend(unit);
            }
            escaped.done_with(&targets);
        }
        // the notes name every job: made once the loops are gone
        drop(escaped);
        out.notes = notes::notes(model, &prefix);
        out.warnings = found.into_warnings();
        Ok(out)
    }

    fn verify(&self, dir: &Path, rendered: &Rendered) -> Result<Report> {
        Ok(verify::check(dir, rendered)?)
    }
}

/// What service `s` waits for before it starts: a wait for each target with a script and
/// those targets, in order; a dependency without a health check is not waited for.
fn waits_of<'m>(
    model: &Model,
    s: usize,
    escaped: &'m argv::Escaped<'_>,
    found: &mut Findings,
) -> (Vec<Ready<'m>>, Vec<Target>) {
    let mut waits = Vec::new();
    let mut targets = Vec::new();
    for (target, kind) in shared::waits::edges(model, s) {
        match (escaped.scripts().script(target), target) {
            (Some(script), _) => {
                waits.push(Ready {
                    script: Cow::Borrowed(script),
                    hard: kind.is_hard(),
                });
                targets.push(target);
            }
            (None, Target::Service(dep)) => {
                found.unwaited(NAME, model, (s, dep, kind), "no health check");
            }
            (None, Target::External(_)) => {}
        }
    }
    (waits, targets)
}

fn label_prefix(model: &Model, given: Option<&str>) -> Result<String> {
    let Some(p) = given else {
        return Ok(format!("io.{}", model.name));
    };
    let ok = p.len() <= 128
        && p.split('.').all(|seg| {
            !seg.is_empty() && seg.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if ok {
        Ok(p.to_owned())
    } else {
        Err(Error::usage(format!(
            "--label-prefix `{}` is not a reverse-DNS name: use letters, digits and `-` in dot-separated parts, e.g. com.example.{}",
            p.escape_debug(),
            model.name
        )))
    }
}

/// The job label of a process: `PREFIX.NAME` or `PREFIX.NAME.INSTANCE`.
#[must_use]
pub fn label(prefix: &str, model: &Model, p: &Process) -> String {
    let mut out = String::new();
    labels::push_label(
        &mut out,
        prefix,
        &model.services[p.service].name,
        p.instance.as_deref(),
    );
    out
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use crate::backend::kit::Body;
    use crate::backend::{BackendKind, Flags, render_embedded};
    use crate::model::Model;

    #[test]
    fn plists_and_the_notes_that_name_every_job_take_no_more_room_than_their_text() {
        let mut text = String::from("name = \"n\"\n[groups.g]\nservices = [\"s1\", \"s3\"]\n");
        for i in 0..40 {
            let _ = write!(text, "[services.s{i}]\ncommand = [\"/bin/s\", \"{i}\"]\n");
            if i % 3 == 0 {
                text.push_str("instances = 2\n");
            }
        }
        let model = Model::from_toml("n.toml", &text).expect("valid");
        let r = render_embedded(BackendKind::Launchd, &model, &Flags::default()).expect("renders");
        let mut plists = 0;
        for a in &r.artifacts {
            if let Body::File { contents, .. } = &a.body {
                assert_eq!(contents.capacity(), contents.len(), "{}", a.path);
                plists += 1;
            }
        }
        assert_eq!(plists, 54, "40 services, 14 of them twice");
        let loops: Vec<&String> = (r.notes.iter())
            .filter(|n| n.starts_with("start ") || n.starts_with("stop "))
            .collect();
        assert_eq!(loops.len(), 4, "the stack and the group");
        for note in loops {
            assert_eq!(note.capacity(), note.len(), "{note}");
        }
    }
}
