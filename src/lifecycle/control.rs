//! Telling the init system what to do, with the commands of `backends/<name>.toml` and one
//! [`Runner`]: reload, enable, start, stop, … a unit. Nothing here signals a process.

use anyhow::Result;

use super::runner::{Output, Runner, Setup};
use crate::backend::BackendData;
use crate::backend::data::{Argv, Fill};

/// A command's purpose (a key of `[commands]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    /// Make the init system read changed files.
    Reload,
    /// Start at boot.
    Enable,
    /// Undo enable.
    Disable,
    /// Start.
    Start,
    /// Stop.
    Stop,
    /// Restart.
    Restart,
    /// Restart if running.
    TryRestart,
    /// Forget removed units.
    ResetFailed,
    /// The init system's view of a unit.
    Status,
    /// The unit's log.
    Logs,
    /// Hand a written file to the init system (launchd `bootstrap`).
    Load,
    /// Take a unit away from the init system (launchd `bootout`).
    Unload,
    /// Wait until the init system no longer has the unit (polls `loaded`).
    AwaitUnloaded,
    /// Wait until the init system has the unit (polls `loaded`; runit/s6: its supervisor
    /// runs, after the scan daemon found the link).
    AwaitLoaded,
}

impl Verb {
    /// The word for messages.
    #[must_use]
    pub fn word(self) -> &'static str {
        match self {
            Self::Reload => "reload",
            Self::Enable => "enable",
            Self::Disable => "disable",
            Self::Start => "start",
            Self::Stop => "stop",
            Self::Restart => "restart",
            Self::TryRestart => "try-restart",
            Self::ResetFailed => "reset-failed",
            Self::Status => "status",
            Self::Logs => "logs",
            Self::Load => "load",
            Self::Unload => "unload",
            Self::AwaitUnloaded => "wait for unload",
            Self::AwaitLoaded => "wait for load",
        }
    }
}

/// The init system of one install, driven through a runner.
pub struct Control<'a> {
    /// The backend's data (commands).
    pub data: &'a BackendData,
    /// Runs every command.
    pub runner: &'a dyn Runner,
    /// `{stack}`.
    pub stack: &'a str,
    /// `{dir}`.
    pub dir: &'a str,
    /// `{domain}` (launchd: `system` or `gui/UID`).
    pub domain: &'a str,
    /// `{scan}` (runit/s6: the scan directory).
    pub scan: &'a str,
}

impl Control<'_> {
    /// The argv for `verb` on `unit`, if the backend has that command.
    #[must_use]
    pub fn argv(&self, verb: Verb, unit: &str) -> Option<Vec<String>> {
        let c = &self.data.commands;
        let template: Option<&Argv> = match verb {
            Verb::Reload => c.reload.as_ref(),
            Verb::Enable => c.enable.as_ref(),
            Verb::Disable => c.disable.as_ref(),
            Verb::Start => Some(&c.start),
            Verb::Stop => Some(&c.stop),
            Verb::Restart => Some(&c.restart),
            Verb::TryRestart => c.try_restart.as_ref(),
            Verb::ResetFailed => c.reset_failed.as_ref(),
            Verb::Status => Some(&c.status),
            Verb::Logs => c.logs.as_ref(),
            Verb::Load => c.load.as_ref(),
            Verb::Unload => c.unload.as_ref(),
            Verb::AwaitUnloaded | Verb::AwaitLoaded => c.loaded.as_ref(),
        };
        let fill = Fill {
            stack: self.stack,
            unit,
            dir: self.dir,
            domain: self.domain,
        };
        template.map(|t| {
            let mut argv = fill.apply(t);
            for a in &mut argv {
                *a = a.replace("{scan}", self.scan);
            }
            argv
        })
    }

    /// Run `verb` on `unit` and return what it gave (`None`: the backend has no such
    /// command).
    ///
    /// # Errors
    /// The command could not be started.
    pub fn run(&self, verb: Verb, unit: &str) -> Result<Option<Output>> {
        self.argv(verb, unit)
            .map(|argv| self.runner.run(&argv))
            .transpose()
    }

    /// Run `verb` on `unit`; it must succeed (a missing command is a success).
    ///
    /// # Errors
    /// It failed: the message names the command, its exit code and what it printed.
    pub fn must(&self, verb: Verb, unit: &str) -> Result<()> {
        let Some(argv) = self.argv(verb, unit) else {
            return Ok(());
        };
        if matches!(verb, Verb::AwaitUnloaded | Verb::AwaitLoaded) {
            return self.await_loaded(&argv, verb == Verb::AwaitLoaded);
        }
        let out = self.runner.run(&argv)?;
        if out.success() {
            return Ok(());
        }
        let shown = self.runner.setup().expand(&argv).join(" ");
        let code = out.code.map_or_else(
            || "no exit code (timed out or killed)".to_owned(),
            |c| format!("exit code {c}"),
        );
        anyhow::bail!(
            "{} failed: `{shown}`: {code}: {}",
            verb.word(),
            format!("{}{}", out.stderr, out.stdout).trim()
        )
    }
}

