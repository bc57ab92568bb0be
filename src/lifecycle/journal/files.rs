//! The file operations of a run: copies of what is replaced, the new files staged and
//! renamed into place, and one file put back (a rollback, a journal of an earlier version).

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use super::{Content, Journal, STAGING_FILE, crash_hook, crash_point};
use crate::lifecycle::fsops::{self, Batch, Handle, Job, Source};
use crate::lifecycle::ledger::{ContentHash, Entry, Kind, Store};
use crate::lifecycle::plan::{OnDisk, Step};

/// Refuse to write `rel` through a symlinked or non-directory parent (output directories).
fn check_parent(store: &Store, rel: &str) -> Result<()> {
    if store.confined
        && let Some(why) = fsops::blocked_parent(&store.base, Path::new(rel))?
    {
        anyhow::bail!("refusing to write {rel}: {why}");
    }
    Ok(())
}

/// Put `content` at `path` (or remove what is there), creating parent directories.
pub(super) fn put(store: &Store, rel: &str, content: Option<&Content>) -> Result<()> {
    let Some(c) = content else {
        return fsops::remove(&store.path_of(rel));
    };
    check_parent(store, rel)?;
    let path = store.path_of(rel);
    let parent = fsops::parent_of(&path);
    std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    let staged = match c.kind {
        Kind::File => fsops::Staged::file(&path, c.text.as_bytes(), c.mode)?,
        Kind::Symlink => fsops::Staged::link(&path, &c.text)?,
    };
    fsops::sync_staged([&staged])?;
    let dir = staged.dir().to_path_buf();
    staged.place()?;
    fsops::sync_dir(&dir);
    Ok(())
}

pub(super) fn content_of(found: &OnDisk) -> Option<Content> {
    match found {
        OnDisk::File { mode, bytes } => Some(Content {
            kind: Kind::File,
            mode: *mode,
            text: String::from_utf8_lossy(bytes).into_owned(),
        }),
        OnDisk::Symlink { target } => Some(Content {
            kind: Kind::Symlink,
            mode: 0o777,
            text: String::from_utf8_lossy(target).into_owned(),
        }),
        OnDisk::Missing | OnDisk::Blocked(_) | OnDisk::Same(_) | OnDisk::Known(_) => None,
    }
}

/// A copy of `found` (what is at `from`) under `dir/rel` (with `.N` added when taken),
/// byte for byte; nothing (and no directory made) when there is nothing to copy.
pub(super) fn save(dir: &Path, from: &Path, rel: &str, found: &OnDisk) -> Result<Option<PathBuf>> {
    if !matches!(
        found,
        OnDisk::File { .. } | OnDisk::Symlink { .. } | OnDisk::Known(_)
    ) {
        return Ok(None);
    }
    let mut path = dir.join(rel);
    for n in 1.. {
        if fsops::inspect(&path)? == fsops::Found::Missing {
            break;
        }
        path = dir.join(format!("{rel}.{n}"));
    }
    let parent = fsops::parent_of(&path);
    std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    match found {
        OnDisk::File { mode, bytes } => fsops::write_atomic(&path, bytes, *mode)?,
        OnDisk::Symlink { target } => {
            let to = <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(target);
            std::os::unix::fs::symlink(to, &path)
                .with_context(|| format!("saving the link {rel}"))?;
        }
        OnDisk::Known(entry) => copy_checked(from, &path, entry)?,
        OnDisk::Missing | OnDisk::Blocked(_) | OnDisk::Same(_) => return Ok(None),
    }
    Ok(Some(path))
}

/// Copy the regular file `from` to `to` (atomically, with the mode of `entry`) if it still
/// holds what `entry` says: it was hashed when planned, not kept.
fn copy_checked(from: &Path, to: &Path, entry: &Entry) -> Result<()> {
    let mut file = open_source(from)?;
    fsops::write_atomic_with(to, entry.mode, |w| copy_hashed(&mut file, from, entry, w))
}

/// `from`, opened to be copied (never through a symlink).
fn open_source(from: &Path) -> Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::File::options()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits().cast_signed())
        .open(from)
        .with_context(|| format!("reading {}", from.display()))
}

/// Copy `file` (at `from`) into `to`, refusing when it no longer has `entry`'s hash.
fn copy_hashed(
    file: &mut std::fs::File,
    from: &Path,
    entry: &Entry,
    to: &mut dyn std::io::Write,
) -> Result<()> {
    let copied = ContentHash::of_reader(file, |piece| to.write_all(piece));
    anyhow::ensure!(
        copied.with_context(|| format!("reading {}", from.display()))? == entry.sha256,
        "{} changed while this run was planning; nothing was replaced: run it again",
        from.display()
    );
    Ok(())
}

