//! Per-backend data from `backends/<name>.toml`, the single source of install locations and
//! of the commands that activate, drive and inspect the generated artifacts: the notes
//! `generate` prints are made from it, and the lifecycle commands run it.

use serde::Deserialize;

/// The contents of one `backends/<name>.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackendData {
    /// Where artifacts are installed.
    pub install: InstallDirs,
    /// Mode of ordinary generated files.
    pub file_mode: u32,
    /// Mode of generated executables (scripts).
    pub exec_mode: u32,
    /// The commands, by purpose.
    pub commands: Commands,
    /// How commands address the per-user instance of the init system (`--user`).
    #[serde(default)]
    pub user: UserMode,
    /// How the output of the `status` command is read (none: `status` is refused).
    #[serde(default)]
    pub status_format: Option<StatusFormat>,
    /// `{domain}` in commands: the system's and the user's (`{uid}`: the user's id).
    #[serde(default)]
    pub domain: Domains,
}

/// The values of `{domain}` (launchd: `system`, `gui/{uid}`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Domains {
    /// System-wide.
    #[serde(default)]
    pub system: String,
    /// Per user (`--user`).
    #[serde(default)]
    pub user: String,
}

/// How commands address the per-user instance of the init system.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserMode {
    /// Extra arguments per tool, inserted after the tool's name (`systemctl --user`).
    #[serde(default)]
    pub tool_args: std::collections::BTreeMap<String, Vec<String>>,
}

/// How the `status` command's answer is read into a state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StatusFormat {
    /// `KEY=value` lines of `systemctl show`.
    SystemdShow,
    /// The exit code of `rc-service NAME status` (0 started, 3 stopped, 4 stopping, 8
    /// starting, 32 crashed).
    OpenrcExit,
    /// A `supervisorctl status` line.
    Supervisorctl,
    /// `launchctl print` (exit 113: not loaded).
    LaunchctlPrint,
    /// runit's `sv status DIR` line, and the `supervise/openim-init.exited` marker of the
    /// generated `finish` (exited and left down).
    SvStatus,
    /// `s6-svstat -o up,wantedup,ready,pid,updownfor DIR`, and the same marker.
    S6Svstat,
}

/// System-wide and per-user install directories.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstallDirs {
    /// System-wide directory.
    pub system: String,
    /// Per-user directory (`~` is the user's home), if the backend has one.
    pub user: Option<String>,
    /// How to copy the generated tree there, when a plain copy loses something
    /// (`{dir}` is the install directory).
    pub copy: Option<Argv>,
    /// A leading directory of the artifacts' paths that the install directory stands for
    /// (OpenRC's `init.d/`).
    pub strip: Option<String>,
    /// `--root --layout L`: the directory per distribution layout; `DIR/*.EXT` installs the
    /// files under that extension.
    #[serde(default)]
    pub layouts: std::collections::BTreeMap<String, String>,
    /// `--root`: what a package ships besides the artifacts.
    #[serde(default)]
    pub staged: Staged,
    /// A host install: how the service users and directories are created.
    #[serde(default)]
    pub host: HostAccounts,
    /// runit/s6: the scan directory the supervisor watches (`{scan}` in commands;
    /// `--service-dir` overrides it). Enabling a process links its directory there.
    pub scan: Option<String>,
    /// runit/s6: what the supervisor creates inside each process's directory (`supervise`,
    /// …), removed by `uninstall` once the supervisor has let go of it.
    #[serde(default)]
    pub runtime: Vec<String>,
}

/// How a host install creates the service users and their directories (none of it when
/// empty: launchd, compose).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostAccounts {
    /// Directory of the `sysusers.d` file (systemd).
    pub sysusers: Option<String>,
    /// Directory of the `tmpfiles.d` file (systemd).
    pub tmpfiles: Option<String>,
    /// Applies the sysusers.d file (`{file}`).
    pub apply_sysusers: Option<Argv>,
    /// Applies the tmpfiles.d file (`{file}`).
    pub apply_tmpfiles: Option<Argv>,
    /// Without sysusers.d: create users with `useradd` (`BusyBox` `adduser -S` where there
    /// is no useradd) and directories with `install -d`.
    #[serde(default)]
    pub useradd: bool,
}

