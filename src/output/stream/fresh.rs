//! An `--out` directory that did not exist before the run is built whole where no one
//! looks: in `.NAME.openim-init-new` next to it, every file straight under its own name (no
//! temporary names, journal or renames), the ledger last; then everything is made durable
//! (one `syncfs`) and the tree is renamed over the empty directory the run created to hold
//! its lock. A crash leaves DIR empty or whole; the next run removes a tree left half built.
//!
//! Only for a directory this run created: an existing one, even empty, may be someone's
//! working directory or carry an owner, mode or ACL of its own, which a rename would drop.
//! One run at a time holds DIR's lock, so the name of the tree can be fixed.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use crate::lifecycle::fsops::{self, Batch};
use crate::lifecycle::ledger::{Lock, OUT_STATE_DIR, Store};
use crate::lifecycle::plan::Plan;

/// What follows `.NAME` in the name of the tree being built.
const SUFFIX: &str = ".openim-init-new";

/// A tree being built in place of DIR.
pub struct Fresh {
    /// Where it is built.
    pub dir: PathBuf,
}

/// The tree built for `root`, next to it (none for a root without a parent or name).
fn tree_for(root: &Path) -> Option<PathBuf> {
    let name = root.file_name()?.to_str()?;
    Some(root.parent()?.join(format!(".{name}{SUFFIX}")))
}

/// Remove the tree a killed run left half built for `root` (recognised by its state
/// directory, made first); best effort.
pub fn remove_leftover(root: &Path) {
    if let Some(tree) = tree_for(root)
        && fsops::inspect(&tree.join(OUT_STATE_DIR)).ok() == Some(fsops::Found::Dir)
    {
        let _ = std::fs::remove_dir_all(&tree);
    }
}

impl Fresh {
    /// Start building `root` (just created, still empty) next to it: none when that cannot
    /// be done (then the usual way goes on).
    pub fn begin(root: &Path) -> Option<Self> {
        let dir = tree_for(root)?;
        std::fs::create_dir(&dir).ok()?;
        // the state directory first: what marks the tree as ours
        if std::fs::create_dir(dir.join(OUT_STATE_DIR)).is_err() {
            let _ = std::fs::remove_dir_all(&dir);
            return None;
        }
        Some(Self { dir })
    }

    /// Record the ledger after `plan` (the first: a new DIR had none) in the tree, make all
    /// of it durable and put it in place of `root`.
    ///
    /// # Errors
    /// I/O errors before the tree is in place (it is removed then).
    pub fn finish(&self, root: &Path, lock: &Lock, batch: &Batch, plan: &Plan) -> Result<()> {
        let placed = Store::for_out_dir(&self.dir)
            .write_entries(lock, plan.first_entries())
            .and_then(|()| sync_tree(&self.dir, batch))
            .and_then(|()| {
                std::fs::rename(&self.dir, root)
                    .with_context(|| format!("renaming {} into place", self.dir.display()))
            });
        if placed.is_err() {
            self.discard();
        }
        placed?;
        fsops::sync_dir(fsops::parent_of(root));
        Ok(())
    }

    /// Remove the tree (a run refused or failed); best effort.
    pub fn discard(&self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Make the tree under `top` durable, with the files of `batch` in it: one `syncfs` (an
/// `fsync` per file and directory where there is none).
fn sync_tree(top: &Path, batch: &Batch) -> Result<()> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        let _ = batch;
        let dir = std::fs::File::open(top).with_context(|| format!("opening {}", top.display()))?;
        rustix::fs::syncfs(&dir).with_context(|| format!("syncing {}", top.display()))
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        batch.sync()?;
        batch.sync_dirs();
        fsops::sync_dir(&top.join(OUT_STATE_DIR));
        fsops::sync_dir(top);
        Ok(())
    }
}
