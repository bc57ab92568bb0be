//! Stub executables for verifiers: a manifest names binaries that are not installed here
//! (`/opt/openim/bin/openim-api`), and `systemd-analyze verify` rightly reports them as not
//! executable. [`run_with_stubs`] runs a command as root in a private mount namespace where
//! each missing path exists as a stub that exits 0: the top-level directory holding it
//! (e.g. `/opt`) is overlaid with a tmpfs layer, so the host and its real files stay as
//! they are (a venv under /opt stays visible), and nothing remains once the command exits.

use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};
use std::process::Command;

use openim_init::model::{Check, Model};

use crate::common::Run;

/// Every absolute program the model would execute (commands, `pre_start`, exec checks).
pub fn programs(model: &Model) -> Vec<PathBuf> {
    let mut argvs: Vec<Vec<&str>> = Vec::new();
    for svc in &model.services {
        argvs.push(svc.command.iter().collect());
        argvs.extend(svc.pre_start.iter().map(|a| a.iter().collect()));
        if let Some(Check::Exec { argv }) = svc.health.as_ref().map(|h| &h.check) {
            argvs.push(argv.iter().map(String::as_str).collect());
        }
    }
    for ext in &model.externals {
        if let Check::Exec { argv } = &ext.check {
            argvs.push(argv.iter().map(String::as_str).collect());
        }
    }
    let mut out: Vec<PathBuf> = argvs
        .into_iter()
        .filter_map(|a| a.first().map(PathBuf::from))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The programs of `model` that do not exist on this machine.
pub fn missing_programs(model: &Model) -> Vec<PathBuf> {
    programs(model)
        .into_iter()
        .filter(|p| !super::executable(p))
        .collect()
}

/// `/opt` for `/opt/openim/bin/x`.
fn top_dir(path: &Path) -> PathBuf {
    let mut c = path.components();
    match (c.next(), c.next()) {
        (Some(Component::RootDir), Some(Component::Normal(top))) => Path::new("/").join(top),
        _ => panic!("stub path {} is not absolute", path.display()),
    }
}

/// Mounts a tmpfs on $1 (scratch), overlays each of the $2 directories that follow with a
/// layer in it, writes a stub to each of the paths counted by the next number, then
/// execs the rest. All values are positional parameters: none is parsed as shell code.
const SCRIPT: &str = r#"set -e
scratch=$1; shift
mount -t tmpfs -o mode=755 openim-e2e-stubs "$scratch"
n=$1; shift; i=0
while [ "$i" -lt "$n" ]; do
  i=$((i+1)); mkdir "$scratch/u$i" "$scratch/w$i"
  mount -t overlay overlay -o "lowerdir=$1,upperdir=$scratch/u$i,workdir=$scratch/w$i" "$1"; shift
done
n=$1; shift; i=0
while [ "$i" -lt "$n" ]; do
  i=$((i+1)); mkdir -p "${1%/*}"; printf '#!/bin/sh\nexit 0\n' > "$1"; chmod 755 "$1"; shift
done
exec "$@""#;

/// Run `argv` in a private mount namespace in which every path in `stubs` is an executable
/// that exits 0. Needs root and util-linux `unshare`. `scratch` must be an empty directory.
pub fn run_with_stubs(scratch: &Path, stubs: &[PathBuf], argv: &[OsString]) -> Run {
    let mut tops: Vec<PathBuf> = stubs.iter().map(|p| top_dir(p)).collect();
    tops.sort();
    tops.dedup();
    for t in &tops {
        let s = t.to_string_lossy();
        assert!(
            t.is_dir() && !s.contains([',', ':']),
            "cannot overlay {s}: stubs need an existing top-level directory without , or :"
        );
    }
    let mut cmd = Command::new("unshare");
    cmd.args([
        "--mount",
        "--propagation",
        "private",
        "/bin/sh",
        "-c",
        SCRIPT,
        "sh",
    ])
    .arg(scratch)
    .arg(tops.len().to_string())
    .args(&tops)
    .arg(stubs.len().to_string())
    .args(stubs)
    .args(argv)
    .env_remove("RUST_BACKTRACE");
    cmd.output().expect("unshare runs").into()
}
