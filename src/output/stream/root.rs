//! Preparing `--out DIR` for a streamed write: the directories made for it, its lock.

use std::path::{Path, PathBuf};

use anyhow::Result;

use super::super::prepare_root;
use crate::lifecycle::fsops;
use crate::lifecycle::ledger::{Lock, Store};

/// The directories of `path` and above that do not exist, outermost first.
pub fn missing_dirs(path: &Path) -> Vec<PathBuf> {
    let mut missing: Vec<PathBuf> = path
        .ancestors()
        .take_while(|p| {
            !p.as_os_str().is_empty() && fsops::inspect(p).ok() == Some(fsops::Found::Missing)
        })
        .map(Path::to_path_buf)
        .collect();
    missing.reverse();
    missing
}

/// Prepare DIR and take its lock (waiting for another run): its canonical path, its store,
/// the directories made for it, whether the state directory was there, and the lock. A run
/// refused meanwhile may have removed a DIR it had created: then again, on the new one.
pub fn lock(dir: &Path) -> Result<(PathBuf, Store, Vec<PathBuf>, bool, Lock)> {
    for _ in 0..100 {
        let created = missing_dirs(dir);
        let root = match prepare_root(dir) {
            Ok(root) => root,
            Err(e) => {
                remove_dirs(&created);
                return Err(e);
            }
        };
        let store = Store::for_out_dir(&root);
        let locked = fsops::inspect(&store.state)
            .map(|found| found != fsops::Found::Missing)
            .and_then(|had| Ok((had, store.lock(&root)?)));
        match locked {
            Ok((had, lock)) if lock.is_at(&root) => return Ok((root, store, created, had, lock)),
            Ok(_) => {}
            Err(e) => {
                remove_dirs(&created);
                return Err(e);
            }
        }
    }
    anyhow::bail!(
        "{} keeps being removed while waiting for its lock",
        dir.display()
    )
}

/// Remove `dirs` (created in this order) in reverse, each only if empty.
pub fn remove_dirs(dirs: &[PathBuf]) {
    for d in dirs.iter().rev() {
        let _ = std::fs::remove_dir(d);
    }
}
