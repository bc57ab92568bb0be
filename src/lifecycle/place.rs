//! Where an install goes: the tree its paths are relative to (`/`, or `--root DIR`), the
//! backend's directory in it (from `backends/<name>.toml`, system-wide or per user), and the
//! state directory of its ledger. Pure: the environment comes in as [`Env`].

use std::path::{Path, PathBuf};

use super::ledger::{SYSTEM_STATE_DIR, Store};
use crate::backend::BackendData;
use crate::errors::usage::UsageError;

/// The parts of the environment that decide per-user paths.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Env {
    /// `$HOME`.
    pub home: Option<PathBuf>,
    /// `$XDG_CONFIG_HOME`.
    pub config: Option<PathBuf>,
    /// `$XDG_STATE_HOME`.
    pub state: Option<PathBuf>,
}

impl Env {
    /// The values of this process's environment (empty values count as unset).
    #[must_use]
    pub fn from_process() -> Self {
        let var = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        Self {
            home: var("HOME"),
            config: var("XDG_CONFIG_HOME"),
            state: var("XDG_STATE_HOME"),
        }
    }

    fn home(&self) -> anyhow::Result<&Path> {
        self.home
            .as_deref()
            .ok_or_else(|| UsageError("--user needs $HOME".into()).into())
    }
}

/// Whom an install is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The whole machine (`/etc/systemd/system`, …).
    System,
    /// The invoking user (`--user`).
    User,
    /// A package's staging tree (`--root DIR --layout L`): the distribution's vendor
    /// directories inside `root`, the ledger inside it too.
    Root {
        /// The tree.
        root: PathBuf,
        /// A key of the backend's `[install.layouts]`.
        layout: String,
    },
}

/// The resolved locations of one install.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// The backend's directory, absolute (as the init system sees it).
    pub dir: PathBuf,
    /// The ledger's store: state directory and the tree its paths are relative to.
    pub store: Store,
    /// The leading directory of artifact paths that [`Place::dir`] stands for.
    pub strip: Option<String>,
    /// The extension files are installed under (`--layout rhel`: supervisord's `.ini`).
    pub ext: Option<String>,
    /// runit/s6: the scan directory the process directories are linked into (none for a
    /// staged tree: a package never enables).
    pub scan: Option<PathBuf>,
}

impl Place {
    /// The locations for `stack` installed with `backend` (whose data is `data`) in `scope`.
    ///
    /// # Errors
    /// `--user` for a backend without per-user directory, or without `$HOME`.
    pub fn resolve(
        data: &BackendData,
        backend: &str,
        stack: &str,
        scope: &Scope,
        env: &Env,
    ) -> anyhow::Result<Self> {
        let root = PathBuf::from("/");
        let (dir, state) = match scope {
            Scope::Root { root, layout } => {
                return Self::staged(data, backend, stack, root, layout);
            }
            Scope::System => (
                PathBuf::from(&data.install.system),
                root.join(SYSTEM_STATE_DIR),
            ),
            Scope::User => {
                let pattern = data.install.user.as_deref().ok_or_else(|| {
                    UsageError(format!(
                        "--user: the {backend} backend has no per-user services"
                    ))
                })?;
                let home = env.home()?;
                let config = env.config.clone().unwrap_or_else(|| home.join(".config"));
                let dir = expand(pattern, home, &config);
                let state = env
                    .state
                    .clone()
                    .unwrap_or_else(|| home.join(".local/state"))
                    .join("openim-init");
                (dir, state)
            }
        };
        Ok(Self {
            dir,
            store: Store {
                state: state.join(stack).join(backend),
                base: root,
                confined: false,
            },
            strip: data.install.strip.clone(),
            ext: None,
            scan: data.install.scan.as_ref().map(PathBuf::from),
        })
    }

    fn staged(
        data: &BackendData,
        backend: &str,
        stack: &str,
        root: &Path,
        layout: &str,
    ) -> anyhow::Result<Self> {
        let pattern = data.install.layouts.get(layout).ok_or_else(|| {
            let known: Vec<&str> = data.install.layouts.keys().map(String::as_str).collect();
            UsageError(format!(
                "--layout {layout}: the {backend} backend knows the layouts {}",
                known.join(", ")
            ))
        })?;
        let (dir, ext) = match pattern.rsplit_once("/*.") {
            Some((dir, ext)) => (dir, Some(ext.to_owned())),
            None => (pattern.as_str(), None),
        };
        Ok(Self {
            dir: PathBuf::from(dir),
            store: Store::for_install(root, stack, backend),
            strip: data.install.strip.clone(),
            ext,
            scan: None,
        })
    }

