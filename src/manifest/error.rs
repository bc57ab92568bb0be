//! Manifest errors: where (`file:line:col`), which field, what is wrong, and a hint.

use std::fmt;
use std::sync::Arc;

use super::locate::{FieldPath, Locator, Seg};

/// One problem in a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestError {
    /// The manifest's file name as given by the user (shared by its problems).
    pub file: Arc<str>,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub col: usize,
    /// The field path, e.g. `services.openim-api.requires[0]`; empty for the whole file.
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it (shared by the problems that have the same: the names known, for
    /// every unknown one).
    pub hint: Option<Arc<str>>,
    /// The offending source line.
    pub snippet: String,
}

impl ManifestError {
    /// An error at `path`, located through `loc`.
    #[must_use]
    pub fn at(
        file: &Arc<str>,
        loc: &Locator<'_>,
        path: &FieldPath,
        message: impl Into<String>,
        hint: Option<Arc<str>>,
    ) -> Self {
        Self::at_offset(file, loc, path, loc.span(path).start, message, hint)
    }

    /// An error at the key that names `path` (a name in a table header, an environment
    /// variable name) rather than at its value.
    #[must_use]
    pub fn at_key(
        file: &Arc<str>,
        loc: &Locator<'_>,
        path: &FieldPath,
        message: impl Into<String>,
        hint: Option<Arc<str>>,
    ) -> Self {
        Self::at_offset(file, loc, path, loc.key_span(path).start, message, hint)
    }

    fn at_offset(
        file: &Arc<str>,
        loc: &Locator<'_>,
        path: &FieldPath,
        start: usize,
        message: impl Into<String>,
        hint: Option<Arc<str>>,
    ) -> Self {
        let span = start..start;
        let (line, col) = loc.line_col(span.start);
        Self {
            file: Arc::clone(file),
            line,
            col,
            field: path.to_string(),
            message: message.into(),
            hint,
            snippet: loc.line_text(span.start).to_owned(),
        }
    }
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.col)?;
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        write!(f, "{}", Printable(&self.message))?;
        if !self.snippet.trim().is_empty() {
            // one character per column, none that a terminal would interpret
            let line: String = self
                .snippet
                .chars()
                .map(|c| match c {
                    '\t' => ' ',
                    c if c.is_control() => '\u{fffd}',
                    c => c,
                })
                .collect();
            let (line, col) = window(line.trim_end(), self.col);
            let caret = " ".repeat(col.saturating_sub(1));
            write!(f, "\n  | {line}\n  | {caret}^")?;
        }
        if let Some(h) = &self.hint {
            write!(f, "\n  = hint: {}", Printable(h))?;
        }
        Ok(())
    }
}

/// At most [`SNIPPET_CHARS`] characters of `line` around column `col` (1-based), with `…`
/// where it was cut, and the column of the same character in the result.
fn window(line: &str, col: usize) -> (String, usize) {
    let chars: Vec<char> = line.chars().collect();
    if chars.len() <= SNIPPET_CHARS {
        return (line.to_owned(), col);
    }
    let at = col.saturating_sub(1).min(chars.len());
    let start = at.saturating_sub(SNIPPET_CHARS / 2);
    let end = (start + SNIPPET_CHARS).min(chars.len());
    let mut out = String::new();
    let mut col = at - start + 1;
    if start > 0 {
        out.push('…');
        col += 1;
    }
    out.extend(&chars[start..end]);
    if end < chars.len() {
        out.push('…');
    }
    (out, col)
}

/// The most characters of a source line an error shows.
const SNIPPET_CHARS: usize = 120;

/// `text` with control characters escaped, so user data cannot break lines or drive the
/// terminal (written straight to the formatter, a run of plain characters at a time).
struct Printable<'a>(&'a str);

impl fmt::Display for Printable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(at) = rest.find(char::is_control) {
            f.write_str(&rest[..at])?;
            let c = rest[at..].chars().next().unwrap_or_default();
            write!(f, "{}", c.escape_debug())?;
            rest = &rest[at + c.len_utf8()..];
        }
        f.write_str(rest)
    }
}

