//! Sinks for rendered artifacts: text for stdout, or files written atomically into a
//! directory, never outside it and never over a file openim-init did not write.
//!
//! `--out DIR` first plans every file and checks everything (paths, symlinks, ownership);
//! only when all checks pass does it write anything. Each file is written to a temporary file
//! in its directory and renamed into place, so a crash leaves the old file or the new one,
//! never a partial one.

mod state;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::backend::Artifact;
use crate::errors::{Error, Result};

pub use state::{Ownership, STATE_FILE, State};

/// Prefix of the temporary files written next to their target before the rename.
pub const TEMP_PREFIX: &str = ".openim-init-tmp-";

/// All artifacts as one text, each under a `==== path (mode) ====` header.
#[must_use]
pub fn to_text(artifacts: &[Artifact]) -> String {
    let mut out = String::new();
    for a in artifacts {
        if let Some(target) = a.link_target() {
            let _ = writeln!(out, "==== {} -> {target} ====", a.path);
            continue;
        }
        let _ = writeln!(out, "==== {} ({:04o}) ====", a.path, a.mode());
        out.push_str(a.contents());
        if !a.contents().ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

fn refuse(message: String) -> Error {
    Error::Usage(message)
}

/// Check that `rel` is a plain relative path: `/`-separated names, none empty, `.` or `..`,
/// no backslash or control character, not the state file.
///
/// # Errors
/// The path could leave the output directory or clash with openim-init's own files.
pub fn safe_relative(rel: &str) -> Result<PathBuf> {
    let plain = !rel.is_empty()
        && rel
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != "..")
        && !rel.contains(|c: char| c == '\\' || c.is_control());
    if !plain {
        return Err(refuse(format!(
            "refusing to write `{}`: not a plain relative path",
            rel.escape_debug()
        )));
    }
    let name = rel.rsplit('/').next().unwrap_or(rel);
    if name == STATE_FILE || name.starts_with(TEMP_PREFIX) {
        return Err(refuse(format!(
            "refusing to write `{rel}`: the name is reserved for openim-init's own files"
        )));
    }
    Ok(PathBuf::from(rel))
}

/// Write `contents` to `path` atomically: a temporary file in the same directory, synced,
/// then renamed over `path` (which replaces a symlink there instead of following it).
///
/// # Errors
/// I/O errors, with the path.
pub fn write_atomic(path: &Path, contents: &[u8], mode: u32) -> Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(parent)
        .with_context(|| format!("creating a temporary file in {}", parent.display()))?;
    tmp.write_all(contents)
        .with_context(|| format!("writing {}", path.display()))?;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("setting the mode of {}", path.display()))?;
    tmp.as_file()
        .sync_all()
        .with_context(|| format!("syncing {}", path.display()))?;
    tmp.persist(path)
        .with_context(|| format!("renaming into {}", path.display()))?;
    // make the rename itself durable
    if let Ok(d) = std::fs::File::open(parent) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// A link target must be a plain name in the link's own directory.
fn check_link_target(path: &str, target: &str) -> Result<()> {
    let plain = !target.is_empty()
        && target != "."
        && target != ".."
        && !target.contains(|c: char| c == '/' || c == '\\' || c.is_control());
    if plain {
        Ok(())
    } else {
        Err(refuse(format!(
            "refusing to link `{path}` to `{}`: a link must name a file in its own directory",
            target.escape_debug()
        )))
    }
}

/// Create or replace the symbolic link `path` → `target` atomically (new link + rename).
///
/// # Errors
/// I/O errors, with the path.
pub fn symlink_atomic(path: &Path, target: &str) -> Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    for n in 0..100 {
        let tmp = parent.join(format!("{TEMP_PREFIX}link-{}-{n}", std::process::id()));
        match std::os::unix::fs::symlink(target, &tmp) {
            Ok(()) => {
                return Ok(std::fs::rename(&tmp, path)
                    .with_context(|| format!("renaming a link into {}", path.display()))?);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                return Err(Error::Failed(
                    anyhow::Error::from(e)
                        .context(format!("creating a link in {}", parent.display())),
                ));
            }
        }
    }
    Err(Error::Failed(anyhow::anyhow!(
        "no free temporary name for a link in {}",
        parent.display()
    )))
}

/// What will happen to one artifact.
struct Planned<'a> {
    artifact: &'a Artifact,
    target: PathBuf,
    /// The file there now (for a symlink: its target): `None` when there is none.
    existing: Option<(Ownership, Vec<u8>)>,
    /// Whether what is there now is a symbolic link.
    existing_is_link: bool,
}

