//! The `Backend` trait, the registry of backends, and what rendering produces.

pub mod capability;
pub mod data;
pub mod launchd;
pub mod openrc;
pub mod supervisord;
pub mod systemd;

use std::fmt;

use crate::model::Model;
use crate::render::Templates;

pub use capability::{Feature, Support};
pub use data::BackendData;

/// One generated file, or a symbolic link (see [`Artifact::symlink`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    /// Path relative to the output directory (may contain one subdirectory, e.g. `init.d/x`).
    pub path: String,
    /// Unix file mode: permission bits; a symbolic link also carries the `S_IFLNK` type bits.
    pub mode: u32,
    /// File contents; for a symbolic link, its target.
    pub contents: String,
}

/// The file-type bits of a symbolic link, as in `st_mode`.
pub const S_IFLNK: u32 = 0o120_000;

impl Artifact {
    /// A symbolic link at `path` pointing to `target` (a name in the same directory).
    #[must_use]
    pub fn symlink(path: &str, target: &str) -> Self {
        Self {
            path: path.to_owned(),
            mode: S_IFLNK | 0o777,
            contents: target.to_owned(),
        }
    }

    /// The link target when this artifact is a symbolic link.
    #[must_use]
    pub fn link_target(&self) -> Option<&str> {
        (self.mode & 0o170_000 == S_IFLNK).then_some(self.contents.as_str())
    }
}

/// A loss or emulation the user should know about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The backend's name.
    pub backend: &'static str,
    /// The model feature concerned.
    pub feature: Feature,
    /// Services it applies to (empty: the whole stack).
    pub services: Vec<String>,
    /// What happens instead.
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} → {}",
            self.backend,
            self.feature.key(),
            self.message
        )?;
        if !self.services.is_empty() {
            write!(f, " ({})", self.services.join(", "))?;
        }
        Ok(())
    }
}

/// The result of rendering a model for one backend.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rendered {
    /// Generated files, in a stable order.
    pub artifacts: Vec<Artifact>,
    /// Features lost or emulated for this manifest.
    pub warnings: Vec<Warning>,
    /// Next steps for the user (e.g. how to enable the services).
    pub notes: Vec<String>,
}

/// Options that change what a backend renders.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// supervisord: emit a complete `supervisord.conf` instead of a conf.d include.
    pub standalone: bool,
    /// launchd: reverse-DNS label prefix (default `io.<stack>`).
    pub label_prefix: Option<String>,
}

/// Everything a backend needs besides the model. Rendering reads nothing else.
pub struct RenderContext<'a> {
    /// Templates (embedded, possibly overridden).
    pub templates: &'a Templates,
    /// Options from the command line.
    pub options: &'a RenderOptions,
}

/// A target init system or orchestrator.
pub trait Backend: Sync {
    /// The name used on the command line, e.g. `systemd`.
    fn name(&self) -> &'static str;

    /// One line for `openim-init backends`.
    fn summary(&self) -> &'static str;

    /// How each model feature maps onto this backend.
    fn capabilities(&self) -> &'static [(Feature, Support)];

    /// Render the model. Pure: no file system, processes, clock or environment.
    ///
    /// # Errors
    /// A template fails to render (e.g. a broken user override).
    fn render(&self, model: &Model, ctx: &RenderContext<'_>) -> anyhow::Result<Rendered>;

    /// Install paths and commands, from `backends/<name>.toml`.
    fn data(&self) -> &'static BackendData;
}

/// Every backend, in the order `openim-init backends` lists them.
#[must_use]
pub fn all() -> &'static [&'static dyn Backend] {
    &[
        &systemd::Systemd,
        &openrc::OpenRc,
        &supervisord::Supervisord,
        &launchd::Launchd,
    ]
}

/// A backend by its command-line name.
#[must_use]
pub fn by_name(name: &str) -> Option<&'static dyn Backend> {
    all().iter().copied().find(|b| b.name() == name)
}

/// Render and add the capability warnings for the features this model uses.
///
/// # Errors
/// As [`Backend::render`].
pub fn render(
    backend: &dyn Backend,
    model: &Model,
    ctx: &RenderContext<'_>,
) -> anyhow::Result<Rendered> {
    let mut out = backend.render(model, ctx)?;
    let mut warnings = capability::warnings(backend, model);
    warnings.append(&mut out.warnings);
    out.warnings = warnings;
    Ok(out)
}
