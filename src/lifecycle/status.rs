//! `status`: per process the state the init system keeps (its own command, read per
//! [`StatusFormat`]), health measured now by openim-init with the manifest's check, and
//! every external probed the same way. A table for people, JSON for scripts.

mod openrc;
mod parse;
mod scan;
mod table;

use serde::Serialize;

use super::control::{Control, Verb};
use super::health;
use crate::backend::Unit;
use crate::backend::data::StatusFormat;
use crate::model::Model;

pub use table::table;

/// A process's state, in the words of every backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// Up.
    Running,
    /// On its way up (or waiting to be restarted).
    Starting,
    /// On its way down.
    Stopping,
    /// Down: stopped, or never started.
    Stopped,
    /// Down without being stopped.
    Failed,
    /// The init system does not know the unit.
    NotInstalled,
}

impl State {
    /// The word shown (as in the JSON).
    #[must_use]
    pub fn word(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Starting => "starting",
            Self::Stopping => "stopping",
            Self::Stopped => "stopped",
            Self::Failed => "failed",
            Self::NotInstalled => "not-installed",
        }
    }
}

/// Health as measured now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    /// The check passed.
    Ok,
    /// The check failed (or the process is not running).
    Failing,
    /// The service has no check.
    None,
}

/// What the init system says about one unit.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Seen {
    /// Its state (`None`: not installed).
    pub state: Option<State>,
    /// Main pid.
    pub pid: Option<u32>,
    /// Seconds since its main process started.
    pub uptime_s: Option<u64>,
    /// Restarts the init system counted.
    pub restarts: Option<u32>,
}

/// One row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProcessStatus {
    /// The init system's name.
    pub unit: String,
    /// The service.
    pub service: String,
    /// The instance, if any.
    pub instance: Option<String>,
    /// State.
    pub state: State,
    /// Main pid.
    pub pid: Option<u32>,
    /// Seconds up.
    pub uptime_s: Option<u64>,
    /// Restarts counted by the init system.
    pub restarts: Option<u32>,
    /// Health measured now.
    pub health: Health,
}

/// One external dependency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExternalStatus {
    /// Its name.
    pub name: String,
    /// Whether its check passed now.
    pub reachable: bool,
}

/// The whole answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The stack.
    pub stack: String,
    /// The backend.
    pub backend: String,
    /// One per process.
    pub processes: Vec<ProcessStatus>,
    /// One per external.
    pub externals: Vec<ExternalStatus>,
}

impl Report {
    /// Every process running and not failing its health check.
    #[must_use]
    pub fn all_well(&self) -> bool {
        self.processes
            .iter()
            .all(|p| p.state == State::Running && p.health != Health::Failing)
    }
}

/// Ask the init system about `unit`.
///
/// # Errors
/// The status command could not be run.
pub fn query(control: &Control<'_>, format: StatusFormat, unit: &str) -> anyhow::Result<Seen> {
    let Some(out) = control.run(Verb::Status, unit)? else {
        return Ok(Seen::default());
    };
    Ok(match format {
        StatusFormat::SystemdShow => parse::systemd(&out.stdout, parse::monotonic_us()),
        StatusFormat::OpenrcExit => openrc::supervised(
            parse::openrc(out.code),
            std::path::Path::new(openrc::OPTIONS_DIR),
            unit,
            std::time::SystemTime::now(),
        ),
        StatusFormat::Supervisorctl => parse::supervisorctl(&out.stdout),
        StatusFormat::LaunchctlPrint => parse::launchctl(out.code, &out.stdout),
        StatusFormat::SvStatus => scan::sv(&out.stdout, scan::exited(&service_dir(control, unit))),
        StatusFormat::S6Svstat => {
            let dir = service_dir(control, unit);
            scan::s6(
                out.code,
                &out.stdout,
                scan::exited(&dir),
                scan::notifies(&dir),
            )
        }
    })
}

/// The directory of `unit` (runit/s6: `{dir}/{unit}`).
fn service_dir(control: &Control<'_>, unit: &str) -> std::path::PathBuf {
    std::path::Path::new(control.dir).join(unit)
}

/// The status of `units` (processes) of `model`, and of every external.
///
/// # Errors
/// A status command could not be run.
pub fn collect(
    control: &Control<'_>,
    format: StatusFormat,
    model: &Model,
    backend: &str,
    units: &[&Unit],
) -> anyhow::Result<Report> {
    let mut processes = Vec::new();
    for u in units {
        let seen = query(control, format, &u.name)?;
        let state = seen.state.unwrap_or(State::NotInstalled);
        let check = model.service(&u.service).and_then(|s| s.health.as_ref());
        let health = match check {
            None => Health::None,
            Some(_) if state != State::Running => Health::Failing,
            Some(h) => {
                let t = std::time::Duration::from_millis(h.timeout.millis());
                if health::probe(&h.check, u.instance.as_deref(), t) {
                    Health::Ok
                } else {
                    Health::Failing
                }
            }
        };
        processes.push(ProcessStatus {
            unit: u.name.clone(),
            service: u.service.clone(),
            instance: u.instance.clone(),
            state,
            pid: seen.pid,
            uptime_s: seen.uptime_s,
            restarts: seen.restarts,
            health,
        });
    }
    let externals = model
        .externals
        .iter()
        .map(|e| ExternalStatus {
            name: e.name.clone(),
            reachable: health::probe(&e.check, None, std::time::Duration::from_secs(3)),
        })
        .collect();
    Ok(Report {
        stack: model.name.clone(),
        backend: backend.to_owned(),
        processes,
        externals,
    })
}