/// All problems found in a manifest (at least one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestErrors(pub Vec<ManifestError>);

impl From<ManifestError> for ManifestErrors {
    fn from(e: ManifestError) -> Self {
        Self(vec![e])
    }
}

impl fmt::Display for ManifestErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "error: {e}")?;
        }
        if self.0.len() > 1 {
            write!(f, "\n{} errors in the manifest", self.0.len())?;
        }
        Ok(())
    }
}

impl std::error::Error for ManifestErrors {}

/// The field named by an error that is in no key: the top level of the file.
pub const TOP_LEVEL: &str = "(top level)";

/// Turn a TOML syntax or deserialize error into a located manifest error with a hint.
/// `loc` indexes the same `text`; without a tree (a syntax error) the field is found by
/// scanning the text.
pub(crate) fn from_toml(
    file: &str,
    text: &str,
    loc: &Locator<'_>,
    err: &toml::de::Error,
) -> ManifestError {
    // the parser gives up on deep nesting without a position: find the deepest line
    let span = err.span().unwrap_or_else(|| {
        let at = super::syntax::deepest(text);
        at..at
    });
    let offset = span.start;
    let (line, col) = loc.line_col(offset);
    let raw = err.message().trim().to_owned();
    let (field, message, hint) = if loc.parsed() {
        let mut path = loc.path_at(offset);
        let (message, hint) = explain(&raw, &path);
        // a missing key is reported at its table; the field is the key that is missing
        if let Some(missing) = raw
            .strip_prefix("missing field `")
            .and_then(|r| r.split('`').next())
        {
            path = path.key(missing);
        }
        (path, message, hint)
    } else {
        let found = text.get(span.clone()).unwrap_or("");
        let hint = Some(super::syntax::hint(&raw, found));
        (
            super::syntax::context(text, offset),
            format!("TOML syntax error: {raw}"),
            hint,
        )
    };
    ManifestError {
        file: file.into(),
        line,
        col,
        // a syntax error outside any key (a broken comment, a stray bracket) is in the file's
        // top level
        field: if field.0.is_empty() {
            TOP_LEVEL.to_owned()
        } else {
            field.to_string()
        },
        message,
        hint: hint.map(Arc::from),
        snippet: loc.line_text(offset).to_owned(),
    }
}

/// A required key reported missing next to an unknown key of the same table is most likely
/// that key misspelt: say so at the unknown key and drop the separate "missing" error.
pub(crate) fn merge_misspelled(mut list: Vec<ManifestError>) -> Vec<ManifestError> {
    let missing: Vec<(usize, String, String)> = list
        .iter()
        .enumerate()
        .filter(|(_, e)| e.message.starts_with("missing required key `"))
        .map(|(i, e)| {
            let (table, key) = e.field.rsplit_once('.').unwrap_or(("", &e.field));
            (i, table.to_owned(), key.to_owned())
        })
        .collect();
    let mut drop = Vec::new();
    for (i, table, key) in missing {
        let unknown = list.iter_mut().find(|u| {
            u.message.starts_with("unknown key `")
                && u.field.rsplit_once('.').map_or("", |(t, _)| t) == table
                && !u
                    .hint
                    .as_deref()
                    .is_some_and(|h| h.starts_with("did you mean"))
        });
        if let Some(u) = unknown {
            u.hint = Some(format!("did you mean `{key}`? it is required here").into());
            drop.push(i);
        }
    }
    let mut i = 0;
    list.retain(|_| {
        i += 1;
        !drop.contains(&(i - 1))
    });
    list
}

