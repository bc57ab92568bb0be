//! What a write into a directory tells the user: one line per file, then a summary. The
//! lines of a large plan are written straight to their reader, not held.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::push_octal4;
use crate::lifecycle::ledger::Kind;
use crate::lifecycle::plan::{Action, Plan};

/// The lines of a committed write, to be written out.
pub struct Report {
    /// Lines already made, each ending in a newline: a killed run finished first, or every
    /// line (made on another thread while the files were carried out).
    made: Vec<u8>,
    /// The plan whose lines follow `made`, made as they are written.
    rest: Option<Done>,
}

/// A plan carried out, as its lines need it.
pub struct Done {
    /// DIR, as shown.
    pub root: PathBuf,
    /// The plan.
    pub plan: Plan,
    /// The files replaced by force, and where each was backed up.
    pub backups: Vec<(String, PathBuf)>,
}

impl Report {
    /// The lines `made` (newline-terminated), then those of `plan` in `root` if given.
    #[must_use]
    pub fn new(made: Vec<u8>, rest: Option<Done>) -> Self {
        Self { made, rest }
    }

    /// Write every line to `w`.
    ///
    /// # Errors
    /// The writer's.
    pub fn write_to(&self, w: &mut dyn Write) -> io::Result<()> {
        w.write_all(&self.made)?;
        match &self.rest {
            Some(d) => write_report(&d.root, &d.plan, &d.backups, w),
            None => Ok(()),
        }
    }

    /// Every line, without its newline.
    #[must_use]
    pub fn lines(&self) -> Vec<String> {
        let mut text = Vec::new();
        // writing into a Vec cannot fail
        let _ = self.write_to(&mut text);
        String::from_utf8_lossy(&text)
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

/// Write one line per file of `plan` under `root` for the user, then the summary.
///
/// # Errors
/// The writer's.
pub fn write_report(
    root: &Path,
    plan: &Plan,
    backups: &[(String, PathBuf)],
    w: &mut dyn Write,
) -> io::Result<()> {
    let mut root = root.display().to_string();
    if !root.ends_with('/') {
        root.push('/');
    }
    let backed_up: hashbrown::HashMap<&str, &PathBuf> =
        backups.iter().map(|(p, to)| (p.as_str(), to)).collect();
    for step in &plan.steps {
        let Some(d) = &step.desired else { continue };
        if let Some(to) = backed_up.get(step.path.as_str()) {
            writeln!(w, "backed up {root}{} → {}", step.path, to.display())?;
        }
        let unchanged = matches!(step.action, Action::Keep | Action::Adopt);
        let verb: &[u8] = match (unchanged, d.kind) {
            (true, _) => b"unchanged ",
            (false, Kind::Symlink) => b"linked ",
            (false, Kind::File) => b"wrote ",
        };
        w.write_all(verb)?;
        w.write_all(root.as_bytes())?;
        w.write_all(step.path.as_bytes())?;
        match (unchanged, d.kind) {
            (true, _) => {}
            (false, Kind::Symlink) => {
                w.write_all(b" -> ")?;
                w.write_all(d.contents.as_bytes())?;
            }
            (false, Kind::File) => {
                w.write_all(b" (")?;
                push_octal4(&mut *w, d.mode & 0o7777)?;
                w.write_all(b")")?;
            }
        }
        w.write_all(b"\n")?;
    }
    writeln!(w, "{}", plan.summary())
}
