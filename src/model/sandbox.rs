//! The sandbox of one service: its level, the paths it must write (declared, plus the
//! working directory and log directories), the capabilities it keeps, and what its paths
//! rule out (a private /tmp when one lives under /tmp; a hidden /home when one lives there).

use hashbrown::HashSet;

use crate::manifest::{SandboxLevel, ServiceSpec};

use super::path::At;
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

/// The merged values a sandbox makes accessible automatically.
pub(super) struct Reached<'a> {
    /// The working directory.
    pub working_dir: Option<&'a str>,
    /// The log files (their directories are written).
    pub logs: &'a Logs,
    /// The environment file (read).
    pub environment_file: Option<&'a str>,
    /// The executable (run).
    pub exe: Option<&'a str>,
}

/// Build the sandbox of the service at `path` from its own `sandbox`, `writable_paths` and
/// `capabilities` (taken out of `s`) over those of `d`, its defaults.
pub(super) fn sandbox(
    errs: &mut Errors<'_>,
    path: &At<'_>,
    (s, d): (&mut ServiceSpec, &ServiceSpec),
    reached: &Reached<'_>,
) -> Sandbox {
    let own_level = s.sandbox;
    let own_writable = s.writable_paths.take().map(|l| *l);
    let own_caps = s.capabilities.take().map(|l| *l);
    let at = |key: &'static str, own: bool| {
        if own {
            path.key(key)
        } else {
            At::keys(&["defaults", key])
        }
    };
    let level = own_level.or(d.sandbox).unwrap_or(DEFAULT_LEVEL);

    let mut writable: Vec<String> = reached.working_dir.map(str::to_owned).into_iter().collect();
    if let Logs::Files { stdout, stderr } = reached.logs {
        writable.extend(std::iter::once(stdout).chain(stderr).map(|f| parent(f)));
    }
    let declared_at = at("writable_paths", own_writable.is_some());
    match own_writable {
        Some(list) => {
            for (i, mut p) in list.into_iter().enumerate() {
                errs.absolute(&declared_at.index(i), &p);
                p.truncate(p.trim_end_matches('/').len());
                writable.push(p);
            }
        }
        None => {
            for (i, p) in d
                .writable_paths
                .as_deref()
                .into_iter()
                .flatten()
                .enumerate()
            {
                errs.absolute(&declared_at.index(i), p);
                writable.push(p.trim_end_matches('/').to_owned());
            }
        }
    }
    let writable = each_once(writable);

    let caps_at = at("capabilities", own_caps.is_some());
    let capabilities = match own_caps {
        Some(list) => capabilities(errs, &caps_at, list),
        None => capabilities(
            errs,
            &caps_at,
            d.capabilities.as_deref().into_iter().flatten().cloned(),
        ),
    };
    if level == SandboxLevel::Off && !capabilities.is_empty() {
        errs.push(
            &caps_at,
            "`capabilities` limits what a sandboxed process keeps, but `sandbox` is \"off\"",
            Some("set sandbox = \"basic\" (or \"strict\"), or remove `capabilities`".to_owned()),
        );
    }

    let (mut private_tmp, mut home_hidden) = (true, true);
    let paths = writable.iter().map(String::as_str);
    for p in paths.chain(reached.environment_file).chain(reached.exe) {
        private_tmp &= !TMP_DIRS.iter().any(|d| under(p, d));
        home_hidden &= !HOME_DIRS.iter().any(|d| under(p, d));
    }
    Sandbox {
        level,
        private_tmp,
        home_hidden,
        writable_paths: writable,
        capabilities,
    }
}

/// The non-empty paths of `list`, each once, in their first place.
fn each_once(mut list: Vec<String>) -> Vec<String> {
    // a few paths: compare with those kept (no hashing, no copies)
    if list.len() <= 16 {
        let mut kept = 0;
        for i in 0..list.len() {
            if !list[i].is_empty() && !list[..kept].contains(&list[i]) {
                list.swap(kept, i);
                kept += 1;
            }
        }
        list.truncate(kept);
        return list;
    }
    let keep: Vec<bool> = {
        let mut seen = HashSet::with_capacity(list.len());
        list.iter()
            .map(|p| !p.is_empty() && seen.insert(p.as_str()))
            .collect()
    };
    let mut keep = keep.into_iter();
    list.retain(|_| keep.next().unwrap_or(false));
    list
}

/// The capabilities a service keeps (checked at `at`), each once.
fn capabilities(
    errs: &mut Errors<'_>,
    at: &At<'_>,
    list: impl IntoIterator<Item = String>,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (i, c) in list.into_iter().enumerate() {
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
                &at.index(i),
                format!("`{}` is not a Linux capability", c.escape_debug()),
                Some(hint),
            );
        } else if !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{each_once, parent, under};

    #[test]
    fn paths_beneath_a_directory() {
        assert!(under("/tmp", "/tmp"));
        assert!(under("/tmp/x y", "/tmp"));
        assert!(!under("/tmpfoo", "/tmp"));
        assert_eq!(parent("/var/log/a.log"), "/var/log");
        assert_eq!(parent("/a.log"), "/");
    }

    #[test]
    fn paths_are_kept_once_in_their_first_place() {
        let list = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let short = list(&["/a", "", "/b", "/a", "/c", "/b"]);
        assert_eq!(each_once(short), list(&["/a", "/b", "/c"]));
        let mut long: Vec<String> = (0..40).map(|i| format!("/p{}", i % 7)).collect();
        long.insert(3, String::new());
        assert_eq!(
            each_once(long),
            (0..7).map(|i| format!("/p{i}")).collect::<Vec<_>>()
        );
    }
}
