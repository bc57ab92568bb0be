//! Context for TOML syntax errors. The parser stops at the first syntax error, so there is no
//! tree to locate the field in; a small scanner over the text up to the error finds the table
//! header in force and the key being assigned, and a hint is chosen from the parser's message.

use super::locate::{FieldPath, Seg};

/// Where a scan position is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// Outside strings and comments.
    Code,
    /// In a `#` comment.
    Comment,
    /// In a string with this delimiter (`"`, `'`, `"""`, `'''`).
    Str(&'static str),
}

/// The field path a syntax error at byte `offset` belongs to: the last table header before it,
/// plus the key of the assignment in progress (or the header itself when the error is in it).
#[must_use]
pub fn context(text: &str, offset: usize) -> FieldPath {
    let end = floor_boundary(text, offset);
    let bytes = text.as_bytes();
    let mut header = FieldPath::default();
    let mut key: Option<String> = None;
    let mut state = State::Code;
    let mut depth = 0usize; // brackets/braces open inside a value
    let mut line_start = true;
    let mut i = 0;
    while i < end {
        // delimiters are ASCII: inside a multi-byte character `rest` is empty and matches none
        let rest = text.get(i..).unwrap_or("");
        match state {
            State::Comment => {
                if bytes[i] == b'\n' {
                    state = State::Code;
                    line_start = true;
                }
                i += 1;
            }
            State::Str(delim) => {
                if delim.len() == 1 && bytes[i] == b'\n' {
                    // an unclosed one-line string ends with the line (the parser already failed)
                    state = State::Code;
                    line_start = true;
                    i += 1;
                } else if delim.starts_with('"') && bytes[i] == b'\\' {
                    i += 2;
                } else if rest.starts_with(delim) {
                    state = State::Code;
                    i += delim.len();
                } else {
                    i += 1;
                }
            }
            State::Code => {
                let c = bytes[i];
                if line_start && depth == 0 && !c.is_ascii_whitespace() {
                    line_start = false;
                    if c == b'[' {
                        let line = rest.lines().next().unwrap_or("");
                        header = header_path(line);
                        key = None;
                        if i + line.len() >= end {
                            return header; // the error is in this header
                        }
                        i += line.len();
                        continue;
                    }
                    if c != b'#' {
                        key = assigned_key(rest.lines().next().unwrap_or(""));
                    }
                }
                match c {
                    b'\n' => line_start = depth == 0,
                    b'#' => state = State::Comment,
                    b'[' | b'{' => depth += 1,
                    b']' | b'}' => depth = depth.saturating_sub(1),
                    b'"' | b'\'' => {
                        let triple = if c == b'"' { "\"\"\"" } else { "'''" };
                        state = if rest.starts_with(triple) {
                            i += 2;
                            State::Str(triple)
                        } else if c == b'"' {
                            State::Str("\"")
                        } else {
                            State::Str("'")
                        };
                    }
                    _ => {}
                }
                i += 1;
            }
        }
    }
    let at_statement = line_start && depth == 0 && state == State::Code;
    field_at(text, end, header, key, at_statement)
}

/// The field of the statement the scan stopped in: when the offset is at the start of a
/// statement, the statement read from there; otherwise the key being assigned.
fn field_at(
    text: &str,
    end: usize,
    header: FieldPath,
    mut key: Option<String>,
    at_statement: bool,
) -> FieldPath {
    if at_statement {
        let line = text[end..].lines().next().unwrap_or("").trim_start();
        if line.starts_with('[') {
            return header_path(line);
        }
        key = assigned_key(line).or(key);
    }
    match key {
        Some(k) => {
            let mut p = header;
            p.0.extend(split_dotted(&k).into_iter().map(Seg::Key));
            p
        }
        None => header,
    }
}

/// Where `text` nests deepest (brackets and braces, plus the dots of a dotted key), for a
/// parser error that has no position ("recursion limit"): the start of the first deepest line.
#[must_use]
pub fn deepest(text: &str) -> usize {
    let (mut best, mut best_at, mut depth) = (0usize, 0usize, 0usize);
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let mut quote: Option<char> = None;
        let mut dots = 0;
        let mut in_key = depth == 0;
        for c in line.chars() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (None, '"' | '\'') => quote = Some(c),
                (None, '#') => break,
                (None, '=') => in_key = false,
                (None, '.') if in_key => dots += 1,
                (None, '[' | '{') => depth += 1,
                (None, ']' | '}') => depth = depth.saturating_sub(1),
                _ => {}
            }
            if depth + dots > best {
                best = depth + dots;
                best_at = offset;
            }
        }
        offset += line.len();
    }
    best_at
}

fn floor_boundary(text: &str, offset: usize) -> usize {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    end
}

/// `[services.a]` or `[[x.y]]` (possibly unclosed, with a comment) → its path.
fn header_path(line: &str) -> FieldPath {
    let inner = line.trim_start().trim_start_matches('[');
    let inner = inner.split(']').next().unwrap_or(inner);
    FieldPath(split_dotted(inner).into_iter().map(Seg::Key).collect())
}

/// The key of `key = value` on a line, if the line starts with one.
fn assigned_key(line: &str) -> Option<String> {
    let mut in_quote: Option<char> = None;
    for (i, c) in line.char_indices() {
        match (in_quote, c) {
            (Some(q), c) if c == q => in_quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => in_quote = Some(c),
            (None, '=') => {
                let k = line[..i].trim();
                return (!k.is_empty()).then(|| k.to_owned());
            }
            (None, c) if c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ' ' | '\t') => {}
            (None, _) => return None,
        }
    }
    // no `=` yet: a key being typed, e.g. `user "x"`
    let word = line.split_whitespace().next()?;
    word.chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
        .then(|| word.to_owned())
}

