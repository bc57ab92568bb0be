//! Per-backend data from `backends/<name>.toml`: install locations, file modes and the
//! commands that enable, start, stop and inspect the generated artifacts.

use indexmap::IndexMap;
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
    /// Commands by purpose (`reload`, `enable`, `start`, `stop`, `status`); `{stack}` is
    /// replaced by the stack name, `{dir}` by the install directory.
    pub commands: IndexMap<String, Vec<String>>,
    /// Programs the `verify` command runs.
    pub verifiers: Vec<String>,
}

/// System-wide and per-user install directories.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstallDirs {
    /// System-wide directory.
    pub system: String,
    /// Per-user directory (`~` is the user's home), if the backend has one.
    pub user: Option<String>,
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

    /// A command with `{stack}` and `{dir}` filled in.
    #[must_use]
    pub fn command(&self, purpose: &str, stack: &str, dir: &str) -> Option<Vec<String>> {
        self.commands.get(purpose).map(|argv| {
            argv.iter()
                .map(|a| a.replace("{stack}", stack).replace("{dir}", dir))
                .collect()
        })
    }
}