/// The copy of `found` (what is at `from`) that the run keeps to put it back, at `txn/rel`
/// (see [`save`]). `txn` is made new for each run and nothing reads a copy before the
/// journal names it, so a copy is written straight under its name, neither synced nor
/// renamed: [`fsops::sync_tree`] makes them all durable at once before the journal is
/// written (each was a temporary file, an `fsync`, a rename and a directory sync). `made`
/// is the last directory made, not made again.
pub(super) fn copy_for_rollback(
    txn: &Path,
    from: &Path,
    rel: &str,
    found: &OnDisk,
    made: &mut PathBuf,
) -> Result<Option<PathBuf>> {
    use std::io::Write as _;
    match found {
        OnDisk::File { mode, bytes } => {
            let (path, mut file) = create_copy(txn, rel, *mode, made)?;
            file.write_all(bytes)?;
            Ok(Some(path))
        }
        OnDisk::Known(entry) => {
            let mut source = open_source(from)?;
            let (path, file) = create_copy(txn, rel, entry.mode, made)?;
            let mut to = std::io::BufWriter::with_capacity(1 << 14, file);
            copy_hashed(&mut source, from, entry, &mut to)?;
            to.flush()?;
            Ok(Some(path))
        }
        OnDisk::Symlink { .. } => save(txn, from, rel, found),
        OnDisk::Missing | OnDisk::Blocked(_) | OnDisk::Same(_) => Ok(None),
    }
}

/// The new file `txn/rel` with `mode`, its directory made unless it is `last_made`.
fn create_copy(
    txn: &Path,
    rel: &str,
    mode: u32,
    last_made: &mut PathBuf,
) -> Result<(PathBuf, std::fs::File)> {
    use std::os::unix::fs::PermissionsExt as _;
    let path = txn.join(rel);
    let parent = fsops::parent_of(&path);
    if last_made.as_path() != parent {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
        parent.clone_into(last_made);
    }
    let file =
        std::fs::File::create_new(&path).with_context(|| format!("creating {}", path.display()))?;
    file.set_permissions(std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("setting the mode of {}", path.display()))?;
    Ok((path, file))
}

/// Write every new file under a temporary name next to its target (each directory checked,
/// created and opened once) and make them all durable; the handle of each step's file.
/// The directories are listed in the staging file first: a run killed before its journal
/// is written leaves staged files only where the next run looks for them.
pub(super) fn stage_all(store: &Store, steps: &[&Step]) -> Result<(Batch, Vec<Option<Handle>>)> {
    let mut batch = Batch::default();
    let dirs: std::collections::BTreeSet<&str> = steps
        .iter()
        .filter(|s| s.desired.is_some())
        .map(|s| fsops::split_rel(&s.path).0)
        .collect();
    if !dirs.is_empty() {
        list_staging(store, dirs.iter().copied())?;
    }
    let mut jobs = Vec::with_capacity(steps.len());
    let mut last: Option<(&str, usize)> = None;
    for step in steps {
        let Some(d) = &step.desired else {
            continue;
        };
        let (parent, name) = fsops::split_rel(&step.path);
        let dir = match last {
            Some((p, i)) if p == parent => i,
            _ => {
                let path = if parent.is_empty() {
                    store.base.clone()
                } else {
                    store.base.join(parent)
                };
                batch.dir(&path, || check_parent(store, &step.path))?
            }
        };
        last = Some((parent, dir));
        let source = match d.kind {
            Kind::File => Source::File(d.contents.as_bytes(), d.mode),
            Kind::Symlink => Source::Link(&d.contents),
        };
        let name = std::ffi::OsStr::new(name);
        jobs.push(Job { dir, name, source });
    }
    let mut staged = batch.stage(&jobs)?.into_iter();
    let handles = steps
        .iter()
        .map(|step| step.desired.as_ref().and_then(|_| staged.next()))
        .collect();
    batch.sync()?;
    Ok((batch, handles))
}

/// Plans that only rename, at least this large, rename on two threads: a rename holds its
/// directory's lock only for part of its work (on tmpfs two threads take about 4/5 of the
/// time of one).
const SPLIT_AT: usize = 1024;

