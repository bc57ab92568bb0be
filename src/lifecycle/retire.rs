//! Letting go of process units: what `uninstall` does for the whole stack and `install`
//! for the units that left the manifest. A scan-directory supervisor (runit, s6) needs the
//! link removed, a rescan, the supervisor gone, and its runtime state deleted before the
//! directory can go; the directories emptied by the removed files are then removed.

use std::path::{Path, PathBuf};

use anyhow::Result;

use super::control::Verb;
use super::place::Place;

/// After the units are stopped, the steps that make a scan supervisor forget them (unlink,
/// rescan, await); nothing for a backend without a scan directory.
#[must_use]
pub fn unlink_steps(place: &Place, stack: &str, units: &[String]) -> Vec<(Verb, String)> {
    if place.scan.is_none() || units.is_empty() {
        return Vec::new();
    }
    let mut steps: Vec<(Verb, String)> = units.iter().map(|u| (Verb::Disable, u.clone())).collect();
    steps.push((Verb::Reload, stack.to_owned()));
    steps.extend(units.iter().map(|u| (Verb::AwaitUnloaded, u.clone())));
    steps
}

/// runit/s6: what the supervisor created in each process's directory (`runtime`, e.g.
/// `supervise/`), once it has let go of them ([`Verb::AwaitUnloaded`]).
///
/// # Errors
/// A directory that exists but cannot be removed.
pub fn forget_runtime(place: &Place, runtime: &[String], processes: &[String]) -> Result<()> {
    for unit in processes {
        let dir = place.dir.join(unit);
        for r in runtime {
            match std::fs::remove_dir_all(dir.join(r)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(anyhow::Error::from(e)
                        .context(format!("removing {}", dir.join(r).display())));
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// The directories that held the removed files (runit/s6: `NAME/`, `NAME/log/`, …), when
/// they are empty now, up to the install directory (kept).
pub fn remove_empty_dirs<'p>(place: &Place, removed: impl Iterator<Item = &'p str>) {
    let base = &place.store.base;
    let top = base.join(place.dir.strip_prefix("/").unwrap_or(&place.dir));
    let mut dirs: Vec<PathBuf> = removed
        .flat_map(|p| {
            let full = base.join(p);
            full.ancestors()
                .skip(1)
                .take_while(|d| d.starts_with(&top) && *d != top)
                .map(Path::to_path_buf)
                .collect::<Vec<_>>()
        })
        .collect();
    // deepest first
    dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
    dirs.dedup();
    for d in dirs {
        let _ = std::fs::remove_dir(d);
    }
}
