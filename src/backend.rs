//! The registry of backends: the closed [`BackendKind`] enum, one arm per backend, and the
//! rendering entry point that adds the capability warnings. What a backend implements lives
//! in [`kit`]; what several backends emit in [`shared`].

pub mod capability;
mod checked;
pub mod compose;
pub mod data;
pub mod kit;
pub mod kubernetes;
pub mod launchd;
pub mod openrc;
pub mod runit;
pub mod s6;
pub mod shared;
pub mod supervisord;
pub mod systemd;

use std::cell::RefCell;

use serde::Serialize;

use crate::errors::{Error, Result};
use crate::model::Model;
use crate::render::Templates;

pub use capability::{Feature, Support, Warning};
use checked::{Checked, check_lines};
pub use data::BackendData;
pub use kit::{
    Artifact, Backend, Body, Flags, HEADER, RenderContext, Rendered, Report, Sink, Unit, UnitKind,
};

/// Every backend. Adding one: a variant here and an arm in [`BackendKind::backend`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// systemd units.
    Systemd,
    /// OpenRC scripts.
    Openrc,
    /// supervisord ini.
    Supervisord,
    /// launchd plists.
    Launchd,
    /// runit service directories.
    Runit,
    /// s6 service directories (or the s6-overlay tree).
    S6,
    /// docker compose file.
    Compose,
    /// Kubernetes manifests (a kustomization).
    Kubernetes,
}

impl BackendKind {
    /// Every backend, in the order `openim-init backends` lists them.
    pub const ALL: &'static [Self] = &[
        Self::Systemd,
        Self::Openrc,
        Self::Supervisord,
        Self::Launchd,
        Self::Runit,
        Self::S6,
        Self::Compose,
        Self::Kubernetes,
    ];

    /// The implementation.
    #[must_use]
    pub fn backend(self) -> &'static dyn Backend {
        match self {
            Self::Systemd => &systemd::Systemd,
            Self::Openrc => &openrc::OpenRc,
            Self::Supervisord => &supervisord::Supervisord,
            Self::Launchd => &launchd::Launchd,
            Self::Runit => &runit::Runit,
            Self::S6 => &s6::S6,
            Self::Compose => &compose::Compose,
            Self::Kubernetes => &kubernetes::Kubernetes,
        }
    }

    /// The command-line name.
    #[must_use]
    pub fn name(self) -> &'static str {
        self.backend().name()
    }

    /// A backend by its command-line name.
    #[must_use]
    pub fn by_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.name() == name)
    }

    /// The backend a machine of this operating system most likely runs.
    #[must_use]
    pub fn usual_for(os: os_info::Type) -> Option<Self> {
        use os_info::Type as T;
        match os {
            T::Alpine | T::Gentoo => Some(Self::Openrc),
            T::Macos => Some(Self::Launchd),
            T::Ubuntu
            | T::Debian
            | T::CentOS
            | T::RedHatEnterprise
            | T::Redhat
            | T::Fedora
            | T::AlmaLinux
            | T::RockyLinux
            | T::OracleLinux
            | T::Arch
            | T::openSUSE
            | T::SUSE
            | T::Amazon
            | T::Mint
            | T::Pop => Some(Self::Systemd),
            _ => None,
        }
    }

    /// Check that every flag in `flags` belongs to this backend.
    ///
    /// # Errors
    /// A flag of another backend ([`Error::Usage`]).
    pub fn check_flags(self, flags: &Flags) -> Result<()> {
        for name in flags.0.keys() {
            if self.backend().flags().contains(name) {
                continue;
            }
            let owners: Vec<&str> = Self::ALL
                .iter()
                .filter(|k| k.backend().flags().contains(name))
                .map(|k| k.name())
                .collect();
            return Err(Error::usage(format!(
                "--{name} applies to --backend {} only, not {}",
                owners.join(" or "),
                self.name()
            )));
        }
        Ok(())
    }
}

/// Every embedded template of every backend, keyed by path under `templates/`.
#[must_use]
pub fn embedded_templates() -> Vec<(&'static str, &'static str)> {
    BackendKind::ALL
        .iter()
        .flat_map(|k| k.backend().templates().iter().copied())
        .collect()
}

/// Every backend's embedded templates, with `overrides` (name → text) replacing some.
///
/// # Errors
/// An override names no template, or a template does not parse.
pub fn templates(overrides: &std::collections::BTreeMap<String, String>) -> Result<Templates> {
    Ok(Templates::new(&embedded_templates(), overrides)?)
}

