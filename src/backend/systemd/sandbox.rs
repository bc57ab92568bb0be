//! The hardening directives of one service unit (systemd.exec(5)), by sandbox level, and
//! what a service's paths rule out, reported as a capability warning.

use std::borrow::Cow;
use std::sync::Arc;

use crate::backend::capability::{Feature, Warning};
use crate::model::{SandboxLevel, Service};

/// Directives both `basic` and `strict` set (besides the paths and capabilities).
pub const BASIC: &[&str] = &[
    "NoNewPrivileges=yes",
    "PrivateDevices=yes",
    "ProtectKernelTunables=yes",
    "ProtectKernelModules=yes",
    "ProtectKernelLogs=yes",
    "ProtectControlGroups=yes",
    "RestrictSUIDSGID=yes",
    "UMask=0027",
];

/// What `strict` adds: a network server's system calls, address families and memory.
pub const STRICT: &[&str] = &[
    "PrivateMounts=yes",
    "ProtectClock=yes",
    "ProtectHostname=yes",
    "ProtectProc=invisible",
    "RemoveIPC=yes",
    "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
    "RestrictNamespaces=yes",
    "RestrictRealtime=yes",
    "LockPersonality=yes",
    "MemoryDenyWriteExecute=yes",
    "SystemCallArchitectures=native",
    "SystemCallFilter=@system-service",
    "SystemCallErrorNumber=EPERM",
];

/// One word of a path list (`ReadWritePaths=`): `-` (a missing path is skipped), quoted
/// with C escapes when it holds anything but plain path characters, `%` doubled.
fn path_word(path: &str) -> String {
    let plain = path.chars().all(|c| {
        c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '.' | '-' | '+' | ',' | ':' | '@')
    });
    if plain {
        format!("-{path}")
    } else {
        let mut out = String::from("\"-");
        for c in path.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                '%' => out.push_str("%%"),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }
}

/// The `[Service]` lines confining `svc`, in a stable order (none for `sandbox = "off"`).
pub(super) fn directives(svc: &Service) -> Vec<Cow<'static, str>> {
    let sb = &svc.sandbox;
    let strict = match sb.level {
        SandboxLevel::Off => return Vec::new(),
        SandboxLevel::Basic => false,
        SandboxLevel::Strict => true,
    };
    let mut out: Vec<Cow<'static, str>> = Vec::with_capacity(BASIC.len() + STRICT.len() + 6);
    out.extend(BASIC.iter().map(|&d| Cow::Borrowed(d)));
    if sb.capabilities.is_empty() {
        out.push(Cow::Borrowed("CapabilityBoundingSet="));
    } else {
        let caps = sb.capabilities.join(" ");
        out.push(Cow::Owned(format!("CapabilityBoundingSet={caps}")));
        // a non-root user keeps a bounding capability only when it is also ambient
        out.push(Cow::Owned(format!("AmbientCapabilities={caps}")));
    }
    out.push(Cow::Borrowed(if strict {
        "ProtectSystem=strict"
    } else {
        "ProtectSystem=full"
    }));
    out.push(Cow::Borrowed(if strict && sb.home_hidden {
        "ProtectHome=yes"
    } else {
        "ProtectHome=read-only"
    }));
    if !sb.writable_paths.is_empty() {
        let words: Vec<String> = sb.writable_paths.iter().map(|p| path_word(p)).collect();
        out.push(Cow::Owned(format!("ReadWritePaths={}", words.join(" "))));
    }
    if sb.private_tmp {
        out.push(Cow::Borrowed("PrivateTmp=yes"));
    }
    if strict {
        out.extend(STRICT.iter().map(|&d| Cow::Borrowed(d)));
    }
    out
}

/// What the unit of `svc` leaves open because of its paths, for the capability report.
pub(super) fn losses(svc: &Service) -> Option<Warning> {
    let sb = &svc.sandbox;
    if sb.level == SandboxLevel::Off || sb.private_tmp {
        return None;
    }
    Some(Warning {
        backend: "systemd",
        feature: Feature::Sandbox,
        services: vec![Arc::clone(&svc.name)].into(),
        message: "no PrivateTmp=: a path of the service (working_dir, logs, writable_paths, environment_file or the command) lies under /tmp or /var/tmp".to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::path_word;

    #[test]
    fn path_words_are_quoted_only_when_needed() {
        assert_eq!(path_word("/data/openim"), "-/data/openim");
        assert_eq!(path_word("/a b/100% \"q\""), r#""-/a b/100%% \"q\"""#);
    }
}
