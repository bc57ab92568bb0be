//! An `--out` directory that did not exist before the run is built whole where no one
//! looks: in `.NAME.openim-init-new` next to it, every file straight under its own name (no
//! temporary names, journal or renames), its ledger written entry by entry as the files
//! come; then everything is made durable (one `syncfs`) and the tree is renamed over the
//! empty directory the run created to hold its lock. A crash leaves DIR empty or whole; the
//! next run removes a tree left half built.
//!
//! Nothing is kept per file: every file is new, so there is nothing to plan. The ledger's
//! entries wait in sorted runs on disk and are merged into a ledger in path order at the
//! end (see `ledger::log`); the lines for the user are merged from them again, in the same
//! order.
//!
//! Only for a directory this run created: an existing one, even empty, may be someone's
//! working directory or carry an owner, mode or ACL of its own, which a rename would drop.
//! One run at a time holds DIR's lock, so the name of the tree can be fixed.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use super::{Writer, refuse};
use crate::lifecycle::fsops::{self, Source, Tree, TreeDir};
use crate::lifecycle::ledger::{Entry, Kind, Log, OUT_STATE_DIR};
use crate::lifecycle::plan::Desired;
use crate::output::report::NewTree;

/// What follows `.NAME` in the name of the tree being built.
const SUFFIX: &str = ".openim-init-new";

/// A tree being built in place of DIR.
pub struct Fresh {
    /// DIR, where the tree goes.
    root: PathBuf,
    tree: Tree,
    log: Log,
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
        let state = dir.join(OUT_STATE_DIR);
        let log = std::fs::create_dir(&state)
            .ok()
            .and_then(|()| Log::create(&state).ok());
        let Some(log) = log else {
            let _ = std::fs::remove_dir_all(&dir);
            return None;
        };
        Some(Self {
            root: root.to_path_buf(),
            tree: Tree::new(dir),
            log,
        })
    }

    /// The directory `rel` goes into (created, after checking no file or link of the tree
    /// is in the way), and its file name.
    pub fn dir_of<'r>(&mut self, rel: &'r str) -> Result<(TreeDir, &'r OsStr)> {
        let (parent, name) = fsops::split_rel(rel);
        let root = &self.root;
        let dir = self.tree.dir(parent, |top| {
            let Some(why) = fsops::blocked_parent(top, Path::new(rel))? else {
                return Ok(());
            };
            // named where it will be: in DIR
            let top = top.display().to_string();
            let why = match why.strip_prefix(&top) {
                Some(below) => format!("{}{below}", root.display()),
                None => why,
            };
            Err(refuse(format!("refusing to write {rel}: {why}")))
        })?;
        Ok((dir, OsStr::new(name)))
    }

    /// Record `path`, written as `entry` (a link to `link`).
    pub fn record(&mut self, path: &str, entry: &Entry, link: Option<&str>) -> Result<()> {
        self.log.add(path, entry, link)
    }

    /// Whether `path` was written before.
    pub fn has(&mut self, path: &str) -> Result<bool> {
        self.log.contains(path)
    }

    /// Close the ledger, make all of the tree durable and put it in place of `root`: what
    /// the report reads. The tree is removed on an error before it is in place.
    ///
    /// # Errors
    /// I/O errors.
    pub fn finish(self, root: &Path) -> Result<NewTree> {
        let top = self.tree.top().to_path_buf();
        let placed = self.log.finish().and_then(|ledger| {
            fsops::sync_tree(&top)?;
            std::fs::rename(&top, root)
                .with_context(|| format!("renaming {} into place", top.display()))?;
            Ok(ledger)
        });
        let ledger = placed.inspect_err(|_| {
            let _ = std::fs::remove_dir_all(&top);
        })?;
        fsops::sync_dir(fsops::parent_of(root));
        Ok(NewTree {
            root: root.to_path_buf(),
            ledger,
        })
    }

    /// Remove the tree (a run refused or failed); best effort.
    pub fn discard(&self) {
        let _ = std::fs::remove_dir_all(self.tree.top());
    }
}

impl Writer {
    /// Write `d` (whose ledger entry is `want`) into the new tree, or hand it to the other
    /// staging thread.
    pub(super) fn take_new(&mut self, mut d: Desired, want: &Entry) -> Result<()> {
        let Some(fresh) = self.fresh.as_mut() else {
            anyhow::bail!("no tree is being built");
        };
        let (dir, name) = fresh.dir_of(&d.path)?;
        match d.kind {
            Kind::File if self.stager.wants() => {
                let contents = std::mem::take(&mut d.contents);
                self.stager.hand(None, dir.detach(name, contents, d.mode));
                fresh.record(&d.path, want, None)
            }
            Kind::File => {
                dir.write(name, Source::File(d.contents.as_bytes(), d.mode))?;
                self.spent.give(std::mem::take(&mut d.contents));
                fresh.record(&d.path, want, None)
            }
            Kind::Symlink => {
                dir.write(name, Source::Link(&d.contents))?;
                fresh.record(&d.path, want, Some(&d.contents))
            }
        }
    }
}
