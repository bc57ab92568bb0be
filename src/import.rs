//! `openim-init import`: read what people run today (a Procfile, a supervisord ini,
//! hand-written systemd units) back into a manifest. One module per source format; each
//! fills a [`Draft`] and a [`Report`] of everything it could not carry over. The draft is
//! written as TOML ([`draft::write`]) and validated through [`Model::from_toml`] before it
//! is handed out.

pub mod draft;
pub mod gate;
pub mod procfile;
pub mod supervisord;
pub mod systemd;
pub mod wrapper;

use std::fmt;
use std::path::{Path, PathBuf};

use crate::manifest::ManifestErrors;
use crate::model::Model;
pub use draft::{Draft, Entry};

/// The formats `import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A foreman/honcho Procfile (and the `.env` beside it).
    Procfile,
    /// A supervisord ini (and its `[include]` files).
    Supervisord,
    /// systemd unit files (`.service`, `.target`, templates).
    Systemd,
}

/// What the user asked for besides the files.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The stack name (`--name`); each format has its own guess otherwise.
    pub name: Option<String>,
    /// Resolve bare program names through `PATH` (`--resolve`).
    pub resolve: bool,
    /// The environment `%(ENV_X)s` is expanded from (supervisord ini), as `KEY=value` pairs.
    pub env: Vec<(String, String)>,
}

/// Whether a report line is a loss or only worth knowing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Not carried over: the manifest behaves differently (`--strict` refuses it).
    Dropped,
    /// Carried over, but changed or guessed: worth a look.
    Note,
}

/// One line of the import report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// A loss or a note.
    pub kind: Kind,
    /// Where: `FILE:LINE` and the key or directive.
    pub place: String,
    /// What happened.
    pub message: String,
}

impl fmt::Display for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tag = match self.kind {
            Kind::Dropped => "dropped",
            Kind::Note => "note",
        };
        write!(f, "{tag}: {}: {}", self.place, self.message)
    }
}

/// Everything an import did not carry over unchanged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// In the order found.
    pub items: Vec<Item>,
}

impl Report {
    /// Record a loss.
    pub fn drop(&mut self, place: impl Into<String>, message: impl Into<String>) {
        self.push(Kind::Dropped, place.into(), message.into());
    }

    /// Record a note.
    pub fn note(&mut self, place: impl Into<String>, message: impl Into<String>) {
        self.push(Kind::Note, place.into(), message.into());
    }

    fn push(&mut self, kind: Kind, place: String, message: String) {
        self.items.push(Item {
            kind,
            place,
            message,
        });
    }

    /// The losses.
    pub fn dropped(&self) -> impl Iterator<Item = &Item> {
        self.items.iter().filter(|i| i.kind == Kind::Dropped)
    }
}

/// Where an importer reads files: the disk, or memory in tests.
pub trait Files {
    /// The text of `path`.
    ///
    /// # Errors
    /// The file cannot be read.
    fn read(&self, path: &Path) -> std::io::Result<String>;
    /// The files directly in `dir`, sorted.
    fn list(&self, dir: &Path) -> Vec<PathBuf>;
}

/// The real file system.
#[derive(Debug, Clone, Copy, Default)]
pub struct Disk;

impl Files for Disk {
    fn read(&self, path: &Path) -> std::io::Result<String> {
        let bytes = crate::manifest::read_file_capped(path, crate::manifest::MAX_MANIFEST_BYTES)?
            .ok_or_else(|| std::io::Error::other("the file is too large"))?;
        String::from_utf8(bytes).map_err(|_| std::io::Error::other("the file is not UTF-8"))
    }

    fn list(&self, dir: &Path) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        out.sort();
        out
    }
}

/// Files held in memory (path → text), for tests and round trips.
#[derive(Debug, Clone, Default)]
pub struct Memory(pub std::collections::BTreeMap<PathBuf, String>);

impl Files for Memory {
    fn read(&self, path: &Path) -> std::io::Result<String> {
        self.0
            .get(path)
            .cloned()
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound))
    }

    fn list(&self, dir: &Path) -> Vec<PathBuf> {
        self.0
            .keys()
            .filter(|p| p.parent() == Some(dir))
            .cloned()
            .collect()
    }
}

/// What an import produced.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The manifest, before writing.
    pub draft: Draft,
    /// What was not carried over, and notes.
    pub report: Report,
}

impl Imported {
    /// The manifest as TOML text.
    #[must_use]
    pub fn to_toml(&self) -> String {
        draft::write(&self.draft)
    }

    /// The manifest validated as openim-init reads it.
    ///
    /// # Errors
    /// The draft is not a valid manifest (a bug in the importer, or input it cannot carry).
    pub fn model(&self) -> Result<Model, ManifestErrors> {
        Model::from_toml("<imported manifest>", &self.to_toml())
    }
}

/// Why an import could not produce a manifest at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure(pub String);

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Import `paths` of `format`.
///
/// # Errors
/// A file that cannot be read, or input that yields no service at all.
pub fn import(
    format: Format,
    paths: &[PathBuf],
    files: &dyn Files,
    opts: &Options,
) -> Result<Imported, Failure> {
    let out = match format {
        Format::Procfile => procfile::import(paths, files, opts),
        Format::Supervisord => supervisord::import(paths, files, opts),
        Format::Systemd => systemd::import(paths, files, opts),
    }?;
    let mut out = out;
    if out.draft.services.is_empty() {
        return Err(Failure("no service was found to import".into()));
    }
    // a group named like the stack lists the stack's members; a service may not be
    let taken = |n: &str, d: &Draft| d.services.iter().any(|e| e.name == n);
    if taken(&out.draft.name, &out.draft) {
        let renamed = format!("{}-stack", out.draft.name);
        out.report.note(
            "name",
            format!(
                "the stack is named `{renamed}`: a service or group is `{}` (--name sets it)",
                out.draft.name
            ),
        );
        out.draft.name = renamed;
    }
    Ok(out)
}

/// A name the model accepts, made from `raw` (other characters become `-`).
#[must_use]
pub fn sanitize_name(raw: &str) -> String {
    let s: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let s: String = s
        .trim_start_matches(|c: char| !c.is_ascii_alphanumeric())
        .chars()
        .take(64)
        .collect();
    if s.is_empty() { "imported".into() } else { s }
}

/// `FILE:LINE`.
#[must_use]
pub fn at(path: &Path, line: usize) -> String {
    format!("{}:{line}", path.display())
}
