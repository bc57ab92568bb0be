//! Sinks for rendered artifacts: text for stdout, or files written atomically into a
//! directory, never outside it and never over a file openim-init did not write.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context as _, Result, bail};

use crate::backend::Artifact;
use crate::errors::UsageError;

/// The file in an output directory that lists what openim-init wrote there.
pub const STATE_FILE: &str = ".openim-init-files";

/// All artifacts as one text, each under a `==== path (mode) ====` header.
#[must_use]
pub fn to_text(artifacts: &[Artifact]) -> String {
    let mut out = String::new();
    for a in artifacts {
        if let Some(target) = a.link_target() {
            out.push_str(&format!("==== {} -> {target} ====\n", a.path));
            continue;
        }
        out.push_str(&format!("==== {} ({:04o}) ====\n", a.path, a.mode));
        out.push_str(&a.contents);
        if !a.contents.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

/// Check that `rel` is a plain relative path (no `..`, no root, not empty).
///
/// # Errors
/// The path could leave the output directory.
pub fn safe_relative(rel: &str) -> Result<PathBuf> {
    let path = Path::new(rel);
    let plain = !rel.is_empty() && path.components().all(|c| matches!(c, Component::Normal(_)));
    if !plain {
        return Err(UsageError(format!(
            "refusing to write `{rel}`: not a plain relative path"
        ))
        .into());
    }
    Ok(path.to_path_buf())
}

fn read_state(dir: &Path) -> BTreeSet<String> {
    std::fs::read_to_string(dir.join(STATE_FILE))
        .map(|t| {
            t.lines()
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Write `contents` to `path` atomically (temporary file in the same directory + rename).
///
/// # Errors
/// I/O errors, with the path.
pub fn write_atomic(path: &Path, contents: &[u8], mode: u32) -> Result<()> {
    let parent = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".openim-init-")
        .tempfile_in(parent)
        .with_context(|| format!("creating a temporary file in {}", parent.display()))?;
    tmp.write_all(contents)
        .with_context(|| format!("writing {}", path.display()))?;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(mode))?;
    tmp.as_file().sync_all()?;
    tmp.persist(path)
        .with_context(|| format!("renaming into {}", path.display()))?;
    Ok(())
}

/// A link target must be a plain name in the link's own directory.
fn check_link_target(path: &str, target: &str) -> Result<()> {
    let plain = !target.is_empty() && target != "." && target != ".." && !target.contains('/');
    if plain {
        Ok(())
    } else {
        Err(UsageError(format!(
            "refusing to link `{path}` to `{target}`: a link must name a file in its own directory"
        ))
        .into())
    }
}

/// Keep a copy of `target` (a file, or a symbolic link as a link) at `bak`.
fn backup(target: &Path, bak: &Path) -> Result<()> {
    let meta = std::fs::symlink_metadata(target)?;
    if meta.file_type().is_symlink() {
        let to = std::fs::read_link(target)?;
        let _ = std::fs::remove_file(bak);
        std::os::unix::fs::symlink(to, bak)
    } else {
        std::fs::copy(target, bak).map(|_| ())
    }
    .with_context(|| format!("backing up {}", target.display()))
}

/// Create or replace the symbolic link `path` → `target` atomically (new link + rename).
///
/// # Errors
/// I/O errors, with the path.
pub fn symlink_atomic(path: &Path, target: &str) -> Result<()> {
    let parent = path.parent().unwrap_or(Path::new("."));
    for n in 0..100 {
        let tmp = parent.join(format!(".openim-init-link-{}-{n}", std::process::id()));
        match std::os::unix::fs::symlink(target, &tmp) {
            Ok(()) => {
                return std::fs::rename(&tmp, path)
                    .with_context(|| format!("renaming a link into {}", path.display()));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                return Err(e).with_context(|| format!("creating a link in {}", parent.display()));
            }
        }
    }
    bail!("no free temporary name for a link in {}", parent.display())
}

/// Write every artifact under `dir` (symbolic-link artifacts become links). Refuses (before
/// writing anything) to replace a file that openim-init did not write there, unless
/// `force`, which keeps a `.bak` copy, and never writes through a symbolic link.
/// Returns one line per file for the user.
///
/// # Errors
/// An unsafe path, a foreign file without `force`, or an I/O error.
pub fn write_all(dir: &Path, artifacts: &[Artifact], force: bool) -> Result<Vec<String>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let root = dir
        .canonicalize()
        .with_context(|| format!("resolving {}", dir.display()))?;
    let mut owned = read_state(&root);
    let mut plan = Vec::new();
    let mut foreign = Vec::new();
    for a in artifacts {
        let rel = safe_relative(&a.path)?;
        let target = root.join(&rel);
        if let Some(link) = a.link_target() {
            check_link_target(&a.path, link)?;
        }
        if let Ok(meta) = std::fs::symlink_metadata(&target) {
            let replaceable_link = meta.file_type().is_symlink()
                && (a.link_target().is_some() || owned.contains(&a.path));
            if meta.is_dir() || (meta.file_type().is_symlink() && !replaceable_link) {
                bail!(UsageError(format!(
                    "refusing to write {}: it is a symlink or directory",
                    target.display()
                )));
            }
            if !owned.contains(&a.path) {
                foreign.push(a.path.clone());
            }
        }
        plan.push((a, rel, target));
    }
    if !foreign.is_empty() && !force {
        return Err(UsageError(format!(
            "refusing to overwrite file(s) openim-init did not write in {}: {} (use --force to replace them; a .bak copy is kept)",
            root.display(),
            foreign.join(", ")
        ))
        .into());
    }
    let mut lines = Vec::new();
    for (a, rel, target) in plan {
        if let Some(parent) = rel.parent().filter(|p| !p.as_os_str().is_empty()) {
            let sub = root.join(parent);
            std::fs::create_dir_all(&sub).with_context(|| format!("creating {}", sub.display()))?;
            let real = sub.canonicalize()?;
            if !real.starts_with(&root) {
                bail!(UsageError(format!(
                    "refusing to write {}: {} leaves the output directory",
                    a.path,
                    sub.display()
                )));
            }
        }
        if foreign.contains(&a.path) {
            let bak = target.with_file_name(format!(
                "{}.bak",
                target
                    .file_name()
                    .map(|n| n.to_string_lossy())
                    .unwrap_or_default()
            ));
            backup(&target, &bak)?;
            lines.push(format!(
                "backed up {} → {}",
                target.display(),
                bak.display()
            ));
        }
        if let Some(link) = a.link_target() {
            symlink_atomic(&target, link)?;
            lines.push(format!("linked {} -> {link}", target.display()));
        } else {
            write_atomic(&target, a.contents.as_bytes(), a.mode)?;
            lines.push(format!("wrote {} ({:04o})", target.display(), a.mode));
        }
        owned.insert(a.path.clone());
    }
    let mut state = String::from("# files written by openim-init; it overwrites only these\n");
    for p in &owned {
        state.push_str(p);
        state.push('\n');
    }
    write_atomic(&root.join(STATE_FILE), state.as_bytes(), 0o644)?;
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_must_stay_in_their_directory() {
        let dir = tempfile::tempdir().expect("tempdir");
        for target in ["../x", "/etc/passwd", "a/b", "", ".."] {
            let a = [Artifact::symlink("init.d/x.1", target)];
            assert!(write_all(dir.path(), &a, false).is_err(), "{target}");
        }
        let a = [Artifact::symlink("init.d/x.1", "x")];
        write_all(dir.path(), &a, false).expect("plain link");
        let link = std::fs::read_link(dir.path().join("init.d/x.1")).expect("link");
        assert_eq!(link, Path::new("x"));
        assert!(to_text(&a).contains("==== init.d/x.1 -> x ====\n"));
    }
}