impl Control<'_> {
    /// Poll `argv` (exits 0 while the unit is loaded) until it succeeds (`loaded`) or
    /// fails (not `loaded`), at most [`UNLOAD_DEADLINE`]; a dry run asks once.
    fn await_loaded(&self, argv: &[String], loaded: bool) -> Result<()> {
        let deadline = std::time::Instant::now() + UNLOAD_DEADLINE;
        loop {
            let out = self.runner.run(argv)?;
            if out.success() == loaded || self.runner.is_dry_run() {
                return Ok(());
            }
            anyhow::ensure!(
                std::time::Instant::now() < deadline,
                "`{}`: the unit is {} {UNLOAD_DEADLINE:?} later",
                self.runner.setup().expand(argv).join(" "),
                if loaded {
                    "still not there"
                } else {
                    "still there"
                }
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
}

/// How long an unloaded unit may take to be gone (launchd's bootout waits for the job's
/// exit timeout).
pub const UNLOAD_DEADLINE: std::time::Duration = std::time::Duration::from_mins(1);

/// The `{domain}` of an install (`{uid}`: this process's user id).
#[must_use]
pub fn domain(data: &BackendData, user: bool) -> String {
    let d = if user {
        &data.domain.user
    } else {
        &data.domain.system
    };
    d.replace("{uid}", &rustix::process::getuid().as_raw().to_string())
}

/// The runner setup for an install: per-user tool arguments (`systemctl --user`) with
/// `user`.
#[must_use]
pub fn setup(data: &BackendData, user: bool) -> Setup {
    let mut setup = Setup::default();
    if user {
        for (tool, args) in &data.user.tool_args {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            setup = setup.with_tool_args(tool, &args);
        }
    }
    setup
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::BackendKind;
    use crate::lifecycle::runner::RecordingRunner;

    #[test]
    fn commands_come_from_the_data_with_user_arguments() {
        let data = BackendKind::Systemd.backend().data();
        let runner = RecordingRunner::new(setup(data, true));
        let c = Control {
            data,
            runner: &runner,
            stack: "s",
            dir: "/d",
            domain: "gui/7",
            scan: "",
        };
        c.must(Verb::Enable, "s.target").expect("recorded");
        c.must(Verb::TryRestart, "a.service").expect("recorded");
        assert_eq!(
            runner.transcript(),
            "systemctl --user enable s.target\nsystemctl --user try-restart a.service\n"
        );
        let launchd = BackendKind::Launchd.backend().data();
        let c = Control { data: launchd, ..c };
        assert!(c.argv(Verb::Reload, "x").is_none());
        assert_eq!(
            c.argv(Verb::Load, "l").expect("load"),
            ["launchctl", "bootstrap", "gui/7", "/d/l.plist"]
        );
    }
}