/// Every operation of `journal`: each staged file renamed into place, each removal done,
/// then each directory synced once. In order; a large plan of renames alone is split in two
/// halves carried out side by side (the paths are distinct, and each operation stands
/// alone: a run killed midway is finished by the next whatever the order), except under the
/// testing hook, which counts the operations in order.
pub(super) fn place_all(
    store: &Store,
    journal: &Journal,
    batch: &Batch,
    handles: &[Option<Handle>],
) -> Result<()> {
    let renames_only = handles.iter().all(Option::is_some);
    if handles.len() >= SPLIT_AT && renames_only && crash_hook().is_none() {
        let (first, second) = handles.split_at(handles.len() / 2);
        std::thread::scope(|s| {
            let other = s.spawn(|| place_each(batch, second));
            let mine = place_each(batch, first);
            let theirs = other
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            mine.and(theirs)
        })?;
    } else {
        for (op, h) in journal.ops.iter().zip(handles) {
            match h {
                Some(h) => batch.place(*h)?,
                None => fsops::remove(&store.path_of(&op.path))?,
            }
            crash_point();
        }
    }
    batch.sync_dirs();
    Ok(())
}

/// Rename each of `handles` into place, in order.
fn place_each(batch: &Batch, handles: &[Option<Handle>]) -> Result<()> {
    for h in handles.iter().flatten() {
        batch.place(*h)?;
        crash_point();
    }
    Ok(())
}

/// List `dirs` (relative to the store's base) as the directories staged files are written
/// in, replacing the list: a run killed before its journal is written leaves staged files
/// only where the next run looks for them. Call it before the first file in a new one.
///
/// # Errors
/// I/O errors.
pub fn list_staging<'a>(store: &Store, dirs: impl IntoIterator<Item = &'a str>) -> Result<()> {
    std::fs::create_dir_all(&store.state)
        .with_context(|| format!("creating {}", store.state.display()))?;
    let mut list = Vec::new();
    for dir in dirs {
        staging_line(&mut list, dir)?;
    }
    fsops::write_atomic(&store.state.join(STAGING_FILE), &list, 0o600)
}

/// One directory of the staging list: a JSON string and a newline.
fn staging_line(out: &mut Vec<u8>, dir: &str) -> Result<()> {
    serde_json::to_writer(&mut *out, dir)?;
    out.push(b'\n');
    Ok(())
}

/// The directories of a staging list: one JSON string a line (an older list is one JSON
/// array); a line cut short by a kill is skipped.
#[must_use]
pub fn staging_dirs(bytes: &[u8]) -> Vec<String> {
    if bytes.first() == Some(&b'[') {
        return serde_json::from_slice(bytes).unwrap_or_default();
    }
    bytes
        .split(|&b| b == b'\n')
        .filter_map(|line| serde_json::from_slice(line).ok())
        .collect()
}

/// The staging list of `generate --out`, which stages while it renders, one directory at a
/// time: each is appended before the first file in it, in one `write` (no rewrite of the
/// list, no sync each: its state directory is inside DIR, so the `syncfs` before the
/// journal makes the list and the staged files durable together). A killed process leaves
/// what it wrote; a tree of 50,000 directories is listed in linear time. (An install,
/// whose state directory may be on another file system, lists its directories at once with
/// [`list_staging`], synced.)
#[derive(Debug)]
pub struct StagingList {
    file: std::fs::File,
    line: Vec<u8>,
}

impl StagingList {
    /// Start the staging list of `store` (empty).
    ///
    /// # Errors
    /// I/O errors.
    pub fn create(store: &Store) -> Result<Self> {
        use std::os::unix::fs::OpenOptionsExt as _;
        std::fs::create_dir_all(&store.state)
            .with_context(|| format!("creating {}", store.state.display()))?;
        let path = store.state.join(STAGING_FILE);
        let file = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("creating {}", path.display()))?;
        file.set_len(0)
            .with_context(|| format!("emptying {}", path.display()))?;
        Ok(Self {
            file,
            line: Vec::new(),
        })
    }

    /// Add `dir` (relative to the store's base) to the list.
    ///
    /// # Errors
    /// I/O errors.
    pub fn add(&mut self, dir: &str) -> Result<()> {
        use std::io::Write as _;
        self.line.clear();
        staging_line(&mut self.line, dir)?;
        self.file
            .write_all(&self.line)
            .context("adding to the staging list")
    }
}

/// The files staged in `batch` beforehand, one for each step that writes (found by path):
/// all are made durable; the handle of each step's file.
pub(super) fn take_staged(
    batch: Batch,
    handle: &dyn Fn(&str) -> Option<Handle>,
    steps: &[&Step],
) -> Result<(Batch, Vec<Option<Handle>>)> {
    let mut handles = Vec::with_capacity(steps.len());
    for step in steps {
        let h = match &step.desired {
            None => None,
            Some(_) => {
                Some(handle(&step.path).with_context(|| format!("{} was not staged", step.path))?)
            }
        };
        handles.push(h);
    }
    batch.sync()?;
    Ok((batch, handles))
}

#[cfg(test)]
#[path = "files_tests.rs"]
mod tests;