/// Render with the embedded templates and `flags` (tests, benchmarks, the fuzz target).
///
/// # Errors
/// As [`render`].
pub fn render_embedded(kind: BackendKind, model: &Model, flags: &Flags) -> Result<Rendered> {
    let templates = templates(&std::collections::BTreeMap::new())?;
    render(kind, model, &RenderContext::new(&templates, flags))
}

/// Render with the backend's flags checked, and one capability warning per feature this
/// model uses that the backend emulates or loses (with what rendering found merged in).
/// With a sink in `ctx`, the artifacts go there (each checked as [`render`] checks them)
/// instead of into the result.
///
/// # Errors
/// As [`Backend::render`], or a flag of another backend.
pub fn render(kind: BackendKind, model: &Model, ctx: &RenderContext<'_>) -> Result<Rendered> {
    kind.check_flags(ctx.flags)?;
    let backend = kind.backend();
    let mut out = match ctx.sink {
        None => backend.render(model, ctx)?,
        Some(sink) => {
            let checked = RefCell::new(Checked::new(backend.name(), sink));
            let mut out = backend.render(
                model,
                &RenderContext {
                    sink: Some(&checked),
                    ..*ctx
                },
            )?;
            // a backend that collects instead of emitting still reaches the sink (whole)
            for a in std::mem::take(&mut out.artifacts) {
                checked.borrow_mut().take(a)?;
            }
            out
        }
    };
    for a in &out.artifacts {
        check_lines(backend.name(), a)?;
    }
    let found = std::mem::take(&mut out.warnings);
    out.warnings = capability::warnings(backend.name(), |f| backend.support(f), model, found);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use clap::ValueEnum as _;

    use super::*;

    #[test]
    fn value_enum_names_are_the_backend_names() {
        for k in BackendKind::ALL {
            let pv = k.to_possible_value().expect("every kind has a name");
            assert_eq!(pv.get_name(), k.name());
            assert_eq!(BackendKind::by_name(k.name()), Some(*k));
        }
        assert_eq!(BackendKind::value_variants(), BackendKind::ALL);
    }

    #[test]
    fn suggests_the_usual_init_system() {
        assert_eq!(
            BackendKind::usual_for(os_info::Type::Alpine),
            Some(BackendKind::Openrc)
        );
        assert_eq!(
            BackendKind::usual_for(os_info::Type::Ubuntu),
            Some(BackendKind::Systemd)
        );
        assert_eq!(
            BackendKind::usual_for(os_info::Type::Macos),
            Some(BackendKind::Launchd)
        );
        assert_eq!(BackendKind::usual_for(os_info::Type::Windows), None);
    }

    /// The estimate a write into a directory sizes its lists by is about at least what the
    /// built-in stack and the full fixture render: a low one grows the lists by copying (a
    /// high one costs address space only, and a backend of one file always has one).
    #[test]
    fn every_backend_expects_about_as_many_files_as_it_renders() {
        let full = include_str!("../tests/fixtures/full.toml");
        for (file, text) in [
            ("openim.toml", crate::manifest::BUILTIN_OPENIM),
            ("full.toml", full),
        ] {
            let model = Model::from_toml(file, text).expect("model");
            let templates = templates(&std::collections::BTreeMap::new()).expect("templates");
            let flags = Flags::default();
            for k in BackendKind::ALL {
                let ctx = RenderContext::new(&templates, &flags);
                let made = render(*k, &model, &ctx).expect("rendered").artifacts.len();
                let expected = k.backend().expected_files(&model);
                let name = k.name();
                assert!(
                    expected >= made * 9 / 10,
                    "{name} {file}: {expected} < {made}"
                );
            }
        }
    }

    #[test]
    fn a_flag_of_another_backend_is_a_usage_error() {
        let mut flags = Flags::default();
        flags.0.insert(supervisord::STANDALONE, String::new());
        assert!(BackendKind::Supervisord.check_flags(&flags).is_ok());
        let err = BackendKind::Systemd
            .check_flags(&flags)
            .expect_err("systemd takes no --standalone");
        assert_eq!(err.exit_code(), crate::errors::EXIT_INVALID);
        assert!(
            err.to_string().contains("--backend supervisord only"),
            "{err}"
        );
    }
}
