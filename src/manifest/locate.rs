//! Maps between manifest field paths (`services.api.requires[1]`) and byte positions.

mod sections;

use std::cell::{OnceCell, RefCell};
use std::fmt;
use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use self::sections::{Parsed, Sections};

/// One step of a field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    /// A table key.
    Key(String),
    /// An array index.
    Index(usize),
}

/// A field path such as `services.openim-api.command[0]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldPath(pub Vec<Seg>);

impl FieldPath {
    /// A path from table keys.
    #[must_use]
    pub fn keys(keys: &[&str]) -> Self {
        Self(keys.iter().map(|k| Seg::Key((*k).to_owned())).collect())
    }

    /// This path with one more key.
    #[must_use]
    pub fn key(&self, k: &str) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Key(k.to_owned()));
        p
    }

    /// This path with one more index.
    #[must_use]
    pub fn index(&self, i: usize) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Index(i));
        p
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    let bare = !k.is_empty()
                        && k.chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                    if bare {
                        f.write_str(k)?;
                    } else {
                        write!(f, "{k:?}")?;
                    }
                }
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// Finds where a field is in the source text. The text is parsed and its lines indexed on
/// the first question only: a manifest without problems never pays for them. A field is
/// looked for in its section alone (see `locate/sections.rs`), the last one kept; the whole
/// document is parsed only when that does not find it.
pub struct Locator<'a> {
    text: &'a str,
    root: OnceCell<Option<Spanned<DeTable<'a>>>>,
    sections: OnceCell<Option<Sections<'a>>>,
    /// The section parsed last (the errors of one table come together).
    section: RefCell<Option<Parsed<'a>>>,
    /// Byte offset where each line starts: positions of many errors cost a binary search
    /// each, not a scan of the text.
    line_starts: OnceCell<Vec<usize>>,
}

impl<'a> Locator<'a> {
    /// Index `text` (which must already parse as TOML for spans to be found).
    #[must_use]
    pub fn new(text: &'a str) -> Self {
        Self {
            text,
            root: OnceCell::new(),
            sections: OnceCell::new(),
            section: RefCell::new(None),
            line_starts: OnceCell::new(),
        }
    }

    fn root(&self) -> Option<&Spanned<DeTable<'a>>> {
        self.root
            .get_or_init(|| DeTable::parse(self.text).ok())
            .as_ref()
    }

    fn line_starts(&self) -> &[usize] {
        self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(self.text.match_indices('\n').map(|(i, _)| i + 1))
                .collect()
        })
    }

    /// Whether the text parsed as TOML (spans are only known then).
    #[must_use]
    pub fn parsed(&self) -> bool {
        self.root().is_some()
    }

    /// The byte range of the value at `path`, or of its nearest existing ancestor.
    #[must_use]
    pub fn span(&self, path: &FieldPath) -> Range<usize> {
        self.walk(path).1
    }

    /// The byte range of the key that names the field at `path` (for a table from a header,
    /// the name inside `[...]`); the value's span when the last step is an index or absent.
    #[must_use]
    pub fn key_span(&self, path: &FieldPath) -> Range<usize> {
        let (key, value) = self.walk(path);
        key.unwrap_or(value)
    }

    /// Follow `path`: the span of the last key found (if the whole path was found and ends
    /// in a key) and of the deepest value found. In its section when found there whole.
    fn walk(&self, path: &FieldPath) -> (Option<Range<usize>>, Range<usize>) {
        if let Some(found) = self.walk_section(path) {
            return found;
        }
        let Some(root) = self.root() else {
            return (None, 0..0);
        };
        let (key, value, _) = walk_tree(root, path);
        (key, value)
    }

    /// [`Self::walk`] in the section of `path` alone, when the whole path is there (and the
    /// whole document was not parsed already).
    fn walk_section(&self, path: &FieldPath) -> Option<(Option<Range<usize>>, Range<usize>)> {
        if self.root.get().is_some() {
            return None;
        }
        let sections = self
            .sections
            .get_or_init(|| Sections::index(self.text))
            .as_ref()?;
        for range in sections.of(path) {
            let mut last = self.section.borrow_mut();
            if last.as_ref().is_none_or(|(r, _)| *r != range) {
                let tree = DeTable::parse(&self.text[range.clone()]).ok()?;
                *last = Some((range, tree));
            }
            let (range, tree) = last.as_ref()?;
            let (key, value, whole) = walk_tree(tree, path);
            let shift = |r: Range<usize>| r.start + range.start..r.end + range.start;
            if whole {
                return Some((key.map(shift), shift(value)));
            }
        }
        None
    }

    /// 1-based line and column of a byte offset.
    #[must_use]
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(self.text, offset);
        // the number of line starts at or before `offset` is the 1-based line
        let starts = self.line_starts();
        let line = starts.partition_point(|&s| s <= offset);
        let start = starts[line.saturating_sub(1)];
        (line, self.text[start..offset].chars().count() + 1)
    }

    /// The deepest field path whose key or value contains `offset`. Table spans from TOML
    /// headers do not cover their bodies, so the whole tree is searched.
    #[must_use]
    pub fn path_at(&self, offset: usize) -> FieldPath {
        let mut best = FieldPath::default();
        if let Some(root) = self.root() {
            let mut path = FieldPath::default();
            search_table(root.get_ref(), offset, &mut path, &mut best);
        }
        best
    }

    /// The source line containing `offset`, for a snippet.
    #[must_use]
    pub fn line_text(&self, offset: usize) -> &'a str {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let start = self.text[..offset].rfind('\n').map_or(0, |i| i + 1);
        let end = self.text[start..]
            .find('\n')
            .map_or(self.text.len(), |i| start + i);
        self.text[start..end].trim_end_matches('\r')
    }
}

