//! The sandbox of one service: its level, the paths it must write (declared, plus the
//! working directory and log directories), the capabilities it keeps, and what its paths
//! rule out (a private /tmp when one lives under /tmp; a hidden /home when one lives there).

use crate::manifest::locate::FieldPath;
use crate::manifest::{SandboxLevel, ServiceSpec};

use super::problems::Errors;
use super::{Logs, Sandbox};

/// The level when neither the service nor `[defaults]` sets `sandbox`: `basic`, what never
/// changes a correct program's behaviour (the README, "Security", says why not `strict`).
pub const DEFAULT_LEVEL: SandboxLevel = SandboxLevel::Basic;

/// Every Linux capability (capabilities(7), Linux 6.x), as `capabilities` accepts them.
pub const CAPABILITIES: &[&str] = &[
    "CAP_AUDIT_CONTROL",
    "CAP_AUDIT_READ",
    "CAP_AUDIT_WRITE",
    "CAP_BLOCK_SUSPEND",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_KILL",
    "CAP_LEASE",
    "CAP_LINUX_IMMUTABLE",
    "CAP_MAC_ADMIN",
    "CAP_MAC_OVERRIDE",
    "CAP_MKNOD",
    "CAP_NET_ADMIN",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_RAW",
    "CAP_PERFMON",
    "CAP_SETFCAP",
    "CAP_SETGID",
    "CAP_SETPCAP",
    "CAP_SETUID",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_CHROOT",
    "CAP_SYS_MODULE",
    "CAP_SYS_NICE",
    "CAP_SYS_PACCT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
];

/// Directories a private /tmp replaces.
const TMP_DIRS: &[&str] = &["/tmp", "/var/tmp"];
/// Directories `ProtectHome` hides.
const HOME_DIRS: &[&str] = &["/home", "/root", "/run/user"];

/// Whether `path` is `dir` or lies beneath it.
fn under(path: &str, dir: &str) -> bool {
    path.strip_prefix(dir)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The directory holding the file `path` (`/` for a file at the root).
fn parent(path: &str) -> String {
    match path.trim_end_matches('/').rsplit_once('/') {
        Some(("", _)) | None => "/".to_owned(),
        Some((dir, _)) => dir.to_owned(),
    }
}

/// Build the sandbox of service `s` (`name`) with `d` its defaults; `working_dir`, `logs`,
/// `environment_file` and `exe` are the merged values, made accessible automatically.
pub(super) fn sandbox(
    errs: &mut Errors<'_>,
    name: &str,
    (s, d): (&ServiceSpec, &ServiceSpec),
    working_dir: Option<&str>,
    logs: &Logs,
    environment_file: Option<&str>,
    exe: Option<&str>,
) -> Sandbox {
    let path = FieldPath::keys(&["services", name]);
    let at = |key: &str, own: bool| {
        if own {
            path.key(key)
        } else {
            FieldPath::keys(&["defaults", key])
        }
    };
    let level = s.sandbox.or(d.sandbox).unwrap_or(DEFAULT_LEVEL);

    let declared = s.writable_paths.as_ref().or(d.writable_paths.as_ref());
    let declared_at = at("writable_paths", s.writable_paths.is_some());
    let mut writable: Vec<String> = working_dir.map(str::to_owned).into_iter().collect();
    if let Logs::Files { stdout, stderr } = logs {
        writable.extend(std::iter::once(stdout).chain(stderr).map(|f| parent(f)));
    }
    for (i, p) in declared.into_iter().flatten().enumerate() {
        errs.absolute(&declared_at.index(i), p);
        writable.push(p.trim_end_matches('/').to_owned());
    }
    let mut seen = std::collections::HashSet::new();
    writable.retain(|p| !p.is_empty() && seen.insert(p.clone()));

    let caps = s.capabilities.as_ref().or(d.capabilities.as_ref());
    let caps_at = at("capabilities", s.capabilities.is_some());
    let mut capabilities: Vec<String> = Vec::new();
    for (i, c) in caps.into_iter().flatten().enumerate() {
        if !CAPABILITIES.contains(&c.as_str()) {
            let upper = c.to_ascii_uppercase();
            let guess = if upper.starts_with("CAP_") {
                upper
            } else {
                format!("CAP_{upper}")
            };
            let hint = if CAPABILITIES.contains(&guess.as_str()) {
                format!("write \"{guess}\"")
            } else {
                "a Linux capability such as \"CAP_NET_BIND_SERVICE\" (see capabilities(7))"
                    .to_owned()
            };
            errs.push(
                &caps_at.index(i),
                format!("`{}` is not a Linux capability", c.escape_debug()),
                Some(hint),
            );
        } else if !capabilities.contains(c) {
            capabilities.push(c.clone());
        }
    }
    if level == SandboxLevel::Off && !capabilities.is_empty() {
        errs.push(
            &caps_at,
            "`capabilities` limits what a sandboxed process keeps, but `sandbox` is \"off\"",
            Some("set sandbox = \"basic\" (or \"strict\"), or remove `capabilities`".to_owned()),
        );
    }

    let reached: Vec<&str> = writable
        .iter()
        .map(String::as_str)
        .chain(environment_file)
        .chain(exe)
        .collect();
    let any_under = |dirs: &[&str]| reached.iter().any(|p| dirs.iter().any(|d| under(p, d)));
    Sandbox {
        level,
        private_tmp: !any_under(TMP_DIRS),
        home_hidden: !any_under(HOME_DIRS),
        writable_paths: writable,
        capabilities,
    }
}

#[cfg(test)]
mod tests {
    use super::{parent, under};

    #[test]
    fn paths_beneath_a_directory() {
        assert!(under("/tmp", "/tmp"));
        assert!(under("/tmp/x y", "/tmp"));
        assert!(!under("/tmpfoo", "/tmp"));
        assert_eq!(parent("/var/log/a.log"), "/var/log");
        assert_eq!(parent("/a.log"), "/");
    }
}
