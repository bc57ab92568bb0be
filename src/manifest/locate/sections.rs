//! The table headers of a manifest, found by lexing it: a field is then located by parsing
//! only the section that holds it (its header up to the next one). A tree of the whole
//! document with spans takes about 38 bytes per byte of text: one error in a manifest of
//! 10,000 services cost 40 MB.

use std::hash::BuildHasher as _;
use std::ops::Range;

use hashbrown::{DefaultHashBuilder, HashTable};
use toml::Spanned;
use toml::de::{DeTable, DeValue};
use toml_parser::Source;
use toml_parser::lexer::TokenKind;

use super::{FieldPath, Seg};

/// Where each table header is, found by its key path. Only places are kept (12 bytes a
/// header, and the lookup): a header's keys are read again from the text when asked.
#[derive(Debug)]
pub(super) struct Sections<'a> {
    text: &'a str,
    /// Each header: where it starts, and where its `]` ends.
    headers: Vec<(u32, u32)>,
    /// The headers (their index) by the hash of their keys.
    by_key: HashTable<u32>,
    hasher: DefaultHashBuilder,
}

impl<'a> Sections<'a> {
    /// The sections of `text`; `None` when its headers cannot be told apart this way (an
    /// array of tables, a header twice, a header that does not parse, brackets that do not
    /// balance, a text over 4 GiB): then the whole document is parsed.
    pub(super) fn index(text: &'a str) -> Option<Self> {
        u32::try_from(text.len()).ok()?;
        let headers = headers(text)?;
        let mut out = Self {
            text,
            by_key: HashTable::with_capacity(headers.len()),
            headers,
            hasher: DefaultHashBuilder::default(),
        };
        for i in 0..out.headers.len() {
            let key = out.key(i)?;
            if out.find(&key).is_some() {
                return None;
            }
            let hash = out.hasher.hash_one(&key[..]);
            let at = u32::try_from(i).ok()?;
            let Self {
                by_key,
                hasher,
                text,
                headers,
            } = &mut out;
            by_key.insert_unique(hash, at, |&j| {
                let key = key_of(header_text(text, headers, j as usize)).unwrap_or_default();
                hasher.hash_one(&key[..])
            });
        }
        Some(out)
    }

    /// The keys of header `i`.
    fn key(&self, i: usize) -> Option<Vec<String>> {
        key_of(header_text(self.text, &self.headers, i))
    }

    /// The header whose keys are `keys`.
    fn find(&self, keys: &[String]) -> Option<usize> {
        let hash = self.hasher.hash_one(keys);
        let found = self.by_key.find(hash, |&i| {
            self.key(i as usize).is_some_and(|k| k[..] == *keys)
        });
        found.map(|&i| i as usize)
    }

    /// The section of header `i`: up to the next header.
    fn section(&self, i: usize) -> Range<usize> {
        let end = self
            .headers
            .get(i + 1)
            .map_or(self.text.len(), |h| h.0 as usize);
        self.headers[i].0 as usize..end
    }

    /// The sections that may hold `path`, in order: the one whose header is the longest
    /// run of keys `path` starts with; when none, the root's (before the first header),
    /// then the first whose header starts with those keys (a table made only by the headers
    /// of its sub-tables, `[external.kafka]`: looked for only when asked).
    pub(super) fn of(&self, path: &FieldPath) -> impl Iterator<Item = Range<usize>> + '_ {
        let keys: Vec<String> = path
            .0
            .iter()
            .map_while(|s| match s {
                Seg::Key(k) => Some(k.clone()),
                Seg::Index(_) => None,
            })
            .collect();
        let header = (1..=keys.len())
            .rev()
            .find_map(|n| self.find(&keys[..n]))
            .map(|i| self.section(i));
        let none = header.is_none();
        let root = self
            .headers
            .first()
            .map_or(self.text.len(), |h| h.0 as usize);
        let first_under = move || {
            if !none || keys.is_empty() {
                return None;
            }
            (0..self.headers.len())
                .find(|&i| self.key(i).is_some_and(|k| k.starts_with(&keys)))
                .map(|i| self.section(i))
        };
        header
            .into_iter()
            .chain(none.then_some(0..root))
            .chain(std::iter::once_with(first_under).flatten())
    }
}

/// The text of header `i` of `headers`.
fn header_text<'t>(text: &'t str, headers: &[(u32, u32)], i: usize) -> &'t str {
    let (start, end) = headers[i];
    &text[start as usize..end as usize]
}

/// Where each table header (`[a.b]`) of `text` starts and ends, in order: a `[` first on
/// its line outside any value, up to its `]`. `None` for an array of tables or brackets
/// that do not balance (or a text over 4 GiB).
fn headers(text: &str) -> Option<Vec<(u32, u32)>> {
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
                let start = u32::try_from(open.take()?).ok()?;
                out.push((start, u32::try_from(span.end()).ok()?));
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
        (0..s.headers.len())
            .map(|i| {
                let key = s.key(i).expect("keys").join("/");
                assert_eq!(s.find(&s.key(i).expect("keys")), Some(i), "{key}");
                (key, &text[s.section(i)])
            })
            .collect()
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
            let first = |r: Range<usize>| text[r].lines().next().unwrap_or_default();
            let all: Vec<&str> = s.of(&FieldPath::keys(keys).index(0)).map(first).collect();
            all.join(" | ")
        };
        assert_eq!(at(&["services", "a", "health", "t"]), "[services.a.health]");
        assert_eq!(at(&["services", "a", "c"]), "[services.a]");
        assert_eq!(at(&["name"]), "name = \"x\"");
        assert_eq!(at(&["groups", "g"]), "name = \"x\"");
        assert_eq!(at(&["services"]), "name = \"x\" | [services.a]");
    }
}