/// Where a path under the root stands.
enum Found {
    Missing,
    Dir,
    File,
    Link,
    Other(&'static str),
}

fn inspect(path: &Path) -> Result<Found> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Found::Missing),
        Err(e) => Err(Error::Failed(
            anyhow::Error::from(e).context(format!("inspecting {}", path.display())),
        )),
        Ok(m) if m.file_type().is_symlink() => Ok(Found::Link),
        Ok(m) if m.is_dir() => Ok(Found::Dir),
        Ok(m) if m.is_file() => Ok(Found::File),
        Ok(_) => Ok(Found::Other("not a regular file")),
    }
}

/// Check every directory between `root` and the artifact: each must be a real directory
/// (not a symlink, even one pointing back inside) or not exist yet.
fn check_parents(root: &Path, rel: &Path, path: &str) -> Result<()> {
    let mut cur = root.to_path_buf();
    let parents: Vec<_> = rel
        .parent()
        .into_iter()
        .flat_map(Path::components)
        .collect();
    for c in parents {
        cur.push(c);
        match inspect(&cur)? {
            Found::Missing => return Ok(()), // created later, with everything below it
            Found::Dir => {}
            Found::File => {
                return Err(refuse(format!(
                    "refusing to write {path}: {} is a file, not a directory",
                    cur.display()
                )));
            }
            Found::Link => {
                return Err(refuse(format!(
                    "refusing to write {path}: {} is a symlink",
                    cur.display()
                )));
            }
            Found::Other(what) => {
                return Err(refuse(format!(
                    "refusing to write {path}: {} is {what}",
                    cur.display()
                )));
            }
        }
    }
    Ok(())
}

fn plan<'a>(root: &Path, state: &State, artifacts: &'a [Artifact]) -> Result<Vec<Planned<'a>>> {
    let mut seen = BTreeSet::new();
    let mut planned = Vec::new();
    for a in artifacts {
        let rel = safe_relative(&a.path)?;
        if !seen.insert(a.path.as_str()) {
            return Err(refuse(format!("refusing to write {} twice", a.path)));
        }
        if let Some(link) = a.link_target() {
            check_link_target(&a.path, link)?;
        }
        check_parents(root, &rel, &a.path)?;
        let target = root.join(&rel);
        let mut existing_is_link = false;
        let existing = match inspect(&target)? {
            Found::Missing => None,
            Found::File => {
                let bytes = std::fs::read(&target)
                    .with_context(|| format!("reading {}", target.display()))?;
                Some((state.ownership(&a.path, &bytes), bytes))
            }
            Found::Link => {
                // a link is never followed: it is replaced (by rename) when ours, or with --force
                let to = std::fs::read_link(&target)
                    .with_context(|| format!("reading the link {}", target.display()))?;
                let bytes = to.as_os_str().as_encoded_bytes().to_vec();
                existing_is_link = true;
                Some((state.ownership(&a.path, &bytes), bytes))
            }
            Found::Dir => {
                return Err(refuse(format!(
                    "refusing to write {}: it is a directory",
                    target.display()
                )));
            }
            Found::Other(what) => {
                return Err(refuse(format!(
                    "refusing to write {}: it is {what}",
                    target.display()
                )));
            }
        };
        planned.push(Planned {
            artifact: a,
            target,
            existing,
            existing_is_link,
        });
    }
    Ok(planned)
}

/// The first of `NAME.bak`, `NAME.bak.1`, … that does not exist.
fn backup_path(target: &Path) -> Result<PathBuf> {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    for i in 0..1000 {
        let candidate = if i == 0 {
            target.with_file_name(format!("{name}.bak"))
        } else {
            target.with_file_name(format!("{name}.bak.{i}"))
        };
        if matches!(inspect(&candidate)?, Found::Missing) {
            return Ok(candidate);
        }
    }
    Err(refuse(format!("too many backups of {}", target.display())))
}

