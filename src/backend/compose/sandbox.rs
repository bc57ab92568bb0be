//! The sandbox of a compose service: `basic` and `strict` drop every capability but the
//! listed ones and set `no-new-privileges`; `strict` also makes the root file system
//! read-only, with an in-memory `/tmp` and a tmpfs for every writable path no volume
//! covers (its content is lost when the container is recreated: mount a volume over the
//! path to keep it).

use super::file::ComposeService;
use crate::escape::compose::dollar;
use crate::model::{SandboxLevel, Service};

/// Whether `path` is `dir` or lies beneath it.
fn under(path: &str, dir: &str) -> bool {
    let dir = dir.trim_end_matches('/');
    path.strip_prefix(dir)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Add the confinement of `svc`'s level to its compose service `out` (whose `volumes` are
/// already set, `SOURCE:TARGET[:ro]`).
pub fn apply(svc: &Service, out: &mut ComposeService) {
    let sandbox = &svc.sandbox;
    if sandbox.level == SandboxLevel::Off {
        return;
    }
    out.security_opt = vec!["no-new-privileges:true"];
    out.cap_drop = vec!["ALL"];
    out.cap_add = sandbox
        .capabilities
        .iter()
        .map(|c| c.trim_start_matches("CAP_").to_owned())
        .collect();
    if sandbox.level != SandboxLevel::Strict {
        return;
    }
    out.read_only = Some(true);
    let targets: Vec<&str> = svc
        .container
        .volumes
        .iter()
        .filter(|v| !v.read_only)
        .map(|v| v.target.as_str())
        .collect();
    let mut tmpfs: Vec<&str> = vec!["/tmp"];
    for p in &sandbox.writable_paths {
        let covered = targets.iter().chain(&tmpfs).any(|t| under(p, t));
        if !covered {
            tmpfs.push(p);
        }
    }
    out.tmpfs = tmpfs.into_iter().map(dollar).collect();
}

#[cfg(test)]
mod tests {
    use super::under;

    #[test]
    fn beneath() {
        assert!(under("/data/x", "/data"));
        assert!(under("/data", "/data/"));
        assert!(!under("/database", "/data"));
    }
}
