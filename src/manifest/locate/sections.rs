//! The table headers of a manifest, found by lexing it: a field is then located by parsing
//! only the section that holds it (its header up to the next one). A tree of the whole
//! document with spans takes about 38 bytes per byte of text: one error in a manifest of
//! 10,000 services cost 40 MB.

use std::ops::Range;

use hashbrown::HashMap;
use toml::Spanned;
use toml::de::{DeTable, DeValue};
use toml_parser::Source;
use toml_parser::lexer::TokenKind;

use super::{FieldPath, Seg};

/// Where each table header's section is, by the header's key path.
#[derive(Debug)]
pub(super) struct Sections {
    /// Header key → its section.
    by_key: HashMap<Vec<String>, Range<usize>>,
    /// Where the first header starts: the keys before it are the root's.
    first: usize,
}

impl Sections {
    /// The sections of `text`; `None` when its headers cannot be told apart this way (an
    /// array of tables, a header twice, a header that does not parse, brackets that do not
    /// balance): then the whole document is parsed.
    pub(super) fn index(text: &str) -> Option<Self> {
        let headers = headers(text)?;
        let mut by_key = HashMap::with_capacity(headers.len());
        for (i, header) in headers.iter().enumerate() {
            let end = headers.get(i + 1).map_or(text.len(), |h| h.start);
            let key = key_of(&text[header.clone()])?;
            if by_key.insert(key, header.start..end).is_some() {
                return None;
            }
        }
        let first = headers.first().map_or(text.len(), |h| h.start);
        Some(Self { by_key, first })
    }

    /// The sections that may hold `path`, in order: the one whose header is the longest
    /// run of keys `path` starts with; when none, the root's (before the first header),
    /// then the first whose header starts with those keys (a table made only by the headers
    /// of its sub-tables, `[external.kafka]`).
    pub(super) fn of(&self, path: &FieldPath) -> Vec<Range<usize>> {
        let keys: Vec<String> = path
            .0
            .iter()
            .map_while(|s| match s {
                Seg::Key(k) => Some(k.clone()),
                Seg::Index(_) => None,
            })
            .collect();
        if let Some(r) = (1..=keys.len())
            .rev()
            .find_map(|n| self.by_key.get(&keys[..n]))
        {
            return vec![r.clone()];
        }
        let under = self.by_key.iter().filter(|(k, _)| k.starts_with(&keys));
        let first = under.map(|(_, r)| r.clone()).min_by_key(|r| r.start);
        std::iter::once(0..self.first)
            .chain(first.filter(|_| !keys.is_empty()))
            .collect()
    }
}

/// The byte range of each table header (`[a.b]`) in `text`, in order: a `[` first on its
/// line outside any value, up to its `]`. `None` for an array of tables or brackets that
/// do not balance.
fn headers(text: &str) -> Option<Vec<Range<usize>>> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut line_start = true;
    let mut open: Option<usize> = None;
    for token in Source::new(text).lex() {
        let span = token.span();
        match token.kind() {
            TokenKind::Whitespace | TokenKind::Comment => continue,
            TokenKind::Newline => {
                if open.is_some() {
                    return None;
                }
                line_start = depth == 0;
                continue;
            }
            TokenKind::Eof => break,
            TokenKind::LeftSquareBracket if open.is_some() => return None,
            TokenKind::LeftSquareBracket if depth == 0 && line_start => open = Some(span.start()),
            TokenKind::RightSquareBracket if open.is_some() => {
                out.push(open.take()?..span.end());
            }
            TokenKind::LeftSquareBracket | TokenKind::LeftCurlyBracket => depth += 1,
            TokenKind::RightSquareBracket | TokenKind::RightCurlyBracket => {
                depth = depth.checked_sub(1)?;
            }
            _ => {}
        }
        line_start = false;
    }
    (open.is_none() && depth == 0).then_some(out)
}

/// The keys of `header` (`[a."b.c"]` → `a`, `b.c`), read by parsing it alone.
fn key_of(header: &str) -> Option<Vec<String>> {
    let root = DeTable::parse(header).ok()?;
    let mut keys = Vec::new();
    let mut table = root.get_ref();
    while let Some((k, v)) = table.iter().next() {
        if table.len() != 1 {
            return None;
        }
        keys.push(k.get_ref().to_string());
        table = match v.get_ref() {
            DeValue::Table(t) => t,
            _ => return None,
        };
    }
    (!keys.is_empty()).then_some(keys)
}

/// A parsed section: where it starts, and its tree (spans from that start).
pub(super) type Parsed<'a> = (Range<usize>, Spanned<DeTable<'a>>);

#[cfg(test)]
mod tests {
    use super::*;

    fn sections(text: &str) -> Vec<(String, &str)> {
        let s = Sections::index(text).expect("indexed");
        let mut out: Vec<(String, &str)> = s
            .by_key
            .iter()
            .map(|(k, r)| (k.join("/"), &text[r.clone()]))
            .collect();
        out.sort_by_key(|(_, t)| t.as_ptr());
        out
    }

    #[test]
    fn headers_are_found_outside_values_and_strings() {
        let text = "name = \"x\"\n[services.a]\ncommand = [\n  [\"not\", \"a header\"],\n]\n\
            script = '''\n[services.b]\n'''\n  [ services . \"c.d\" ] # c\nx = { y = [1] }\n";
        let found = sections(text);
        let keys: Vec<&str> = found.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["services/a", "services/c.d"]);
        assert!(found[0].1.ends_with("'''\n  "), "{found:?}");
        assert!(found[1].1.starts_with("[ services"), "{found:?}");
    }

    #[test]
    fn what_cannot_be_told_apart_is_parsed_whole() {
        for text in ["[[a]]\nx = 1\n", "[a]\n[a]\n", "a = [1\n[b]\n", "a = 1]\n"] {
            assert!(Sections::index(text).is_none(), "{text:?}");
        }
    }

    #[test]
    fn a_path_is_in_the_section_of_its_longest_header() {
        let text = "name = \"x\"\n[services.a]\nc = 1\n[services.a.health]\nt = 2\n";
        let s = Sections::index(text).expect("indexed");
        let at = |keys: &[&str]| {
            let r = s.of(&FieldPath::keys(keys).index(0));
            let first = |r: &Range<usize>| text[r.clone()].lines().next().unwrap_or_default();
            r.iter().map(first).collect::<Vec<_>>().join(" | ")
        };
        assert_eq!(at(&["services", "a", "health", "t"]), "[services.a.health]");
        assert_eq!(at(&["services", "a", "c"]), "[services.a]");
        assert_eq!(at(&["name"]), "name = \"x\"");
        assert_eq!(at(&["groups", "g"]), "name = \"x\"");
        assert_eq!(at(&["services"]), "name = \"x\" | [services.a]");
    }
}