/// Split a dotted key on dots outside quotes and unquote the parts.
fn split_dotted(key: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut in_quote: Option<char> = None;
    for c in key.chars() {
        match (in_quote, c) {
            (Some(q), c) if c == q => in_quote = None,
            (None, '"' | '\'') => in_quote = Some(c),
            (None, '.') => parts.push(std::mem::take(&mut cur).trim().to_owned()),
            (_, c) => cur.push(c),
        }
    }
    parts.push(cur.trim().to_owned());
    parts.retain(|p| !p.is_empty());
    parts
}

/// A hint for a parser message: a specific one when the message is known, else how TOML is
/// written.
#[must_use]
pub fn hint(message: &str, found: &str) -> String {
    specific(message, found).unwrap_or_else(|| {
        if let Some(c) = found
            .chars()
            .find(|c| c.is_control() && *c != '\t' && *c != '\n')
        {
            format!(
                "remove the control character U+{:04X}; TOML allows only tabs and line breaks",
                u32::from(c)
            )
        } else {
            GENERAL.to_owned()
        }
    })
}

/// How TOML is written, for a syntax error without a more specific hint.
const GENERAL: &str = "write one `key = value` per line under a [table] header: strings in double quotes, lists in [ ], inline tables in { } on one line";

fn specific(message: &str, found: &str) -> Option<String> {
    let m = message;
    let h = if m.contains("duplicate key") {
        format!("`{found}` is already set in this table; keep only one of the two")
    } else if m.starts_with("invalid basic string") || m.starts_with("invalid literal string") {
        "close the string on the same line; use \"\"\"...\"\"\" for text over several lines"
            .to_owned()
    } else if m.starts_with("invalid multi-line") {
        "close the string with the same triple quote it was opened with".to_owned()
    } else if m.starts_with("unclosed table") || m.starts_with("unclosed array table") {
        "a table header is one line: [services.openim-api]".to_owned()
    } else if m.starts_with("unclosed array") || m.contains("missing comma between array") {
        "separate array elements with `,` and close the array with `]`".to_owned()
    } else if m.starts_with("unclosed inline table") {
        "close the inline table with `}`: limits = { nofile = 1024 }".to_owned()
    } else if m.starts_with("missing assignment") || m.contains("expected `=`") {
        "write key = value, e.g. user = \"openim\"".to_owned()
    } else if m.starts_with("unquoted keys cannot be empty") {
        "a name is missing: [services.NAME], or key = value".to_owned()
    } else if m.starts_with("invalid unquoted key") {
        "quote keys with characters other than A-Z a-z 0-9 _ -: [services.\"my.svc\"]".to_owned()
    } else if m.starts_with("string values must be quoted") || m.contains("expected value") {
        "strings are quoted: user = \"openim\"; lists use [ ]: requires = [\"kafka\"]".to_owned()
    } else if m.contains("expected newline") {
        "one `key = value` per line: the line goes on after its value (a comment starts with `#`)"
            .to_owned()
    } else if m.contains("missing comma") || m.contains("expected `,`") {
        "separate the elements with `,`".to_owned()
    } else if m.contains("recursion limit") {
        "nest tables, arrays and dotted keys less deeply: a manifest needs at most 4 levels"
            .to_owned()
    } else if m.starts_with("invalid escape") || m.starts_with("missing escaped value") {
        "in \"...\" strings write \\\\ for a backslash, or use '...' literal strings".to_owned()
    } else {
        return None;
    };
    Some(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str, needle: &str) -> String {
        context(text, text.find(needle).unwrap_or(text.len())).to_string()
    }

    #[test]
    fn finds_header_and_key() {
        let t = "name = \"x\"\n[services.a]\ncommand = [\n  \"/bin/a\"\n  \"b\"\n]\n";
        assert_eq!(at(t, "\"b\""), "services.a.command");
        assert_eq!(at(t, "name"), "name");
        let t = "[services.\"a.b\"]\nuser = \"x\n";
        assert_eq!(at(t, "x\n"), "services.\"a.b\".user");
        let t = "[services.a\ncommand = []\n";
        assert_eq!(at(t, "\ncommand"), "services.a");
    }

    #[test]
    fn finds_the_deepest_line() {
        let t = format!(
            "name = \"x\"\n[a]\nb = 1\n{} = 1\nc = [[[1]]]\n",
            ["k"; 9].join(".")
        );
        assert_eq!(deepest(&t), t.find("k.k").unwrap_or_default());
        let t = "a = 1\nb = [[[[[[1]]]]]]\n# [[[[[[[[[[\n";
        assert_eq!(deepest(t), t.find("b =").unwrap_or_default());
    }

    #[test]
    fn survives_multi_byte_characters_anywhere() {
        let t = "[é]\nkey = \"\u{202e}é\" # ü\n\u{cd648} = [\"x\" \"y\"]\n";
        for (i, _) in t.char_indices() {
            let _ = context(t, i);
        }
        for i in 0..=t.len() {
            let _ = context(t, i);
        }
    }

    #[test]
    fn ignores_brackets_in_strings_comments_and_arrays() {
        let t = "[a]\n# [b]\nk = \"[c]\"\npre = [\n[\"/x\"]\n]\nz = @\n";
        assert_eq!(at(t, "@"), "a.z");
        let t = "[a]\nm = \"\"\"\n[x]\n\"\"\"\nz = @\n";
        assert_eq!(at(t, "@"), "a.z");
    }
}
