//! File-system primitives of the lifecycle layer: atomic writes and links (temporary file in
//! the same directory, fsync, rename, fsync of the directory), what a path holds, and the
//! symlink-free parent check.

use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

mod batch;

pub use batch::{Batch, Detached, Handle, Job, Source, TempName, Tree, TreeDir};

/// Prefix of the temporary files written next to their target before the rename.
pub const TEMP_PREFIX: &str = ".openim-init-tmp-";

/// What a path holds, without following a symlink there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// Nothing.
    Missing,
    /// A directory.
    Dir,
    /// A regular file.
    File,
    /// A symbolic link.
    Link,
    /// Something else (a FIFO, a socket, a device).
    Other,
}

/// What `path` holds.
///
/// # Errors
/// The path cannot be inspected (permissions, I/O).
pub fn inspect(path: &Path) -> Result<Found> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Found::Missing),
        Err(e) if e.raw_os_error() == Some(20) => Ok(Found::Missing), // ENOTDIR: a file above
        Err(e) => Err(e).with_context(|| format!("inspecting {}", path.display())),
        Ok(m) if m.file_type().is_symlink() => Ok(Found::Link),
        Ok(m) if m.is_dir() => Ok(Found::Dir),
        Ok(m) if m.is_file() => Ok(Found::File),
        Ok(_) => Ok(Found::Other),
    }
}

/// The directory a path is in (`.` for a bare name).
#[must_use]
pub fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// A path relative to a tree (a ledger path) split into its directory (`""` at the top) and
/// its file name.
#[must_use]
pub fn split_rel(rel: &str) -> (&str, &str) {
    rel.rsplit_once('/').unwrap_or(("", rel))
}

/// Make the entries of `dir` durable (after a rename, a create or a removal in it).
pub fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Make the tree under `top` durable, every file and directory in it: one `syncfs` of its
/// file system where there is one, else an `fsync` of each ([`sync_each`]).
///
/// # Errors
/// I/O errors, with the path.
pub fn sync_tree(top: &Path) -> Result<()> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        let dir = std::fs::File::open(top).with_context(|| format!("opening {}", top.display()))?;
        rustix::fs::syncfs(&dir).with_context(|| format!("syncing {}", top.display()))
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    sync_each(top)
}

/// `fsync` every file and directory under `top` (links are not followed), then `top`.
///
/// # Errors
/// I/O errors, with the path.
pub fn sync_each(top: &Path) -> Result<()> {
    let sync = |p: &Path| {
        std::fs::File::open(p)
            .and_then(|f| f.sync_all())
            .with_context(|| format!("syncing {}", p.display()))
    };
    let entries = std::fs::read_dir(top).with_context(|| format!("listing {}", top.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("listing {}", top.display()))?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            sync_each(&entry.path())?;
        } else if kind.is_file() {
            sync(&entry.path())?;
        }
    }
    sync(top)
}

/// Write `contents` to `path` atomically: a temporary file in the same directory, synced,
/// then renamed over `path` (which replaces a symlink there instead of following it).
///
/// # Errors
/// I/O errors, with the path.
pub fn write_atomic(path: &Path, contents: &[u8], mode: u32) -> Result<()> {
    write_atomic_with(path, mode, |w| Ok(w.write_all(contents)?))
}

/// [`write_atomic`] of what `write` writes, through a buffer: a large file (the ledger of
/// 100,000 files) is never held whole.
///
/// # Errors
/// `write`'s errors, or I/O errors, with the path.
pub fn write_atomic_with(
    path: &Path,
    mode: u32,
    write: impl FnOnce(&mut dyn std::io::Write) -> Result<()>,
) -> Result<()> {
    write_pending(path, mode, write)?.commit()
}

/// The first half of [`write_atomic_with`]: what `write` writes, with `mode`, under a
/// temporary name next to `path`, neither durable nor in place until
/// [`Pending::commit`].
///
/// # Errors
/// `write`'s errors, or I/O errors, with the path.
pub fn write_pending(
    path: &Path,
    mode: u32,
    write: impl FnOnce(&mut dyn std::io::Write) -> Result<()>,
) -> Result<Pending> {
    let parent = parent_of(path);
    let mut tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(parent)
        .with_context(|| format!("creating a temporary file in {}", parent.display()))?;
    let mut buffered = std::io::BufWriter::with_capacity(1 << 16, tmp.as_file_mut());
    write(&mut buffered)
        .and_then(|()| Ok(buffered.flush()?))
        .with_context(|| format!("writing {}", path.display()))?;
    drop(buffered);
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("setting the mode of {}", path.display()))?;
    Ok(Pending {
        tmp,
        path: path.to_path_buf(),
    })
}

/// A file written whole under a temporary name next to its target ([`write_pending`]);
/// removed when dropped before [`Pending::commit`].
#[derive(Debug)]
pub struct Pending {
    tmp: tempfile::NamedTempFile,
    path: PathBuf,
}

impl Pending {
    /// Make it durable and rename it over its target, then make the rename durable.
    ///
    /// # Errors
    /// I/O errors, with the path (the temporary file is removed).
    pub fn commit(self) -> Result<()> {
        let path = self.path;
        self.tmp
            .as_file()
            .sync_all()
            .with_context(|| format!("syncing {}", path.display()))?;
        self.tmp
            .persist(&path)
            .with_context(|| format!("renaming into {}", path.display()))?;
        sync_dir(parent_of(&path));
        Ok(())
    }
}

