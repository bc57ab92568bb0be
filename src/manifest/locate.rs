//! Maps between manifest field paths (`services.api.requires[1]`) and byte positions.

use std::fmt;
use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

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

/// Finds where a field is in the source text.
pub struct Locator<'a> {
    text: &'a str,
    root: Option<Spanned<DeTable<'a>>>,
}

impl<'a> Locator<'a> {
    /// Index `text` (which must already parse as TOML for spans to be found).
    #[must_use]
    pub fn new(text: &'a str) -> Self {
        Self {
            text,
            root: DeTable::parse(text).ok(),
        }
    }

    /// The byte range of the value at `path`, or of its nearest existing ancestor.
    #[must_use]
    pub fn span(&self, path: &FieldPath) -> Range<usize> {
        let Some(root) = &self.root else {
            return 0..0;
        };
        let mut best = 0..0;
        let mut table: Option<&DeTable<'a>> = Some(root.get_ref());
        let mut value: Option<&Spanned<DeValue<'a>>> = None;
        for seg in &path.0 {
            let next = match (seg, table, value) {
                (Seg::Key(k), Some(t), _) => t.get(k.as_str()),
                (Seg::Key(k), None, Some(v)) => v.get_ref().get(k.as_str()),
                (Seg::Index(i), None, Some(v)) => v.get_ref().get(*i),
                _ => None,
            };
            let Some(next) = next else { break };
            best = next.span();
            table = None;
            value = Some(next);
        }
        best
    }

    /// 1-based line and column of a byte offset.
    #[must_use]
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        line_col(self.text, offset)
    }

    /// The deepest field path whose key or value contains `offset`. Table spans from TOML
    /// headers do not cover their bodies, so the whole tree is searched.
    #[must_use]
    pub fn path_at(&self, offset: usize) -> FieldPath {
        let mut best = FieldPath::default();
        if let Some(root) = &self.root {
            let mut path = FieldPath::default();
            search_table(root.get_ref(), offset, &mut path, &mut best);
        }
        best
    }

    /// The source line containing `offset`, for a snippet.
    #[must_use]
    pub fn line_text(&self, offset: usize) -> &'a str {
        let start = self.text[..offset.min(self.text.len())]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        let end = self.text[start..]
            .find('\n')
            .map_or(self.text.len(), |i| start + i);
        &self.text[start..end]
    }
}

fn search_table(t: &DeTable<'_>, offset: usize, path: &mut FieldPath, best: &mut FieldPath) {
    for (k, v) in t {
        path.0.push(Seg::Key(k.get_ref().to_string()));
        if contains(&k.span(), offset) || contains(&v.span(), offset) {
            if path.0.len() > best.0.len() {
                *best = path.clone();
            }
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

/// 1-based line and column (in characters) of a byte offset in `text`.
#[must_use]
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..text.floor_char_boundary(offset)];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str =
        "name = \"x\"\n[services.a]\ncommand = [\"/bin/a\", \"b\"]\nrequires = [\"kafka\"]\n";

    #[test]
    fn finds_spans_by_path() {
        let loc = Locator::new(DOC);
        let span = loc.span(&FieldPath::keys(&["services", "a", "command"]).index(1));
        assert_eq!(&DOC[span.clone()], "\"b\"");
        assert_eq!(loc.line_col(span.start), (3, 22));
        // a missing leaf falls back to the nearest existing ancestor
        let span = loc.span(&FieldPath::keys(&["services", "a", "requires"]).index(7));
        assert_eq!(&DOC[span], "[\"kafka\"]");
    }

    #[test]
    fn finds_path_by_offset() {
        let loc = Locator::new(DOC);
        let off = DOC.find("kafka").unwrap_or_default();
        assert_eq!(loc.path_at(off).to_string(), "services.a.requires[0]");
    }

    #[test]
    fn displays_odd_keys_quoted() {
        let p = FieldPath::keys(&["services", "a.b"]).index(2);
        assert_eq!(p.to_string(), "services.\"a.b\"[2]");
    }
}