/// What a staged package tree holds besides the artifacts.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Staged {
    /// Directory of a `sysusers.d` file creating the service users (systemd).
    pub sysusers: Option<String>,
    /// Directory of a `tmpfiles.d` file creating the working and log directories.
    pub tmpfiles: Option<String>,
    /// Shell lines for a package's pre-install script that create a service user where
    /// there is no sysusers.d (`{user}`, `{group}`, `{home}`).
    pub user_snippet: Option<String>,
}

/// An argv with placeholders: `{stack}` the stack name, `{unit}` a runtime unit (process,
/// group or the stack), `{dir}` the install directory.
pub type Argv = Vec<String>;

/// What the init system is told, by purpose.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Commands {
    /// Make the init system read changed files.
    pub reload: Option<Argv>,
    /// Start the stack at boot.
    pub enable: Option<Argv>,
    /// Undo `enable`.
    pub disable: Option<Argv>,
    /// Start a unit.
    pub start: Argv,
    /// Stop a unit.
    pub stop: Argv,
    /// Restart a unit.
    pub restart: Argv,
    /// The init system's own view of a unit.
    pub status: Argv,
    /// The unit's log, when the init system keeps one.
    pub logs: Option<Argv>,
    /// Restart a unit only if it runs (after its file changed).
    pub try_restart: Option<Argv>,
    /// Forget units that are gone (after an uninstall).
    pub reset_failed: Option<Argv>,
    /// Hand a unit's newly written file to the init system (launchd `bootstrap`); every
    /// created or changed unit is loaded by install (an updated one unloaded first).
    pub load: Option<Argv>,
    /// Take a unit away from the init system (launchd `bootout`), before loading it again.
    pub unload: Option<Argv>,
    /// Exits 0 while the unit is still loaded (runit/s6: supervised): polled after
    /// `unload` (runit/s6: after `disable`) until it is gone, and after `enable` until it
    /// is there when the backend has no `load`.
    pub loaded: Option<Argv>,
}

/// The values that fill a command's placeholders.
#[derive(Debug, Clone, Copy, Default)]
pub struct Fill<'a> {
    /// `{stack}`.
    pub stack: &'a str,
    /// `{unit}`.
    pub unit: &'a str,
    /// `{dir}`.
    pub dir: &'a str,
    /// `{domain}`.
    pub domain: &'a str,
}

impl Fill<'_> {
    /// `argv` with the placeholders filled in.
    #[must_use]
    pub fn apply(&self, argv: &[String]) -> Vec<String> {
        argv.iter()
            .map(|a| {
                a.replace("{stack}", self.stack)
                    .replace("{unit}", self.unit)
                    .replace("{dir}", self.dir)
                    .replace("{domain}", self.domain)
            })
            .collect()
    }
}

impl BackendData {
    /// Parse embedded backend data.
    ///
    /// # Panics
    /// When the embedded file is malformed; a test parses every backend's data.
    #[must_use]
    #[expect(clippy::expect_used, reason = "embedded data, checked by a test")]
    pub fn parse(text: &str) -> Self {
        toml::from_str(text).expect("embedded backends/*.toml is valid")
    }

    /// The notes `generate` prints: how to install the files and drive the stack through
    /// the unit `stack_unit` (when the backend has one).
    #[must_use]
    pub fn notes(&self, stack: &str, stack_unit: Option<&str>) -> Vec<String> {
        let dir = self.install.system.as_str();
        let fill = |unit: &str, argv: &[String]| {
            let domain = &self.domain.system;
            let filled: Vec<String> = Fill {
                stack,
                unit,
                dir,
                domain,
            }
            .apply(argv)
            .into_iter()
            .map(|a| a.replace("{scan}", self.install.scan.as_deref().unwrap_or_default()))
            .collect();
            crate::escape::sh::join(&filled)
        };
        let copy = self.install.copy.as_ref().map_or_else(
            || format!("copy the files to {dir}"),
            |c| format!("`{}`", fill("", c)),
        );
        let mut then: Vec<String> = self
            .commands
            .reload
            .iter()
            .map(|c| fill(stack, c))
            .collect();
        if let Some(u) = stack_unit {
            then.extend(self.commands.enable.iter().map(|c| fill(u, c)));
            then.push(fill(u, &self.commands.start));
        }
        let mut notes = vec![if then.is_empty() {
            format!("install: {copy}")
        } else {
            format!("install: {copy}, then `{}`", then.join(" && "))
        }];
        if let Some(u) = stack_unit {
            notes.push(format!(
                "drive the stack: `{}`, `{}`",
                fill(u, &self.commands.start),
                fill(u, &self.commands.stop)
            ));
        }
        notes
    }
}