/// Reword serde's messages and add a hint ("did you mean", the expected shape).
fn explain(raw: &str, path: &FieldPath) -> (String, Option<String>) {
    if let Some(rest) = raw.strip_prefix("unknown field `") {
        // the key itself may contain a backtick: take it from the located path when it fits
        let located = match path.0.last() {
            Some(Seg::Key(k)) => rest.strip_prefix(k.as_str()).and_then(|t| {
                let tail = t.strip_prefix('`')?;
                Some((k.as_str(), tail))
            }),
            _ => None,
        };
        let (unknown, tail) = located.unwrap_or_else(|| rest.split_once('`').unwrap_or((rest, "")));
        let expected: Vec<&str> = tail
            .split('`')
            .skip(1)
            .step_by(2)
            .filter(|s| !s.is_empty())
            .collect();
        let hint = match closest(unknown, &expected) {
            Some(b) => format!("did you mean `{b}`?"),
            None if expected.is_empty() => "remove this key".to_owned(),
            None => format!("known keys here: {}", expected.join(", ")),
        };
        let message = format!("unknown key `{}`", unknown.escape_debug());
        return (message, Some(hint));
    }
    if let Some(rest) = raw.strip_prefix("missing field `") {
        let field = rest.split('`').next().unwrap_or(rest);
        let hint = match field {
            "name" => "add `name = \"openim\"` at the top of the file".to_owned(),
            "check" => "add e.g. `check = { tcp = \"127.0.0.1:9092\" }`".to_owned(),
            "services" => "add `services = [\"a\", \"b\"]`".to_owned(),
            "burst" => "add e.g. `burst = 5`".to_owned(),
            "interval" => "add e.g. `interval = \"1min\"`".to_owned(),
            _ => format!("add `{field} = ...` to this table"),
        };
        return (format!("missing required key `{field}`"), Some(hint));
    }
    let message = raw
        .replace("expected a sequence", "expected an array")
        .replace("expected a map", "expected a table")
        .replace("invalid type: map,", "invalid type: table,")
        .replace("invalid type: sequence,", "invalid type: array,")
        .replace("expected u64", "expected a whole number of at least 0")
        .replace("expected u32", "expected a whole number of at least 0")
        .replace("expected i32", "expected a whole number")
        .replace("expected i64", "expected a whole number");
    let message = reword_struct(&message);
    if message.contains("expected one of") {
        // the message lists the choices
        return (
            message,
            Some("use one of the values listed, in quotes".to_owned()),
        );
    }
    let hint = super::hints::hint_for(path).map_or_else(
        || "compare with the same key in `openim-init manifest show`".to_owned(),
        str::to_owned,
    );
    (message, Some(hint))
}

/// serde names the Rust type (`expected struct HealthSpec`); users know TOML tables.
fn reword_struct(message: &str) -> String {
    match message.find("expected struct ") {
        Some(i) => format!("{}expected a table", &message[..i]),
        None => message.to_owned(),
    }
}

/// The expected key closest to `unknown`, if one is close enough to be a typo.
pub(crate) fn closest<'a>(unknown: &str, expected: &[&'a str]) -> Option<&'a str> {
    expected
        .iter()
        .map(|e| {
            let mut score = strsim::jaro_winkler(unknown, e);
            // one edit apart needs lengths at most one apart: skip the costly distance else
            if unknown.len() > 1
                && unknown.len().abs_diff(e.len()) <= 1
                && strsim::damerau_levenshtein(unknown, e) <= 1
            {
                score = score.max(0.9);
            }
            // `timeout` for `wait_timeout`, `exit_codes` for `success_exit_codes`
            if unknown.len() >= 4 && (e.ends_with(unknown) || e.starts_with(unknown)) {
                score = score.max(0.85);
            }
            (score, *e)
        })
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, e)| e)
}

#[cfg(test)]
mod tests {
    use super::window;

    #[test]
    fn long_lines_are_cut_around_the_caret() {
        assert_eq!(window("abc", 2), ("abc".to_owned(), 2));
        let line = format!("{}X{}", "a".repeat(500), "b".repeat(500));
        let (cut, col) = window(&line, 501);
        assert!(cut.chars().count() <= 122, "{cut}");
        assert!(cut.starts_with('…') && cut.ends_with('…'));
        assert_eq!(cut.chars().nth(col - 1), Some('X'));
    }
}