/// Follow `path` from `root`: the span of the last key found (if the whole path was found
/// and ends in a key), of the deepest value found, and whether the whole path was found.
fn walk_tree<'a>(
    root: &Spanned<DeTable<'a>>,
    path: &FieldPath,
) -> (Option<Range<usize>>, Range<usize>, bool) {
    let mut key = None;
    let mut best = 0..0;
    let mut value: Option<&Spanned<DeValue<'a>>> = None;
    for seg in &path.0 {
        let found = match seg {
            Seg::Key(k) => {
                let table = match value {
                    None => Some(root.get_ref()),
                    Some(v) => v.get_ref().as_table(),
                };
                table
                    .and_then(|t| t.get_key_value(k.as_str()))
                    .map(|(k, v)| (Some(k.span()), v))
            }
            Seg::Index(i) => value.and_then(|v| v.get_ref().get(*i)).map(|v| (None, v)),
        };
        let Some((k, next)) = found else {
            return (None, best, false);
        };
        key = k;
        best = next.span();
        value = Some(next);
    }
    (key, best, true)
}

fn search_table(t: &DeTable<'_>, offset: usize, path: &mut FieldPath, best: &mut FieldPath) {
    for (k, v) in t {
        path.0.push(Seg::Key(k.get_ref().to_string()));
        if (contains(&k.span(), offset) || contains(&v.span(), offset))
            && path.0.len() > best.0.len()
        {
            *best = path.clone();
        }
        search_value(v.get_ref(), offset, path, best);
        path.0.pop();
    }
}

fn search_value(v: &DeValue<'_>, offset: usize, path: &mut FieldPath, best: &mut FieldPath) {
    match v {
        DeValue::Table(t) => search_table(t, offset, path, best),
        DeValue::Array(a) => {
            for (i, item) in a.iter().enumerate() {
                path.0.push(Seg::Index(i));
                if contains(&item.span(), offset) && path.0.len() > best.0.len() {
                    *best = path.clone();
                }
                search_value(item.get_ref(), offset, path, best);
                path.0.pop();
            }
        }
        _ => {}
    }
}

fn contains(r: &Range<usize>, offset: usize) -> bool {
    r.start <= offset && offset < r.end.max(r.start + 1)
}

/// `offset` moved back to a character boundary of `text` (and at most its length).
fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    end
}

/// 1-based line and column (in characters) of a byte offset in `text`.
#[must_use]
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let end = floor_char_boundary(text, offset);
    let before = &text[..end];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

#[cfg(test)]
mod tests;