    /// Where the artifact at `path` is installed, relative to the store's base.
    #[must_use]
    pub fn installed(&self, path: &str) -> String {
        let rest = self
            .strip
            .as_deref()
            .and_then(|s| path.strip_prefix(s))
            .unwrap_or(path);
        let mut full = self.dir.join(rest);
        if let Some(ext) = &self.ext {
            full.set_extension(ext);
        }
        // the directory as seen inside the tree (`/` or the staging root)
        full.strip_prefix("/")
            .unwrap_or(&full)
            .display()
            .to_string()
    }

    /// The install directory as text, for `{dir}`.
    #[must_use]
    pub fn dir_text(&self) -> String {
        self.dir.display().to_string()
    }

    /// The scan directory as text, for `{scan}` (empty when there is none).
    #[must_use]
    pub fn scan_text(&self) -> String {
        self.scan
            .as_ref()
            .map(|s| s.display().to_string())
            .unwrap_or_default()
    }
}

/// A directory pattern with `~` (the home) and `{config}` (`$XDG_CONFIG_HOME`) filled in.
fn expand(pattern: &str, home: &Path, config: &Path) -> PathBuf {
    let filled = pattern.replace("{config}", &config.display().to_string());
    match filled.strip_prefix("~/") {
        Some(rest) => home.join(rest),
        None => PathBuf::from(filled),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::BackendKind;

    fn env() -> Env {
        Env {
            home: Some("/home/u".into()),
            config: None,
            state: None,
        }
    }

    #[test]
    fn system_installs_go_to_the_data_directory_with_the_ledger_under_var_lib() {
        let data = BackendKind::Systemd.backend().data();
        let p = Place::resolve(data, "systemd", "openim", &Scope::System, &env()).expect("place");
        assert_eq!(p.dir, Path::new("/etc/systemd/system"));
        assert_eq!(p.installed("a.service"), "etc/systemd/system/a.service");
        assert_eq!(
            p.store.state,
            Path::new("/var/lib/openim-init/openim/systemd")
        );
    }

    #[test]
    fn user_installs_follow_xdg_and_openrc_strips_init_d() {
        let data = BackendKind::Systemd.backend().data();
        let mut e = env();
        let p = Place::resolve(data, "systemd", "s", &Scope::User, &e).expect("place");
        assert_eq!(p.dir, Path::new("/home/u/.config/systemd/user"));
        assert_eq!(
            p.store.state,
            Path::new("/home/u/.local/state/openim-init/s/systemd")
        );
        e.config = Some("/x/cfg".into());
        e.state = Some("/x/state".into());
        let p = Place::resolve(data, "systemd", "s", &Scope::User, &e).expect("place");
        assert_eq!(p.dir, Path::new("/x/cfg/systemd/user"));
        assert_eq!(p.store.state, Path::new("/x/state/openim-init/s/systemd"));
        let openrc = BackendKind::Openrc.backend().data();
        let p = Place::resolve(openrc, "openrc", "s", &Scope::System, &e).expect("place");
        assert_eq!(p.installed("init.d/s.0"), "etc/init.d/s.0");
        let err = Place::resolve(openrc, "openrc", "s", &Scope::User, &e).expect_err("no user");
        assert!(err.to_string().contains("no per-user"), "{err}");
    }

    #[test]
    fn staging_uses_the_layouts_vendor_directory_and_keeps_the_ledger_inside_the_root() {
        let root = |layout: &str| Scope::Root {
            root: "/pkg".into(),
            layout: layout.into(),
        };
        let systemd = BackendKind::Systemd.backend().data();
        let p = Place::resolve(systemd, "systemd", "s", &root("debian"), &env()).expect("p");
        assert_eq!(p.installed("s.target"), "lib/systemd/system/s.target");
        assert_eq!(
            p.store.state,
            Path::new("/pkg/var/lib/openim-init/s/systemd")
        );
        let p = Place::resolve(systemd, "systemd", "s", &root("fedora"), &env()).expect("p");
        assert_eq!(p.installed("s.target"), "usr/lib/systemd/system/s.target");
        let sv = BackendKind::Supervisord.backend().data();
        let p = Place::resolve(sv, "supervisord", "s", &root("rhel"), &env()).expect("p");
        assert_eq!(p.installed("s.conf"), "etc/supervisord.d/s.ini");
        let err = Place::resolve(sv, "supervisord", "s", &root("macos"), &env()).expect_err("x");
        assert!(err.to_string().contains("knows the layouts"), "{err}");
    }
}
