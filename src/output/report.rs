//! What a write into a directory tells the user: one line per file, then a summary. The
//! lines of a large write are written straight to their reader, not held.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::push_octal4;
use crate::lifecycle::ledger::{self, Kind, Marked};
use crate::lifecycle::plan::{self, Action, Plan};

/// The lines of a committed write, to be written out.
pub struct Report {
    /// Lines already made, each ending in a newline: a killed run finished first.
    made: Vec<u8>,
    /// What the lines after `made` come from, made as they are written.
    rest: Option<Rest>,
}

/// Where the lines of a write come from.
pub enum Rest {
    /// A plan carried out.
    Plan(Done),
    /// A new directory's tree put in place whole: its ledger, read back.
    Tree(NewTree),
}

/// A plan carried out, as its lines need it.
pub struct Done {
    /// DIR, as shown.
    pub root: PathBuf,
    /// The plan.
    pub plan: Plan,
    /// Paths rendered and left as the ledger has them, with no step in `plan` (in path
    /// order): each is a line too.
    pub kept: Marked<'static>,
    /// The files replaced by force, and where each was backed up.
    pub backups: Vec<(String, PathBuf)>,
}

/// A new directory written whole (every file created), as its lines need it.
pub struct NewTree {
    /// DIR, as shown.
    pub root: PathBuf,
    /// Its ledger's entries (each link's with its target), walked in path order.
    pub ledger: ledger::Written,
}

impl Report {
    /// The lines `made` (newline-terminated), then those of `rest` if given.
    #[must_use]
    pub fn new(made: Vec<u8>, rest: Option<Rest>) -> Self {
        Self { made, rest }
    }

    /// Write every line to `w`.
    ///
    /// # Errors
    /// The writer's, or reading a new tree's ledger back.
    pub fn write_to(&self, w: &mut dyn Write) -> io::Result<()> {
        w.write_all(&self.made)?;
        match &self.rest {
            Some(Rest::Plan(d)) => write_report(d, w),
            Some(Rest::Tree(t)) => write_tree_report(t, w),
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

/// `root` as the lines show it, ending in `/`.
fn shown(root: &Path) -> String {
    let mut root = root.display().to_string();
    if !root.ends_with('/') {
        root.push('/');
    }
    root
}

/// What a line says of a file.
enum Said<'a> {
    /// Left as it was.
    Unchanged,
    /// Written with these permission bits.
    Wrote(u32),
    /// Linked to this target.
    Linked(&'a str),
}

/// Write the line of the file `path` under `root` (shown, ending in `/`).
fn line(w: &mut dyn Write, root: &str, path: &str, said: &Said<'_>) -> io::Result<()> {
    w.write_all(match said {
        Said::Unchanged => b"unchanged ",
        Said::Wrote(_) => b"wrote ",
        Said::Linked(_) => b"linked ",
    })?;
    w.write_all(root.as_bytes())?;
    w.write_all(path.as_bytes())?;
    match said {
        Said::Unchanged => {}
        Said::Linked(target) => {
            w.write_all(b" -> ")?;
            w.write_all(target.as_bytes())?;
        }
        Said::Wrote(mode) => {
            w.write_all(b" (")?;
            push_octal4(&mut *w, mode & 0o7777)?;
            w.write_all(b")")?;
        }
    }
    w.write_all(b"\n")
}

/// Write one line per file of `done` for the user (its steps and its kept paths, merged in
/// path order), then the summary.
///
/// # Errors
/// The writer's.
fn write_report(done: &Done, w: &mut dyn Write) -> io::Result<()> {
    let root = shown(&done.root);
    let backed_up: hashbrown::HashMap<&str, &PathBuf> = done
        .backups
        .iter()
        .map(|(p, to)| (p.as_str(), to))
        .collect();
    let mut kept = done.kept.paths().peekable();
    for step in &done.plan.steps {
        while let Some(path) = kept.next_if(|k| **k < *step.path) {
            line(w, &root, &path, &Said::Unchanged)?;
        }
        let Some(d) = &step.desired else { continue };
        if let Some(to) = backed_up.get(&*step.path) {
            writeln!(w, "backed up {root}{} → {}", step.path, to.display())?;
        }
        let said = match (&step.action, d.kind) {
            (Action::Keep | Action::Adopt, _) => Said::Unchanged,
            (_, Kind::Symlink) => Said::Linked(&d.contents),
            (_, Kind::File) => Said::Wrote(d.mode),
        };
        line(w, &root, &step.path, &said)?;
    }
    for path in kept {
        line(w, &root, &path, &Said::Unchanged)?;
    }
    let (changed, [created, updated, removed, forced, same]) = done.plan.counts();
    let counts = [created, updated, removed, forced, same + done.kept.len()];
    writeln!(w, "{}", plan::summary_line(changed, counts))
}

/// The lines of a new tree: each file of its ledger, in path order, then the summary.
fn write_tree_report(tree: &NewTree, w: &mut dyn Write) -> io::Result<()> {
    let root = shown(&tree.root);
    let mut count = 0;
    tree.ledger
        .each(|file| {
            let said = match file.entry.kind {
                Kind::File => Said::Wrote(file.entry.mode),
                Kind::Symlink => Said::Linked(file.target.as_deref().unwrap_or_default()),
            };
            count += 1;
            Ok(line(w, &root, &file.path, &said)?)
        })
        .map_err(io::Error::other)?;
    writeln!(w, "{}", plan::summary_line(count, [count, 0, 0, 0, 0]))
}
