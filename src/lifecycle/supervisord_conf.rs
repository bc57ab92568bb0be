//! The supervisord main configuration a lifecycle command works with (`--supervisord-conf
//! FILE`, or the distribution's: Debian `/etc/supervisor/supervisord.conf`, RHEL/Fedora/
//! Alpine `/etc/supervisord.conf`): where its `[include] files=` put program files (the
//! install directory and extension), and the socket of `[unix_http_server] file=` that
//! `supervisorctl` talks to.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use super::detect::{DEFAULT_CONFS, socket_of};
use super::runner::Setup;

/// What the main configuration says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MainConf {
    /// The file.
    pub path: PathBuf,
    /// The directory of the first `[include]` pattern (absolute).
    pub include_dir: PathBuf,
    /// The extension that pattern requires (`*.ini` → `ini`), if any.
    pub ext: Option<String>,
    /// The socket (`[unix_http_server] file=`), if any.
    pub socket: Option<String>,
}

impl MainConf {
    /// Read `path`.
    ///
    /// # Errors
    /// It cannot be read, or it has no `[include] files=` (programs installed elsewhere
    /// would never be read by this supervisord).
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the supervisord configuration {}", path.display()))?;
        let here = path.parent().unwrap_or(Path::new("/"));
        let here_text = here.display().to_string();
        let first = includes_of(&text, &here_text).into_iter().next().ok_or_else(|| {
            anyhow::anyhow!(
                "{} has no `[include] files=`: supervisord would not read an installed program file",
                path.display()
            )
        })?;
        let pattern = here.join(&first);
        let name = pattern
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let include_dir = pattern
            .parent()
            .map_or_else(|| here.to_path_buf(), Path::to_path_buf);
        let ext = name
            .strip_prefix('*')
            .and_then(|rest| rest.strip_prefix('.'))
            .filter(|e| !e.is_empty() && !e.contains(['*', '?', '[']))
            .map(str::to_owned);
        Ok(Self {
            path: path.to_path_buf(),
            include_dir,
            ext,
            socket: socket_of(&text, &here_text),
        })
    }

    /// `--supervisord-conf FILE`, or else the first distribution default that exists
    /// (`None`: neither; the backend's data then decides).
    ///
    /// # Errors
    /// The given or found file cannot be read or has no `[include]`.
    pub fn find(given: Option<&Path>) -> Result<Option<Self>> {
        let path = match given {
            Some(p) => Some(p.to_path_buf()),
            None => DEFAULT_CONFS
                .iter()
                .map(PathBuf::from)
                .find(|p| p.is_file()),
        };
        path.as_deref().map(Self::read).transpose()
    }

    /// `setup` with `supervisorctl -c FILE [-s unix://SOCKET]`.
    #[must_use]
    pub fn drive(&self, setup: Setup) -> Setup {
        let conf = self.path.display().to_string();
        let mut args = vec!["-c".to_owned(), conf];
        if let Some(sock) = &self.socket {
            args.extend(["-s".to_owned(), format!("unix://{sock}")]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        setup.with_tool_args("supervisorctl", &args)
    }
}

/// The patterns of `[include] files=` (space-separated), `%(here)s` expanded to
/// `conf_dir`, a ` ;` comment dropped.
#[must_use]
pub fn includes_of(conf_text: &str, conf_dir: &str) -> Vec<String> {
    let mut in_section = false;
    for line in conf_text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_section = line == "[include]";
            continue;
        }
        let Some((key, value)) = line.split_once('=').filter(|_| in_section) else {
            continue;
        };
        if key.trim() != "files" {
            continue;
        }
        let value = value.split(" ;").next().unwrap_or(value);
        return value
            .split_whitespace()
            .map(|p| p.replace("%(here)s", conf_dir))
            .collect();
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_include_directory_extension_and_socket_come_from_the_main_conf() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let conf = tmp.path().join("supervisord.conf");
        std::fs::write(
            &conf,
            "[unix_http_server]\nfile=%(here)s/s.sock ; comment\n\
             [include]\nfiles = supervisord.d/*.ini /etc/other/*.conf ; more\n",
        )
        .expect("write");
        let m = MainConf::read(&conf).expect("read");
        assert_eq!(m.include_dir, tmp.path().join("supervisord.d"));
        assert_eq!(m.ext.as_deref(), Some("ini"));
        let sock = tmp.path().join("s.sock").display().to_string();
        assert_eq!(m.socket.as_deref(), Some(sock.as_str()));
        let setup = m.drive(Setup::default());
        let argv = setup.expand(&["supervisorctl".into(), "reread".into()]);
        assert_eq!(
            argv[1..4],
            ["-c".to_owned(), conf.display().to_string(), "-s".into()]
        );
        assert_eq!(argv[4], format!("unix://{sock}"));
        std::fs::write(&conf, "[include]\nfiles=/etc/supervisor/conf.d/*\n").expect("write");
        let m = MainConf::read(&conf).expect("read");
        assert_eq!(
            (m.include_dir.to_str(), m.ext, m.socket),
            (Some("/etc/supervisor/conf.d"), None, None)
        );
        std::fs::write(&conf, "[supervisord]\n").expect("write");
        let err = MainConf::read(&conf).expect_err("no include");
        assert!(err.to_string().contains("[include]"), "{err}");
    }
}