/// Write every artifact under `dir`. Checks everything first and writes nothing when a check
/// fails: an unsafe path, a symlink or non-file in the way, or a file openim-init did not
/// write (or that was edited since) unless `force`, which keeps a `.bak` copy of it.
/// Files whose contents and mode are already right are left alone.
/// Returns one line per file for the user.
///
/// # Errors
/// A refusal ([`Error::Usage`], exit code 2) or an I/O error.
pub fn write_all(dir: &Path, artifacts: &[Artifact], force: bool) -> Result<Vec<String>> {
    for a in artifacts {
        safe_relative(&a.path)?;
    }
    let root = match inspect(dir)? {
        Found::Missing => None,
        Found::File => {
            return Err(refuse(format!(
                "refusing to write into {}: it is a file",
                dir.display()
            )));
        }
        // the directory the user named may itself be a symlink: resolve it once
        Found::Dir | Found::Link | Found::Other(_) => Some(
            dir.canonicalize()
                .with_context(|| format!("resolving {}", dir.display()))?,
        ),
    };
    let (root, mut state, planned) = match root {
        Some(root) if root.is_dir() => {
            let state = State::read(&root)?;
            let planned = plan(&root, &state, artifacts)?;
            (root, state, planned)
        }
        Some(root) => {
            return Err(refuse(format!(
                "refusing to write into {}: it is not a directory",
                root.display()
            )));
        }
        None => {
            let planned = plan(dir, &State::default(), artifacts)?;
            (dir.to_path_buf(), State::default(), planned)
        }
    };
    let foreign: Vec<String> = planned
        .iter()
        .filter_map(|p| match &p.existing {
            Some((Ownership::Foreign, _)) => Some(p.artifact.path.clone()),
            Some((Ownership::Edited, _)) => Some(format!("{} (edited since)", p.artifact.path)),
            _ => None,
        })
        .collect();
    if !foreign.is_empty() && !force {
        return Err(refuse(format!(
            "refusing to overwrite file(s) in {} that openim-init did not write or that were \
             changed since: {}; nothing was written (use --force to replace them; a .bak copy \
             is kept)",
            root.display(),
            foreign.join(", ")
        )));
    }

    std::fs::create_dir_all(&root).with_context(|| format!("creating {}", root.display()))?;
    let mut lines = Vec::new();
    for p in planned {
        let a = p.artifact;
        if let Some(parent) = p.target.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
            // checked again right before writing: nothing may have become a symlink since
            check_parents(&root, Path::new(&a.path), &a.path)?;
        }
        let link = a.link_target();
        let record: &[u8] = link.map_or(a.contents().as_bytes(), str::as_bytes);
        match &p.existing {
            Some((Ownership::Ours, bytes))
                if bytes == record
                    && p.existing_is_link == link.is_some()
                    && (link.is_some() || mode_is(&p.target, a.mode())) =>
            {
                state.record(&a.path, record);
                lines.push(format!("unchanged {}", p.target.display()));
                continue;
            }
            Some((Ownership::Foreign | Ownership::Edited, bytes)) => {
                let bak = backup_path(&p.target)?;
                if p.existing_is_link {
                    // keep the link itself (never what it points to)
                    let to = <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(bytes);
                    std::os::unix::fs::symlink(to, &bak)
                        .with_context(|| format!("backing up {}", p.target.display()))?;
                } else {
                    let mode =
                        std::fs::metadata(&p.target).map_or(0o644, |m| m.permissions().mode());
                    write_atomic(&bak, bytes, mode & 0o7777)?;
                }
                lines.push(format!(
                    "backed up {} → {}",
                    p.target.display(),
                    bak.display()
                ));
            }
            _ => {}
        }
        if let Some(link) = link {
            symlink_atomic(&p.target, link)?;
            lines.push(format!("linked {} -> {link}", p.target.display()));
        } else {
            write_atomic(&p.target, a.contents().as_bytes(), a.mode())?;
            lines.push(format!("wrote {} ({:04o})", p.target.display(), a.mode()));
        }
        state.record(&a.path, record);
    }
    write_atomic(&root.join(STATE_FILE), state.render().as_bytes(), 0o644)?;
    remove_leftovers(&root, artifacts, &mut lines);
    Ok(lines)
}

/// Remove temporary files an interrupted run left in the directories just written.
fn remove_leftovers(root: &Path, artifacts: &[Artifact], lines: &mut Vec<String>) {
    let dirs: BTreeSet<PathBuf> = artifacts
        .iter()
        .filter_map(|a| root.join(&a.path).parent().map(Path::to_path_buf))
        .chain([root.to_path_buf()])
        .collect();
    for dir in dirs {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let leftover = entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX)
                && entry
                    .file_type()
                    .is_ok_and(|t| t.is_file() || t.is_symlink());
            if leftover && std::fs::remove_file(entry.path()).is_ok() {
                lines.push(format!(
                    "removed {} (left by an interrupted run)",
                    entry.path().display()
                ));
            }
        }
    }
}

fn mode_is(path: &Path, mode: u32) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o7777 == mode)
}

#[cfg(test)]
mod tests;