/// Create or replace the symbolic link `path` → `target` atomically (new link + rename).
///
/// # Errors
/// I/O errors, with the path.
pub fn symlink_atomic(path: &Path, target: &str) -> Result<()> {
    let staged = Staged::link(path, target)?;
    let dir = staged.dir().to_path_buf();
    staged.place()?;
    sync_dir(&dir);
    Ok(())
}

/// A file or link written under a temporary name next to its target, not yet durable or in
/// place: many are staged, made durable together ([`sync_staged`]), then renamed
/// ([`Staged::place`]) — one flush of the file system instead of one per file, and still
/// the old file or the new one at every instant.
#[derive(Debug)]
pub struct Staged {
    tmp: PathBuf,
    path: PathBuf,
}

impl Staged {
    /// Write `contents` with `mode` under a temporary name next to `path`.
    ///
    /// # Errors
    /// I/O errors, with the path.
    pub fn file(path: &Path, contents: &[u8], mode: u32) -> Result<Self> {
        let parent = parent_of(path);
        let mut tmp = tempfile::Builder::new()
            .prefix(TEMP_PREFIX)
            .tempfile_in(parent)
            .with_context(|| format!("creating a temporary file in {}", parent.display()))?;
        tmp.write_all(contents)
            .with_context(|| format!("writing {}", path.display()))?;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))
            .with_context(|| format!("setting the mode of {}", path.display()))?;
        let tmp = tmp
            .into_temp_path()
            .keep()
            .with_context(|| format!("keeping the temporary file of {}", path.display()))?;
        Ok(Self {
            tmp,
            path: path.to_path_buf(),
        })
    }

    /// Create a symbolic link to `target` under a temporary name next to `path`.
    ///
    /// # Errors
    /// I/O errors, with the path.
    pub fn link(path: &Path, target: &str) -> Result<Self> {
        // a name per link of this process (many are staged at once); one taken by a killed
        // run with the same pid is skipped (and removed with the other leftovers)
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let parent = parent_of(path);
        for _ in 0..100 {
            let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let tmp = parent.join(format!("{TEMP_PREFIX}link-{}-{n}", std::process::id()));
            match std::os::unix::fs::symlink(target, &tmp) {
                Ok(()) => {
                    return Ok(Self {
                        tmp,
                        path: path.to_path_buf(),
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => {
                    return Err(e)
                        .with_context(|| format!("creating a link in {}", parent.display()));
                }
            }
        }
        Err(anyhow::anyhow!(
            "no free temporary name for a link in {}",
            parent.display()
        ))
    }

    /// Rename the staged file over its target (replacing a symlink there, not following it).
    ///
    /// # Errors
    /// I/O errors, with the path.
    pub fn place(self) -> Result<()> {
        std::fs::rename(&self.tmp, &self.path)
            .with_context(|| format!("renaming into {}", self.path.display()))
    }

    /// The directory the file goes into.
    #[must_use]
    pub fn dir(&self) -> &Path {
        parent_of(&self.path)
    }
}

/// Make every staged file durable before any is renamed: one `syncfs` per directory's file
/// system on Linux, else an fsync per file.
///
/// # Errors
/// I/O errors, with the path.
pub fn sync_staged<'a>(staged: impl IntoIterator<Item = &'a Staged>) -> Result<()> {
    let staged: Vec<&Staged> = staged.into_iter().collect();
    let dirs: std::collections::BTreeSet<&Path> = staged.iter().map(|s| s.dir()).collect();
    #[cfg(any(target_os = "linux", target_os = "android"))]
    for dir in dirs {
        let d = std::fs::File::open(dir).with_context(|| format!("opening {}", dir.display()))?;
        rustix::fs::syncfs(&d).with_context(|| format!("syncing {}", dir.display()))?;
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        let _ = dirs;
        for s in staged {
            std::fs::File::open(&s.tmp)
                .and_then(|f| f.sync_all())
                .with_context(|| format!("syncing {}", s.path.display()))?;
        }
    }
    Ok(())
}

/// Remove the file or link at `path` (never a directory); a missing one is fine.
///
/// # Errors
/// I/O errors, with the path.
pub fn remove(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        r => {
            r.with_context(|| format!("removing {}", path.display()))?;
            sync_dir(parent_of(path));
            Ok(())
        }
    }
}

/// Why the directories between `base` and `base/rel` cannot hold a file: one of them is a
/// symlink (even one pointing back inside), a file or something else. `None` when every one
/// is a real directory or does not exist yet.
///
/// # Errors
/// A directory cannot be inspected.
pub fn blocked_parent(base: &Path, rel: &Path) -> Result<Option<String>> {
    let mut cur = base.to_path_buf();
    let parents: Vec<_> = rel
        .parent()
        .into_iter()
        .flat_map(Path::components)
        .collect();
    for c in parents {
        cur.push(c);
        let what = match inspect(&cur)? {
            Found::Missing => return Ok(None), // created later, with everything below it
            Found::Dir => continue,
            Found::File => "a file, not a directory",
            Found::Link => "a symlink",
            Found::Other => "not a directory",
        };
        return Ok(Some(format!("{} is {what}", cur.display())));
    }
    Ok(None)
}

/// Remove the temporary files an interrupted run left in `dirs`; returns their paths.
#[must_use]
pub fn remove_leftovers(dirs: impl IntoIterator<Item = PathBuf>) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    for dir in dirs {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let leftover = entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX)
                && entry
                    .file_type()
                    .is_ok_and(|t| t.is_file() || t.is_symlink());
            if leftover && std::fs::remove_file(entry.path()).is_ok() {
                removed.push(entry.path());
            }
        }
    }
    removed
}

#[cfg(test)]
mod tests;
