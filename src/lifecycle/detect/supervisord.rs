//! Is a supervisord answering? Its socket comes from the configuration's
//! `[unix_http_server] file=`; it runs if a connection to that socket succeeds.

use std::path::Path;

use serde::Serialize;

/// The distributions' main configuration files: Debian/Ubuntu, then RHEL/Fedora/Alpine.
pub const DEFAULT_CONFS: [&str; 2] = ["/etc/supervisor/supervisord.conf", "/etc/supervisord.conf"];

/// One configuration looked at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SupervisordProbe {
    /// The configuration file (as on the system, without the root).
    pub conf: String,
    /// The socket it names (empty when it has no `[unix_http_server]`).
    pub socket: String,
    /// Whether a connection to the socket succeeded.
    pub reachable: bool,
}

/// The socket path of a supervisord configuration: `file=` in `[unix_http_server]`, with
/// `%(here)s` (the configuration's directory) expanded and a ` ;` comment dropped.
#[must_use]
pub fn socket_of(conf_text: &str, conf_dir: &str) -> Option<String> {
    let mut in_section = false;
    for line in conf_text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_section = line.trim_end() == "[unix_http_server]";
            continue;
        }
        if !in_section || line.starts_with(';') || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        if key.trim() != "file" {
            continue;
        }
        let value = value.split(" ;").next().unwrap_or(value).trim();
        let value = value.split("\t;").next().unwrap_or(value).trim();
        return Some(value.replace("%(here)s", conf_dir));
    }
    None
}

/// Probe the configuration `conf` (a path on the system under `root`): `None` when it does
/// not exist.
#[must_use]
pub fn probe(root: &Path, conf: &str) -> Option<SupervisordProbe> {
    let under_root = |p: &str| root.join(p.trim_start_matches('/'));
    let text = std::fs::read_to_string(under_root(conf)).ok()?;
    let dir = Path::new(conf)
        .parent()
        .map_or(String::new(), |d| d.display().to_string());
    let socket = socket_of(&text, &dir).unwrap_or_default();
    let reachable =
        !socket.is_empty() && std::os::unix::net::UnixStream::connect(under_root(&socket)).is_ok();
    Some(SupervisordProbe {
        conf: conf.to_owned(),
        socket,
        reachable,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_of_reads_the_unix_http_server_section_only() {
        let conf = "[inet_http_server]\nfile=/not/this\n\
                    [unix_http_server]\n; file=/commented\n\
                    file = %(here)s/run/s.sock   ; (the path to the socket file)\nchmod=0700\n";
        assert_eq!(
            socket_of(conf, "/etc/supervisor").as_deref(),
            Some("/etc/supervisor/run/s.sock")
        );
        assert_eq!(socket_of("[supervisord]\nlogfile=x\n", "/etc"), None);
    }

    #[test]
    fn a_listening_socket_is_reachable_a_stale_one_is_not() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path();
        std::fs::create_dir_all(root.join("etc/supervisor")).expect("dirs");
        std::fs::create_dir_all(root.join("run")).expect("dirs");
        let conf = "/etc/supervisor/supervisord.conf";
        std::fs::write(
            root.join(conf.trim_start_matches('/')),
            "[unix_http_server]\nfile=/run/supervisor.sock\n",
        )
        .expect("conf");
        assert_eq!(probe(root, "/etc/supervisord.conf"), None);
        // a socket file left by a dead supervisord: present, not answering
        let listener =
            std::os::unix::net::UnixListener::bind(root.join("run/supervisor.sock")).expect("bind");
        let live = probe(root, conf).expect("conf exists");
        assert!(live.reachable, "{live:?}");
        assert_eq!(live.socket, "/run/supervisor.sock");
        drop(listener);
        assert!(!probe(root, conf).expect("conf exists").reachable);
    }
}
